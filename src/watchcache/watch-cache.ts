import type { KubeObject } from '../api/object.js';
import { errors } from '../api/status.js';
import type { Store, Watch } from '../../storage/types.js';
import { isStorageError } from '../../storage/errors.js';
import type { StoreLogger } from '../../storage/logger.js';
import { silentLogger } from '../../storage/logger.js';
import { decodeObject } from '../registry/codec.js';

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
  readonly logger?: StoreLogger;
}

const DEFAULT_CAPACITY = 10_000;

/**
 * The watch cache of one resource type: the current objects, kept up to date by a single storage
 * watch on the resource's key prefix, plus a window of recent events. Lists are served from it and
 * every HTTP watch of the type subscribes to it, so N watchers cost one storage watch.
 */
export class WatchCache {
  private readonly store: Store;
  private readonly prefix: string;
  private readonly capacity: number;
  private readonly logger: StoreLogger;
  private readonly objects = new Map<string, KubeObject>();
  private events: CachedEvent[] = [];
  private eventsHead = 0;
  /** Each watcher with the revision it watches after. */
  private readonly watchers = new Map<CacheWatcher, number>();
  private currentRevision = 0;
  /** Every event after this revision is in `events`. */
  private historyFrom = 0;
  private storageWatch: Watch | undefined;
  private stopped = false;
  readonly ready: Promise<void>;

  constructor(store: Store, prefix: string, options: WatchCacheOptions = {}) {
    this.store = store;
    this.prefix = prefix;
    this.capacity = options.capacity ?? DEFAULT_CAPACITY;
    this.logger = options.logger ?? silentLogger;
    this.ready = this.run();
    this.ready.catch(() => undefined);
  }

  get revision(): number {
    return this.currentRevision;
  }

  /** The current objects under `keyPrefix` (all of them when absent), in key order (as etcd lists). */
  snapshot(keyPrefix = this.prefix): { objects: KubeObject[]; revision: number } {
    const keys: string[] = [];
    for (const key of this.objects.keys()) if (key.startsWith(keyPrefix)) keys.push(key);
    keys.sort();
    return { objects: keys.map((key) => this.objects.get(key) as KubeObject), revision: this.currentRevision };
  }

  get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  /**
   * Subscribes `watcher` to every event after `fromRevision`. Buffered events are replayed
   * synchronously before returning, later ones are filtered by revision, so nothing is missed or
   * repeated even when `fromRevision` is ahead of this cache (it was read from another resource or
   * straight from the store). A revision older than the window → 410 Expired.
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
    this.stopped = true;
    this.storageWatch?.close();
  }

  /** List, then watch from the list's revision; on a broken storage watch, resume or relist. */
  private async run(): Promise<void> {
    await this.relist();
    void this.follow();
  }

  private async relist(): Promise<void> {
    const objects = new Map<string, KubeObject>();
    let token: string | undefined;
    let revision = 0;
    do {
      const page = await this.store.list(this.prefix, { limit: 1000, ...(token ? { continue: token } : {}) });
      revision = page.revision;
      for (const kv of page.items) objects.set(kv.key, decodeObject(kv));
      token = page.continue;
    } while (token);
    this.objects.clear();
    for (const [key, object] of objects) this.objects.set(key, object);
    this.events = [];
    this.eventsHead = 0;
    this.currentRevision = revision;
    this.historyFrom = revision;
  }

  private async follow(): Promise<void> {
    let backoffMs = 100;
    while (!this.stopped) {
      this.storageWatch = this.store.watch(this.prefix, this.currentRevision);
      try {
        for await (const change of this.storageWatch) {
          backoffMs = 100;
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
          this.currentRevision = change.revision;
        }
        if (this.stopped) return;
      } catch (err) {
        if (this.stopped) return;
        if (isStorageError(err, 'Gone')) {
          // The store no longer has our history: start over; watchers must relist too.
          this.logger.warn({ prefix: this.prefix }, 'watch cache fell behind compaction; relisting');
          this.failWatchers(errors.expired(`too old resource version: ${this.currentRevision}`));
          await this.relist().catch(() => undefined);
        } else {
          this.logger.warn({ prefix: this.prefix, err: String(err) }, 'watch cache storage watch failed; retrying');
          await new Promise((resolve) => setTimeout(resolve, backoffMs));
          backoffMs = Math.min(backoffMs * 2, 5_000);
        }
      }
    }
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
    for (const [watcher, after] of this.watchers) if (event.revision > after) watcher.onEvent(event);
  }

  private failWatchers(error: Error): void {
    const watchers = [...this.watchers.keys()];
    this.watchers.clear();
    for (const watcher of watchers) watcher.onError(error);
  }

}
