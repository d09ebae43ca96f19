import t from 'tap';
import type { Test } from 'tap';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { openStore } from '../../storage/open-store.js';
import type { Store } from '../../storage/types.js';
import type { KubeObject } from '../../src/api/object.js';
import type { Status } from '../../src/api/status.js';
import { HttpClient, isApiError, resourcePath } from '../../src/client/client.js';
import type {
  ApiClient,
  DeleteCollectionOptions,
  DeleteOptions,
  DiscoveredResource,
  DiscoveryResult,
  GetOptions,
  ListOptions,
  ObjectList,
  PatchType,
  WatchEvent,
  WatchOptions,
  WriteOptions,
} from '../../src/client/client.js';
import { LEADER_ELECTION_METRIC, LeaderElector, leaderElectionTimingError, leaseRecord, microTime } from '../../src/client/leader-election.js';
import type { LeaderElectionOptions } from '../../src/client/leader-election.js';
import { KARMADA_API } from '../../src/karmada/api.js';
import { createLogger } from '../../src/log.js';
import { ensurePki } from '../../src/server/pki.js';
import type { Pki } from '../../src/server/pki.js';
import { buildServer } from '../../src/server/server.js';
import type { ApiServer } from '../../src/server/server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * LeaderElector against a real in-process API server (Kubernetes + Karmada API, so karmada-system
 * exists), with short durations: lease 1 s, renew deadline 0.6 s, retry period 0.2 s. Every case
 * samples isLeader() of all its electors every 20 ms and fails if two ever lead at once.
 */
const LEASE_MS = 1_000;
const RENEW_MS = 600;
const RETRY_MS = 200;
const NAMESPACE = 'karmada-system';
const LEASES = { group: 'coordination.k8s.io', version: 'v1', resource: 'leases' };
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

const logger = createLogger({ level: process.env['LEADER_ELECTION_TEST_LOG'] ?? 'silent' });
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let store: Store;
let server: ApiServer;
let pki: Pki;
let url: string;
let admin: HttpClient;
let removeDir: () => Promise<void>;

t.before(async () => {
  const dir = await tempDir('leader-election');
  removeDir = dir.remove;
  store = await openStore({ backend: 'embedded', dataDir: join(dir.path, 'store') });
  pki = await ensurePki(join(dir.path, 'pki'), { sans: ['127.0.0.1', 'localhost'] });
  server = await buildServer({ store, pki, logger, extensions: [KARMADA_API] });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = server.app.server.address();
  url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  admin = newClient();
});

t.teardown(async () => {
  admin?.close();
  await server?.app.close();
  server?.objects.stopCaches();
  await store?.close();
  await removeDir?.();
});

function newClient(): HttpClient {
  return new HttpClient({ server: url, caPem: pki.caCertPem, certPem: pki.adminCertPem, keyPem: pki.adminKeyPem });
}

/**
 * An ApiClient in front of a real one that a test can cut off ("down": every call fails as a
 * refused connection would) or hook into before creates and updates.
 */
class TestClient implements ApiClient {
  down = false;
  conflicts = 0;
  beforeCreate: (() => Promise<void>) | undefined;
  beforeUpdate: (() => Promise<void>) | undefined;
  constructor(private readonly inner: ApiClient) {}
  private check(): void {
    if (this.down) throw Object.assign(new Error('connect ECONNREFUSED (simulated)'), { code: 'ECONNREFUSED' });
  }
  private async counted<T>(call: Promise<T>): Promise<T> {
    try {
      return await call;
    } catch (err) {
      if (isApiError(err, 409)) this.conflicts++;
      throw err;
    }
  }
  async get(path: string, options?: GetOptions): Promise<KubeObject> {
    this.check();
    return this.inner.get(path, options);
  }
  async list(path: string, options?: ListOptions): Promise<ObjectList> {
    this.check();
    return this.inner.list(path, options);
  }
  async create(path: string, body: KubeObject, options?: WriteOptions): Promise<KubeObject> {
    this.check();
    await this.beforeCreate?.();
    return this.counted(this.inner.create(path, body, options));
  }
  async update(path: string, body: KubeObject, options?: WriteOptions): Promise<KubeObject> {
    this.check();
    await this.beforeUpdate?.();
    return this.counted(this.inner.update(path, body, options));
  }
  async patch(path: string, type: PatchType, patch: unknown, options?: WriteOptions): Promise<KubeObject> {
    this.check();
    return this.inner.patch(path, type, patch, options);
  }
  async delete(path: string, options?: DeleteOptions): Promise<KubeObject | Status> {
    this.check();
    return this.inner.delete(path, options);
  }
  async deleteCollection(path: string, options?: DeleteCollectionOptions): Promise<ObjectList> {
    this.check();
    return this.inner.deleteCollection(path, options);
  }
  async discover(options?: { allVersions?: boolean; signal?: AbortSignal }): Promise<DiscoveredResource[]> {
    this.check();
    return this.inner.discover(options);
  }
  async discoverAll(options?: { allVersions?: boolean; signal?: AbortSignal }): Promise<DiscoveryResult> {
    this.check();
    return this.inner.discoverAll(options);
  }
  watch(path: string, options?: WatchOptions): AsyncIterable<WatchEvent> {
    return this.inner.watch(path, options);
  }
  close(): void {
    this.inner.close();
  }
}

interface Candidate {
  readonly identity: string;
  readonly elector: LeaderElector;
  readonly client: TestClient;
  readonly registry: Registry;
  /** What happened, in order: 'started', 'signal aborted', 'work done', 'stopped', 'leader:<id>'. */
  readonly events: string[];
  readonly signals: AbortSignal[];
}

/** An elector with its own connection, metrics registry and an event log; stopped and closed at the end of the test. */
function candidate(t: Test, lease: string, identity: string, options: Partial<LeaderElectionOptions> = {}): Candidate {
  const client = new TestClient(newClient());
  const registry = new Registry();
  const events: string[] = [];
  const signals: AbortSignal[] = [];
  const elector = new LeaderElector({
    client,
    namespace: NAMESPACE,
    name: lease,
    identity,
    leaseDurationMs: LEASE_MS,
    renewDeadlineMs: RENEW_MS,
    retryPeriodMs: RETRY_MS,
    logger: logger.child({ candidate: identity }),
    metricsRegistry: registry,
    onStartedLeading: async (signal) => {
      events.push('started');
      signals.push(signal);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      events.push('signal aborted');
      await sleep(20); // shutting the work down takes a moment
      events.push('work done');
    },
    onStoppedLeading: () => {
      events.push('stopped');
    },
    onNewLeader: (id) => {
      events.push(`leader:${id}`);
    },
    ...options,
  });
  t.teardown(async () => {
    await elector.stop();
    client.close();
  });
  return { identity, elector, client, registry, events, signals };
}

/** Samples isLeader() of every elector every 20 ms; check() asserts that two never led at once. */
function noOverlap(t: Test, candidates: readonly Candidate[]): { check(): void } {
  let samples = 0;
  let overlaps = 0;
  const timer = setInterval(() => {
    samples++;
    if (candidates.filter((c) => c.elector.isLeader()).length > 1) overlaps++;
  }, 20);
  t.teardown(() => clearInterval(timer));
  return {
    check() {
      clearInterval(timer);
      t.equal(overlaps, 0, `never two leaders at once (${samples} samples, 20 ms apart)`);
    },
  };
}

const leasePath = (name: string) => resourcePath(LEASES, NAMESPACE, name);
const getLease = (name: string) => admin.get(leasePath(name));

async function waitFor<T>(t: Test, what: string, check: () => T | undefined | false | Promise<T | undefined | false>, timeoutMs = 5_000, everyMs = 10): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) {
      t.fail(`${what} (not within ${timeoutMs} ms)`);
      throw new Error(`timed out: ${what}`);
    }
    await sleep(everyMs);
  }
}

const leaders = (candidates: readonly Candidate[]) => candidates.filter((c) => c.elector.isLeader());

async function gaugeValue(c: Candidate, lease: string): Promise<number | undefined> {
  const text = await c.registry.metrics();
  const match = new RegExp(`^${LEADER_ELECTION_METRIC}\\{name="${lease}"\\} (\\d+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

t.test('timings are checked as client-go checks them', async (t) => {
  t.equal(leaderElectionTimingError({ leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }), undefined, 'the defaults');
  t.match(leaderElectionTimingError({ leaseDurationMs: 10_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 }), /renew deadline .* shorter than the lease duration/);
  t.match(leaderElectionTimingError({ leaseDurationMs: 15_000, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }), /longer than 1.2 × the retry period/);
  t.match(leaderElectionTimingError({ leaseDurationMs: 0, renewDeadlineMs: 0, retryPeriodMs: 0 }), /positive/);
  t.throws(() => new LeaderElector({ client: admin, namespace: NAMESPACE, name: 'x', identity: 'x', leaseDurationMs: 1_000, renewDeadlineMs: 1_000, logger, onStartedLeading: () => undefined }), /renew deadline/);
  t.throws(() => new LeaderElector({ client: admin, namespace: NAMESPACE, name: 'x', identity: '', logger, onStartedLeading: () => undefined }), /identity/);
  t.match(microTime(new Date(Date.UTC(2026, 10, 22, 10, 0, 0, 123))), '2026-11-22T10:00:00.123000Z');
});

t.test('two candidates: one leads, the lease names it; stop() releases and the other takes over at once', async (t) => {
  const lease = 'pair';
  const a = candidate(t, lease, 'host-a_1');
  const b = candidate(t, lease, 'host-b_2');
  const overlap = noOverlap(t, [a, b]);
  a.elector.start();
  b.elector.start();
  const [leader] = await waitFor(t, 'one of them leads', () => (leaders([a, b]).length === 1 ? leaders([a, b]) : undefined));
  const follower = leader === a ? b : a;
  if (!leader) return;
  const first = leaseRecord(await getLease(lease));
  t.equal(first.holderIdentity, leader.identity, 'the lease names the leader');
  t.equal(first.leaseDurationSeconds, 1, 'leaseDurationSeconds');
  t.equal(first.leaseTransitions, 0, 'created: no transitions yet');
  t.match(first.acquireTime, MICRO_TIME, 'acquireTime is a MicroTime');
  t.match(first.renewTime, MICRO_TIME, 'renewTime is a MicroTime');

  await sleep(1_500); // longer than the lease: the leader must have renewed, the follower must not have taken over
  t.equal(leaders([a, b]).length, 1, 'still exactly one leader');
  t.ok(leader.elector.isLeader(), 'the same one');
  const renewed = leaseRecord(await getLease(lease));
  t.equal(renewed.holderIdentity, leader.identity);
  t.equal(renewed.acquireTime, first.acquireTime, 'renewing keeps acquireTime');
  t.ok(Date.parse(renewed.renewTime ?? '') > Date.parse(first.renewTime ?? ''), 'renewTime moves on');
  t.equal(renewed.leaseTransitions, 0, 'renewing is no transition');
  t.equal(await gaugeValue(leader, lease), 1, `${LEADER_ELECTION_METRIC} is 1 in the leader`);
  t.equal(await gaugeValue(follower, lease), 0, `${LEADER_ELECTION_METRIC} is 0 in the follower`);
  t.ok(follower.events.includes(`leader:${leader.identity}`), 'the follower was told who leads');
  t.same(leader.events.slice(0, 2), [`leader:${leader.identity}`, 'started'], 'the leader was told, then started leading');

  const stopping = Date.now();
  await leader.elector.stop();
  t.notOk(leader.elector.isLeader(), 'a stopped elector does not lead');
  t.same(leader.events.slice(-3), ['signal aborted', 'work done', 'stopped'], 'stop(): signal aborted, the work finished, then onStoppedLeading');
  t.ok(leader.signals[0]?.aborted, 'the leadership signal is aborted');
  await waitFor(t, 'the follower takes over', () => follower.elector.isLeader());
  const handover = Date.now() - stopping;
  t.ok(handover < LEASE_MS, `the follower took over in ${handover} ms, before the lease would have expired`);
  const second = leaseRecord(await getLease(lease));
  t.equal(second.holderIdentity, follower.identity, 'the lease names the new leader');
  t.equal(second.leaseTransitions, 1, 'leaseTransitions incremented');
  t.ok(Date.parse(second.acquireTime ?? '') >= Date.parse(renewed.renewTime ?? ''), 'acquireTime set anew');
  t.equal(await gaugeValue(leader, lease), 0, 'the old leader reports 0');
  await waitFor(t, 'the new leader reports 1', async () => (await gaugeValue(follower, lease)) === 1);
  overlap.check();
});

t.test('stop() releases the lease: holder cleared, leaseDurationSeconds 1', async (t) => {
  const lease = 'release';
  const a = candidate(t, lease, 'only');
  a.elector.start();
  await waitFor(t, 'it leads', () => a.elector.isLeader());
  const before = leaseRecord(await getLease(lease));
  await a.elector.stop();
  const released = leaseRecord(await getLease(lease));
  t.equal(released.holderIdentity, '', 'no holder');
  t.equal(released.leaseDurationSeconds, 1, 'leaseDurationSeconds 1');
  t.ok(Date.parse(released.renewTime ?? '') >= Date.parse(before.renewTime ?? ''), 'renewTime now');
  t.equal(released.leaseTransitions, before.leaseTransitions, 'releasing is no transition');
  await a.elector.stop(); // idempotent

  const b = candidate(t, lease, 'next');
  const started = Date.now();
  b.elector.start();
  await waitFor(t, 'a new candidate takes a released lease at once', () => b.elector.isLeader());
  t.ok(Date.now() - started < LEASE_MS, `taken in ${Date.now() - started} ms`);
  t.equal(leaseRecord(await getLease(lease)).leaseTransitions, before.leaseTransitions + 1, 'taking a released lease is a transition');
});

t.test('a leader that crashes is replaced only after the lease expires; it comes back as a follower', async (t) => {
  const lease = 'crash';
  const a = candidate(t, lease, 'crashing');
  const b = candidate(t, lease, 'survivor');
  const overlap = noOverlap(t, [a, b]);
  a.elector.start();
  await waitFor(t, 'a leads', () => a.elector.isLeader());
  b.elector.start();
  await waitFor(t, 'b has seen a lead', () => b.events.includes('leader:crashing'));
  await sleep(500);

  a.client.down = true; // a can no longer reach the API: it cannot renew, and cannot release
  const crashed = Date.now();
  await sleep(50); // a request a had in flight lands
  const last = leaseRecord(await getLease(lease));
  t.equal(last.holderIdentity, 'crashing');
  await waitFor(t, 'a stops leading within its renew deadline', () => !a.elector.isLeader(), RENEW_MS + RETRY_MS);
  t.ok(Date.now() - crashed <= RENEW_MS + 200, `a stopped leading ${Date.now() - crashed} ms after the crash`);
  await waitFor(t, 'a ran its leadership down', () => a.events.includes('stopped'));
  t.notOk(b.elector.isLeader(), 'b does not lead yet');

  await waitFor(t, 'b takes over', () => b.elector.isLeader(), 3_000);
  const takeover = Date.now() - crashed;
  const taken = leaseRecord(await getLease(lease));
  t.equal(taken.holderIdentity, 'survivor');
  t.equal(taken.leaseTransitions, last.leaseTransitions + 1, 'leaseTransitions incremented');
  const sinceRenewal = Date.parse(taken.acquireTime ?? '') - Date.parse(last.renewTime ?? '');
  t.ok(sinceRenewal >= LEASE_MS, `b took the lease ${sinceRenewal} ms after a's last renewal (lease ${LEASE_MS} ms)`);
  t.ok(takeover >= LEASE_MS - RETRY_MS - 100 && takeover < LEASE_MS + 3 * RETRY_MS + 500, `b took over ${takeover} ms after the crash`);

  a.client.down = false; // a is back: a candidate again, and b's lease is valid
  await waitFor(t, 'a sees b lead', () => a.events.includes('leader:survivor'));
  await sleep(1_200);
  t.notOk(a.elector.isLeader(), 'a stays a follower');
  t.ok(b.elector.isLeader(), 'b keeps leading');
  t.equal(a.events.filter((e) => e === 'started').length, 1, 'a led once');
  overlap.check();
});

t.test('a lease held by a foreign identity that stopped renewing is taken only after leaseDuration of no change', async (t) => {
  const cases = [
    { lease: 'stale-past', renewTime: '2001-01-01T00:00:00.000000Z', what: 'renewTime far in the past' },
    { lease: 'stale-future', renewTime: '2099-01-01T00:00:00.000000Z', what: 'renewTime far in the future (skewed clock)' },
  ];
  await Promise.all(cases.map(async ({ lease, renewTime, what }) => {
    await admin.create(resourcePath(LEASES, NAMESPACE), {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: lease, namespace: NAMESPACE },
      spec: { holderIdentity: 'ghost', leaseDurationSeconds: 1, acquireTime: renewTime, renewTime, leaseTransitions: 5 },
    });
    const c = candidate(t, lease, `taker-${lease}`);
    const started = Date.now();
    c.elector.start();
    await waitFor(t, `${what}: taken`, () => c.elector.isLeader(), 4_000);
    const elapsed = Date.now() - started;
    t.ok(elapsed >= LEASE_MS, `${what}: taken after ${elapsed} ms of seeing no change (lease ${LEASE_MS} ms)`);
    t.ok(elapsed < LEASE_MS + 3 * RETRY_MS + 500, `${what}: and not much later`);
    t.ok(c.events.indexOf('leader:ghost') < c.events.indexOf(`leader:taker-${lease}`), `${what}: the ghost was reported as leader first`);
    const record = leaseRecord(await getLease(lease));
    t.equal(record.holderIdentity, `taker-${lease}`, `${what}: the lease names the new holder`);
    t.equal(record.leaseTransitions, 6, `${what}: leaseTransitions incremented`);
    t.ok(Math.abs(Date.parse(record.acquireTime ?? '') - Date.now()) < 2_000, `${what}: acquireTime is now`);
  }));
});

t.test('a foreign holder that keeps renewing keeps the lease', async (t) => {
  const lease = 'alive';
  let current = await admin.create(resourcePath(LEASES, NAMESPACE), {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: lease, namespace: NAMESPACE },
    // A renewTime far in the past: only changes of the record count, not what it says.
    spec: { holderIdentity: 'elsewhere', leaseDurationSeconds: 1, renewTime: '2001-01-01T00:00:00.000000Z', leaseTransitions: 0 },
  });
  const c = candidate(t, lease, 'patient');
  c.elector.start();
  let renewals = 0;
  const until = Date.now() + 2_500;
  while (Date.now() < until) {
    await sleep(300);
    renewals++;
    current = await admin.update(leasePath(lease), { ...current, spec: { ...(current['spec'] as object), renewTime: `2001-01-01T00:00:${String(renewals).padStart(2, '0')}.000000Z` } });
    t.notOk(c.elector.isLeader(), `renewal ${renewals}: the candidate waits`);
  }
  const lastRenewal = Date.now();
  await waitFor(t, 'taken once the holder stops renewing', () => c.elector.isLeader(), 3_000);
  t.ok(Date.now() - lastRenewal >= LEASE_MS - 50, `taken ${Date.now() - lastRenewal} ms after the last renewal`);
});

t.test('409 races: a conflicting create or update is lost, not fatal', async (t) => {
  await t.test('two candidates create the lease at the same moment: one wins', async (t) => {
    const lease = 'create-race';
    const a = candidate(t, lease, 'racer-a');
    const b = candidate(t, lease, 'racer-b');
    const overlap = noOverlap(t, [a, b]);
    // Both have found no lease; neither create is sent before both are about to be.
    let arrived = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const barrier = async () => {
      if (++arrived === 2) release();
      await gate;
    };
    a.client.beforeCreate = barrier;
    b.client.beforeCreate = barrier;
    a.elector.start();
    b.elector.start();
    const [winner] = await waitFor(t, 'one of them leads', () => (leaders([a, b]).length === 1 ? leaders([a, b]) : undefined));
    t.equal(arrived, 2, 'both tried to create it');
    t.equal(a.client.conflicts + b.client.conflicts, 1, 'one create was refused with 409');
    await sleep(1_200);
    t.equal(leaders([a, b]).length, 1, 'the loser stays a follower');
    t.ok(winner?.elector.isLeader(), 'the winner keeps leading');
    t.equal(leaseRecord(await getLease(lease)).holderIdentity, winner?.identity);
    overlap.check();
  });

  await t.test('the lease changes between read and write: the write conflicts and the wait starts over', async (t) => {
    const lease = 'update-race';
    let current = await admin.create(resourcePath(LEASES, NAMESPACE), {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: { name: lease, namespace: NAMESPACE },
      spec: { holderIdentity: 'ghost', leaseDurationSeconds: 1, renewTime: '2001-01-01T00:00:00.000000Z', leaseTransitions: 0 },
    });
    const c = candidate(t, lease, 'unlucky');
    let interferedAt = 0;
    c.client.beforeUpdate = async () => {
      if (interferedAt) return;
      // The ghost renews just before the candidate's takeover lands.
      current = await admin.update(leasePath(lease), { ...current, spec: { ...(current['spec'] as object), renewTime: '2001-01-01T00:00:01.000000Z' } });
      interferedAt = Date.now();
    };
    c.elector.start();
    await waitFor(t, 'the takeover was attempted', () => interferedAt > 0, 3_000);
    await waitFor(t, 'and refused with 409', () => c.client.conflicts === 1, 1_000);
    t.notOk(c.elector.isLeader(), 'the candidate does not lead');
    await waitFor(t, 'it takes the lease later', () => c.elector.isLeader(), 3_000);
    const waited = Date.now() - interferedAt;
    t.ok(waited >= LEASE_MS, `a full lease duration after the ghost's renewal (${waited} ms)`);
    const record = leaseRecord(await getLease(lease));
    t.equal(record.holderIdentity, 'unlucky');
    t.equal(record.leaseTransitions, 1);
  });

  await t.test('three candidates at once', async (t) => {
    const lease = 'crowd';
    const all = ['x', 'y', 'z'].map((id) => candidate(t, lease, id));
    const overlap = noOverlap(t, all);
    for (const c of all) c.elector.start();
    await waitFor(t, 'one leads', () => leaders(all).length === 1);
    await sleep(1_200);
    t.equal(leaders(all).length, 1, 'exactly one leads');
    t.equal(leaseRecord(await getLease(lease)).holderIdentity, leaders(all)[0]?.identity);
    overlap.check();
  });
});

t.test('a leader that sees the lease in another name stops leading at once', async (t) => {
  const lease = 'usurped';
  const a = candidate(t, lease, 'deposed');
  a.elector.start();
  await waitFor(t, 'a leads', () => a.elector.isLeader());
  const current = await getLease(lease);
  // Someone writes the lease over (an operator, or a broken peer); a's next fast-path renewal
  // conflicts, it reads the lease and finds another holder.
  await admin.update(leasePath(lease), { ...current, spec: { ...(current['spec'] as object), holderIdentity: 'usurper', renewTime: microTime() } });
  const changed = Date.now();
  await waitFor(t, 'a stops leading', () => !a.elector.isLeader(), RENEW_MS);
  t.ok(Date.now() - changed < RENEW_MS, `after ${Date.now() - changed} ms`);
  await waitFor(t, 'and runs its leadership down', () => a.events.includes('stopped'));
  t.ok(a.events.includes('leader:usurper'), 'the new holder was reported');
});
