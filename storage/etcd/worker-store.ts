import { Worker } from 'node:worker_threads';
import { UnavailableError } from '../errors.js';
import type { DeleteResult, KeyValue, ListOptions, ListResult, Store, Watch, WriteResult } from '../types.js';
import { WatchQueue } from '../watch-queue.js';
import type { EtcdStoreOptions } from './etcd-store.js';
import { deserializeError } from './worker-protocol.js';
import type { FromWorker, StoreMethod, ToWorker, WorkerData } from './worker-protocol.js';

/**
 * The etcd Store with its client in a worker thread (store-worker.ts): the same semantics as
 * EtcdStore, whose gRPC and protobuf work then runs beside the API server's event loop instead of on
 * it. Each call is one message each way; a watch's events arrive in batches, in order.
 *
 * "From now" watches keep EtcdStore's guarantee: they start after the newest revision this side has
 * seen in any answer, so nothing committed after watch() returns is missed.
 */
/**
 * The worker thread. Built, it runs store-worker.js beside this file. Run from source (tests,
 * `node --import tsx`), it runs the TypeScript file through tsx, registered inside the worker by a
 * small bootstrap: loader hooks registered in the main thread do not reach workers on Node 20.
 */
function startWorker(data: WorkerData): Worker {
  if (!import.meta.url.endsWith('.ts')) return new Worker(new URL('./store-worker.js', import.meta.url), { workerData: data });
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./store-worker.ts', import.meta.url).href;
  const bootstrap = `const { register } = await import(${JSON.stringify(tsx)}); register(); await import(${JSON.stringify(entry)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(bootstrap)}`), { workerData: data });
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

export async function openWorkerEtcdStore(options: EtcdStoreOptions): Promise<Store> {
  const worker = startWorker({ options });
  const store = new WorkerEtcdStore(worker);
  await store.opened;
  return store;
}

/** Highest `revision`-like number in an answer (WriteResult, ListResult, a number, a KeyValue). */
function revisionIn(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value !== 'object' || value === null) return 0;
  const v = value as { revision?: unknown; modRevision?: unknown };
  return typeof v.revision === 'number' ? v.revision : typeof v.modRevision === 'number' ? v.modRevision : 0;
}

class WorkerEtcdStore implements Store {
  readonly backend = 'etcd';
  readonly opened: Promise<void>;
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private readonly watches = new Map<number, WatchQueue>();
  private nextId = 1;
  private seenRevision = 0;
  private closed: Promise<void> | undefined;
  private failure: Error | undefined;

  constructor(worker: Worker) {
    this.worker = worker;
    this.opened = new Promise((resolve, reject) => {
      const onMessage = (message: FromWorker) => {
        if (message.op === 'opened') {
          resolve();
          return;
        }
        if (message.op === 'openFailed') {
          void worker.terminate();
          reject(deserializeError(message.error));
          return;
        }
        this.receive(message);
      };
      worker.on('message', onMessage);
      worker.on('error', (err) => {
        reject(err);
        this.fail(new UnavailableError(`the etcd client's worker thread failed: ${err.message}`));
      });
      worker.on('exit', () => this.fail(new UnavailableError('the etcd client has stopped')));
    });
  }

  private receive(message: FromWorker): void {
    switch (message.op) {
      case 'result': {
        const revision = revisionIn(message.value);
        if (revision > this.seenRevision) this.seenRevision = revision;
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        pending?.resolve(message.value);
        return;
      }
      case 'error': {
        const pending = this.pending.get(message.id);
        this.pending.delete(message.id);
        pending?.reject(deserializeError(message.error));
        return;
      }
      case 'events': {
        const queue = this.watches.get(message.id);
        for (const event of message.events) {
          if (event.revision > this.seenRevision) this.seenRevision = event.revision;
          queue?.push(event);
        }
        return;
      }
      case 'watchFailed':
        this.watches.get(message.id)?.fail(deserializeError(message.error));
        this.watches.delete(message.id);
        return;
      case 'watchEnded':
        this.watches.get(message.id)?.close();
        this.watches.delete(message.id);
        return;
      default:
        return;
    }
  }

  /** The worker is gone: every call and watch in flight fails, and so does everything after. */
  private fail(error: Error): void {
    this.failure ??= error;
    for (const pending of this.pending.values()) pending.reject(error);
    this.pending.clear();
    for (const queue of this.watches.values()) queue.fail(error);
    this.watches.clear();
  }

  private send(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  private call<T>(method: StoreMethod, ...args: unknown[]): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.closed) return Promise.reject(new UnavailableError('etcd store is closed'));
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.send({ op: 'call', id, method, args });
    });
  }

  get(key: string): Promise<KeyValue | undefined> {
    return this.call('get', key);
  }

  list(prefix: string, options?: ListOptions): Promise<ListResult> {
    return options === undefined ? this.call('list', prefix) : this.call('list', prefix, options);
  }

  create(key: string, value: Uint8Array): Promise<WriteResult> {
    return this.call('create', key, value);
  }

  update(key: string, value: Uint8Array, expectedRevision: number): Promise<WriteResult> {
    return this.call('update', key, value, expectedRevision);
  }

  delete(key: string, expectedRevision?: number): Promise<DeleteResult> {
    return expectedRevision === undefined ? this.call('delete', key) : this.call('delete', key, expectedRevision);
  }

  watch(prefix: string, fromRevision?: number): Watch {
    const id = this.nextId++;
    const queue = new WatchQueue(() => {
      if (this.watches.delete(id) && !this.failure) this.send({ op: 'unwatch', id });
    });
    if (this.failure) {
      queue.fail(this.failure);
      return queue;
    }
    if (this.closed) {
      queue.fail(new UnavailableError('etcd store is closed'));
      return queue;
    }
    this.watches.set(id, queue);
    this.send({ op: 'watch', id, prefix, seenRevision: this.seenRevision, ...(fromRevision !== undefined ? { fromRevision } : {}) });
    return queue;
  }

  revision(): Promise<number> {
    return this.call('revision');
  }

  compact(revision: number): Promise<void> {
    return this.call('compact', revision);
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      if (!this.failure) {
        const id = this.nextId++;
        await new Promise<unknown>((resolve) => {
          this.pending.set(id, { resolve, reject: resolve });
          this.send({ op: 'close', id });
        });
      }
      for (const queue of this.watches.values()) queue.close();
      this.watches.clear();
      await this.worker.terminate();
    })();
    return this.closed;
  }
}
