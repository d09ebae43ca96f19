import type { Store } from './types.js';
import type { StoreLogger } from './logger.js';
import { openEmbeddedStore } from './embedded/embedded-store.js';
import { openWorkerEtcdStore } from './etcd/worker-store.js';

/** Which store to open: the embedded one (default) in a data dir, or an etcd cluster. */
export type StoreConfig =
  | { readonly backend: 'embedded'; readonly dataDir: string; readonly historyRevisions?: number }
  | { readonly backend: 'etcd'; readonly endpoints: readonly string[]; readonly keyPrefix?: string };

export function openStore(config: StoreConfig, logger?: StoreLogger): Promise<Store> {
  switch (config.backend) {
    case 'embedded':
      return openEmbeddedStore({
        dataDir: config.dataDir,
        ...(config.historyRevisions !== undefined ? { historyRevisions: config.historyRevisions } : {}),
        ...(logger ? { logger } : {}),
      });
    case 'etcd':
      // The etcd client (gRPC, protobuf) runs in a worker thread, off the API server's event loop.
      return openWorkerEtcdStore({ endpoints: [...config.endpoints], ...(config.keyPrefix !== undefined ? { keyPrefix: config.keyPrefix } : {}) });
  }
}
