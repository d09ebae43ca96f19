/**
 * A rate-limited work queue with client-go's semantics (workqueue.RateLimitingInterface):
 *  - per-key dedup: a key added while it waits in the queue is not added twice; a key added while a
 *    worker processes it is queued again once that worker calls done(key), so one key is never
 *    processed by two workers at once and no change is lost;
 *  - addAfter(key, ms): the key is added when the delay is over (the earliest pending delay wins);
 *  - addRateLimited(key): per-key exponential back-off (5 ms doubling to 60 s, jittered), combined
 *    with an overall token bucket (default 10/s, burst 100, as client-go's default controller rate
 *    limiter); forget(key) resets the key's failures after a success;
 *  - shutDown(): pending and delayed keys are dropped, get() resolves undefined from then on.
 */
export interface WorkQueueOptions {
  /** First retry delay; default 5 ms. */
  readonly baseDelayMs?: number;
  /** Longest retry delay; default 60 s. */
  readonly maxDelayMs?: number;
  /** Each delay is stretched by up to this fraction at random; default 0.1. 0 disables jitter. */
  readonly jitter?: number;
  /** Overall retry rate (tokens per second); default 10. Infinity disables the bucket. */
  readonly qps?: number;
  /** Bucket size; default 100. */
  readonly burst?: number;
  /** For tests: the random source (0 ≤ x < 1). */
  readonly random?: () => number;
  /** For tests: the clock (ms). */
  readonly now?: () => number;
}

/** What a reconcile may ask for besides success (forget) and failure (throw → rate-limited retry). */
export type ReconcileResult = void | undefined | { readonly requeueAfterMs: number } | { readonly requeue: true };

export class WorkQueue<K = string> {
  private readonly queue: K[] = [];
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly delayed = new Map<K, { at: number; timer: NodeJS.Timeout }>();
  private readonly waiters: ((key: K | undefined) => void)[] = [];
  private readonly drained: (() => void)[] = [];
  private shuttingDown = false;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly jitter: number;
  private readonly qps: number;
  private readonly burst: number;
  private readonly random: () => number;
  private readonly now: () => number;
  private tokens: number;
  private tokensAt: number;

  constructor(options: WorkQueueOptions = {}) {
    this.baseDelayMs = options.baseDelayMs ?? 5;
    this.maxDelayMs = options.maxDelayMs ?? 60_000;
    this.jitter = options.jitter ?? 0.1;
    this.qps = options.qps ?? 10;
    this.burst = options.burst ?? 100;
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.tokens = this.burst;
    this.tokensAt = this.now();
  }

  /** Queues `key` now (no-op if already queued, deferred if being processed, ignored after shutdown). */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      // Handed straight to a waiting worker.
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Queues `key` after `delayMs` (an earlier pending delay for the same key wins). */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = this.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { at, timer });
  }

  /** Queues `key` after its back-off: one more failure for the key. */
  addRateLimited(key: K): void {
    this.addAfter(key, this.when(key));
  }

  /** The delay the next addRateLimited(key) uses, counting it as a failure. */
  when(key: K): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const exponential = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** failures);
    const perKey = Math.min(this.maxDelayMs, exponential * (1 + this.jitter * this.random()));
    return Math.max(perKey, this.bucketDelay());
  }

  /** The key succeeded: its back-off starts over. */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** How many rate-limited requeues the key has had since it was last forgotten. */
  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process (marking it as processing); undefined once shut down. */
  get(): Promise<K | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** The worker is finished with `key`; if it was added meanwhile, it is queued again. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
    if (this.processing.size === 0) for (const resolve of this.drained.splice(0)) resolve();
  }

  /** Keys waiting to be processed (not counting delayed ones). */
  get length(): number {
    return this.queue.length;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Drops queued and delayed keys; get() resolves undefined from now on. */
  shutDown(): void {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    this.queue.length = 0;
    this.dirty.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  /** Shuts down, then resolves once no key is being processed. */
  shutDownAndDrain(): Promise<void> {
    this.shutDown();
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.drained.push(resolve));
  }

  /**
   * Runs `concurrency` workers until shutdown: each takes a key, reconciles it, and then forgets it
   * (success), requeues it as asked, or — when reconcile throws — requeues it rate-limited.
   */
  async run(concurrency: number, reconcile: (key: K) => Promise<ReconcileResult>, onError?: (key: K, err: unknown) => void): Promise<void> {
    const worker = async (): Promise<void> => {
      for (;;) {
        const key = await this.get();
        if (key === undefined) return;
        try {
          const result = await reconcile(key);
          if (result && 'requeue' in result) {
            this.addRateLimited(key);
          } else {
            this.forget(key);
            if (result && 'requeueAfterMs' in result) this.addAfter(key, result.requeueAfterMs);
          }
        } catch (err) {
          onError?.(key, err);
          this.addRateLimited(key);
        } finally {
          this.done(key);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, () => worker()));
  }

  /** Token bucket: the wait before one more token is available (golang.org/x/time/rate's Reserve). */
  private bucketDelay(): number {
    if (!Number.isFinite(this.qps) || this.qps <= 0) return 0;
    const now = this.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.tokensAt) / 1000) * this.qps);
    this.tokensAt = now;
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : (-this.tokens / this.qps) * 1000;
  }
}
