/**
 * Controller expectations (client-go's ControllerExpectations): after a controller creates or
 * deletes N pods it must not act on the same owner again until its informer has seen those N
 * events, or it would count the world as it was before its own writes and create or delete twice.
 * Entries expire (default 5 minutes, as kube's) so a lost event cannot wedge an owner for ever.
 */
export class Expectations {
  private readonly entries = new Map<string, { adds: number; deletes: number; at: number }>();
  private readonly ttlMs: number;

  constructor(ttlMs = 300_000) {
    this.ttlMs = ttlMs;
  }

  /** Whether the controller may act on `key` (nothing outstanding, or the expectations expired). */
  satisfied(key: string): boolean {
    const entry = this.entries.get(key);
    if (!entry) return true;
    if ((entry.adds <= 0 && entry.deletes <= 0) || Date.now() - entry.at > this.ttlMs) {
      this.entries.delete(key);
      return true;
    }
    return false;
  }

  expect(key: string, adds: number, deletes: number): void {
    if (adds <= 0 && deletes <= 0) return;
    this.entries.set(key, { adds, deletes, at: Date.now() });
  }

  /** A create was seen (or failed: it will never be seen). */
  creationObserved(key: string): void {
    const entry = this.entries.get(key);
    if (entry) entry.adds--;
  }

  /** A delete was seen (or the object was already gone). */
  deletionObserved(key: string): void {
    const entry = this.entries.get(key);
    if (entry) entry.deletes--;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}
