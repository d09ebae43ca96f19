import {
  ClientClosedError,
  CompareResult,
  CompareTarget,
  Etcd3,
  GRPCInvalidArgumentError,
  isRecoverableError,
  type ICompare,
  type IDuplexStream,
  type IKeyValue,
  type IOptions,
  type IResponseHeader,
  type ITxnRequest,
  type IWatchRequest,
  type IWatchResponse,
} from 'etcd3';
import { decodeContinue, encodeContinue, keyAfter } from '../continue-token.js';
import {
  AlreadyExistsError,
  ConflictError,
  GoneError,
  FutureRevisionError,
  InvalidArgumentError,
  NotFoundError,
  StorageError,
  UnavailableError,
} from '../errors.js';
import type {
  DeleteResult,
  KeyValue,
  ListOptions,
  ListResult,
  Store,
  Watch,
  WatchEvent,
  WriteResult,
} from '../types.js';
import { WatchQueue } from '../watch-queue.js';

export interface EtcdStoreOptions {
  readonly endpoints: string[];
  /** Prepended to every key on the wire and stripped from keys read back; default ''. */
  readonly keyPrefix?: string;
  /** How long opening the store keeps trying to reach etcd; default 5s. */
  readonly dialTimeoutMs?: number;
  /** Deadline of each unary call; default 30s. */
  readonly requestTimeoutMs?: number;
  /** How long a watch keeps re-establishing its broken stream before failing with UnavailableError; default 30s. */
  readonly watchReconnectTimeoutMs?: number;
}

const DIAL_RETRY_MS = 100;
const WATCH_BACKOFF_MIN_MS = 50;
const WATCH_BACKOFF_MAX_MS = 1_000;
const STABLE_STREAM_MS = 2_000;

type FaultPolicy = ReturnType<NonNullable<NonNullable<IOptions['faultHandling']>['host']>>;
type WatchStream = IDuplexStream<IWatchRequest, IWatchResponse>;
interface KeyRange {
  readonly key: Buffer;
  readonly range_end: Buffer;
}

/**
 * Runs each call exactly once. etcd3's defaults (3 retries, then a 5s circuit breaker per host) would
 * re-send writes whose outcome is unknown and keep failing calls for seconds after etcd is back;
 * the store reports UnavailableError instead and leaves retrying to its callers.
 */
const neverAborted = new AbortController().signal;
const callOnce = {
  execute: async <T>(fn: (context: { signal: AbortSignal }) => PromiseLike<T> | T): Promise<T> =>
    fn({ signal: neverAborted }),
} as unknown as FaultPolicy;

/** Connects to etcd, waiting up to `dialTimeoutMs` for it to answer (UnavailableError after that). */
export async function openEtcdStore(options: EtcdStoreOptions): Promise<EtcdStore> {
  if (options.endpoints.length === 0) throw new InvalidArgumentError('no etcd endpoints given');
  const client = new Etcd3({
    hosts: options.endpoints,
    faultHandling: { host: () => callOnce, global: callOnce },
    // gRPC's default 4MB cap would fail big lists and watch catch-ups (etcd's Go client has none).
    grpcOptions: { 'grpc.max_receive_message_length': -1 },
  });
  const store = new EtcdStore(client, {
    keyPrefix: options.keyPrefix ?? '',
    requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
    watchReconnectTimeoutMs: options.watchReconnectTimeoutMs ?? 30_000,
  });
  const deadline = Date.now() + (options.dialTimeoutMs ?? 5_000);
  for (;;) {
    try {
      await store.readRevision(Math.max(deadline - Date.now(), 1));
      return store;
    } catch (err) {
      if (!(err instanceof UnavailableError) || Date.now() + DIAL_RETRY_MS >= deadline) {
        client.close();
        throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, DIAL_RETRY_MS));
    }
  }
}

/**
 * The Store on etcd v3: every operation is one etcd request (CAS writes are single transactions),
 * revisions are etcd's own, lists page at a pinned revision and watches are etcd watches that resume
 * by themselves when their stream breaks.
 */
export class EtcdStore implements Store {
  readonly backend = 'etcd';
  private readonly client: Etcd3;
  private readonly keyPrefix: string;
  private readonly prefixBytes: number;
  private readonly requestTimeoutMs: number;
  private readonly watchReconnectTimeoutMs: number;
  private readonly watches = new Set<EtcdWatch>();
  /** Highest revision seen in any response: "now" for watches opened without a revision. */
  private lastSeenRevision = 0;
  /** Highest compaction revision this store learned of (a lower bound of etcd's). */
  private knownCompacted = 0;
  private closed = false;

  constructor(
    client: Etcd3,
    settings: { keyPrefix: string; requestTimeoutMs: number; watchReconnectTimeoutMs: number },
  ) {
    this.client = client;
    this.keyPrefix = settings.keyPrefix;
    this.prefixBytes = Buffer.byteLength(settings.keyPrefix);
    this.requestTimeoutMs = settings.requestTimeoutMs;
    this.watchReconnectTimeoutMs = settings.watchReconnectTimeoutMs;
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const res = await this.client.kv.range({ key: this.wire(key) }, this.deadline()).catch(this.fail);
    this.observe(res.header);
    const kv = res.kvs[0];
    return kv ? this.decode(kv) : undefined;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListResult> {
    let revision = options.revision ?? 0;
    let startKey = prefix;
    if (options.continue) ({ revision, startKey } = decodeContinue(options.continue, prefix));
    if (!(revision >= 0)) throw new InvalidArgumentError(`invalid list revision ${revision}`);
    const limit = Math.max(options.limit ?? 0, 0);
    const range = this.range(prefix);
    const key = startKey === prefix ? range.key : this.wire(startKey);
    const res = await this.client.kv
      .range({ key, range_end: range.range_end, revision, limit }, this.deadline())
      .catch((err: unknown) => this.fail(err, revision));
    const current = this.observe(res.header);
    const items = res.kvs.map((kv) => this.decode(kv));
    const listRevision = revision > 0 ? revision : current;
    const last = items[items.length - 1];
    if (!res.more || !last) return { items, revision: listRevision };
    const next = encodeContinue({ revision: listRevision, startKey: keyAfter(last.key) });
    return { items, revision: listRevision, continue: next };
  }

  async create(key: string, value: Uint8Array): Promise<WriteResult> {
    const k = this.wire(key);
    const res = await this.txn({
      compare: [modRevision(k, CompareResult.Equal, 0)],
      success: [{ request_put: { key: k, value: value as Buffer } }], // protobufjs takes any Uint8Array
    });
    if (!res.succeeded) throw new AlreadyExistsError(key);
    return { revision: this.observe(res.header) };
  }

  async update(key: string, value: Uint8Array, expectedRevision: number): Promise<WriteResult> {
    // A missing key has mod_revision 0: comparing against 0 would create it, so no write is tried.
    if (!(expectedRevision > 0)) throw await this.mismatch(key, expectedRevision);
    const k = this.wire(key);
    const res = await this.txn({
      compare: [modRevision(k, CompareResult.Equal, expectedRevision)],
      success: [{ request_put: { key: k, value: value as Buffer } }],
      failure: [{ request_range: { key: k } }],
    });
    const revision = this.observe(res.header);
    if (res.succeeded) return { revision };
    const current = res.responses[0]?.response_range.kvs[0];
    throw current ? new ConflictError(key, expectedRevision, this.decode(current)) : new NotFoundError(key);
  }

  async delete(key: string, expectedRevision?: number): Promise<DeleteResult> {
    const k = this.wire(key);
    const success = [{ request_delete_range: { key: k, prev_kv: true } }];
    const res = await this.txn(
      expectedRevision === undefined
        ? { compare: [modRevision(k, CompareResult.Greater, 0)], success }
        : {
            compare: [modRevision(k, CompareResult.Equal, expectedRevision)],
            success,
            failure: [{ request_range: { key: k } }],
          },
    );
    const revision = this.observe(res.header);
    const response = res.responses[0];
    if (res.succeeded) {
      // Also reached when expectedRevision is 0 and the key is missing: nothing was deleted.
      const prev = response?.response_delete_range.prev_kvs[0];
      if (!prev) throw new NotFoundError(key);
      return { revision, prev: this.decode(prev) };
    }
    const current = response?.response_range.kvs[0];
    throw current && expectedRevision !== undefined
      ? new ConflictError(key, expectedRevision, this.decode(current))
      : new NotFoundError(key);
  }

  watch(prefix: string, fromRevision?: number): Watch {
    if (fromRevision !== undefined && !(Number.isSafeInteger(fromRevision) && fromRevision >= 0)) {
      return failedWatch(new InvalidArgumentError(`invalid watch revision ${fromRevision}`));
    }
    // "From now" starts after the newest revision this store has seen, known synchronously, so no
    // change committed after watch() returns can be missed (a few earlier ones may be replayed).
    return fromRevision ? this.startWatch(prefix, fromRevision, false) : this.startWatch(prefix, this.lastSeenRevision, true);
  }

  /**
   * A watch "from now" for a caller that has seen revisions only up to `seenRevision` (a client of
   * this store in another thread): it starts after that, so nothing committed after the caller asked
   * is missed, and a compacted start moves forward as "from now" does.
   */
  watchAfterSeen(prefix: string, seenRevision: number): Watch {
    return this.startWatch(prefix, Math.min(seenRevision, this.lastSeenRevision), true);
  }

  private startWatch(prefix: string, after: number, fromNow: boolean): Watch {
    if (this.closed) return failedWatch(new UnavailableError('etcd store is closed'));
    const watch = new EtcdWatch({
      stream: () => this.client.watchClient.watch(),
      range: this.range(prefix),
      next: after + 1,
      fromNow,
      reconnectTimeoutMs: this.watchReconnectTimeoutMs,
      decode: (kv) => this.decode(kv),
      observeCompaction: (revision) => this.observeCompaction(revision),
      onClose: (w) => this.watches.delete(w),
    });
    this.watches.add(watch);
    return watch.queue;
  }

  async revision(): Promise<number> {
    return this.readRevision(this.requestTimeoutMs);
  }

  /** The current revision, from a linearizable count-only read with its own deadline. */
  async readRevision(timeoutMs: number): Promise<number> {
    const res = await this.client.kv
      .range({ key: ZERO_KEY, count_only: true }, { deadline: Date.now() + timeoutMs })
      .catch(this.fail);
    return this.observe(res.header);
  }

  async compact(revision: number): Promise<void> {
    if (!Number.isSafeInteger(revision) || revision < 1) {
      throw new InvalidArgumentError(`cannot compact to revision ${revision}`);
    }
    try {
      const res = await this.client.kv.compact({ revision }, this.deadline());
      this.observe(res.header);
      this.observeCompaction(revision);
    } catch (err) {
      const mapped = toStorageError(err, revision, this.knownCompacted);
      if (mapped instanceof GoneError) return; // already compacted at or past `revision`
      throw mapped instanceof FutureRevisionError ? new InvalidArgumentError(`cannot compact at future revision ${revision}`) : mapped;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const watch of this.watches) watch.queue.fail(new UnavailableError('etcd store is closed'));
    this.client.close();
  }

  private txn(req: ITxnRequest) {
    return this.client.kv.txn(req, this.deadline()).catch(this.fail);
  }

  private deadline() {
    return { deadline: Date.now() + this.requestTimeoutMs };
  }

  /** The error for a CAS against `expectedRevision` that cannot match: Conflict or NotFound. */
  private async mismatch(key: string, expectedRevision: number): Promise<StorageError> {
    const current = await this.get(key);
    return current ? new ConflictError(key, expectedRevision, current) : new NotFoundError(key);
  }

  private wire(key: string): Buffer {
    return Buffer.from(this.keyPrefix + key);
  }

  /** The etcd key range holding every key that starts with `prefix`. */
  private range(prefix: string): KeyRange {
    const start = this.wire(prefix);
    return { key: start.length > 0 ? start : ZERO_KEY, range_end: prefixEnd(start) };
  }

  private decode(kv: IKeyValue): KeyValue {
    return {
      key: kv.key.toString('utf8', this.prefixBytes),
      value: kv.value,
      createRevision: Number(kv.create_revision),
      modRevision: Number(kv.mod_revision),
      version: Number(kv.version),
    };
  }

  /** Notes a response's revision and returns it. */
  private observe(header: IResponseHeader): number {
    const revision = Number(header.revision);
    if (revision > this.lastSeenRevision) this.lastSeenRevision = revision;
    return revision;
  }

  private observeCompaction(revision: number): void {
    if (revision > this.knownCompacted) this.knownCompacted = revision;
  }

  /** Rethrows an etcd3 failure as a StorageError; `requested` is the revision that was read. */
  private readonly fail = (err: unknown, requested = 0): never => {
    throw toStorageError(err, requested, this.knownCompacted);
  };
}

const ZERO_KEY = Buffer.from([0]);

/** A txn condition on `key`'s mod_revision (0 when the key does not exist). */
function modRevision(key: Buffer, result: CompareResult, revision: number): ICompare {
  return { key, target: CompareTarget.Mod, result, mod_revision: revision };
}

/** The smallest key greater than every key starting with `prefix`; "\0" (to the end) when there is none. */
function prefixEnd(prefix: Buffer): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i] as number;
    if (byte < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i] = byte + 1;
      return end;
    }
  }
  return ZERO_KEY;
}

function toStorageError(err: unknown, requested: number, knownCompacted: number): Error {
  if (!(err instanceof Error) || err instanceof StorageError) return err as Error;
  const message = err.message;
  // etcd answers OUT_OF_RANGE without saying which revision is the oldest kept.
  if (message.includes('required revision has been compacted')) {
    return new GoneError(requested, knownCompacted > requested ? knownCompacted : 0);
  }
  if (message.includes('required revision is a future revision')) {
    return new FutureRevisionError(requested);
  }
  if (err instanceof ClientClosedError) return new UnavailableError('etcd store is closed', { cause: err });
  if (isRecoverableError(err)) return new UnavailableError(`etcd unavailable: ${message}`, { cause: err });
  if (err instanceof GRPCInvalidArgumentError) return new InvalidArgumentError(message);
  return err;
}

function failedWatch(error: Error): Watch {
  const queue = new WatchQueue(() => {});
  queue.fail(error);
  return queue;
}

interface EtcdWatchParams {
  /** Opens a new gRPC watch stream. */
  readonly stream: () => Promise<WatchStream>;
  readonly range: KeyRange;
  /** First revision to deliver. */
  readonly next: number;
  /**
   * Opened without a revision: if its start turns out compacted on its first stream, before any event
   * (the store's newest revision was stale), it starts after the compaction revision rather than failing.
   */
  readonly fromNow: boolean;
  readonly reconnectTimeoutMs: number;
  readonly decode: (kv: IKeyValue) => KeyValue;
  readonly observeCompaction: (revision: number) => void;
  readonly onClose: (watch: EtcdWatch) => void;
}

/**
 * One etcd watch on its own gRPC stream. It tracks the next revision it owes its consumer and, when
 * the stream breaks, re-creates the watch from exactly that revision (dropping anything older), so
 * events arrive once and in order across etcd restarts. etcd3's own Watcher is not used: it resumes
 * from the last response's header revision, which skips the rest of a catch-up in progress.
 */
class EtcdWatch {
  readonly queue: WatchQueue;
  private readonly params: EtcdWatchParams;
  private next: number;
  private stream: WatchStream | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** When the current run of failures began (0 while healthy), and its length. */
  private failingSince = 0;
  private failures = 0;
  /** When etcd acknowledged the current stream's watch (0 before that). */
  private createdAt = 0;
  /** Whether this watch has delivered an event or lost a stream: its start is settled. */
  private settled = false;

  constructor(params: EtcdWatchParams) {
    this.params = params;
    this.next = params.next;
    this.queue = new WatchQueue(() => this.stop());
    this.connect();
  }

  private connect(): void {
    this.retryTimer = undefined;
    this.params.stream().then(
      (stream) => {
        if (this.queue.closed) return endStream(stream);
        this.stream = stream;
        stream
          .on('data', (res) => this.onResponse(stream, res))
          .on('error', (err) => this.onBreak(stream, err))
          .on('end', () => this.onBreak(stream, new Error('etcd ended the watch stream')));
        this.create(stream);
      },
      (err: unknown) => this.onBreak(undefined, err),
    );
  }

  private create(stream: WatchStream): void {
    stream.write({ create_request: { ...this.params.range, start_revision: this.next, prev_kv: true } });
  }

  private onResponse(stream: WatchStream, res: IWatchResponse): void {
    if (stream !== this.stream) return;
    if (res.canceled) {
      const compacted = Number(res.compact_revision);
      if (compacted > 0) this.params.observeCompaction(compacted);
      if (compacted > 0 && this.params.fromNow && !this.settled) {
        this.next = compacted + 1; // the compaction revision itself predates the compaction
        this.create(stream);
      } else {
        this.queue.fail(
          compacted > 0
            ? new GoneError(this.next - 1, compacted)
            : new UnavailableError(`etcd canceled the watch: ${res.cancel_reason}`),
        );
      }
      return;
    }
    if (res.created) {
      this.createdAt = Date.now();
      return;
    }
    if (res.events.length === 0) return;
    this.failingSince = this.failures = 0;
    this.settled = true;
    // A revision's events always come in one response; anything below `from` is a replay.
    const from = this.next;
    for (const ev of res.events) {
      const revision = Number(ev.kv.mod_revision);
      if (revision < from) continue;
      const kv = this.params.decode(ev.kv);
      const prev = ev.prev_kv ? { prevValue: this.params.decode(ev.prev_kv) } : undefined;
      const event: WatchEvent =
        ev.type === 'Put'
          ? { type: 'put', key: kv.key, value: kv, revision, ...prev }
          : { type: 'delete', key: kv.key, revision, ...prev };
      this.queue.push(event);
      this.next = revision + 1;
    }
  }

  /** The stream failed: retry with backoff, or give up once etcd has been unreachable for too long. */
  private onBreak(stream: WatchStream | undefined, err: unknown): void {
    if (this.queue.closed || stream !== this.stream) return;
    this.stream = undefined;
    this.settled = true;
    if (stream) endStream(stream);
    const now = Date.now();
    // A stream that stayed up a while was healthy, even without events; one that fails right after
    // being created (say, every catch-up response is too large) counts as still failing.
    if (this.createdAt > 0 && now - this.createdAt >= STABLE_STREAM_MS) this.failingSince = this.failures = 0;
    this.createdAt = 0;
    if (this.failingSince === 0) this.failingSince = now;
    if (now - this.failingSince >= this.params.reconnectTimeoutMs) {
      this.queue.fail(new UnavailableError(`etcd watch stream lost for ${now - this.failingSince}ms`, { cause: err }));
      return;
    }
    const delay = Math.min(WATCH_BACKOFF_MIN_MS * 2 ** this.failures++, WATCH_BACKOFF_MAX_MS);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private stop(): void {
    clearTimeout(this.retryTimer);
    const stream = this.stream;
    this.stream = undefined;
    if (stream) endStream(stream);
    this.params.onClose(this);
  }
}

/**
 * Ends a watch stream. Half-closing first keeps etcd3 from treating the cancellation as a failed
 * host (which would reset every gRPC client of the store).
 */
function endStream(stream: WatchStream): void {
  stream.end();
  stream.cancel();
}
