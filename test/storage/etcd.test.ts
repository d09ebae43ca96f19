import t from 'tap';
import { openEtcdStore } from '../../storage/etcd/etcd-store.js';
import { startEtcd } from '../helpers/etcd-server.js';
import { storageSuite } from './suite.js';

// One etcd for the whole suite; each test gets its own key prefix, so tests cannot see each other.
const etcd = await startEtcd();
t.teardown(() => etcd.destroy());
let fixtures = 0;

storageSuite(t, 'etcd', async () => {
  const store = await openEtcdStore({ endpoints: [etcd.endpoint], keyPrefix: `/test-${++fixtures}` });
  return { store, cleanup: () => store.close() };
});
