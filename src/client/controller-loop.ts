import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { ApiClient } from './client.js';
import { isApiError } from './client.js';
import { Informer } from './informer.js';
import type { InformerOptions } from './informer.js';
import { WorkQueue } from './work-queue.js';
import type { ReconcileResult, WorkQueueOptions } from './work-queue.js';

/**
 * What the controller manager runs: something that starts in the background, can be waited on until
 * its caches are filled, and stops.
 */
export interface Controller {
  readonly name: string;
  /** Starts informers and workers; returns at once. */
  start(): void;
  /** Resolves true once every informer has listed (false when `timeoutMs` passed first). */
  waitForSync(timeoutMs?: number): Promise<boolean>;
  /** Stops informers and workers; resolves when the workers have returned. */
  stop(): Promise<void>;
}

/** What a controller manager gives each of its controllers: the API client, a logger, the shared informers. */
export interface ControllerContext {
  readonly client: ApiClient;
  readonly logger: Logger;
  /** Informers shared with the manager's other controllers (one list+watch and one cache per path). */
  readonly sharedInformers?: SharedInformers;
}

/** The context part of a controller's options, to open a ControllerLoop with. */
export function contextOf(options: ControllerContext): ControllerContext {
  return { client: options.client, logger: options.logger, ...(options.sharedInformers ? { sharedInformers: options.sharedInformers } : {}) };
}

export interface ControllerLoopOptions<K> extends ControllerContext {
  readonly name: string;
  readonly reconcile: (key: K) => Promise<ReconcileResult>;
  /** Concurrent reconciles; default 2. */
  readonly workers?: number;
  readonly queue?: WorkQueueOptions;
  /** Informer resync for informers made by informer(); default 5 min. */
  readonly resyncPeriodMs?: number;
  /** Errors logged at debug instead of warn (expected ones: conflicts, a member that is down…). 409s always are. */
  readonly expectedError?: (err: unknown) => boolean;
  /** Keys are printed in logs as this field; default 'key'. */
  readonly keyField?: string;
}

/**
 * One informer per (path, options) for every controller of a manager (client-go's shared informer
 * factory): a dozen controllers watching Works cost one watch and one cache. Handlers are added per
 * controller; the factory starts an informer on first use and stops them all on stop().
 */
export class SharedInformers {
  private readonly client: ApiClient;
  private readonly logger: Logger;
  private readonly resyncPeriodMs: number;
  private readonly informers = new Map<string, Informer>();
  private readonly abort = new AbortController();

  constructor(options: { client: ApiClient; logger: Logger; resyncPeriodMs?: number }) {
    this.client = options.client;
    this.logger = options.logger;
    this.resyncPeriodMs = options.resyncPeriodMs ?? 300_000;
    setMaxListeners(0, this.abort.signal);
  }

  /** The shared informer of `path` with these options (not started: the first controller to start starts it). */
  informer(path: string, options: Omit<InformerOptions, 'signal' | 'logger'> = {}): Informer {
    const key = JSON.stringify([path, options.labelSelector ?? '', options.fieldSelector ?? '', options.metadataOnly === true]);
    let informer = this.informers.get(key);
    if (!informer) {
      informer = new Informer(this.client, path, { resyncPeriodMs: this.resyncPeriodMs, ...options, signal: this.abort.signal, logger: this.logger });
      this.informers.set(key, informer);
    }
    return informer;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all([...this.informers.values()].map((i) => i.stop()));
  }
}

/**
 * The lifecycle every controller shares (client-go's controller pattern): informers fill caches and
 * enqueue keys, a rate-limited work queue dedups them, and `workers` reconcile keys once the informers
 * have listed; a reconcile that throws is retried with back-off. One AbortSignal stops everything.
 *
 * A controller owns a ControllerLoop, makes its informers through `informer()` (or registers its own
 * with `addInformer()`), and enqueues on `queue`.
 */
export class ControllerLoop<K = string> implements Controller {
  readonly name: string;
  readonly queue: WorkQueue<K>;
  private readonly options: ControllerLoopOptions<K>;
  private readonly abort = new AbortController();
  private readonly informers: Informer[] = [];
  /** Informers this loop made and stops (shared ones are the factory's). */
  private readonly owned = new Set<Informer>();
  private readonly stopHooks: (() => void | Promise<void>)[] = [];
  private workers: Promise<void> = Promise.resolve();
  private started = false;

  constructor(options: ControllerLoopOptions<K>) {
    this.options = options;
    this.name = options.name;
    this.queue = new WorkQueue<K>(options.queue ?? {});
    setMaxListeners(0, this.abort.signal);
  }

  /** Aborted when the controller stops: pass it to every request. */
  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  /**
   * An informer on the control plane's `path`, started with the controller: the manager's shared one
   * when there is a factory (add handlers to it, never stop it), else one of its own, stopped with it.
   */
  informer(path: string, options: Omit<InformerOptions, 'signal' | 'logger'> = {}): Informer {
    const shared = this.options.sharedInformers?.informer(path, options);
    if (shared) {
      this.informers.push(shared);
      if (this.started) shared.start();
      return shared;
    }
    return this.addInformer(new Informer(this.options.client, path, { resyncPeriodMs: this.options.resyncPeriodMs ?? 300_000, ...options, signal: this.abort.signal, logger: this.options.logger }));
  }

  /** Registers an informer made elsewhere (e.g. on a member cluster's client); the loop starts and stops it. */
  addInformer(informer: Informer): Informer {
    this.informers.push(informer);
    this.owned.add(informer);
    if (this.started) informer.start();
    return informer;
  }

  /** Forgets (and stops) an informer added with addInformer. */
  async removeInformer(informer: Informer): Promise<void> {
    const i = this.informers.indexOf(informer);
    if (i >= 0) this.informers.splice(i, 1);
    this.owned.delete(informer);
    await informer.stop();
  }

  /** Runs on stop, after the workers have returned. */
  onStop(hook: () => void | Promise<void>): void {
    this.stopHooks.push(hook);
  }

  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    for (const informer of this.informers) informer.start();
    this.workers = (async () => {
      const synced = await this.waitForSync(60_000);
      if (this.stopped) return;
      if (!synced) this.options.logger.warn(`${this.name}: caches not filled after 60 s; starting anyway`);
      const keyField = this.options.keyField ?? 'key';
      await this.queue.run(this.options.workers ?? 2, (key) => this.options.reconcile(key), (key, err) => {
        if (this.stopped) return;
        const expected = isApiError(err, 409) || (this.options.expectedError?.(err) ?? false);
        this.options.logger[expected ? 'debug' : 'warn']({ [keyField]: key, err: err instanceof Error ? err.message : String(err) }, `${this.name}: will retry`);
      });
    })();
  }

  async waitForSync(timeoutMs = 30_000): Promise<boolean> {
    const informers = [...this.informers];
    return (await Promise.all(informers.map((i) => i.waitForSync(timeoutMs)))).every(Boolean);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.queue.shutDown();
    await Promise.all([...this.owned].map((i) => i.stop()));
    await this.workers;
    for (const hook of this.stopHooks) await hook();
  }
}

/** A controller whose lifecycle is its ControllerLoop's (start, waitForSync and stop delegate to it). */
export abstract class LoopController<K = string> implements Controller {
  abstract readonly name: string;
  protected abstract readonly loop: ControllerLoop<K>;

  start(): void {
    this.loop.start();
  }

  waitForSync(timeoutMs?: number): Promise<boolean> {
    return this.loop.waitForSync(timeoutMs);
  }

  stop(): Promise<void> {
    return this.loop.stop();
  }
}
