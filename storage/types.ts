/**
 * The store behind Flotilla: an ordered key/value space with one global revision counter.
 *
 * Semantics are etcd's (the reference backend): every successful write gets the next revision,
 * revisions are strictly increasing and never reused, each key remembers the revision that created it
 * and the one that last modified it. Values are opaque bytes; the store knows nothing of Kubernetes.
 */

/** One key as stored at some revision. */
export interface KeyValue {
  readonly key: string;
  readonly value: Uint8Array;
  /** Revision of the write that created this incarnation of the key. */
  readonly createRevision: number;
  /** Revision of the write that produced this value (kube's resourceVersion). */
  readonly modRevision: number;
  /** Number of writes to this incarnation of the key, 1 after create. */
  readonly version: number;
}

export interface ListOptions {
  /** At most this many items; 0 or absent means no limit. */
  readonly limit?: number;
  /** Opaque token from a previous page; the list goes on at that page's revision. */
  readonly continue?: string;
  /** Read at this revision (must not be compacted); absent or 0 means the current revision. */
  readonly revision?: number;
}

export interface ListResult {
  readonly items: KeyValue[];
  /** The revision the whole list (all its pages) is consistent at. */
  readonly revision: number;
  /** Present when more items follow; pass it back to get the next page. */
  readonly continue?: string;
}

export interface WriteResult {
  /** The revision this write was committed at. */
  readonly revision: number;
}

export interface DeleteResult extends WriteResult {
  /** The value the key held before the delete. */
  readonly prev: KeyValue;
}

export type WatchEventType = 'put' | 'delete';

export interface WatchEvent {
  readonly type: WatchEventType;
  readonly key: string;
  /** The new value (put); for a delete, absent. */
  readonly value?: KeyValue;
  /** The value before this change, when there was one. */
  readonly prevValue?: KeyValue;
  /** The revision of the change. */
  readonly revision: number;
}

/**
 * A live watch: iterate it to receive events in revision order. Iteration ends when `close()` is
 * called, and throws (GoneError, UnavailableError, …) when the watch cannot go on.
 */
export interface Watch extends AsyncIterable<WatchEvent> {
  close(): void;
}

export interface Store {
  /** The backend's name, for logs and test names: "embedded" or "etcd". */
  readonly backend: string;

  get(key: string): Promise<KeyValue | undefined>;

  /** Keys starting with `prefix`, in key order, consistent at one revision across pages. */
  list(prefix: string, options?: ListOptions): Promise<ListResult>;

  /** Creates `key`; fails with AlreadyExistsError when it exists. */
  create(key: string, value: Uint8Array): Promise<WriteResult>;

  /**
   * Replaces `key`'s value if its modRevision is still `expectedRevision`; fails with ConflictError
   * (carrying the current value) when it moved on, NotFoundError when the key is gone.
   */
  update(key: string, value: Uint8Array, expectedRevision: number): Promise<WriteResult>;

  /**
   * Deletes `key`, only if its modRevision is `expectedRevision` when one is given. Fails with
   * NotFoundError when absent, ConflictError on a revision mismatch.
   */
  delete(key: string, expectedRevision?: number): Promise<DeleteResult>;

  /**
   * Every change to keys under `prefix` after revision `fromRevision`, exactly once and in order.
   * `fromRevision` absent or 0 means "from now". A compacted `fromRevision` fails with GoneError
   * on first iteration.
   */
  watch(prefix: string, fromRevision?: number): Watch;

  /** The store's current revision. */
  revision(): Promise<number>;

  /**
   * Forgets history before `revision` (etcd's compaction): afterwards a list at a revision below it,
   * a continue token from below it, or a watch from a revision below `revision - 1` fails with
   * GoneError. Compacting does not change the current revision.
   */
  compact(revision: number): Promise<void>;

  close(): Promise<void>;
}
