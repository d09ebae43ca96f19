import { Etcd3 } from 'etcd3';
import t, { type Test } from 'tap';
import { openEtcdStore } from '../../storage/etcd/etcd-store.js';
import { isStorageError } from '../../storage/errors.js';
import type { Watch, WatchEvent } from '../../storage/types.js';
import { etcdAvailable, startEtcd, type EtcdServer } from '../helpers/etcd-server.js';

const bytes = (s: string) => Buffer.from(s);
const text = (kv: { readonly value: Uint8Array } | undefined) => Buffer.from(kv?.value ?? []).toString();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Awaits `promise` expecting a StorageError with `code` within `withinMs`; returns the error. */
async function rejectsWith(t: Test, promise: Promise<unknown>, code: string, what: string, withinMs = 10_000) {
  const started = Date.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise((resolve) => (timer = setTimeout(() => resolve('timed out'), withinMs)));
  const outcome = await Promise.race([promise.then(() => 'succeeded', (err: unknown) => err), timeout]);
  clearTimeout(timer);
  t.ok(isStorageError(outcome, code as never), `${what}: ${code}`, { got: String(outcome), ms: Date.now() - started });
  return outcome;
}

/** The first thing a watch yields: an event, or the error it throws (10s at most). */
async function firstOf(watch: Watch): Promise<WatchEvent | unknown> {
  const timer = setTimeout(() => watch.close(), 10_000);
  try {
    for await (const event of watch) return event;
    return 'ended';
  } catch (err) {
    return err;
  } finally {
    clearTimeout(timer);
    watch.close();
  }
}

if (!etcdAvailable()) {
  t.fail('etcd is not on PATH: the etcd backend tests need it (CI installs it)');
} else {
  const etcd = await startEtcd();
  t.teardown(() => etcd.destroy());
  const raw = new Etcd3({ hosts: etcd.endpoint });
  t.teardown(() => raw.close());
  specificTests(etcd, raw);
}

function specificTests(etcd: EtcdServer, raw: Etcd3): void {
  t.test('etcd: stores with different keyPrefixes do not see each other', async (t) => {
    const a = await openEtcdStore({ endpoints: [etcd.endpoint], keyPrefix: '/iso-a' });
    t.teardown(() => a.close());
    const b = await openEtcdStore({ endpoints: [etcd.endpoint], keyPrefix: '/iso-b' });
    t.teardown(() => b.close());

    const watchB = b.watch('/registry/');
    await a.create('/registry/pods/default/p', bytes('from a'));
    await b.create('/registry/pods/default/p', bytes('from b'));
    await b.create('/registry/pods/default/only-b', bytes('b'));

    t.equal(text(await a.get('/registry/pods/default/p')), 'from a', 'a reads its value');
    t.equal(text(await b.get('/registry/pods/default/p')), 'from b', 'b reads its value');
    t.equal(await a.get('/registry/pods/default/only-b'), undefined, 'a cannot read b’s key');
    const keysOfA = (await a.list('/registry/')).items.map((kv) => kv.key);
    t.same(keysOfA, ['/registry/pods/default/p'], 'a lists only its keys');
    t.same(
      (await b.list('')).items.map((kv) => kv.key),
      ['/registry/pods/default/only-b', '/registry/pods/default/p'],
      'b lists only its keys, even with an empty prefix',
    );
    const first = (await firstOf(watchB)) as WatchEvent;
    t.match(first, { type: 'put', key: '/registry/pods/default/p' }, 'b’s watch sees b’s key, unprefixed');
    t.equal(text(first.value), 'from b', 'and not a’s write');
  });

  t.test('etcd: keys land in etcd exactly as given, after the keyPrefix', async (t) => {
    const plain = await openEtcdStore({ endpoints: [etcd.endpoint] });
    t.teardown(() => plain.close());
    const prefixed = await openEtcdStore({ endpoints: [etcd.endpoint], keyPrefix: '/tenant-1' });
    t.teardown(() => prefixed.close());

    const { revision } = await plain.create('/registry/configmaps/ns/cm', bytes('v1'));
    t.equal(await raw.get('/registry/configmaps/ns/cm').string(), 'v1', 'no prefix: the key as given');
    const rawKv = (await raw.get('/registry/configmaps/ns/cm').exec()).kvs[0];
    t.equal(Number(rawKv?.mod_revision), revision, 'the store reports etcd’s own revision');

    await prefixed.create('/registry/configmaps/ns/cm', bytes('v2'));
    t.equal(await raw.get('/tenant-1/registry/configmaps/ns/cm').string(), 'v2', 'keyPrefix + the key');
    await raw.put('/tenant-1/registry/configmaps/ns/written-raw').value('raw');
    const readBack = await prefixed.get('/registry/configmaps/ns/written-raw');
    t.equal(text(readBack), 'raw', 'a key written raw reads back unprefixed');
  });

  t.test('etcd: compacted revisions are Gone for list, continue tokens and watch', async (t) => {
    const store = await openEtcdStore({ endpoints: [etcd.endpoint], keyPrefix: '/compaction' });
    t.teardown(() => store.close());
    const start = await store.revision();
    for (const name of ['a', 'b', 'c', 'd']) await store.create(`/registry/x/${name}`, bytes(name));
    const page = await store.list('/registry/x/', { limit: 2 });
    t.ok(page.continue, 'a first page with a continue token');
    await store.update('/registry/x/a', bytes('a2'), page.items[0]?.modRevision ?? 0);
    const current = await store.revision();

    await store.compact(current);
    await rejectsWith(t, store.list('/registry/x/', { revision: start + 1 }), 'Gone', 'list at a compacted revision');
    const nextPage = store.list('/registry/x/', { limit: 2, continue: page.continue ?? '' });
    await rejectsWith(t, nextPage, 'Gone', 'continue from before the compaction');
    const atCompaction = await store.list('/registry/x/', { revision: current });
    t.equal(atCompaction.items.length, 4, 'the compaction revision itself is readable');
    const gone = await firstOf(store.watch('/registry/x/', start));
    t.ok(isStorageError(gone, 'Gone'), 'a watch from a compacted revision throws Gone', { got: String(gone) });
    t.match(gone, { requestedRevision: start, compactedRevision: current });

    await t.resolves(store.compact(current), 'compacting the same revision again is fine');
    await t.resolves(store.compact(start + 1), 'compacting an older revision is fine');
    await rejectsWith(t, store.compact(current + 1000), 'InvalidArgument', 'compacting a future revision');
    const garbled = store.list('/registry/x/', { continue: 'not-a-token' });
    await rejectsWith(t, garbled, 'InvalidArgument', 'a garbled continue token');
  });

  t.test('etcd: a watch "from now" is not Gone when the store’s last seen revision was compacted', async (t) => {
    const idle = await openEtcdStore({ endpoints: [etcd.endpoint], keyPrefix: '/stale' });
    t.teardown(() => idle.close());
    const busy = await openEtcdStore({ endpoints: [etcd.endpoint], keyPrefix: '/stale' });
    t.teardown(() => busy.close());
    for (const name of ['a', 'b', 'c']) await busy.create(`/registry/x/${name}`, bytes(name));
    await busy.compact(await busy.revision());

    const watch = idle.watch('/registry/x/');
    await sleep(200); // let it set up before the write it must see
    await busy.create('/registry/x/d', bytes('d'));
    const first = await firstOf(watch);
    t.match(first, { type: 'put', key: '/registry/x/d' }, 'the first event is the new write', { got: String(first) });
  });

  t.test('etcd: calls fail fast with Unavailable while etcd is down, and work again after', async (t) => {
    const down = await startEtcd();
    t.teardown(() => down.destroy());
    const store = await openEtcdStore({
      endpoints: [down.endpoint],
      requestTimeoutMs: 3_000,
      watchReconnectTimeoutMs: 1_500,
    });
    t.teardown(() => store.close());
    await store.create('/registry/x/before', bytes('1'));
    const watch = store.watch('/registry/x/');

    await down.stop();
    await rejectsWith(t, store.get('/registry/x/before'), 'Unavailable', 'get', 5_000);
    await rejectsWith(t, store.create('/registry/x/during', bytes('1')), 'Unavailable', 'create', 5_000);
    await rejectsWith(t, store.list('/registry/'), 'Unavailable', 'list', 5_000);
    await rejectsWith(t, store.revision(), 'Unavailable', 'revision', 5_000);
    const failed = await firstOf(watch);
    t.ok(isStorageError(failed, 'Unavailable'), 'a watch gives up with Unavailable once etcd stays away', {
      got: String(failed),
    });
    const opening = openEtcdStore({ endpoints: [down.endpoint], dialTimeoutMs: 1_000 });
    await rejectsWith(t, opening, 'Unavailable', 'opening a store', 5_000);
    const err = await opening.catch((e: unknown) => e);
    t.ok(err instanceof Error && err.cause instanceof Error, 'the Unavailable error keeps its cause');

    await down.restart();
    let got;
    for (let attempt = 0; attempt < 50 && !got; attempt++) {
      got = await store.get('/registry/x/before').catch(() => undefined);
      if (!got) await sleep(100);
    }
    t.ok(got, 'the same store reads again once etcd is back');
  });

  t.test('etcd: closing the store ends its open watches with Unavailable', async (t) => {
    const store = await openEtcdStore({ endpoints: [etcd.endpoint], keyPrefix: '/closing' });
    const watch = store.watch('/registry/');
    await store.close();
    t.ok(isStorageError(await firstOf(watch), 'Unavailable'), 'the open watch fails with Unavailable');
    await rejectsWith(t, store.get('/registry/x'), 'Unavailable', 'a call after close');
  });
}
