import t from 'tap';
import { openWorkerEtcdStore } from '../../storage/etcd/worker-store.js';
import { startEtcd } from '../helpers/etcd-server.js';
import { storageSuite } from './suite.js';

// The etcd store with its client in a worker thread (what `flotilla serve --etcd-servers` runs) passes
// the same storage suite as the store itself: errors keep their classes, watches their order.
const etcd = await startEtcd();
t.teardown(() => etcd.destroy());
let fixtures = 0;

storageSuite(t, 'etcd', async () => {
  const store = await openWorkerEtcdStore({ endpoints: [etcd.endpoint], keyPrefix: `/test-${++fixtures}` });
  return { store, cleanup: () => store.close() };
});
