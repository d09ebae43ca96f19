import type { KeyValue } from './types.js';

/**
 * Typed failures of the store. Upper layers map them to Kubernetes Status errors:
 * NotFound → 404, AlreadyExists → 409 AlreadyExists, Conflict → 409 Conflict, Gone → 410 Expired,
 * FutureRevision → 504 "Too large resource version" (the client retries), Unavailable → 503 / 504.
 */
export type StorageErrorCode = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Gone' | 'FutureRevision' | 'InvalidArgument' | 'Unavailable';

export class StorageError extends Error {
  readonly code: StorageErrorCode;
  readonly key: string | undefined;

  constructor(code: StorageErrorCode, message: string, key?: string, options?: ErrorOptions) {
    super(message, options);
    this.name = `${code}Error`;
    this.code = code;
    this.key = key;
  }
}

export class NotFoundError extends StorageError {
  constructor(key: string) {
    super('NotFound', `key not found: ${key}`, key);
  }
}

export class AlreadyExistsError extends StorageError {
  constructor(key: string) {
    super('AlreadyExists', `key already exists: ${key}`, key);
  }
}

/** A compare-and-swap lost: `current` is the value that won, so callers can retry without a read. */
export class ConflictError extends StorageError {
  readonly current: KeyValue;
  readonly expectedRevision: number;

  constructor(key: string, expectedRevision: number, current: KeyValue) {
    super('Conflict', `key ${key} was modified: expected revision ${expectedRevision}, found ${current.modRevision}`, key);
    this.current = current;
    this.expectedRevision = expectedRevision;
  }
}

/** The requested revision is older than the store's history (compacted). */
export class GoneError extends StorageError {
  readonly requestedRevision: number;
  readonly compactedRevision: number;

  constructor(requestedRevision: number, compactedRevision: number) {
    super('Gone', `revision ${requestedRevision} has been compacted (oldest available: ${compactedRevision})`);
    this.requestedRevision = requestedRevision;
    this.compactedRevision = compactedRevision;
  }
}

/** A read at a revision the store has not reached yet. */
export class FutureRevisionError extends StorageError {
  readonly requestedRevision: number;

  constructor(requestedRevision: number, currentRevision?: number) {
    super('FutureRevision', `revision ${requestedRevision} is newer than the store's current revision${currentRevision === undefined ? '' : ` ${currentRevision}`}`);
    this.requestedRevision = requestedRevision;
  }
}

export class InvalidArgumentError extends StorageError {
  constructor(message: string) {
    super('InvalidArgument', message);
  }
}

export class UnavailableError extends StorageError {
  constructor(message: string, options?: ErrorOptions) {
    super('Unavailable', message, undefined, options);
  }
}

export function isStorageError(err: unknown, code?: StorageErrorCode): err is StorageError {
  return err instanceof StorageError && (code === undefined || err.code === code);
}
