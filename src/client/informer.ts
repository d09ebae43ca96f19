import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { KubeObject } from '../api/object.js';
import { ApiError } from '../api/status.js';
import type { ApiClient, ObjectList } from './client.js';
import { isApiError, watchEventError } from './client.js';

/**
 * An informer: list, then watch from the list's resourceVersion, keeping an in-memory cache keyed by
 * namespace/name and telling handlers what changed — client-go's reflector + indexer + shared
 * informer, reduced to what controllers here need (kube-api-contract.md §5 "Reflector recovery"):
 *  - 410 Expired / Gone (HTTP or an ERROR event) → relist from scratch; the relist's differences
 *    against the cache are delivered as adds, updates and deletes;
 *  - a clean end of the stream → rewatch from the last resourceVersion seen (bookmarks included);
 *  - transport failures, other errors, and watches that end within a second without events → back
 *    off (100 ms doubling to 5 s), then go on from the last resourceVersion (or relist if never listed);
 *  - every `resyncPeriodMs`, onUpdate(obj, obj) for each cached object (level-triggered controllers
 *    use it to re-check everything now and then).
 */
export interface InformerHandlers {
  onAdd?(object: KubeObject): void;
  onUpdate?(oldObject: KubeObject, newObject: KubeObject): void;
  /** The last state the informer knew (after a relist it may be older than the real final state). */
  onDelete?(object: KubeObject): void;
}

export interface InformerOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  /** Cache PartialObjectMetadata instead of whole objects (enough for GC-like controllers). */
  readonly metadataOnly?: boolean;
  /** 0 or absent: no resync. */
  readonly resyncPeriodMs?: number;
  /** Stops the informer when aborted (as stop() does). */
  readonly signal?: AbortSignal;
  readonly logger?: Logger;
  /** Page size of the list; default 500. */
  readonly pageSize?: number;
  /** Server-side watch timeout; default a random 300–600 s, as client-go's reflector does. */
  readonly watchTimeoutSeconds?: () => number;
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
}

/** namespace/name, or name for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function objectKey(object: KubeObject): string {
  const { namespace, name } = object.metadata;
  return namespace ? `${namespace}/${name ?? ''}` : (name ?? '');
}

export class Informer {
  private readonly client: ApiClient;
  readonly path: string;
  private readonly options: InformerOptions;
  private readonly handlers: InformerHandlers[] = [];
  private readonly cache = new Map<string, KubeObject>();
  private readonly abort = new AbortController();
  private readonly syncWaiters: (() => void)[] = [];
  private synced = false;
  private started = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private running: Promise<void> = Promise.resolve();
  private lastResourceVersion: string | undefined;

  constructor(client: ApiClient, path: string, options: InformerOptions = {}) {
    this.client = client;
    this.path = path;
    this.options = options;
    // Every list, watch and back-off sleep listens on this signal.
    setMaxListeners(0, this.abort.signal);
    if (options.signal) {
      if (options.signal.aborted) this.abort.abort();
      else options.signal.addEventListener('abort', () => this.stop(), { once: true });
    }
  }

  /** Adds handlers; objects already cached are delivered to them as adds. */
  addHandlers(handlers: InformerHandlers): this {
    this.handlers.push(handlers);
    for (const object of this.cache.values()) this.call(handlers, 'onAdd', object);
    return this;
  }

  /** Starts the list+watch loop (once). */
  start(): this {
    if (this.started || this.abort.signal.aborted) return this;
    this.started = true;
    this.running = this.run();
    const period = this.options.resyncPeriodMs ?? 0;
    if (period > 0) {
      this.resyncTimer = setInterval(() => this.resync(), period);
      this.resyncTimer.unref();
    }
    return this;
  }

  /** Stops the loop and closes the watch; resolves when the loop has ended. */
  stop(): Promise<void> {
    if (!this.abort.signal.aborted) this.abort.abort();
    clearInterval(this.resyncTimer);
    for (const wake of this.syncWaiters.splice(0)) wake();
    return this.running;
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  /** True once the first list has been delivered to the handlers. */
  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves true when synced, false when stopped first or after `timeoutMs`. */
  waitForSync(timeoutMs?: number): Promise<boolean> {
    if (this.synced) return Promise.resolve(true);
    if (this.stopped) return Promise.resolve(false);
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      const wake = () => {
        clearTimeout(timer);
        resolve(this.synced);
      };
      this.syncWaiters.push(wake);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          const i = this.syncWaiters.indexOf(wake);
          if (i >= 0) this.syncWaiters.splice(i, 1);
          resolve(this.synced);
        }, timeoutMs);
      }
    });
  }

  get(key: string): KubeObject | undefined {
    return this.cache.get(key);
  }

  getByName(namespace: string | undefined, name: string): KubeObject | undefined {
    return this.cache.get(namespace ? `${namespace}/${name}` : name);
  }

  list(): KubeObject[] {
    return [...this.cache.values()];
  }

  get size(): number {
    return this.cache.size;
  }

  /** The resourceVersion the informer is at (list or last event/bookmark). */
  get resourceVersion(): string | undefined {
    return this.lastResourceVersion;
  }

  private resync(): void {
    for (const object of this.cache.values()) this.emit('onUpdate', object, object);
  }

  private async run(): Promise<void> {
    const signal = this.abort.signal;
    const initialBackoff = this.options.initialBackoffMs ?? 100;
    const maxBackoff = this.options.maxBackoffMs ?? 5_000;
    let backoff = initialBackoff;
    let needList = true;
    let failures = 0;
    const failed = async (err: unknown, what: string): Promise<void> => {
      failures++;
      const log = failures === 1 || failures % 20 === 0 ? 'warn' : 'debug';
      this.options.logger?.[log]({ path: this.path, err: err instanceof Error ? err.message : String(err), failures }, `informer ${what} failed; retrying`);
      await sleep(Math.min(maxBackoff, jittered(backoff)), signal);
      backoff = Math.min(maxBackoff, backoff * 2);
    };

    while (!signal.aborted) {
      if (needList) {
        try {
          await this.relist(signal);
          needList = false;
          failures = 0;
          backoff = initialBackoff;
        } catch (err) {
          if (signal.aborted) break;
          await failed(err, 'list');
          continue;
        }
      }
      const started = Date.now();
      let events = 0;
      try {
        const timeout = this.options.watchTimeoutSeconds?.() ?? 300 + Math.floor(Math.random() * 300);
        const stream = this.client.watch(this.path, {
          ...(this.lastResourceVersion !== undefined ? { resourceVersion: this.lastResourceVersion } : {}),
          ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
          ...(this.options.fieldSelector ? { fieldSelector: this.options.fieldSelector } : {}),
          ...(this.options.metadataOnly ? { metadataOnly: true } : {}),
          allowWatchBookmarks: true,
          timeoutSeconds: timeout,
          signal,
        });
        for await (const event of stream) {
          events++;
          if (event.type === 'ERROR') throw watchEventError(event);
          const rv = event.object.metadata.resourceVersion;
          if (event.type === 'BOOKMARK') {
            if (rv) this.lastResourceVersion = rv;
            continue;
          }
          if (event.type === 'ADDED' || event.type === 'MODIFIED') this.upsert(event.object);
          else if (event.type === 'DELETED') this.remove(event.object);
          if (rv) this.lastResourceVersion = rv;
        }
        if (signal.aborted) break;
        if (events === 0 && Date.now() - started < 1_000) {
          await failed(new Error('the watch closed at once without events'), 'watch');
        } else {
          failures = 0;
          backoff = initialBackoff;
        }
      } catch (err) {
        if (signal.aborted) break;
        if (isGone(err)) {
          this.options.logger?.debug({ path: this.path }, 'watch resourceVersion too old; relisting');
          needList = true;
          continue;
        }
        await failed(err, 'watch');
      }
    }
  }

  /** Lists (paging), then makes the cache equal to the list, telling handlers the differences. */
  private async relist(signal: AbortSignal): Promise<void> {
    const items: KubeObject[] = [];
    let resourceVersion: string | undefined;
    let continueToken: string | undefined;
    let pageSize: number | undefined = this.options.pageSize ?? 500;
    do {
      let page: ObjectList;
      try {
        page = await this.client.list(this.path, {
          ...(this.options.labelSelector ? { labelSelector: this.options.labelSelector } : {}),
          ...(this.options.fieldSelector ? { fieldSelector: this.options.fieldSelector } : {}),
          ...(pageSize !== undefined ? { limit: pageSize } : {}),
          ...(continueToken !== undefined ? { continue: continueToken } : {}),
          ...(this.options.metadataOnly ? { metadataOnly: true } : {}),
          signal,
        });
      } catch (err) {
        // The continuation expired between pages: start over with one unpaged list.
        if (isGone(err) && continueToken !== undefined) {
          items.length = 0;
          continueToken = undefined;
          pageSize = undefined;
          continue;
        }
        throw err;
      }
      items.push(...page.items);
      resourceVersion = page.metadata.resourceVersion;
      continueToken = page.metadata.continue || undefined;
    } while (continueToken !== undefined);
    if (signal.aborted) return;

    const seen = new Set<string>();
    for (const object of items) {
      seen.add(objectKey(object));
      this.upsert(object);
    }
    for (const [key, object] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('onDelete', object);
      }
    }
    this.lastResourceVersion = resourceVersion;
    if (!this.synced) {
      this.synced = true;
      for (const wake of this.syncWaiters.splice(0)) wake();
    }
  }

  private upsert(object: KubeObject): void {
    const key = objectKey(object);
    const old = this.cache.get(key);
    this.cache.set(key, object);
    if (!old) this.emit('onAdd', object);
    // A relist delivers unchanged objects again; only real changes (or a new incarnation) are updates.
    else if (old.metadata.resourceVersion !== object.metadata.resourceVersion || old.metadata.uid !== object.metadata.uid) this.emit('onUpdate', old, object);
  }

  private remove(object: KubeObject): void {
    const key = objectKey(object);
    const old = this.cache.get(key);
    this.cache.delete(key);
    this.emit('onDelete', old ?? object);
  }

  private emit(kind: 'onAdd' | 'onDelete', object: KubeObject): void;
  private emit(kind: 'onUpdate', old: KubeObject, object: KubeObject): void;
  private emit(kind: keyof InformerHandlers, a: KubeObject, b?: KubeObject): void {
    for (const handlers of this.handlers) this.call(handlers, kind, a, b);
  }

  private call(handlers: InformerHandlers, kind: keyof InformerHandlers, a: KubeObject, b?: KubeObject): void {
    try {
      if (kind === 'onUpdate') handlers.onUpdate?.(a, b ?? a);
      else handlers[kind]?.(a);
    } catch (err) {
      this.options.logger?.error({ path: this.path, err }, `informer ${kind} handler failed`);
    }
  }
}

/** 410: Expired (modern) or Gone (pre-1.18). */
export function isGone(err: unknown): boolean {
  return isApiError(err, 410) || (err instanceof ApiError && (err.reason === 'Expired' || err.reason === 'Gone'));
}

function jittered(ms: number): number {
  return ms * (0.8 + Math.random() * 0.4);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      resolve();
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
