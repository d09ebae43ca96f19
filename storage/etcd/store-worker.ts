import { parentPort, workerData } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import type { Watch, WatchEvent } from '../types.js';
import { openEtcdStore } from './etcd-store.js';
import type { EtcdStore } from './etcd-store.js';
import { serializeError } from './worker-protocol.js';
import type { FromWorker, ToWorker, WorkerData } from './worker-protocol.js';

/**
 * The worker-thread side of worker-store.ts: an EtcdStore (etcd3 over gRPC, whose protobuf and
 * HTTP/2 work is a third of the API server's main-thread time per write) answering the main
 * thread's calls and forwarding its watches' events, batched per turn of this thread's event loop.
 */
const port = parentPort as MessagePort;
const post = (message: FromWorker): void => port.postMessage(message);

async function forward(id: number, watch: Watch, watches: Map<number, Watch>): Promise<void> {
  let batch: WatchEvent[] = [];
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    if (batch.length === 0) return;
    post({ op: 'events', id, events: batch });
    batch = [];
  };
  try {
    for await (const event of watch) {
      batch.push(event);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    }
    flush();
    if (watches.delete(id)) post({ op: 'watchEnded', id });
  } catch (err) {
    flush();
    watches.delete(id);
    post({ op: 'watchFailed', id, error: serializeError(err) });
  }
}

async function serve(store: EtcdStore): Promise<void> {
  const watches = new Map<number, Watch>();
  port.on('message', (message: ToWorker) => {
    switch (message.op) {
      case 'call': {
        const method = store[message.method] as (...args: unknown[]) => Promise<unknown>;
        method.apply(store, [...message.args]).then(
          (value) => post({ op: 'result', id: message.id, value }),
          (err: unknown) => post({ op: 'error', id: message.id, error: serializeError(err) }),
        );
        return;
      }
      case 'watch': {
        const watch = message.fromRevision ? store.watch(message.prefix, message.fromRevision) : store.watchAfterSeen(message.prefix, message.seenRevision);
        watches.set(message.id, watch);
        void forward(message.id, watch, watches);
        return;
      }
      case 'unwatch': {
        const watch = watches.get(message.id);
        watches.delete(message.id);
        watch?.close();
        return;
      }
      case 'close':
        for (const watch of watches.values()) watch.close();
        watches.clear();
        store.close().then(
          () => post({ op: 'result', id: message.id, value: undefined }),
          (err: unknown) => post({ op: 'error', id: message.id, error: serializeError(err) }),
        );
        return;
    }
  });
}

const data = workerData as WorkerData;
openEtcdStore(data.options).then(
  (store) => {
    void serve(store);
    post({ op: 'opened' });
  },
  (err: unknown) => post({ op: 'openFailed', error: serializeError(err) }),
);
