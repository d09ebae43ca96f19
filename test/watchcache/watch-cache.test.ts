import t from 'tap';
import type { Test } from 'tap';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.js';
import { encodeObject } from '../../src/registry/codec.js';
import { CacheHub } from '../../src/watchcache/cache-hub.js';
import type { CachedEvent } from '../../src/watchcache/watch-cache.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * The watch cache hands every change to each watcher of its type. A watcher that throws (a bug in
 * how one answer is written) must cost only that watcher: the others keep their events, in order,
 * and the hub keeps delivering — before this was guarded, the exception reached the hub, which
 * delivered the same change again and stalled every watch of the server on it.
 */
const PREFIX = '/registry/core/configmaps/';
const object = (name: string, data: string) => encodeObject({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: 'default' }, data: { v: data } });

/** An embedded store in a temp dir, a hub over it (its error log collected), and the ConfigMaps cache, ready. */
async function openHub(t: Test) {
  const dir = await tempDir('watch-cache');
  const store = await openEmbeddedStore({ dataDir: dir.path });
  const logged: string[] = [];
  const hub = new CacheHub(store, { logger: { info() {}, warn() {}, error: (_: object, msg: string) => void logged.push(msg) } });
  t.teardown(async () => {
    hub.stop();
    await store.close();
    await dir.remove();
  });
  await hub.ready;
  const cache = hub.cache(PREFIX);
  await cache.ready;
  return { store, hub, cache, logged };
}

t.test('a watcher that throws is dropped alone; the others and the hub go on', async (t) => {
  const { store, hub, cache } = await openHub(t);

  const healthy: string[] = [];
  const failures: string[] = [];
  let thrown = 0;
  await cache.watch(cache.revision, { onEvent: (e: CachedEvent) => healthy.push(`${e.type} ${e.object.metadata.name ?? ''}`), onError: () => failures.push('healthy') });
  await cache.watch(cache.revision, {
    onEvent: () => {
      thrown++;
      throw new Error('cannot write this event');
    },
    onError: (err) => failures.push(String(err)),
  });
  await cache.watch(cache.revision, { onEvent: (e: CachedEvent) => healthy.push(`late ${e.type} ${e.object.metadata.name ?? ''}`), onError: () => failures.push('late') });

  const created = [];
  for (const name of ['a', 'b', 'c']) created.push(await store.create(`${PREFIX}default/${name}`, object(name, name)));
  const { revision } = await store.update(`${PREFIX}default/a`, object('a', 'a2'), created[0]?.revision ?? 0);
  t.ok(await hub.caughtUp(revision, 5_000), 'the hub delivered every change');

  t.equal(thrown, 1, 'the throwing watcher was called once, then dropped');
  t.equal(failures.length, 1, 'only it was failed');
  t.match(failures[0], /InternalError|Internal error/, 'with an internal error naming the failure');
  t.same(healthy.filter((e) => !e.startsWith('late')), ['ADDED a', 'ADDED b', 'ADDED c', 'MODIFIED a'], 'a watcher before it got every change once, in order');
  t.same(healthy.filter((e) => e.startsWith('late')), ['late ADDED a', 'late ADDED b', 'late ADDED c', 'late MODIFIED a'], 'a watcher after it too');
});

t.test('a stored value that cannot be decoded is logged and skipped; the hub goes on', async (t) => {
  const { store, hub, cache, logged } = await openHub(t);
  const seen: string[] = [];
  await cache.watch(cache.revision, { onEvent: (e: CachedEvent) => seen.push(e.object.metadata.name ?? ''), onError: () => seen.push('error') });

  await store.create(`${PREFIX}default/broken`, Buffer.from('{not json'));
  const { revision } = await store.create(`${PREFIX}default/fine`, object('fine', 'x'));
  t.ok(await hub.caughtUp(revision, 5_000), 'the change after it is delivered');
  t.same(seen, ['fine'], 'the watcher gets the good change');
  t.equal(logged.length, 1, 'the bad one is logged once');
});
