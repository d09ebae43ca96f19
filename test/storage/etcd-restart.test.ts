import t, { type Test } from 'tap';
import { openEtcdStore, type EtcdStore } from '../../storage/etcd/etcd-store.js';
import { isStorageError } from '../../storage/errors.js';
import type { Watch, WatchEvent } from '../../storage/types.js';
import { etcdAvailable, startEtcd } from '../helpers/etcd-server.js';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `op`, retrying UnavailableError while the client reconnects (at most 300 tries / 30s). */
async function retrying<T>(op: (attempt: number) => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await op(attempt);
    } catch (err) {
      if (!isStorageError(err, 'Unavailable') || attempt >= 300 || Date.now() > deadline) throw err;
      await sleep(100);
    }
  }
}

/** Creates `key`, retrying through outages; returns the revision it was created at. */
async function createRetrying(store: EtcdStore, key: string): Promise<number> {
  return retrying(async (attempt) => {
    try {
      return (await store.create(key, Buffer.from(key))).revision;
    } catch (err) {
      // An attempt whose answer was lost may have committed: then the key is ours.
      if (attempt === 1 || !isStorageError(err, 'AlreadyExists')) throw err;
      const kv = await store.get(key);
      if (!kv) throw err;
      return kv.modRevision;
    }
  });
}

/** Consumes `watch` in the background; `until(n)` waits (at most `ms`) for n events. */
function collect(watch: Watch) {
  const events: WatchEvent[] = [];
  let error: unknown;
  const done = (async () => {
    try {
      for await (const event of watch) events.push(event);
    } catch (err) {
      error = err;
    }
  })();
  return {
    events,
    get error() {
      return error;
    },
    async until(count: number, ms = 30_000) {
      const deadline = Date.now() + ms;
      while (events.length < count && error === undefined && Date.now() < deadline) await sleep(20);
    },
    async stop() {
      watch.close();
      await done;
    },
  };
}

/** Asserts `events` are exactly the puts in `written` (key → revision), once each, in revision order. */
function checkExactlyOnce(t: Test, events: WatchEvent[], written: Map<string, number>) {
  const revisions = events.map((e) => e.revision);
  t.ok(revisions.every((r, i) => i === 0 || r > (revisions[i - 1] as number)), 'revisions strictly increase');
  t.equal(events.length, written.size, 'one event per write');
  t.same(new Set(events.map((e) => e.key)), new Set(written.keys()), 'the keys match the writes');
  t.ok(
    events.every((e) => e.type === 'put' && written.get(e.key) === e.revision),
    'each event carries its write revision',
  );
}

t.test('etcd: an open watch sees every write exactly once, in order, across an etcd restart', async (t) => {
  t.ok(etcdAvailable(), 'etcd is on PATH (CI installs it)');
  if (!etcdAvailable()) return;
  const server = await startEtcd();
  t.teardown(() => server.destroy());
  const store = await openEtcdStore({ endpoints: [server.endpoint], requestTimeoutMs: 5_000 });
  t.teardown(() => store.close());

  const prefix = '/registry/restart/items/';
  const watched = collect(store.watch(prefix, await store.revision()));
  t.teardown(() => watched.stop());
  const written = new Map<string, number>();
  const write = async (i: number) => {
    const key = `${prefix}${String(i).padStart(4, '0')}`;
    written.set(key, await createRetrying(store, key));
  };

  for (let i = 0; i < 30; i++) await write(i);
  // Keep writing while etcd restarts underneath.
  let next = 30;
  const writer = (async () => {
    for (; next < 90; next++) {
      await write(next);
      await sleep(5);
    }
  })();
  while (next < 40) await sleep(5);
  await server.restart();
  await writer;
  for (let i = 90; i < 120; i++) await write(i);

  await watched.until(written.size);
  await sleep(300); // room for a duplicate to show up
  t.equal(watched.error, undefined, 'the watch did not fail');
  checkExactlyOnce(t, watched.events, written);
});

t.test('etcd: a watch catching up from an old revision resumes where it was cut by a restart', async (t) => {
  t.ok(etcdAvailable(), 'etcd is on PATH (CI installs it)');
  if (!etcdAvailable()) return;
  const server = await startEtcd();
  t.teardown(() => server.destroy());
  const store = await openEtcdStore({ endpoints: [server.endpoint], requestTimeoutMs: 5_000 });
  t.teardown(() => store.close());

  const prefix = '/registry/restart/backlog/';
  const from = await store.revision();
  const written = new Map<string, number>();
  const value = Buffer.alloc(1024, 'x');
  // etcd replays at most 1000 revisions per batch, one batch per 100ms: 5000 take ~0.5s.
  for (let batch = 0; batch < 5000; batch += 100) {
    await Promise.all(
      Array.from({ length: 100 }, async (_, i) => {
        const key = `${prefix}${String(batch + i).padStart(5, '0')}`;
        written.set(key, (await store.create(key, value)).revision);
      }),
    );
  }

  const watched = collect(store.watch(prefix, from));
  t.teardown(() => watched.stop());
  await watched.until(1, 10_000);
  t.comment(`${watched.events.length} of ${written.size} events had arrived when etcd was stopped`);
  await server.restart();
  await watched.until(written.size);
  await sleep(300);
  t.equal(watched.error, undefined, 'the watch did not fail');
  checkExactlyOnce(t, watched.events, written);
});
