import t from 'tap';
import { spawn } from 'node:child_process';
import { appendFile, readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { openEmbeddedStore } from '../../storage/embedded/embedded-store.js';
import { CorruptStoreError } from '../../storage/embedded/wal.js';
import { DataDirLockedError } from '../../storage/embedded/lock.js';
import { isStorageError } from '../../storage/errors.js';
import { tempDir } from '../helpers/temp-dir.js';
import { collect } from './suite.js';

const writerScript = fileURLToPath(new URL('./fixtures/crash-writer.ts', import.meta.url));

async function files(dir: string, pattern: RegExp): Promise<string[]> {
  return (await readdir(dir)).filter((name) => pattern.test(name)).sort();
}

/** Simulates bit rot: inverts one byte in the middle of a file. */
async function flipMiddleByte(path: string): Promise<void> {
  const bytes = await readFile(path);
  const at = Math.floor(bytes.length / 2);
  bytes.writeUInt8(bytes.readUInt8(at) ^ 0xff, at);
  await writeFile(path, bytes);
}

async function writeKeys(dataDir: string, count: number, options: { snapshotEveryRecords?: number } = {}): Promise<number> {
  const store = await openEmbeddedStore({ dataDir, ...options });
  let revision = 0;
  for (let i = 0; i < count; i++) revision = (await store.create(`/k/${String(i).padStart(5, '0')}`, Buffer.from(`v${i}`))).revision;
  await store.close();
  return revision;
}

t.test('embedded: kill -9 mid-stream loses no acknowledged write', async (t) => {
  const dir = await tempDir('crash');
  t.teardown(dir.remove);
  const child = spawn(process.execPath, ['--import', 'tsx', writerScript, dir.path, '10000', '64', '3000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const acknowledged = new Map<string, number>();
  let killedAt = 0;
  let finished = false;
  const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
  for await (const line of createInterface({ input: child.stdout })) {
    if (line === 'done') finished = true;
    const [, key, revision] = line.split(' ');
    if (key && revision) acknowledged.set(key, Number(revision));
    if (acknowledged.size >= 4500 && killedAt === 0) {
      killedAt = acknowledged.size;
      child.kill('SIGKILL');
    }
  }
  t.equal(await exited, 'SIGKILL', 'the writer was killed');
  t.notOk(finished, 'it was killed before it finished');
  t.ok(acknowledged.size >= 4500 && acknowledged.size < 10000, `killed mid-stream after ${acknowledged.size} acknowledged writes`);

  const store = await openEmbeddedStore({ dataDir: dir.path });
  t.teardown(() => store.close());
  const missing: string[] = [];
  const wrong: string[] = [];
  for (const [key, revision] of acknowledged) {
    const kv = await store.get(key);
    if (!kv) missing.push(key);
    else if (kv.modRevision !== revision || Buffer.from(kv.value).toString() !== `value-of-${key}`) wrong.push(key);
  }
  t.same(missing, [], 'every acknowledged key is there after reopening');
  t.same(wrong, [], 'with its value and revision');
  const { items } = await store.list('/crash/');
  t.ok(items.length >= acknowledged.size, `the store holds ${items.length} keys (some unacknowledged writes may have landed too)`);
  t.ok((await store.revision()) >= Math.max(...acknowledged.values()), 'the revision did not go back');
  await store.create('/after/crash', Buffer.from('ok'));
  t.ok(await store.get('/after/crash'), 'the reopened store takes writes');
});

t.test('embedded: a torn final record is dropped, earlier records intact', async (t) => {
  const dir = await tempDir('torn');
  t.teardown(dir.remove);
  const lastRevision = await writeKeys(dir.path, 1000);
  const [segment] = await files(dir.path, /^wal-.*\.log$/);
  const path = join(dir.path, segment as string);
  const { size } = await stat(path);
  await truncate(path, size - 3);

  const store = await openEmbeddedStore({ dataDir: dir.path });
  t.equal((await store.list('/k/')).items.length, 999, 'all but the torn record survive');
  t.equal(await store.get('/k/00999'), undefined, 'the torn record is gone, not mis-read');
  t.equal(Buffer.from((await store.get('/k/00998'))!.value).toString(), 'v998');
  t.equal(await store.revision(), lastRevision - 1);
  const { revision } = await store.create('/k/after', Buffer.from('x'));
  t.equal(revision, lastRevision, 'the next write reuses the torn record\'s revision, which was never acknowledged');
  await store.close();

  const reopened = await openEmbeddedStore({ dataDir: dir.path });
  t.equal((await reopened.list('/k/')).items.length, 1000, 'a second reopen sees the repaired log plus the new write');
  await reopened.close();
});

t.test('embedded: garbage after the last record is dropped', async (t) => {
  const dir = await tempDir('garbage');
  t.teardown(dir.remove);
  await writeKeys(dir.path, 50);
  const [segment] = await files(dir.path, /^wal-.*\.log$/);
  await appendFile(join(dir.path, segment as string), Buffer.from([0, 0, 0, 40, 1, 2, 3, 4, 9, 9, 9]));
  const store = await openEmbeddedStore({ dataDir: dir.path });
  t.equal((await store.list('/k/')).items.length, 50, 'a partial frame at the end is dropped');
  await store.create('/k/next', Buffer.from('x'));
  await store.close();
  const again = await openEmbeddedStore({ dataDir: dir.path });
  t.equal((await again.list('/k/')).items.length, 51, 'and the log goes on cleanly after it');
  await again.close();
});

t.test('embedded: damage before the end of the log refuses to open instead of losing writes', async (t) => {
  const dir = await tempDir('corrupt');
  t.teardown(dir.remove);
  await writeKeys(dir.path, 50);
  const more = await openEmbeddedStore({ dataDir: dir.path });
  for (let i = 0; i < 10; i++) await more.create(`/more/${i}`, Buffer.from('x'));
  await more.close();
  const segments = await files(dir.path, /^wal-.*\.log$/);
  t.equal(segments.length, 2, 'each open starts a new segment');
  await flipMiddleByte(join(dir.path, segments[0] as string));
  await t.rejects(openEmbeddedStore({ dataDir: dir.path }), CorruptStoreError, 'a damaged earlier segment is reported, not truncated');
});

t.test('embedded: a damaged snapshot refuses to open', async (t) => {
  const dir = await tempDir('badsnap');
  t.teardown(dir.remove);
  await writeKeys(dir.path, 50, { snapshotEveryRecords: 20 });
  const snapshots = await files(dir.path, /\.snap$/);
  t.equal(snapshots.length, 1, 'old snapshots are removed once a newer one is written');
  await flipMiddleByte(join(dir.path, snapshots[0] as string));
  await t.rejects(openEmbeddedStore({ dataDir: dir.path }), CorruptStoreError, 'the damage is reported');
});

t.test('embedded: snapshots truncate the log and recovery restores state, revision and watch resume', async (t) => {
  const dir = await tempDir('snapshot');
  t.teardown(dir.remove);
  const store = await openEmbeddedStore({ dataDir: dir.path, snapshotEveryRecords: 100 });
  let last = 0;
  for (let i = 0; i < 450; i++) last = (await store.create(`/s/${String(i).padStart(4, '0')}`, Buffer.from(`v${i}`))).revision;
  for (let i = 0; i < 50; i++) last = (await store.delete(`/s/${String(i).padStart(4, '0')}`)).revision;
  await store.snapshotNow();
  const segments = await files(dir.path, /^wal-.*\.log$/);
  t.equal(segments.length, 1, 'segments before the snapshot are deleted');
  t.equal((await files(dir.path, /\.snap$/)).length, 1, 'one snapshot is kept');
  const afterSnapshot = (await store.create('/s/after', Buffer.from('after'))).revision;
  await store.close();

  const reopened = await openEmbeddedStore({ dataDir: dir.path });
  t.teardown(() => reopened.close());
  t.equal(await reopened.revision(), afterSnapshot, 'the revision survives');
  const { items } = await reopened.list('/s/');
  t.equal(items.length, 401, 'snapshot plus the log after it');
  t.equal((await reopened.get('/s/0100'))?.version, 1);
  t.equal(await reopened.get('/s/0000'), undefined, 'deletes survive');
  const events = await collect(reopened.watch('/s/', last), 1);
  t.equal(events[0]?.key, '/s/after', 'a watch from the snapshot revision resumes with what came after');
  try {
    await collect(reopened.watch('/s/', last - 10), 1);
    t.fail('a watch from before the snapshot should be Gone');
  } catch (err) {
    t.ok(isStorageError(err, 'Gone'), 'a watch from before the snapshot is Gone');
  }
});

t.test('embedded: history is bounded; watches past it are Gone', async (t) => {
  const dir = await tempDir('history');
  t.teardown(dir.remove);
  const store = await openEmbeddedStore({ dataDir: dir.path, historyRevisions: 100 });
  t.teardown(() => store.close());
  const first = await store.revision();
  for (let i = 0; i < 1500; i++) await store.create(`/h/${i}`, Buffer.from('x'));
  const now = await store.revision();
  try {
    await collect(store.watch('/h/', first), 1);
    t.fail('expected Gone');
  } catch (err) {
    t.ok(isStorageError(err, 'Gone'), 'a watch from the first revision is Gone');
  }
  const recent = await collect(store.watch('/h/', now - 50), 50);
  t.equal(recent.length, 50, 'a recent revision still resumes');
});

t.test('embedded: opening without writing leaves no empty log segments behind', async (t) => {
  const dir = await tempDir('empty-segments');
  t.teardown(dir.remove);
  await writeKeys(dir.path, 3);
  for (let i = 0; i < 3; i++) await (await openEmbeddedStore({ dataDir: dir.path })).close();
  t.equal((await files(dir.path, /^wal-.*\.log$/)).length, 2, 'the written segment plus one empty segment to continue in');
});

t.test('embedded: one process per data dir', async (t) => {
  const dir = await tempDir('lock');
  t.teardown(dir.remove);
  const store = await openEmbeddedStore({ dataDir: dir.path });
  await t.rejects(openEmbeddedStore({ dataDir: dir.path }), DataDirLockedError, 'a second open is refused');
  await store.close();
  const again = await openEmbeddedStore({ dataDir: dir.path });
  await again.close();
  t.pass('the lock is released on close');
});
