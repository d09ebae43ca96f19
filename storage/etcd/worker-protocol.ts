import {
  AlreadyExistsError,
  ConflictError,
  FutureRevisionError,
  GoneError,
  InvalidArgumentError,
  NotFoundError,
  StorageError,
  UnavailableError,
} from '../errors.js';
import type { StorageErrorCode } from '../errors.js';
import type { KeyValue, WatchEvent } from '../types.js';
import type { EtcdStoreOptions } from './etcd-store.js';

/**
 * The messages between an etcd store running in a worker thread (store-worker.ts) and its proxy on
 * the main thread (worker-store.ts). Values cross as structured clones (key/value bytes are copied).
 */
export type StoreMethod = 'get' | 'list' | 'create' | 'update' | 'delete' | 'revision' | 'compact';

export type ToWorker =
  | { readonly op: 'call'; readonly id: number; readonly method: StoreMethod; readonly args: readonly unknown[] }
  /** A watch from `fromRevision`, or "from now" after the newest revision the main thread has seen. */
  | { readonly op: 'watch'; readonly id: number; readonly prefix: string; readonly fromRevision?: number; readonly seenRevision: number }
  | { readonly op: 'unwatch'; readonly id: number }
  | { readonly op: 'close'; readonly id: number };

export type FromWorker =
  | { readonly op: 'opened' }
  | { readonly op: 'openFailed'; readonly error: SerializedError }
  | { readonly op: 'result'; readonly id: number; readonly value: unknown }
  | { readonly op: 'error'; readonly id: number; readonly error: SerializedError }
  | { readonly op: 'events'; readonly id: number; readonly events: readonly WatchEvent[] }
  | { readonly op: 'watchFailed'; readonly id: number; readonly error: SerializedError }
  | { readonly op: 'watchEnded'; readonly id: number };

export interface WorkerData {
  readonly options: EtcdStoreOptions;
}

export interface SerializedError {
  readonly code?: StorageErrorCode;
  readonly message: string;
  readonly key?: string;
  readonly current?: KeyValue;
  readonly expectedRevision?: number;
  readonly requestedRevision?: number;
  readonly compactedRevision?: number;
}

export function serializeError(err: unknown): SerializedError {
  if (!(err instanceof StorageError)) return { message: err instanceof Error ? err.message : String(err) };
  const base = { code: err.code, message: err.message, ...(err.key !== undefined ? { key: err.key } : {}) };
  if (err instanceof ConflictError) return { ...base, current: err.current, expectedRevision: err.expectedRevision };
  if (err instanceof GoneError) return { ...base, requestedRevision: err.requestedRevision, compactedRevision: err.compactedRevision };
  if (err instanceof FutureRevisionError) return { ...base, requestedRevision: err.requestedRevision };
  return base;
}

/** The same typed storage error on this side (upper layers map them to Status errors by class). */
export function deserializeError(error: SerializedError): Error {
  const key = error.key ?? '';
  switch (error.code) {
    case 'NotFound':
      return new NotFoundError(key);
    case 'AlreadyExists':
      return new AlreadyExistsError(key);
    case 'Conflict':
      return new ConflictError(key, error.expectedRevision ?? 0, error.current as KeyValue);
    case 'Gone':
      return new GoneError(error.requestedRevision ?? 0, error.compactedRevision ?? 0);
    case 'FutureRevision':
      return Object.assign(new FutureRevisionError(error.requestedRevision ?? 0), { message: error.message });
    case 'InvalidArgument':
      return new InvalidArgumentError(error.message);
    case 'Unavailable':
      return new UnavailableError(error.message);
    default:
      return new Error(error.message);
  }
}
