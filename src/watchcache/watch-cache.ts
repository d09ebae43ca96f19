import type { KubeObject } from '../api/object.js';
import { errors } from '../api/status.js';
import type { Store, WatchEvent } from '../../storage/types.js';
import { decodeObject, readAll } from '../registry/codec.js';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

/** One change as the cache saw it; the object's JSON is made once and shared by every watcher. */
export class CachedEvent {
  readonly type: WatchEventType;
  readonly key: string;
  readonly object: KubeObject;
  readonly prevObject: KubeObject | undefined;
  readonly revision: number;
  private json: string | undefined;

  constructor(type: WatchEventType, key: string, object: KubeObject, prevObject: KubeObject | undefined, revision: number) {
    this.type = type;
    this.key = key;
    this.object = object;
    this.prevObject = prevObject;
    this.revision = revision;
  }

  get objectJson(): string {
    this.json ??= JSON.stringify(this.object);
    return this.json;
  }
}

export interface CacheWatcher {
  /** Called for each event in revision order. */
  onEvent(event: CachedEvent): void;
  /** Called once when the cache cannot go on serving this watcher (it must relist). */
  onError(error: Error): void;
}

export interface WatchCacheOptions {
  /** How many recent events are kept for watchers resuming from a resourceVersion. */
  readonly capacity?: number;
}

/** What a cache needs from the hub that feeds it: the revision through which every change was delivered. */
export interface CacheFeed {
  readonly deliveredRevision: number;
  /** Resolves once the feed knows where it starts. */
  readonly ready: Promise<void>;
}

const DEFAULT_CAPACITY = 10_000;

/**
 * The watch cache of one resource type: the current objects plus a window of recent events, fed
 * by the CacheHub's single storage watch. Because the hub delivers every change under /registry/
 * in order, a cache is current through the hub's delivered revision even when its own resource
 * did not change — so consistent reads can be served from memory. Lists are served from it and
 * every HTTP watch of the type subscribes to it.
 */
export class WatchCache {
  private readonly store: Store;
  private readonly prefix: string;
  private readonly capacity: number;
  private readonly feed: CacheFeed;
  private readonly objects = new Map<string, KubeObject>();
  private readonly serialized = new WeakMap<KubeObject, string>();
  private events: CachedEvent[] = [];
  private eventsHead = 0;
  /** Each watcher with the revision it watches after. */
  private readonly watchers = new Map<CacheWatcher, number>();
  /** Changes delivered while the initial list is being read. */
  private pending: WatchEvent[] | undefined = [];
  private lastEventRevision = 0;
  /** Every event after this revision is in `events`. */
  private historyFrom = 0;
  readonly ready: Promise<void>;

  /**
   * Registered with the feed before this runs, so every change delivered from now on is buffered;
   * it then reads the prefix at the feed's delivered revision and applies the newer buffered ones.
   */
  constructor(store: Store, prefix: string, feed: CacheFeed, options: WatchCacheOptions = {}) {
    this.store = store;
    this.prefix = prefix;
    this.feed = feed;
    this.capacity = options.capacity ?? DEFAULT_CAPACITY;
    this.ready = feed.ready.then(() => this.load(feed.deliveredRevision));
    this.ready.catch(() => undefined);
  }

  /** The revision this cache is current through. */
  get revision(): number {
    return this.pending ? 0 : Math.max(this.lastEventRevision, this.feed.deliveredRevision);
  }

  /** The current objects under `keyPrefix` (all of them when absent), in key order (as etcd lists). */
  snapshot(keyPrefix = this.prefix): { objects: KubeObject[]; revision: number } {
    const keys: string[] = [];
    for (const key of this.objects.keys()) if (key.startsWith(keyPrefix)) keys.push(key);
    keys.sort();
    return { objects: keys.map((key) => this.objects.get(key) as KubeObject), revision: this.revision };
  }

  get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  /**
   * An object's JSON, made once per object version: cached objects are never mutated (a change
   * brings a new object), so lists can be written by concatenating these strings.
   */
  json(object: KubeObject): string {
    let text = this.serialized.get(object);
    if (text === undefined) {
      text = JSON.stringify(object);
      this.serialized.set(object, text);
    }
    return text;
  }

  /**
   * Subscribes `watcher` to every event after `fromRevision`. Buffered events are replayed
   * synchronously before returning, later ones are filtered by revision, so nothing is missed or
   * repeated even when `fromRevision` is ahead of this cache. A revision older than the window → 410.
   */
  async watch(fromRevision: number, watcher: CacheWatcher): Promise<() => void> {
    await this.ready;
    if (fromRevision < this.historyFrom) {
      throw errors.expired(`too old resource version: ${fromRevision} (${this.historyFrom})`);
    }
    for (let i = this.eventsHead; i < this.events.length; i++) {
      const event = this.events[i] as CachedEvent;
      if (event.revision > fromRevision) watcher.onEvent(event);
    }
    this.watchers.set(watcher, fromRevision);
    return () => this.watchers.delete(watcher);
  }

  stop(): void {
    this.watchers.clear();
  }

  /** A change under this cache's prefix, delivered by the hub in revision order. */
  deliver(change: WatchEvent): void {
    if (this.pending) {
      this.pending.push(change);
      return;
    }
    const prev = this.objects.get(change.key);
    if (change.type === 'put' && change.value) {
      const object = decodeObject(change.value);
      this.objects.set(change.key, object);
      this.append(new CachedEvent(prev ? 'MODIFIED' : 'ADDED', change.key, object, prev, change.revision));
    } else if (prev) {
      this.objects.delete(change.key);
      // A deleted object is reported in its last state with the deletion's resourceVersion.
      const object = { ...prev, metadata: { ...prev.metadata, resourceVersion: String(change.revision) } };
      this.append(new CachedEvent('DELETED', change.key, object, prev, change.revision));
    }
    this.lastEventRevision = change.revision;
  }

  /** The hub lost its place (compaction): start over at `revision`; watchers must relist. */
  reset(revision: number): Promise<void> {
    this.failWatchers(errors.expired(`too old resource version: ${this.revision}`));
    this.pending = [];
    return this.load(revision);
  }

  /** Reads the prefix at exactly `revision`, then applies what arrived meanwhile. */
  private async load(revision: number): Promise<void> {
    const { entries } = await readAll(this.store, this.prefix, revision);
    this.objects.clear();
    for (const [key, object] of entries) this.objects.set(key, object);
    this.events = [];
    this.eventsHead = 0;
    this.lastEventRevision = revision;
    this.historyFrom = revision;
    const pending = this.pending ?? [];
    this.pending = undefined;
    for (const change of pending) if (change.revision > revision) this.deliver(change);
  }

  private append(event: CachedEvent): void {
    this.events.push(event);
    if (this.events.length - this.eventsHead > this.capacity) {
      this.historyFrom = (this.events[this.eventsHead] as CachedEvent).revision;
      this.eventsHead++;
      if (this.eventsHead > 4096) {
        this.events = this.events.slice(this.eventsHead);
        this.eventsHead = 0;
      }
    }
    for (const [watcher, after] of this.watchers) if (event.revision > after) this.notify(watcher, event);
  }

  /**
   * One watcher's event. A watcher that throws is failed and dropped, alone: the exception must not
   * reach the hub, which would deliver the same change again — to every watcher — and stall on it.
   */
  private notify(watcher: CacheWatcher, event: CachedEvent): void {
    try {
      watcher.onEvent(event);
    } catch (err) {
      this.watchers.delete(watcher);
      try {
        watcher.onError(errors.internal(`the watch failed at resourceVersion ${event.revision}: ${err instanceof Error ? err.message : String(err)}`));
      } catch {
        // nothing more can be told to this watcher
      }
    }
  }

  private failWatchers(error: Error): void {
    const watchers = [...this.watchers.keys()];
    this.watchers.clear();
    for (const watcher of watchers) watcher.onError(error);
  }

}
