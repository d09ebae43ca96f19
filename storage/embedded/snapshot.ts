import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { KeyValue } from '../types.js';
import { frame, scanFrames } from './frame.js';
import { syncDirectory } from './fsync-dir.js';
import { CorruptStoreError } from './wal.js';

/**
 * A snapshot is the whole keyspace at one revision, so the log before it can be deleted:
 * `snapshot-<revision>.snap`, written to a temporary name, fsynced, then renamed into place.
 * Frames: a JSON header, one frame per key, a JSON trailer with the count; any damage makes the
 * snapshot unusable (it was complete before the rename, so damage means the disk lied).
 *   entry: u48 createRevision | u48 modRevision | u32 version | u32 key length | key | value
 */
const SNAPSHOT_PATTERN = /^snapshot-(\d{16})\.snap$/;
const FORMAT = 1;
const CHUNK_BYTES = 1 << 20;

export interface Snapshot {
  readonly revision: number;
  readonly compactedRevision: number;
  readonly entries: KeyValue[];
}

function snapshotName(revision: number): string {
  return `snapshot-${String(revision).padStart(16, '0')}.snap`;
}

export async function listSnapshots(dir: string): Promise<{ path: string; revision: number }[]> {
  const found: { path: string; revision: number }[] = [];
  for (const name of await readdir(dir)) {
    const match = SNAPSHOT_PATTERN.exec(name);
    if (match) found.push({ path: join(dir, name), revision: Number(match[1]) });
    else if (name.endsWith('.snap.tmp')) await unlink(join(dir, name)); // an interrupted write
  }
  return found.sort((a, b) => a.revision - b.revision);
}

export async function writeSnapshot(dir: string, snapshot: Snapshot): Promise<void> {
  const finalPath = join(dir, snapshotName(snapshot.revision));
  const tmpPath = `${finalPath}.tmp`;
  const handle = await open(tmpPath, 'w');
  try {
    let chunk: Buffer[] = [frame(Buffer.from(JSON.stringify({ format: FORMAT, revision: snapshot.revision, compactedRevision: snapshot.compactedRevision })))];
    let chunkBytes = 0;
    for (const kv of snapshot.entries) {
      const f = frame(encodeEntry(kv));
      chunk.push(f);
      chunkBytes += f.length;
      if (chunkBytes >= CHUNK_BYTES) {
        await handle.writev(chunk);
        chunk = [];
        chunkBytes = 0;
      }
    }
    chunk.push(frame(Buffer.from(JSON.stringify({ count: snapshot.entries.length }))));
    await handle.writev(chunk);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(tmpPath, finalPath);
  await syncDirectory(dir);
}

export async function readSnapshot(path: string): Promise<Snapshot> {
  const scan = scanFrames(await readFile(path));
  if (scan.damage !== undefined || scan.payloads.length < 2) {
    throw new CorruptStoreError(`${path}: damaged snapshot (${scan.damage ?? 'truncated'})`);
  }
  const header = JSON.parse((scan.payloads[0] as Buffer).toString('utf8')) as { format?: number; revision?: number; compactedRevision?: number };
  const trailer = JSON.parse((scan.payloads[scan.payloads.length - 1] as Buffer).toString('utf8')) as { count?: number };
  const entries = scan.payloads.slice(1, -1).map(decodeEntry);
  if (header.format !== FORMAT || typeof header.revision !== 'number' || trailer.count !== entries.length) {
    throw new CorruptStoreError(`${path}: snapshot header or trailer does not match its contents`);
  }
  return { revision: header.revision, compactedRevision: header.compactedRevision ?? 0, entries };
}

function encodeEntry(kv: KeyValue): Buffer {
  const keyBytes = Buffer.byteLength(kv.key);
  const out = Buffer.allocUnsafe(20 + keyBytes + kv.value.length);
  out.writeUIntBE(kv.createRevision, 0, 6);
  out.writeUIntBE(kv.modRevision, 6, 6);
  out.writeUInt32BE(kv.version, 12);
  out.writeUInt32BE(keyBytes, 16);
  out.write(kv.key, 20, 'utf8');
  out.set(kv.value, 20 + keyBytes);
  return out;
}

function decodeEntry(payload: Buffer): KeyValue {
  const keyBytes = payload.readUInt32BE(16);
  return {
    key: payload.toString('utf8', 20, 20 + keyBytes),
    value: Buffer.from(payload.subarray(20 + keyBytes)),
    createRevision: payload.readUIntBE(0, 6),
    modRevision: payload.readUIntBE(6, 6),
    version: payload.readUInt32BE(12),
  };
}

export async function removeSnapshotsBefore(dir: string, revision: number): Promise<void> {
  for (const old of await listSnapshots(dir)) {
    if (old.revision < revision) await unlink(old.path);
  }
}
