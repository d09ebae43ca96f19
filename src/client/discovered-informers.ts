import type { Logger } from 'pino';
import type { ApiClient, DiscoveredResource } from './client.js';
import { resourcePath } from './client.js';
import { Informer, sleep } from './informer.js';
import type { InformerOptions } from './informer.js';

/**
 * One informer per served resource that discovery lists (the preferred version of each group), kept
 * in step with discovery: rediscovered every `rediscoveryMs`, so a CRD's resource gets an informer
 * soon after it is served and loses it when it goes. A group discovery could not read this time keeps
 * its informers (a transient failure is not a removal). Used by controllers that watch "every kind"
 * (the resource detector).
 */
export interface DiscoveredInformersOptions {
  readonly client: ApiClient;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  /** Which resources to watch (only ones with list and watch are offered). */
  readonly select: (resource: DiscoveredResource) => boolean;
  readonly informerOptions?: Omit<InformerOptions, 'signal' | 'logger'>;
  /** Default 30 s. */
  readonly rediscoveryMs?: number;
  /** Called before a new informer starts (add handlers here). */
  readonly onAdded: (resource: DiscoveredResource, informer: Informer) => void;
  /** Called after an informer was stopped because its resource is no longer served. */
  readonly onRemoved?: (resource: DiscoveredResource, informer: Informer) => void;
}

/** "group/resource": a resource's identity across versions. */
export const resourceKey = (r: Pick<DiscoveredResource, 'group' | 'resource'>): string => `${r.group}/${r.resource}`;

export class DiscoveredInformers {
  private readonly options: DiscoveredInformersOptions;
  private readonly informers = new Map<string, { resource: DiscoveredResource; informer: Informer }>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> = Promise.resolve();
  private discoveredOnce = false;

  constructor(options: DiscoveredInformersOptions) {
    this.options = options;
  }

  /** Discovers (retrying until it works once), then keeps rediscovering; returns at once. */
  start(): void {
    const { signal } = this.options;
    this.syncing = (async () => {
      for (let delay = 100; !(await this.sync()) && !signal.aborted; delay = Math.min(5_000, delay * 2)) await sleep(delay, signal);
    })();
    this.timer = setInterval(() => {
      this.syncing = this.syncing.then(async () => {
        await this.sync();
      });
    }, this.options.rediscoveryMs ?? 30_000);
    this.timer.unref();
  }

  /** Rediscovers now (e.g. a CRD just became established); resolves when done. */
  refresh(): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      await this.sync();
    });
    return this.syncing;
  }

  /** True once discovery has worked and every informer started so far has listed. */
  async waitForSync(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const discovered = await Promise.race([this.syncing.then(() => this.discoveredOnce), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)))]);
    clearTimeout(timer);
    if (!discovered) return false;
    const results = await Promise.all([...this.informers.values()].map(({ informer }) => informer.waitForSync(Math.max(0, deadline - Date.now()))));
    return results.every(Boolean);
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await Promise.all([...this.informers.values()].map(({ informer }) => informer.stop()));
    await this.syncing.catch(() => undefined);
  }

  get(key: string): { resource: DiscoveredResource; informer: Informer } | undefined {
    return this.informers.get(key);
  }

  entries(): { resource: DiscoveredResource; informer: Informer }[] {
    return [...this.informers.values()];
  }

  /** Discovery → informers for new resources; informers of vanished ones stopped. False if discovery failed. */
  private async sync(): Promise<boolean> {
    const { client, logger, signal } = this.options;
    if (signal.aborted) return false;
    let discovered;
    try {
      discovered = await client.discoverAll({ signal });
    } catch (err) {
      if (!signal.aborted) logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'discovery failed; will retry');
      return false;
    }
    if (signal.aborted) return false;
    const wanted = new Map<string, DiscoveredResource>();
    for (const r of discovered.resources) {
      if (r.verbs.includes('list') && r.verbs.includes('watch') && this.options.select(r)) wanted.set(resourceKey(r), r);
    }
    const failedGroups = new Set(discovered.failed.map((gv) => (gv.includes('/') ? gv.slice(0, gv.lastIndexOf('/')) : '')));
    for (const [key, { resource, informer }] of [...this.informers]) {
      const next = wanted.get(key);
      if (next && next.version === resource.version) continue;
      if (!next && failedGroups.has(resource.group)) continue;
      this.informers.delete(key);
      await informer.stop();
      this.options.onRemoved?.(resource, informer);
      logger.debug({ resource: key, version: resource.version }, 'stopped watching');
    }
    for (const [key, resource] of wanted) {
      if (this.informers.has(key)) continue;
      const informer = new Informer(client, resourcePath(resource), { ...this.options.informerOptions, signal, logger });
      this.options.onAdded(resource, informer);
      this.informers.set(key, { resource, informer });
      informer.start();
      logger.debug({ resource: key, version: resource.version }, 'watching');
    }
    this.discoveredOnce = true;
    return true;
  }
}
