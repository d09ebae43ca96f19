import type { KeyValue, WatchEvent } from '../types.js';

/**
 * The embedded store's committed state: every live key (a map plus a sorted key array for ordered
 * range reads) and the history of recent changes. Each write has its own revision, so the history
 * is a dense array: the event at revision r sits at index r - firstHistoryRevision. State at an
 * older revision R is the current state with the changes after R undone (each event keeps the
 * value it replaced), which is how lists at a pinned revision are served.
 *
 * Invariant: history holds every change with revision >= compactedRevision.
 */
export class Keyspace {
  private readonly live = new Map<string, KeyValue>();
  private sortedKeys: string[] = [];
  private history: WatchEvent[] = [];
  private historyHead = 0;
  private currentRevision: number;
  private compacted: number;

  constructor(revision = 1, entries: Iterable<KeyValue> = []) {
    this.currentRevision = revision;
    this.compacted = revision + 1;
    for (const kv of entries) this.live.set(kv.key, kv);
    this.sortedKeys = [...this.live.keys()].sort(compareKeys);
  }

  get revision(): number {
    return this.currentRevision;
  }

  /** The oldest revision that can still be read at; watches may start from one below it. */
  get compactedRevision(): number {
    return this.compacted;
  }

  get size(): number {
    return this.live.size;
  }

  get(key: string): KeyValue | undefined {
    return this.live.get(key);
  }

  /** Every live key and value, in key order (a consistent copy for snapshots). */
  entries(): KeyValue[] {
    return this.sortedKeys.map((key) => this.live.get(key) as KeyValue);
  }

  /** Applies one committed change; `revision` must be the next one. Returns the resulting event. */
  applyPut(key: string, value: Uint8Array, revision: number): WatchEvent {
    this.expectNext(revision);
    const prev = this.live.get(key);
    const kv = nextValue(key, value, revision, prev);
    this.live.set(key, kv);
    if (!prev) insertSorted(this.sortedKeys, key);
    return this.record(prev ? { type: 'put', key, value: kv, prevValue: prev, revision } : { type: 'put', key, value: kv, revision });
  }

  applyDelete(key: string, revision: number): WatchEvent {
    this.expectNext(revision);
    const prev = this.live.get(key);
    if (!prev) throw new Error(`delete of absent key ${key} at revision ${revision}`);
    this.live.delete(key);
    removeSorted(this.sortedKeys, key);
    return this.record({ type: 'delete', key, prevValue: prev, revision });
  }

  /** Drops history before `revision`. */
  compact(revision: number): void {
    if (revision <= this.compacted) return;
    const drop = Math.min(revision - this.firstHistoryRevision(), this.history.length - this.historyHead);
    this.historyHead += Math.max(0, drop);
    this.compacted = revision;
    if (this.historyHead > 4096 && this.historyHead * 2 > this.history.length) {
      this.history = this.history.slice(this.historyHead);
      this.historyHead = 0;
    }
  }

  /** Number of changes currently kept in history. */
  get historyLength(): number {
    return this.history.length - this.historyHead;
  }

  /** Changes after `revision` under `prefix`, oldest first. Caller checks compaction first. */
  changesAfter(prefix: string, revision: number): WatchEvent[] {
    const out: WatchEvent[] = [];
    const start = Math.max(this.historyHead, this.historyHead + (revision + 1 - this.firstHistoryRevision()));
    for (let i = start; i < this.history.length; i++) {
      const event = this.history[i] as WatchEvent;
      if (event.key.startsWith(prefix)) out.push(event);
    }
    return out;
  }

  /**
   * Up to `limit` (0 = all) keys under `prefix` starting at `startKey`, as they were at `revision`,
   * plus whether more follow. Caller checks `revision` is within history.
   */
  range(prefix: string, startKey: string, revision: number, limit: number): { items: KeyValue[]; more: boolean } {
    const want = limit > 0 ? limit : Infinity;
    const items: KeyValue[] = [];
    const past = revision < this.currentRevision ? this.stateBefore(prefix, startKey, revision) : undefined;
    const pastKeys = past ? [...past.keys()].sort(compareKeys) : [];
    let p = 0;
    let i = lowerBound(this.sortedKeys, startKey);
    for (;;) {
      const liveKey = i < this.sortedKeys.length ? this.sortedKeys[i] : undefined;
      const liveInRange = liveKey !== undefined && liveKey.startsWith(prefix);
      const pastKey = p < pastKeys.length ? pastKeys[p] : undefined;
      if (!liveInRange && pastKey === undefined) return { items, more: false };
      let next: KeyValue | undefined;
      if (pastKey !== undefined && (!liveInRange || compareKeys(pastKey, liveKey) <= 0)) {
        if (liveInRange && pastKey === liveKey) i++;
        next = past?.get(pastKey) ?? undefined;
        p++;
      } else {
        // liveInRange holds here, so liveKey is a string.
        const key = liveKey as string;
        i++;
        if (past?.has(key)) continue; // its state at `revision` comes from the past overlay
        next = this.live.get(key);
      }
      if (!next) continue;
      if (items.length === want) return { items, more: true };
      items.push(next);
    }
  }

  /**
   * For every key under `prefix` (>= startKey) changed after `revision`: its value at `revision`,
   * or null if it did not exist then.
   */
  private stateBefore(prefix: string, startKey: string, revision: number): Map<string, KeyValue | null> {
    const state = new Map<string, KeyValue | null>();
    const stop = this.historyHead + (revision + 1 - this.firstHistoryRevision());
    for (let i = this.history.length - 1; i >= stop && i >= this.historyHead; i--) {
      const event = this.history[i] as WatchEvent;
      if (event.key.startsWith(prefix) && event.key >= startKey) state.set(event.key, event.prevValue ?? null);
    }
    return state;
  }

  private firstHistoryRevision(): number {
    const first = this.history[this.historyHead];
    return first ? first.revision : this.currentRevision + 1;
  }

  private expectNext(revision: number): void {
    if (revision !== this.currentRevision + 1) {
      throw new Error(`revision ${revision} applied out of order (current ${this.currentRevision})`);
    }
    this.currentRevision = revision;
  }

  private record(event: WatchEvent): WatchEvent {
    this.history.push(event);
    return event;
  }
}

/** The value a put of `value` at `revision` gives `key`, given what it held before. */
export function nextValue(key: string, value: Uint8Array, revision: number, prev: KeyValue | undefined): KeyValue {
  return {
    key,
    value,
    createRevision: prev ? prev.createRevision : revision,
    modRevision: revision,
    version: prev ? prev.version + 1 : 1,
  };
}

/** Byte-order-compatible for the ASCII keys kube uses; UTF-16 order otherwise. */
function compareKeys(a: string, b: string | undefined): number {
  if (b === undefined) return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function lowerBound(keys: string[], key: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(keys: string[], key: string): void {
  const last = keys[keys.length - 1];
  if (last === undefined || last < key) {
    keys.push(key);
    return;
  }
  keys.splice(lowerBound(keys, key), 0, key);
}

function removeSorted(keys: string[], key: string): void {
  const at = lowerBound(keys, key);
  if (keys[at] === key) keys.splice(at, 1);
}
