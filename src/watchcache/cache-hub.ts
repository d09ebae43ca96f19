import type { Store, Watch, WatchEvent } from '../../storage/types.js';
import { isStorageError } from '../../storage/errors.js';
import type { StoreLogger } from '../../storage/logger.js';
import { silentLogger } from '../../storage/logger.js';
import { WatchCache } from './watch-cache.js';
import type { CacheFeed } from './watch-cache.js';

/**
 * One storage watch for the whole API (every key under /registry/), feeding one WatchCache per
 * resource type. Changes are delivered in revision order, so after a change at revision R every
 * cache is current through R — whether or not its own resource changed. That is what lets a
 * consistent list (read "as of the store's current revision") be served from memory.
 */
export class CacheHub implements CacheFeed {
  private readonly store: Store;
  private readonly root: string;
  private readonly logger: StoreLogger;
  private readonly caches = new Map<string, WatchCache>();
  private readonly waiters = new Set<{ revision: number; resolve: () => void }>();
  private delivered = 0;
  private watch: Watch | undefined;
  private stopped = false;
  readonly ready: Promise<void>;

  constructor(store: Store, options: { root?: string; logger?: StoreLogger } = {}) {
    this.store = store;
    this.root = options.root ?? '/registry/';
    this.logger = options.logger ?? silentLogger;
    this.ready = this.start();
  }

  /** Every change at or below this revision has been delivered to the caches. */
  get deliveredRevision(): number {
    return this.delivered;
  }

  /** The cache of the resource whose keys start with `prefix` (/registry/<group>/<resource>/), created on first use. */
  cache(prefix: string): WatchCache {
    let cache = this.caches.get(prefix);
    if (!cache) {
      cache = new WatchCache(this.store, prefix, this);
      this.caches.set(prefix, cache);
    }
    return cache;
  }

  /** The cache of `prefix` if one runs (never starts one). */
  existing(prefix: string): WatchCache | undefined {
    return this.caches.get(prefix);
  }

  drop(prefix: string): void {
    this.caches.get(prefix)?.stop();
    this.caches.delete(prefix);
  }

  /** Resolves true once changes through `revision` are delivered, false after `timeoutMs`. */
  async caughtUp(revision: number, timeoutMs: number): Promise<boolean> {
    if (this.delivered >= revision) return true;
    return new Promise((resolve) => {
      const waiter = { revision, resolve: () => { clearTimeout(timer); resolve(true); } };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        resolve(false);
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }

  stop(): void {
    this.stopped = true;
    this.watch?.close();
    for (const cache of this.caches.values()) cache.stop();
    this.caches.clear();
  }

  private async start(): Promise<void> {
    this.delivered = await this.store.revision();
    void this.follow();
  }

  private async follow(): Promise<void> {
    let backoffMs = 100;
    while (!this.stopped) {
      this.watch = this.store.watch(this.root, this.delivered);
      try {
        for await (const change of this.watch) {
          backoffMs = 100;
          this.deliver(change);
          this.delivered = change.revision;
          this.wake();
        }
        if (this.stopped) return;
      } catch (err) {
        if (this.stopped) return;
        if (isStorageError(err, 'Gone')) {
          // The store no longer has our history: every cache starts over; their watchers relist.
          this.logger.warn({ revision: this.delivered }, 'watch caches fell behind compaction; relisting');
          this.delivered = await this.store.revision();
          await Promise.all([...this.caches.values()].map((cache) => cache.reset(this.delivered).catch(() => undefined)));
          this.wake();
        } else {
          this.watch.close();
          this.logger.warn({ err: String(err) }, 'storage watch failed; resuming');
          await new Promise((resolve) => setTimeout(resolve, backoffMs));
          backoffMs = Math.min(backoffMs * 2, 5_000);
        }
      }
    }
  }

  /**
   * One change to its cache. Nothing a change holds may stop the hub: resuming would deliver the same
   * change again and fail again, and every watch of the server would stall on it. (Watchers that throw
   * are dropped by their cache; this catches what is left, e.g. a stored value that is not JSON.)
   */
  private deliver(change: WatchEvent): void {
    try {
      this.caches.get(resourcePrefix(change.key))?.deliver(change);
    } catch (err) {
      this.logger.error({ key: change.key, revision: change.revision, err: String(err) }, 'a stored change could not be cached; watchers of its resource miss it');
    }
  }

  private wake(): void {
    for (const waiter of this.waiters) {
      if (waiter.revision <= this.delivered) {
        this.waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }
}

/** "/registry/apps/deployments/ns/name" → "/registry/apps/deployments/" */
function resourcePrefix(key: string): string {
  let slashes = 0;
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) === 47 && ++slashes === 4) return key.slice(0, i + 1);
  }
  return key;
}
