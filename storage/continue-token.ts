import { InvalidArgumentError } from './errors.js';

/**
 * A list's continue token: the revision the first page was read at and the key the next page starts
 * from. Opaque to callers; base64url JSON so it survives query strings.
 */
export interface ContinuePosition {
  readonly revision: number;
  readonly startKey: string;
}

export function encodeContinue(position: ContinuePosition): string {
  return Buffer.from(JSON.stringify({ rev: position.revision, start: position.startKey })).toString('base64url');
}

export function decodeContinue(token: string, prefix: string): ContinuePosition {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new InvalidArgumentError('continue token is not valid');
  }
  const { rev, start } = (parsed ?? {}) as { rev?: unknown; start?: unknown };
  if (typeof rev !== 'number' || !Number.isSafeInteger(rev) || rev <= 0 || typeof start !== 'string') {
    throw new InvalidArgumentError('continue token is not valid');
  }
  if (!start.startsWith(prefix)) {
    throw new InvalidArgumentError('continue token does not belong to this list');
  }
  return { revision: rev, startKey: start };
}

/** The smallest key greater than `key` (for resuming a listing after it). */
export function keyAfter(key: string): string {
  return key + '\u0000';
}
