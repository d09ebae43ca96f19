import { performance } from 'node:perf_hooks';
import type { Logger } from 'pino';
import { Gauge, register as defaultRegistry } from 'prom-client';
import type { Registry } from 'prom-client';
import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from './client.js';
import { isApiError, resourcePath } from './client.js';

/**
 * Leader election on a coordination.k8s.io/v1 Lease, with the semantics of client-go's
 * leaderelection package, so that of several processes sharing one API only one runs the
 * controllers at a time.
 *
 * A candidate tries every retryPeriod (× a random 1…2.2, jitter factor 1.2) to take the Lease. It
 * may take it when
 *  - it does not exist (create),
 *  - it already names this candidate as holder, or its holder is empty (released), or
 *  - the record has not changed for the record's leaseDurationSeconds, measured on this process'
 *    own monotonic clock from the moment it last saw the record change. The holder's renewTime is
 *    never compared with the local clock, so clock skew between machines cannot hand the lease to
 *    two processes.
 * Every write carries the resourceVersion it was based on (409 Conflict: another candidate won
 * the race; this one tries again later). Taking the lease from another holder sets acquireTime and
 * increments leaseTransitions.
 *
 * The leader renews every retryPeriod. It stops leading when it has not renewed for renewDeadline
 * (counted from the start of its last successful write, so leadership always ends before any
 * other candidate can regard the lease as expired: renewDeadline < leaseDuration) or as soon as it
 * sees the lease in another holder's name. Leading ends by aborting the signal given to
 * onStartedLeading, waiting for that callback's promise, then calling onStoppedLeading; after that
 * the process is a candidate again (client-go processes usually exit instead).
 *
 * stop() ends leading the same way and then releases the lease (client-go's ReleaseOnCancel):
 * holderIdentity empty, leaseDurationSeconds 1, renewTime now — the next candidate takes it at its
 * next retry instead of waiting for the lease to expire.
 *
 * Metric: leader_election_master_status{name=<lease name>} — 1 while this process leads, else 0.
 */
export interface LeaderElectionOptions {
  readonly client: ApiClient;
  /** Namespace of the Lease, e.g. 'karmada-system'. */
  readonly namespace: string;
  /** Name of the Lease. */
  readonly name: string;
  /** Unique per process, e.g. `${hostname()}_${randomUUID()}`. */
  readonly identity: string;
  /** How long candidates wait after the last observed change before taking the lease; default 15 s. */
  readonly leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it gives up leading; default 10 s. */
  readonly renewDeadlineMs?: number;
  /** How often candidates try to acquire and the leader renews; default 2 s. */
  readonly retryPeriodMs?: number;
  readonly logger: Logger;
  /**
   * Called when this process becomes leader; `signal` aborts when leadership is lost or stop() is
   * called. A returned promise is awaited (after the abort) before onStoppedLeading is called and
   * before the lease is released, so a callback that runs until the signal aborts and then shuts
   * its work down finishes before another process can lead.
   */
  readonly onStartedLeading: (signal: AbortSignal) => void | Promise<void>;
  /** Called after leading ends (lost or stopped). */
  readonly onStoppedLeading?: () => void | Promise<void>;
  /** Called when a (different) holder of the lease is observed, this process included. */
  readonly onNewLeader?: (identity: string) => void;
  /** Where leader_election_master_status is registered; default prom-client's global registry. */
  readonly metricsRegistry?: Registry;
}

export const DEFAULT_LEASE_DURATION_MS = 15_000;
export const DEFAULT_RENEW_DEADLINE_MS = 10_000;
export const DEFAULT_RETRY_PERIOD_MS = 2_000;
/** client-go's JitterFactor: candidates wait retryPeriod × (1 + random × 1.2). */
export const JITTER_FACTOR = 1.2;

export const LEADER_ELECTION_METRIC = 'leader_election_master_status';

const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' } as const;

/** The part of a Lease's spec leader election reads and writes. */
export interface LeaderElectionRecord {
  readonly holderIdentity: string;
  readonly leaseDurationSeconds: number;
  readonly acquireTime: string | undefined;
  readonly renewTime: string | undefined;
  readonly leaseTransitions: number;
}

/**
 * Checks the three durations as client-go does: all positive, leaseDuration > renewDeadline,
 * renewDeadline > 1.2 × retryPeriod. Returns the problem, or undefined when they are usable.
 */
export function leaderElectionTimingError(timing: { leaseDurationMs: number; renewDeadlineMs: number; retryPeriodMs: number }): string | undefined {
  const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = timing;
  if (!(leaseDurationMs > 0) || !(renewDeadlineMs > 0) || !(retryPeriodMs > 0)) return 'the lease duration, renew deadline and retry period must be positive';
  if (renewDeadlineMs >= leaseDurationMs) return `the renew deadline (${renewDeadlineMs} ms) must be shorter than the lease duration (${leaseDurationMs} ms)`;
  if (renewDeadlineMs <= JITTER_FACTOR * retryPeriodMs) return `the renew deadline (${renewDeadlineMs} ms) must be longer than ${JITTER_FACTOR} × the retry period (${retryPeriodMs} ms)`;
  return undefined;
}

/** A MicroTime: RFC 3339 in UTC with six fraction digits, e.g. 2026-11-22T10:00:00.123456Z. */
export function microTime(date: Date = new Date()): string {
  const iso = date.toISOString(); // 2026-11-22T10:00:00.123Z
  return `${iso.slice(0, 23)}000Z`;
}

/** The leader election record in a Lease (missing fields as a never-held lease has them). */
export function leaseRecord(lease: KubeObject): LeaderElectionRecord {
  const spec = isPlainObject(lease['spec']) ? lease['spec'] : {};
  const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
  const int = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  return {
    holderIdentity: str(spec['holderIdentity']) ?? '',
    leaseDurationSeconds: int(spec['leaseDurationSeconds']),
    acquireTime: str(spec['acquireTime']),
    renewTime: str(spec['renewTime']),
    leaseTransitions: int(spec['leaseTransitions']),
  };
}

/** What a candidate's attempt ended with. */
type Attempt = 'acquired' | 'held' | 'failed';

export class LeaderElector {
  private readonly options: LeaderElectionOptions;
  private readonly client: ApiClient;
  private readonly logger: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly leasePath: string;
  private readonly collectionPath: string;
  private readonly gauge: Gauge<'name'>;
  /** Aborted by stop(): ends sleeps and the election loop (requests in flight finish or time out). */
  private readonly stopping = new AbortController();

  /** The lease as last read or written (its resourceVersion is what the next write is based on). */
  private lease: KubeObject | undefined;
  private observedRecord: LeaderElectionRecord | undefined;
  private observedRaw = '';
  /** performance.now() when the record was last seen to change. */
  private observedAt = 0;
  private reportedLeader = '';
  /** performance.now() after which this process no longer counts as leader (last renewal start + renewDeadline). */
  private leadingUntil = 0;
  private leading = false;
  private running: Promise<void> | undefined;
  private stopped: Promise<void> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.options = options;
    this.client = options.client;
    this.leaseDurationMs = options.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS;
    this.renewDeadlineMs = options.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS;
    this.retryPeriodMs = options.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS;
    const problem = leaderElectionTimingError({ leaseDurationMs: this.leaseDurationMs, renewDeadlineMs: this.renewDeadlineMs, retryPeriodMs: this.retryPeriodMs });
    if (problem) throw new Error(`leader election: ${problem}`);
    if (!options.identity) throw new Error('leader election: the identity must not be empty');
    this.logger = options.logger.child({ lease: `${options.namespace}/${options.name}`, identity: options.identity });
    this.leasePath = resourcePath(LEASES, options.namespace, options.name);
    this.collectionPath = resourcePath(LEASES, options.namespace);
    const registry = options.metricsRegistry ?? defaultRegistry;
    const existing = registry.getSingleMetric(LEADER_ELECTION_METRIC);
    this.gauge = existing instanceof Gauge
      ? (existing as Gauge<'name'>)
      : new Gauge({
          name: LEADER_ELECTION_METRIC,
          help: 'Whether this process leads the named lease (1) or is a candidate (0).',
          labelNames: ['name'] as const,
          registers: [registry],
        });
  }

  /** Enters the election in the background; returns at once. */
  start(): void {
    if (this.running) throw new Error('leader election: already started');
    this.gauge.set({ name: this.options.name }, 0);
    this.running = this.run().catch((err: unknown) => {
      this.logger.error({ err: errorMessage(err) }, 'leader election stopped unexpectedly');
    });
  }

  /** Stops leading (waiting for onStartedLeading's work and onStoppedLeading) and releases the lease if held. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      this.stopping.abort();
      await this.running;
    })();
    return this.stopped;
  }

  /** Whether this process leads right now (false from the moment its renew deadline passes). */
  isLeader(): boolean {
    return this.leading && performance.now() < this.leadingUntil;
  }

  /** The holder of the lease as last observed ('' when none or not yet read). */
  leader(): string {
    return this.observedRecord?.holderIdentity ?? '';
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      if (!(await this.acquire())) break;
      await this.lead();
    }
    await this.release();
  }

  /** Tries until the lease is acquired (true) or stop() is called (false). */
  private async acquire(): Promise<boolean> {
    this.logger.info('attempting to acquire the leader lease');
    for (;;) {
      const start = performance.now();
      const attempt = await this.tryAcquireOrRenew(this.renewDeadlineMs);
      this.reportTransition();
      if (attempt === 'acquired') {
        if (this.stopping.signal.aborted) return false; // acquired while stopping: run() releases it
        this.leadingUntil = start + this.renewDeadlineMs;
        return true;
      }
      if (this.stopping.signal.aborted) return false;
      await this.sleep(this.retryPeriodMs * (1 + Math.random() * JITTER_FACTOR));
      if (this.stopping.signal.aborted) return false;
    }
  }

  /** Leads until leadership is lost or stop() is called; then runs down the callbacks. */
  private async lead(): Promise<void> {
    const leadership = new AbortController();
    this.leading = true;
    this.gauge.set({ name: this.options.name }, 1);
    this.logger.info('acquired the leader lease; started leading');
    const work = Promise.resolve()
      .then(() => this.options.onStartedLeading(leadership.signal))
      .catch((err: unknown) => this.logger.error({ err: errorMessage(err) }, 'onStartedLeading failed'));

    let reason = 'stopped';
    while (!this.stopping.signal.aborted) {
      const now = performance.now();
      if (now >= this.leadingUntil) {
        reason = `not renewed for ${this.renewDeadlineMs} ms`;
        break;
      }
      await this.sleep(Math.min(this.retryPeriodMs, this.leadingUntil - now));
      if (this.stopping.signal.aborted) break;
      const start = performance.now();
      if (start >= this.leadingUntil) continue; // the deadline passed while sleeping
      const attempt = await this.tryAcquireOrRenew(this.leadingUntil - start);
      this.reportTransition();
      if (attempt === 'acquired') {
        this.leadingUntil = Math.max(this.leadingUntil, start + this.renewDeadlineMs);
      } else if (attempt === 'held') {
        reason = `the lease is held by ${this.observedRecord?.holderIdentity ?? 'another process'}`;
        break;
      }
    }

    this.leading = false;
    this.leadingUntil = 0;
    this.gauge.set({ name: this.options.name }, 0);
    if (reason === 'stopped') this.logger.info('stopping leading');
    else this.logger.warn({ reason }, 'lost the leader lease; stopping leading');
    leadership.abort();
    await work;
    try {
      await this.options.onStoppedLeading?.();
    } catch (err) {
      this.logger.error({ err: errorMessage(err) }, 'onStoppedLeading failed');
    }
  }

  /**
   * One attempt to take or renew the lease, bounded by `timeoutMs`. 'held': the lease is valid in
   * another holder's name.
   */
  private async tryAcquireOrRenew(timeoutMs: number): Promise<Attempt> {
    const signal = AbortSignal.timeout(Math.max(1, Math.ceil(timeoutMs)));
    const now = new Date();
    const desired = {
      holderIdentity: this.options.identity,
      leaseDurationSeconds: Math.max(1, Math.ceil(this.leaseDurationMs / 1000)),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };

    // Fast path: the leader renews the lease it last wrote without reading it first.
    if (this.leading && this.lease && this.observedRecord?.holderIdentity === this.options.identity && this.leaseValid()) {
      try {
        const renewed = await this.client.update(this.leasePath, withRecord(this.lease, { ...desired, acquireTime: this.observedRecord.acquireTime, leaseTransitions: this.observedRecord.leaseTransitions }), { signal });
        this.observe(renewed);
        this.logger.trace('renewed the leader lease');
        return 'acquired';
      } catch (err) {
        if (signal.aborted) {
          this.logger.warn({ err: errorMessage(err) }, 'renewing the leader lease timed out');
          return 'failed';
        }
        this.logger.debug({ err: errorMessage(err) }, 'renewing the leader lease failed; reading it again');
      }
    }

    let current: KubeObject;
    try {
      current = await this.client.get(this.leasePath, { signal });
    } catch (err) {
      if (!isApiError(err, 404)) {
        this.logger.warn({ err: errorMessage(err) }, 'could not read the leader lease');
        return 'failed';
      }
      try {
        const created = await this.client.create(this.collectionPath, {
          apiVersion: 'coordination.k8s.io/v1',
          kind: 'Lease',
          metadata: { name: this.options.name, namespace: this.options.namespace },
          spec: { ...desired },
        }, { signal });
        this.observe(created);
        return 'acquired';
      } catch (createErr) {
        if (isApiError(createErr, 409)) this.logger.debug('another candidate created the leader lease first');
        else this.logger.warn({ err: errorMessage(createErr) }, 'could not create the leader lease');
        return 'failed';
      }
    }

    this.observe(current);
    const record = this.observedRecord as LeaderElectionRecord;
    const mine = record.holderIdentity === this.options.identity;
    if (record.holderIdentity !== '' && !mine && this.leaseValid()) {
      this.logger.trace({ holder: record.holderIdentity }, 'the leader lease is held by another process and has not expired');
      return 'held';
    }
    const next = mine
      ? { ...desired, acquireTime: record.acquireTime ?? desired.acquireTime, leaseTransitions: record.leaseTransitions }
      : { ...desired, leaseTransitions: record.leaseTransitions + 1 };
    try {
      const updated = await this.client.update(this.leasePath, withRecord(current, next), { signal });
      this.observe(updated);
      if (!mine) this.logger.info({ previousHolder: record.holderIdentity || undefined, leaseTransitions: next.leaseTransitions }, 'took over the leader lease');
      return 'acquired';
    } catch (err) {
      if (isApiError(err, 409)) this.logger.debug('the leader lease changed while taking it; another candidate won the race');
      else this.logger.warn({ err: errorMessage(err) }, 'could not update the leader lease');
      return 'failed';
    }
  }

  /** Remembers a lease just read or written; its record counts as changed when it differs from the last one. */
  private observe(lease: KubeObject): void {
    this.lease = lease;
    const record = leaseRecord(lease);
    const raw = JSON.stringify(record);
    if (raw !== this.observedRaw) {
      this.observedRaw = raw;
      this.observedRecord = record;
      this.observedAt = performance.now();
    }
  }

  /** Whether the observed record's lease has not run out, by this process' clock since it last changed. */
  private leaseValid(): boolean {
    const seconds = this.observedRecord?.leaseDurationSeconds ?? 0;
    const durationMs = seconds > 0 ? seconds * 1000 : this.leaseDurationMs;
    return performance.now() < this.observedAt + durationMs;
  }

  private reportTransition(): void {
    const holder = this.observedRecord?.holderIdentity ?? '';
    if (holder === this.reportedLeader) return;
    this.reportedLeader = holder;
    if (!holder) return;
    if (holder !== this.options.identity) this.logger.info({ leader: holder }, 'new leader elected');
    try {
      this.options.onNewLeader?.(holder);
    } catch (err) {
      this.logger.error({ err: errorMessage(err) }, 'onNewLeader failed');
    }
  }

  /** On stop: gives the lease up if this process holds it, so the next candidate need not wait for it to expire. */
  private async release(): Promise<void> {
    if (!this.lease || this.observedRecord?.holderIdentity !== this.options.identity) return;
    const now = microTime();
    try {
      const released = await this.client.update(this.leasePath, withRecord(this.lease, {
        holderIdentity: '',
        leaseDurationSeconds: 1,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: this.observedRecord.leaseTransitions,
      }), { signal: AbortSignal.timeout(this.renewDeadlineMs) });
      this.observe(released);
      this.logger.info('released the leader lease');
    } catch (err) {
      // 409: someone else has written it since (it expired and was taken): nothing to give up.
      this.logger.warn({ err: errorMessage(err) }, 'could not release the leader lease');
    }
  }

  /** Waits `ms`, or less if stop() is called. */
  private sleep(ms: number): Promise<void> {
    const signal = this.stopping.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      signal.addEventListener('abort', done, { once: true });
    });
  }
}

/** The lease with its spec's leader election fields replaced (metadata, resourceVersion included, kept). */
function withRecord(lease: KubeObject, record: LeaderElectionRecord): KubeObject {
  const spec = isPlainObject(lease['spec']) ? lease['spec'] : {};
  const next: Record<string, unknown> = {
    ...spec,
    holderIdentity: record.holderIdentity,
    leaseDurationSeconds: record.leaseDurationSeconds,
    leaseTransitions: record.leaseTransitions,
  };
  if (record.acquireTime !== undefined) next['acquireTime'] = record.acquireTime;
  else delete next['acquireTime'];
  if (record.renewTime !== undefined) next['renewTime'] = record.renewTime;
  else delete next['renewTime'];
  return { ...lease, apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', spec: next };
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
