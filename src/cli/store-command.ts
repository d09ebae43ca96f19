import { Command, Option } from 'commander';
import { openStore } from '../../storage/open-store.js';
import type { StoreConfig } from '../../storage/open-store.js';
import type { KeyValue, Store } from '../../storage/types.js';
import { EmbeddedStore } from '../../storage/embedded/embedded-store.js';
import { createLogger } from '../log.js';

/**
 * `flotilla store …`: read and write the store directly, as etcdctl does for etcd — for inspecting
 * a data dir, debugging, and scripts. Values print as UTF-8 text.
 */
interface StoreFlags {
  dataDir: string;
  etcdServers?: string;
  output: 'text' | 'json';
}

function storeConfig(flags: StoreFlags): StoreConfig {
  return flags.etcdServers
    ? { backend: 'etcd', endpoints: flags.etcdServers.split(',').map((s) => s.trim()).filter(Boolean) }
    : { backend: 'embedded', dataDir: flags.dataDir };
}

async function withStore<T>(flags: StoreFlags, body: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore(storeConfig(flags), createLogger({ level: 'warn' }));
  try {
    return await body(store);
  } finally {
    await store.close();
  }
}

function describe(kv: KeyValue): object {
  return { key: kv.key, createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, value: Buffer.from(kv.value).toString('utf8') };
}

function print(flags: StoreFlags, kv: KeyValue): void {
  if (flags.output === 'json') process.stdout.write(`${JSON.stringify(describe(kv))}\n`);
  else process.stdout.write(`${kv.key}\t${kv.modRevision}\t${Buffer.from(kv.value).toString('utf8')}\n`);
}

export function storeCommand(): Command {
  const store = new Command('store')
    .description('read and write the store directly (embedded data dir or etcd), like etcdctl')
    .addOption(new Option('--data-dir <dir>', 'embedded store data dir').default('.flotilla/data').env('FLOTILLA_DATA_DIR'))
    .addOption(new Option('--etcd-servers <urls>', 'comma-separated etcd endpoints (use etcd instead of the embedded store)').env('FLOTILLA_ETCD_SERVERS'))
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'));
  const flags = (): StoreFlags => store.opts<StoreFlags>();

  store.command('status').description('revision and key count').action(async () => {
    await withStore(flags(), async (s) => {
      const revision = await s.revision();
      const { items } = await s.list('/');
      process.stdout.write(`${JSON.stringify({ backend: s.backend, revision, keys: items.length })}\n`);
    });
  });

  store.command('get <key>').description('print one key').action(async (key: string) => {
    await withStore(flags(), async (s) => {
      const kv = await s.get(key);
      if (!kv) {
        process.stderr.write(`not found: ${key}\n`);
        process.exitCode = 1;
        return;
      }
      print(flags(), kv);
    });
  });

  store.command('list [prefix]').description('list keys under a prefix, in key order').option('--limit <n>', 'page size', '500').action(async (prefix: string | undefined, options: { limit: string }) => {
    await withStore(flags(), async (s) => {
      let token: string | undefined;
      do {
        const page = await s.list(prefix ?? '/', { limit: Number(options.limit), ...(token ? { continue: token } : {}) });
        for (const kv of page.items) print(flags(), kv);
        token = page.continue;
      } while (token);
    });
  });

  store.command('put <key> <value>').description('create or overwrite a key').action(async (key: string, value: string) => {
    await withStore(flags(), async (s) => {
      const existing = await s.get(key);
      const { revision } = existing ? await s.update(key, Buffer.from(value), existing.modRevision) : await s.create(key, Buffer.from(value));
      process.stdout.write(`${revision}\n`);
    });
  });

  store.command('delete <key>').description('delete a key').action(async (key: string) => {
    await withStore(flags(), async (s) => {
      const { revision } = await s.delete(key);
      process.stdout.write(`${revision}\n`);
    });
  });

  store.command('watch [prefix]').description('print changes under a prefix until interrupted').option('--from <revision>', 'start after this revision', '0').action(async (prefix: string | undefined, options: { from: string }) => {
    await withStore(flags(), async (s) => {
      const watch = s.watch(prefix ?? '/', Number(options.from));
      const stop = (): void => watch.close();
      process.once('SIGINT', stop).once('SIGTERM', stop);
      for await (const event of watch) {
        process.stdout.write(`${JSON.stringify({ type: event.type, revision: event.revision, ...(event.value ? describe(event.value) : { key: event.key }) })}\n`);
      }
    });
  });

  store.command('compact <revision>').description('forget history before a revision').action(async (revision: string) => {
    await withStore(flags(), (s) => s.compact(Number(revision)));
  });

  store.command('snapshot').description('embedded store: write a snapshot now and truncate the log').action(async () => {
    await withStore(flags(), async (s) => {
      if (!(s instanceof EmbeddedStore)) throw new Error('snapshot applies to the embedded store only');
      await s.snapshotNow();
    });
  });
  return store;
}
