import { mkdir } from 'node:fs/promises';
import type { DeleteResult, KeyValue, ListOptions, ListResult, Store, Watch, WatchEvent, WriteResult } from '../types.js';
import { AlreadyExistsError, ConflictError, FutureRevisionError, GoneError, InvalidArgumentError, NotFoundError, UnavailableError } from '../errors.js';
import { decodeContinue, encodeContinue, keyAfter } from '../continue-token.js';
import { WatchQueue } from '../watch-queue.js';
import { silentLogger } from '../logger.js';
import type { StoreLogger } from '../logger.js';
import { Keyspace, nextValue } from './keyspace.js';
import { frame } from './frame.js';
import { encodeRecord } from './record.js';
import type { WalRecord } from './record.js';
import { CorruptStoreError, readLog, WalWriter } from './wal.js';
import { listSnapshots, readSnapshot, removeSnapshotsBefore, writeSnapshot } from './snapshot.js';
import { lockDataDir } from './lock.js';

export interface EmbeddedStoreOptions {
  readonly dataDir: string;
  /** Changes kept in memory for watch resume and pinned-revision lists (older ones are compacted). */
  readonly historyRevisions?: number;
  /** Take a snapshot and start a new log segment after this many logged records. */
  readonly snapshotEveryRecords?: number;
  readonly logger?: StoreLogger;
}

const DEFAULT_HISTORY_REVISIONS = 50_000;
const DEFAULT_SNAPSHOT_EVERY_RECORDS = 100_000;

/** A write waiting for its batch to be synced; `apply` runs once it is durable. */
interface PendingWrite {
  readonly frame: Buffer;
  readonly apply: () => void;
  readonly fail: (err: Error) => void;
}

/** The newest, possibly not yet durable, state of a key with writes in flight. */
interface InFlight {
  readonly kv: KeyValue | undefined;
  /** Settles (never rejects) when this write is durable or has failed. */
  readonly settled: Promise<void>;
}

interface Watcher {
  readonly prefix: string;
  readonly after: number;
  readonly queue: WatchQueue;
}

/**
 * The default store: in memory, made durable by a write-ahead log with group commit, periodic
 * snapshots and bounded history. Writes are ordered and checked (create / CAS) against the newest
 * state including writes in flight, but become visible — to reads, watches and their own callers —
 * only once their batch is fsynced, so nothing a client ever saw can be lost in a crash. A failed
 * check on a key with a write in flight waits for that write, so errors never reveal it early.
 */
export class EmbeddedStore implements Store {
  readonly backend = 'embedded';
  private readonly keyspace: Keyspace;
  private readonly wal: WalWriter;
  private readonly options: Required<Omit<EmbeddedStoreOptions, 'logger'>> & { logger: StoreLogger };
  private readonly unlock: () => Promise<void>;
  private readonly inFlight = new Map<string, InFlight>();
  private readonly watchers = new Set<Watcher>();
  private pending: PendingWrite[] = [];
  private lastAssignedRevision: number;
  private flushing = false;
  private flushDone: Promise<void> = Promise.resolve();
  private recordsSinceSnapshot: number;
  private snapshotting: Promise<void> | undefined;
  private failure: Error | undefined;
  private closed = false;

  private constructor(keyspace: Keyspace, wal: WalWriter, unlock: () => Promise<void>, recordsSinceSnapshot: number, options: EmbeddedStore['options']) {
    this.keyspace = keyspace;
    this.wal = wal;
    this.unlock = unlock;
    this.options = options;
    this.lastAssignedRevision = keyspace.revision;
    this.recordsSinceSnapshot = recordsSinceSnapshot;
  }

  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
    const resolved = {
      dataDir: options.dataDir,
      historyRevisions: options.historyRevisions ?? DEFAULT_HISTORY_REVISIONS,
      snapshotEveryRecords: options.snapshotEveryRecords ?? DEFAULT_SNAPSHOT_EVERY_RECORDS,
      logger: options.logger ?? silentLogger,
    };
    await mkdir(resolved.dataDir, { recursive: true });
    const unlock = await lockDataDir(resolved.dataDir);
    try {
      const { keyspace, replayed } = await recover(resolved.dataDir, resolved.logger);
      const wal = await WalWriter.open(resolved.dataDir, keyspace.revision + 1);
      const store = new EmbeddedStore(keyspace, wal, unlock, replayed, resolved);
      resolved.logger.info({ dataDir: resolved.dataDir, revision: keyspace.revision, keys: keyspace.size, replayed }, 'embedded store opened');
      if (replayed >= resolved.snapshotEveryRecords) await store.snapshotNow();
      return store;
    } catch (err) {
      await unlock();
      throw err;
    }
  }

  async get(key: string): Promise<KeyValue | undefined> {
    this.checkUsable();
    return this.keyspace.get(key);
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    this.checkUsable();
    const limit = options.limit ?? 0;
    if (!Number.isSafeInteger(limit) || limit < 0) throw new InvalidArgumentError(`invalid limit ${limit}`);
    let revision = this.keyspace.revision;
    let startKey = prefix;
    if (options.continue) {
      ({ revision, startKey } = decodeContinue(options.continue, prefix));
    } else if (options.revision) {
      revision = options.revision;
    }
    if (revision > this.keyspace.revision) {
      throw new FutureRevisionError(revision, this.keyspace.revision);
    }
    if (revision < this.keyspace.revision && revision < this.keyspace.compactedRevision) {
      throw new GoneError(revision, this.keyspace.compactedRevision);
    }
    const { items, more } = this.keyspace.range(prefix, startKey, revision, limit);
    const last = items[items.length - 1];
    return more && last ? { items, revision, continue: encodeContinue({ revision, startKey: keyAfter(last.key) }) } : { items, revision };
  }

  async create(key: string, value: Uint8Array): Promise<WriteResult> {
    this.checkUsable();
    const current = this.newest(key);
    if (current.kv) return this.failAfterInFlight(current, () => this.create(key, value), new AlreadyExistsError(key));
    return this.put(key, value, undefined);
  }

  async update(key: string, value: Uint8Array, expectedRevision: number): Promise<WriteResult> {
    this.checkUsable();
    const current = this.newest(key);
    if (!current.kv) return this.failAfterInFlight(current, () => this.update(key, value, expectedRevision), new NotFoundError(key));
    if (current.kv.modRevision !== expectedRevision) {
      return this.failAfterInFlight(current, () => this.update(key, value, expectedRevision), new ConflictError(key, expectedRevision, current.kv));
    }
    return this.put(key, value, current.kv);
  }

  async delete(key: string, expectedRevision?: number): Promise<DeleteResult> {
    this.checkUsable();
    const current = this.newest(key);
    if (!current.kv) return this.failAfterInFlight(current, () => this.delete(key, expectedRevision), new NotFoundError(key));
    if (expectedRevision !== undefined && current.kv.modRevision !== expectedRevision) {
      return this.failAfterInFlight(current, () => this.delete(key, expectedRevision), new ConflictError(key, expectedRevision, current.kv));
    }
    const prev = current.kv;
    const revision = ++this.lastAssignedRevision;
    return this.enqueue(key, undefined, { op: 'delete', revision, key }, () => {
      this.publish(this.keyspace.applyDelete(key, revision));
      return { revision, prev };
    });
  }

  watch(prefix: string, fromRevision = 0): Watch {
    const watcher: Watcher = {
      prefix,
      after: fromRevision > 0 ? fromRevision : this.keyspace.revision,
      queue: new WatchQueue(() => this.watchers.delete(watcher)),
    };
    if (this.failure || this.closed) {
      watcher.queue.fail(new UnavailableError('store is closed', { cause: this.failure }));
    } else if (watcher.after < this.keyspace.compactedRevision - 1) {
      watcher.queue.fail(new GoneError(watcher.after, this.keyspace.compactedRevision));
    } else {
      for (const event of this.keyspace.changesAfter(prefix, watcher.after)) watcher.queue.push(event);
      this.watchers.add(watcher);
    }
    return watcher.queue;
  }

  async revision(): Promise<number> {
    this.checkUsable();
    return this.keyspace.revision;
  }

  async compact(revision: number): Promise<void> {
    this.checkUsable();
    if (!Number.isSafeInteger(revision) || revision > this.keyspace.revision) {
      throw new InvalidArgumentError(`cannot compact at revision ${revision} (current ${this.keyspace.revision})`);
    }
    if (revision <= this.keyspace.compactedRevision) return;
    await this.enqueue(undefined, undefined, { op: 'compact', revision }, () => {
      this.keyspace.compact(revision);
    });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.flushDone;
    await this.snapshotting;
    for (const watcher of this.watchers) watcher.queue.close();
    await this.wal.close().catch(() => undefined);
    await this.unlock();
  }

  /** For tests and operators: snapshot the current state now and drop the log before it. */
  async snapshotNow(): Promise<void> {
    await this.flushDone;
    await this.snapshotting;
    this.startSnapshot();
    await this.snapshotting;
  }

  private put(key: string, given: Uint8Array, prev: KeyValue | undefined): Promise<WriteResult> {
    const value = Buffer.from(given); // the caller may reuse its buffer
    const revision = ++this.lastAssignedRevision;
    const record: WalRecord = { op: 'put', revision, key, value };
    return this.enqueue(key, nextValue(key, value, revision, prev), record, () => {
      this.publish(this.keyspace.applyPut(key, value, revision));
      return { revision };
    });
  }

  /** The newest state of `key`: its in-flight write if any, else what is committed. */
  private newest(key: string): { kv: KeyValue | undefined; inFlight?: InFlight } {
    const inFlight = this.inFlight.get(key);
    return inFlight ? { kv: inFlight.kv, inFlight } : { kv: this.keyspace.get(key) };
  }

  /** A check failed: if it failed against an in-flight write, wait for it and re-check. */
  private async failAfterInFlight<T>(current: { inFlight?: InFlight }, retry: () => Promise<T>, error: Error): Promise<T> {
    if (!current.inFlight) throw error;
    await current.inFlight.settled;
    return retry();
  }

  private enqueue<T>(key: string | undefined, after: KeyValue | undefined, record: WalRecord, apply: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settle!: () => void;
      const settled = new Promise<void>((s) => { settle = s; });
      const inFlight: InFlight = { kv: after, settled };
      if (key !== undefined) this.inFlight.set(key, inFlight);
      const done = (): void => {
        if (key !== undefined && this.inFlight.get(key) === inFlight) this.inFlight.delete(key);
        settle();
      };
      this.pending.push({
        frame: frame(encodeRecord(record)),
        apply: () => {
          done();
          resolve(apply());
        },
        fail: (err) => {
          done();
          reject(err);
        },
      });
      if (!this.flushing) this.flushDone = this.flushLoop();
    });
  }

  /** Group commit: everything queued while one batch syncs goes out together in the next. */
  private async flushLoop(): Promise<void> {
    this.flushing = true;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.wal.append(batch.map((write) => write.frame));
      } catch (err) {
        this.failStore(err as Error, batch);
        break;
      }
      for (const write of batch) write.apply();
      this.recordsSinceSnapshot += batch.length;
      this.maintain();
      if (this.recordsSinceSnapshot >= this.options.snapshotEveryRecords && !this.snapshotting) {
        try {
          await this.wal.rotate(this.keyspace.revision + 1);
        } catch (err) {
          this.failStore(err as Error, []);
          break;
        }
        this.startSnapshot();
      }
    }
    this.flushing = false;
  }

  private startSnapshot(): void {
    const snapshot = { revision: this.keyspace.revision, compactedRevision: this.keyspace.compactedRevision, entries: this.keyspace.entries() };
    const keepFrom = this.wal.currentSegmentFirstRevision;
    this.recordsSinceSnapshot = 0;
    this.snapshotting = (async () => {
      try {
        await writeSnapshot(this.options.dataDir, snapshot);
        await this.wal.removeSegmentsBefore(keepFrom);
        await removeSnapshotsBefore(this.options.dataDir, snapshot.revision);
        this.options.logger.info({ revision: snapshot.revision, keys: snapshot.entries.length }, 'embedded store snapshot written');
      } catch (err) {
        // The log still holds everything; a later snapshot will try again.
        this.options.logger.error({ err }, 'embedded store snapshot failed');
      } finally {
        this.snapshotting = undefined;
      }
    })();
  }

  /** Bounded history: forget the oldest changes once it grows past its budget. */
  private maintain(): void {
    const budget = this.options.historyRevisions;
    if (this.keyspace.historyLength > budget + Math.max(1000, budget >> 3)) {
      this.keyspace.compact(this.keyspace.revision - budget + 1);
    }
  }

  private publish(event: WatchEvent): void {
    for (const watcher of this.watchers) {
      if (event.revision > watcher.after && event.key.startsWith(watcher.prefix)) watcher.queue.push(event);
    }
  }

  /** A failed append leaves the log's tail unknown: stop accepting writes rather than guess. */
  private failStore(err: Error, batch: PendingWrite[]): void {
    this.failure = err;
    this.options.logger.error({ err }, 'embedded store write-ahead log failed; store is now read-only');
    const failed = new UnavailableError('write-ahead log failed', { cause: err });
    for (const write of [...batch, ...this.pending]) write.fail(failed);
    this.pending = [];
    for (const watcher of this.watchers) watcher.queue.fail(failed);
  }

  private checkUsable(): void {
    if (this.closed) throw new UnavailableError('store is closed');
    if (this.failure) throw new UnavailableError('store failed', { cause: this.failure });
  }
}

/** Latest snapshot + every logged change after it. */
async function recover(dir: string, logger: StoreLogger): Promise<{ keyspace: Keyspace; replayed: number }> {
  const snapshots = await listSnapshots(dir);
  const latest = snapshots[snapshots.length - 1];
  const snapshot = latest ? await readSnapshot(latest.path) : undefined;
  const keyspace = snapshot ? new Keyspace(snapshot.revision, snapshot.entries) : new Keyspace();
  if (snapshot) keyspace.compact(snapshot.compactedRevision);
  let replayed = 0;
  for (const record of await readLog(dir, logger)) {
    if (record.op === 'compact') {
      if (record.revision <= keyspace.revision) keyspace.compact(record.revision);
      continue;
    }
    if (record.revision <= keyspace.revision) continue; // already in the snapshot
    if (record.revision !== keyspace.revision + 1) {
      throw new CorruptStoreError(`write-ahead log jumps from revision ${keyspace.revision} to ${record.revision}`);
    }
    if (record.op === 'put') keyspace.applyPut(record.key, record.value, record.revision);
    else keyspace.applyDelete(record.key, record.revision);
    replayed++;
  }
  return { keyspace, replayed };
}

export function openEmbeddedStore(options: EmbeddedStoreOptions): Promise<EmbeddedStore> {
  return EmbeddedStore.open(options);
}
