import type { Test } from 'tap';
import type { KeyValue, Store, Watch, WatchEvent } from '../../storage/types.js';
import { ConflictError, isStorageError } from '../../storage/errors.js';

/**
 * The one storage contract every backend must meet. Each backend's test file calls this with a
 * factory for a fresh, empty store; test names carry the backend's name.
 */
export interface StoreFixture {
  readonly store: Store;
  readonly cleanup: () => Promise<void>;
}

const text = (value: Uint8Array | undefined): string => Buffer.from(value ?? new Uint8Array()).toString('utf8');
const bytes = (s: string): Buffer => Buffer.from(s);

/** Collects `count` events from a watch, failing after `timeoutMs` with what arrived so far. */
export async function collect(watch: Watch, count: number, timeoutMs = 10_000): Promise<WatchEvent[]> {
  const events: WatchEvent[] = [];
  if (count === 0) return events;
  const timer = setTimeout(() => watch.close(), timeoutMs);
  try {
    for await (const event of watch) {
      events.push(event);
      if (events.length >= count) break;
    }
  } finally {
    clearTimeout(timer);
  }
  return events;
}

async function expectCode(t: Test, promise: Promise<unknown>, code: string, what: string): Promise<unknown> {
  try {
    await promise;
    t.fail(`${what}: expected ${code}, but it succeeded`);
    return undefined;
  } catch (err) {
    t.ok(isStorageError(err) && err.code === code, `${what}: ${code}`, { got: String(err) });
    return err;
  }
}

export function storageSuite(t: Test, backend: string, open: () => Promise<StoreFixture>): void {
  const withStore = (name: string, body: (t: Test, store: Store) => Promise<void>): void => {
    t.test(`${backend}: ${name}`, async (t) => {
      const fixture = await open();
      t.teardown(fixture.cleanup);
      t.equal(fixture.store.backend, backend);
      await body(t, fixture.store);
    });
  };

  withStore('create, get, update, delete with revisions', async (t, store) => {
    const start = await store.revision();
    const created = await store.create('/registry/things/a', bytes('v1'));
    t.ok(created.revision > start, 'create advances the revision');
    const got = (await store.get('/registry/things/a')) as KeyValue;
    t.equal(text(got.value), 'v1');
    t.equal(got.modRevision, created.revision);
    t.equal(got.createRevision, created.revision);
    t.equal(got.version, 1);

    const updated = await store.update('/registry/things/a', bytes('v2'), created.revision);
    t.ok(updated.revision > created.revision, 'update gets a later revision');
    const after = (await store.get('/registry/things/a')) as KeyValue;
    t.equal(text(after.value), 'v2');
    t.equal(after.createRevision, created.revision, 'createRevision is kept across updates');
    t.equal(after.modRevision, updated.revision);
    t.equal(after.version, 2);
    t.equal(await store.revision(), updated.revision, 'revision() is the last write');

    const deleted = await store.delete('/registry/things/a', updated.revision);
    t.ok(deleted.revision > updated.revision);
    t.equal(text(deleted.prev.value), 'v2', 'delete returns the previous value');
    t.equal(await store.get('/registry/things/a'), undefined);

    const again = await store.create('/registry/things/a', bytes('v3'));
    const reborn = (await store.get('/registry/things/a')) as KeyValue;
    t.equal(reborn.createRevision, again.revision, 'a re-created key starts a new incarnation');
    t.equal(reborn.version, 1);
    await store.delete('/registry/things/a');
    t.equal(await store.get('/registry/things/a'), undefined, 'unconditional delete');
  });

  withStore('AlreadyExists, Conflict and NotFound', async (t, store) => {
    const { revision } = await store.create('/k', bytes('one'));
    await expectCode(t, store.create('/k', bytes('two')), 'AlreadyExists', 'second create');
    t.equal(text((await store.get('/k'))?.value), 'one', 'a failed create changes nothing');

    const conflict = (await expectCode(t, store.update('/k', bytes('x'), revision - 1), 'Conflict', 'stale update')) as ConflictError;
    t.equal(conflict.current.modRevision, revision, 'Conflict carries the current revision');
    t.equal(text(conflict.current.value), 'one', 'Conflict carries the current value');
    await expectCode(t, store.delete('/k', revision + 100), 'Conflict', 'delete with a wrong revision');
    await expectCode(t, store.update('/missing', bytes('x'), 1), 'NotFound', 'update of a missing key');
    await expectCode(t, store.delete('/missing'), 'NotFound', 'delete of a missing key');
    t.equal(await store.revision(), revision, 'failed writes do not advance the revision');
  });

  withStore('list: prefix, order, limit and continue', async (t, store) => {
    const names = ['b', 'a', 'd', 'c', 'e'];
    for (const n of names) await store.create(`/registry/pods/ns1/${n}`, bytes(n));
    await store.create('/registry/pods/ns2/z', bytes('z'));
    await store.create('/registry/podsx/a', bytes('not a pod'));

    const all = await store.list('/registry/pods/ns1/');
    t.same(all.items.map((kv) => text(kv.value)), ['a', 'b', 'c', 'd', 'e'], 'keys in order, prefix only');
    t.equal(all.continue, undefined, 'no continue on a complete list');
    t.equal(all.revision, await store.revision());
    t.same((await store.list('/registry/pods/')).items.length, 6, 'a prefix ending in / excludes siblings');

    const page1 = await store.list('/registry/pods/ns1/', { limit: 2 });
    t.same(page1.items.map((kv) => text(kv.value)), ['a', 'b']);
    t.type(page1.continue, 'string');
    const page2 = await store.list('/registry/pods/ns1/', { limit: 2, continue: page1.continue as string });
    t.same(page2.items.map((kv) => text(kv.value)), ['c', 'd']);
    const page3 = await store.list('/registry/pods/ns1/', { limit: 2, continue: page2.continue as string });
    t.same(page3.items.map((kv) => text(kv.value)), ['e']);
    t.equal(page3.continue, undefined, 'the last page has no continue');
    t.equal(page3.revision, page1.revision, 'every page reports the first page\'s revision');

    const exact = await store.list('/registry/pods/ns1/', { limit: 5 });
    t.equal(exact.items.length, 5);
    t.equal(exact.continue, undefined, 'a page that ends exactly at the end has no continue');

    await expectCode(t, store.list('/registry/pods/ns1/', { revision: (await store.revision()) + 1000 }), 'FutureRevision', 'list at a future revision');
    await expectCode(t, store.list('/registry/pods/ns1/', { continue: 'not-a-token' }), 'InvalidArgument', 'garbage continue token');
    await expectCode(t, store.list('/registry/secrets/', { continue: page1.continue as string }), 'InvalidArgument', 'continue token of another list');
  });

  withStore('list pagination stays consistent at its revision while writes continue', async (t, store) => {
    for (let i = 0; i < 60; i++) await store.create(`/p/${String(i).padStart(3, '0')}`, bytes(`v${i}`));
    const first = await store.list('/p/', { limit: 10 });
    const expected = new Map<string, string>();
    for (let i = 0; i < 60; i++) expected.set(`/p/${String(i).padStart(3, '0')}`, `v${i}`);

    const seen = first.items.map((kv) => [kv.key, text(kv.value)] as const);
    let token = first.continue;
    let round = 0;
    while (token) {
      // Between pages: update, delete and create keys both before and after the cursor.
      await store.update(`/p/${String(round).padStart(3, '0')}`, bytes('changed'), (await store.get(`/p/${String(round).padStart(3, '0')}`))!.modRevision);
      await store.delete(`/p/${String(59 - round).padStart(3, '0')}`);
      await store.create(`/p/${String(round).padStart(3, '0')}-new`, bytes('new'));
      const page = await store.list('/p/', { limit: 10, continue: token });
      t.equal(page.revision, first.revision, `page ${round + 2} is read at the first page's revision`);
      for (const kv of page.items) seen.push([kv.key, text(kv.value)]);
      token = page.continue;
      round++;
    }
    t.same(new Map(seen), expected, 'the pages together are exactly the state at the first revision');
    t.equal(seen.length, 60, 'no key twice, none missing');

    const current = await store.list('/p/');
    t.equal(current.items.filter((kv) => kv.key.endsWith('-new')).length, round, 'the current list sees the keys created meanwhile');
    t.equal(current.items.length, 60, '…and not the ones deleted');
    const atFirst = await store.list('/p/', { revision: first.revision });
    t.same(new Map(atFirst.items.map((kv) => [kv.key, text(kv.value)])), expected, 'a list at an explicit past revision');
  });

  withStore('watch from a revision: every change after it, in order, with prev values', async (t, store) => {
    const r0 = (await store.create('/w/a', bytes('a1'))).revision;
    const r1 = (await store.update('/w/a', bytes('a2'), r0)).revision;
    const r2 = (await store.create('/w/b', bytes('b1'))).revision;
    await store.create('/other/x', bytes('x'));
    const r3 = (await store.delete('/w/a')).revision;

    const events = await collect(store.watch('/w/', r0), 3);
    t.same(events.map((e) => [e.type, e.key, e.revision]), [
      ['put', '/w/a', r1],
      ['put', '/w/b', r2],
      ['delete', '/w/a', r3],
    ], 'history after r0, prefix only');
    const [update, create, del] = events as [WatchEvent, WatchEvent, WatchEvent];
    t.equal(text(update.value?.value), 'a2');
    t.equal(text(update.prevValue?.value), 'a1', 'an update carries the previous value');
    t.equal(create.prevValue, undefined, 'a create has no previous value');
    t.equal(create.value?.createRevision, r2);
    t.equal(del.value, undefined, 'a delete has no new value');
    t.equal(text(del.prevValue?.value), 'a2', 'a delete carries the deleted value');

    const live = store.watch('/w/');
    const r4 = (await store.create('/w/c', bytes('c1'))).revision;
    const [fromNow] = await collect(live, 1);
    t.equal(fromNow?.revision, r4, 'a watch from now sees the next change');
    t.equal(fromNow?.key, '/w/c');
  });

  withStore('watch from a revision with concurrent writers: no gap, no duplicate', async (t, store) => {
    const writers = 8;
    const perWriter = 150;
    const acknowledged: number[] = [];
    let startRevision = 0;
    let watch: Watch | undefined;
    const writer = async (w: number): Promise<void> => {
      for (let i = 0; i < perWriter; i++) {
        const key = `/c/w${w}-${i % 10}`;
        const existing = await store.get(key);
        const result = existing ? await store.update(key, bytes(`${w}:${i}`), existing.modRevision).catch(() => undefined) : await store.create(key, bytes(`${w}:${i}`)).catch(() => undefined);
        if (result) acknowledged.push(result.revision);
        if (w === 0 && i === perWriter / 3) {
          // Start the watch mid-stream, from a revision other writes are racing past.
          startRevision = await store.revision();
          watch = store.watch('/c/', startRevision);
        }
      }
    };
    await Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
    const expected = acknowledged.filter((r) => r > startRevision).sort((a, b) => a - b);
    const events = await collect(watch as Watch, expected.length);
    watch?.close();
    const revisions = events.map((e) => e.revision);
    t.ok(expected.length > 100, `the watch spans many concurrent writes (${expected.length})`);
    t.same(revisions, expected, 'exactly the acknowledged writes after the start revision, in order');
    t.ok(revisions.every((r, i) => i === 0 || r > (revisions[i - 1] as number)), 'strictly increasing revisions');
  });

  withStore('compaction: reads and watches below it are Gone', async (t, store) => {
    const r1 = (await store.create('/g/a', bytes('1'))).revision;
    await store.create('/g/b', bytes('2'));
    const page = await store.list('/g/', { limit: 1 });
    t.type(page.continue, 'string');
    const r3 = (await store.create('/g/c', bytes('3'))).revision;
    const r4 = (await store.update('/g/c', bytes('4'), r3)).revision;
    await store.compact(r3);
    t.equal(await store.revision(), r4, 'compaction does not change the revision');

    const gone = await expectCode(t, store.list('/g/', { revision: r1 }), 'Gone', 'list at a compacted revision');
    t.ok(gone instanceof Error);
    await expectCode(t, store.list('/g/', { limit: 1, continue: page.continue as string }), 'Gone', 'continue token from before compaction');
    const watch = store.watch('/g/', r1);
    await expectCode(t, collect(watch, 1), 'Gone', 'watch from a compacted revision');

    const atCompaction = await store.list('/g/', { revision: r3 });
    t.same(atCompaction.items.map((kv) => text(kv.value)), ['1', '2', '3'], 'the compaction revision itself is readable');
    const events = await collect(store.watch('/g/', r3), 1);
    t.equal(events[0]?.revision, r4, 'a watch from the compaction revision works');
    t.same((await store.list('/g/')).items.map((kv) => text(kv.value)), ['1', '2', '4'], 'current state is untouched');
    await store.compact(r3); // compacting again is harmless
    await expectCode(t, store.compact(r4 + 1000), 'InvalidArgument', 'compacting the future');
  });

  withStore('20 concurrent CAS updaters on one key lose no increment', async (t, store) => {
    const key = '/counter';
    await store.create(key, bytes('0'));
    const updaters = 20;
    const incrementsEach = 10;
    let conflicts = 0;
    const increment = async (): Promise<void> => {
      let current = (await store.get(key)) as KeyValue;
      for (let attempt = 0; attempt < 1000; attempt++) {
        try {
          await store.update(key, bytes(String(Number(text(current.value)) + 1)), current.modRevision);
          return;
        } catch (err) {
          if (!(err instanceof ConflictError)) throw err;
          conflicts++;
          current = err.current;
        }
      }
      throw new Error('too many conflicts');
    };
    await Promise.all(Array.from({ length: updaters }, async () => {
      for (let i = 0; i < incrementsEach; i++) await increment();
    }));
    const final = (await store.get(key)) as KeyValue;
    t.equal(text(final.value), String(updaters * incrementsEach), 'every increment is kept');
    t.equal(final.version, updaters * incrementsEach + 1, 'one version per successful update');
    t.ok(conflicts > 0, `the updaters really raced (${conflicts} conflicts)`);
  });

  withStore('closing a watch ends its iteration; values are bytes, untouched', async (t, store) => {
    const watch = store.watch('/z/');
    const binary = Buffer.from([0, 1, 2, 255, 254, 10, 13]);
    await store.create('/z/bin', binary);
    const [event] = await collect(watch, 1);
    t.same(Buffer.from(event?.value?.value ?? []), binary, 'binary values round-trip');
    watch.close();
    const ended = await collect(watch, 1, 2000);
    t.same(ended, [], 'a closed watch yields nothing more');
    const large = Buffer.alloc(1_500_000, 7);
    await store.create('/z/large', large);
    t.equal((await store.get('/z/large'))?.value.length, large.length, 'a 1.5 MB value (kube\'s object limit) is stored');
  });
}
