import { open, readdir, readFile, stat, truncate, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { scanFrames } from './frame.js';
import { decodeRecord } from './record.js';
import type { WalRecord } from './record.js';
import { syncDirectory } from './fsync-dir.js';
import type { StoreLogger } from '../logger.js';

/**
 * The write-ahead log: a sequence of segment files `wal-<first revision>.log`, each a run of
 * checksummed frames. Appends are group-committed by the caller: one writev + one fdatasync per
 * batch, and a write is acknowledged only after its batch is synced.
 */
const SEGMENT_PATTERN = /^wal-(\d{16})\.log$/;

export function segmentName(firstRevision: number): string {
  return `wal-${String(firstRevision).padStart(16, '0')}.log`;
}

export interface Segment {
  readonly path: string;
  readonly firstRevision: number;
}

export async function listSegments(dir: string): Promise<Segment[]> {
  const segments: Segment[] = [];
  for (const name of await readdir(dir)) {
    const match = SEGMENT_PATTERN.exec(name);
    if (match) segments.push({ path: join(dir, name), firstRevision: Number(match[1]) });
  }
  return segments.sort((a, b) => a.firstRevision - b.firstRevision);
}

export class CorruptStoreError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CorruptStoreError';
  }
}

/**
 * Reads every record of every segment in order. A damaged tail of the LAST segment is a write torn by
 * a crash (never acknowledged, since acknowledgement follows fdatasync): it is cut off. Damage in any
 * earlier segment would lose acknowledged writes, so it stops the store from opening.
 */
export async function readLog(dir: string, logger: StoreLogger): Promise<WalRecord[]> {
  const segments = await listSegments(dir);
  const records: WalRecord[] = [];
  for (const [index, segment] of segments.entries()) {
    const bytes = await readFile(segment.path);
    const scan = scanFrames(bytes);
    for (const payload of scan.payloads) records.push(decodeRecord(payload));
    if (scan.damage === undefined) continue;
    if (index !== segments.length - 1) {
      throw new CorruptStoreError(`${segment.path}: ${scan.damage} (not the last segment, refusing to drop acknowledged writes)`);
    }
    logger.warn({ segment: segment.path, damage: scan.damage, droppedBytes: bytes.length - scan.validBytes }, 'dropping torn tail of write-ahead log');
    await truncate(segment.path, scan.validBytes);
    const handle = await open(segment.path, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
  return records;
}

export class WalWriter {
  private handle: FileHandle;
  private segmentFirstRevision: number;
  private readonly dir: string;

  private constructor(dir: string, handle: FileHandle, firstRevision: number) {
    this.dir = dir;
    this.handle = handle;
    this.segmentFirstRevision = firstRevision;
  }

  /** Opens (or continues an empty) segment starting at `firstRevision`; other empty segments go. */
  static async open(dir: string, firstRevision: number): Promise<WalWriter> {
    for (const segment of await listSegments(dir)) {
      if (segment.firstRevision !== firstRevision && (await stat(segment.path)).size === 0) await unlink(segment.path);
    }
    const handle = await open(join(dir, segmentName(firstRevision)), 'a');
    await syncDirectory(dir);
    return new WalWriter(dir, handle, firstRevision);
  }

  get currentSegmentFirstRevision(): number {
    return this.segmentFirstRevision;
  }

  /** Appends frames and makes them durable. */
  async append(frames: Buffer[]): Promise<void> {
    let total = 0;
    for (const f of frames) total += f.length;
    let written = (await this.handle.writev(frames)).bytesWritten;
    if (written < total) {
      // A short write is rare for regular files; finish it with one contiguous buffer.
      const rest = Buffer.concat(frames).subarray(written);
      while (written < total) {
        const { bytesWritten } = await this.handle.write(rest, written - (total - rest.length));
        written += bytesWritten;
      }
    }
    await this.handle.datasync();
  }

  /** Starts a new segment; records from `firstRevision` on go there. */
  async rotate(firstRevision: number): Promise<void> {
    const next = await open(join(this.dir, segmentName(firstRevision)), 'a');
    await syncDirectory(this.dir);
    const previous = this.handle;
    this.handle = next;
    this.segmentFirstRevision = firstRevision;
    await previous.close();
  }

  /** Deletes segments that hold only revisions before `revision`. */
  async removeSegmentsBefore(revision: number): Promise<void> {
    for (const segment of await listSegments(this.dir)) {
      if (segment.firstRevision < revision && segment.firstRevision !== this.segmentFirstRevision) {
        await unlink(segment.path);
      }
    }
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}
