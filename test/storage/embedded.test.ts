import t from 'tap';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.js';
import { tempDir } from '../helpers/temp-dir.js';
import { storageSuite } from './suite.js';

storageSuite(t, 'embedded', async () => {
  const dir = await tempDir('embedded');
  const store = await openEmbeddedStore({ dataDir: dir.path });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await dir.remove();
    },
  };
});
