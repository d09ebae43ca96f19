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

export interface ControllerLoopOptions<K> {
  readonly name: string;
  readonly client: ApiClient;
  readonly logger: Logger;
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

  /** A new informer on the control plane's `path`, started and stopped with the controller. */
  informer(path: string, options: Omit<InformerOptions, 'signal' | 'logger'> = {}): Informer {
    return this.addInformer(new Informer(this.options.client, path, { resyncPeriodMs: this.options.resyncPeriodMs ?? 300_000, ...options, signal: this.abort.signal, logger: this.options.logger }));
  }

  /** Registers an informer made elsewhere (e.g. on a member cluster's client). */
  addInformer(informer: Informer): Informer {
    this.informers.push(informer);
    if (this.started) informer.start();
    return informer;
  }

  /** Forgets (and stops) an informer registered before. */
  async removeInformer(informer: Informer): Promise<void> {
    const i = this.informers.indexOf(informer);
    if (i >= 0) this.informers.splice(i, 1);
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
    await Promise.all(this.informers.map((i) => i.stop()));
    await this.workers;
    for (const hook of this.stopHooks) await hook();
  }
}
