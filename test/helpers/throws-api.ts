import type { Test } from 'tap';
import { ApiError } from '../../src/api/status.js';

/** Asserts that `fn` throws an ApiError with this code whose message matches. */
export function throwsApi(t: Test, fn: () => unknown, code: number, message: RegExp, name?: string): void {
  try {
    fn();
    t.fail(`${name ?? message} did not throw`);
  } catch (err) {
    t.ok(err instanceof ApiError && err.code === code && message.test(err.message), name ?? String(message), { error: err });
  }
}
