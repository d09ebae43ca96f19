import t from 'tap';
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { request } from 'node:https';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { joinCluster } from '../src/cli/join-command.js';
import { startEtcd } from '../test/helpers/etcd-server.js';
import type { EtcdServer } from '../test/helpers/etcd-server.js';
import { adminCredentials, startServer } from './harness.js';
import type { KubectlResult, RunningServer } from './harness.js';

/**
 * Two real `flotilla serve` processes on one real etcd (same key prefix), with short leader
 * election durations: only the holder of the Lease karmada-system/flotilla-controller-manager runs
 * the controllers and reports leader_election_master_status 1; after kill -9 of the leader the
 * other takes the lease once it has expired and its controllers take over (a deleted namespace is
 * still emptied and removed), and a simulated member joined to them has its bindings scheduled by
 * the leader only — each exactly once, none again after the failover.
 */
const MINOR = '1.31';
const LEASE_MS = 2_000;
const RETRY_MS = 400;
// The scheduler's writes are counted: the controllers that apply Works and report status stay off.
const SERVE_ARGS = ['--leader-elect-lease-duration', '2s', '--leader-elect-renew-deadline', '1500ms', '--leader-elect-retry-period', '400ms', '--controllers', '*,-execution,-work-status,-binding-status,-namespace-sync'];
const LEASE = ['-n', 'karmada-system', 'get', 'lease', 'flotilla-controller-manager', '-o', 'json'];
const STATUS = /^leader_election_master_status\{name="flotilla-controller-manager"\} (\d+)$/m;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Replica {
  readonly name: string;
  readonly server: RunningServer;
  readonly identity: string;
  readonly credentials: { ca: Buffer; cert: Buffer; key: Buffer };
}

let etcd: EtcdServer;
let replicas: Replica[] = [];

t.before(async () => {
  etcd = await startEtcd();
  etcdPrefix = `/leader-election-${process.pid}-${Date.now()}`;
  // Started together: both race for the lease from the start.
  replicas = await Promise.all(['replica-1', 'replica-2'].map(startReplica));
});

let etcdPrefix = '';

async function startReplica(name: string): Promise<Replica> {
  const server = await startServer({ etcdEndpoint: etcd.endpoint, etcdPrefix, serveArgs: SERVE_ARGS });
  const deadline = Date.now() + 10_000;
  let identity: string | undefined;
  while (!(identity = /leader election identity: (\S+)/.exec(server.stdout())?.[1])) {
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`no leader election identity printed:\n${server.stdout()}`);
    }
    await sleep(20);
  }
  return { name, server, identity, credentials: await adminCredentials(server.kubeconfig) };
}

t.teardown(async () => {
  await Promise.all(replicas.map((r) => r.server.stop()));
  await etcd?.destroy();
});

/** GET /metrics with the replica's admin client certificate. */
function metrics(replica: Replica): Promise<string> {
  const url = new URL(replica.server.url);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: '/metrics', method: 'GET', ...replica.credentials, timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => (res.statusCode === 200 ? resolve(body) : reject(new Error(`/metrics: ${String(res.statusCode)}`))));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('/metrics timed out')));
    req.on('error', reject);
    req.end();
  });
}

/** leader_election_master_status{name="flotilla-controller-manager"}, or undefined when not reported. */
async function masterStatus(replica: Replica): Promise<number | undefined> {
  const match = STATUS.exec(await metrics(replica));
  return match ? Number(match[1]) : undefined;
}

/** The sum of apiserver_request_total over the series whose labels include all of `labels`. */
async function requests(replica: Replica, labels: Record<string, string>): Promise<number> {
  let total = 0;
  for (const match of (await metrics(replica)).matchAll(/^apiserver_request_total\{([^}]*)\} (\d+)$/gm)) {
    const series = match[1] ?? '';
    if (Object.entries(labels).every(([k, v]) => series.includes(`${k}="${v}"`))) total += Number(match[2]);
  }
  return total;
}

function ok(t: Test, result: KubectlResult, what: string): string {
  t.equal(result.code, 0, what, { stderr: result.stderr, stdout: result.stdout });
  return result.stdout;
}

async function eventually<T>(t: Test, what: string, check: () => Promise<T | undefined | false>, timeoutMs = 15_000, everyMs = 100): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      t.fail(`${what} (not within ${timeoutMs} ms)`, lastError ? { error: String(lastError) } : {});
      return undefined;
    }
    await sleep(everyMs);
  }
}

interface LeaseSpec {
  resourceVersion?: string;
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  leaseTransitions?: number;
  acquireTime?: string;
  renewTime?: string;
}

async function leaseSpec(t: Test, via: Replica): Promise<LeaseSpec> {
  const lease = JSON.parse(ok(t, await via.server.kubectl(MINOR, LEASE), 'kubectl get lease')) as { metadata: { resourceVersion?: string }; spec: LeaseSpec };
  return { ...lease.spec, ...(lease.metadata.resourceVersion !== undefined ? { resourceVersion: lease.metadata.resourceVersion } : {}) };
}

/** A watch of the controller manager's Lease after `resourceVersion`: each version's spec as it comes. */
function watchLease(via: Replica, resourceVersion: string): { records: LeaseSpec[]; stop(): void } {
  const url = new URL(via.server.url);
  const records: LeaseSpec[] = [];
  const path = `/apis/coordination.k8s.io/v1/namespaces/karmada-system/leases?watch=true&fieldSelector=metadata.name%3Dflotilla-controller-manager&resourceVersion=${resourceVersion}`;
  const req = request({ host: url.hostname, port: url.port, path, method: 'GET', ...via.credentials }, (res) => {
    let buffer = '';
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      buffer += chunk;
      for (let newline = buffer.indexOf('\n'); newline >= 0; newline = buffer.indexOf('\n')) {
        const event = JSON.parse(buffer.slice(0, newline)) as { type: string; object: { spec?: LeaseSpec } };
        buffer = buffer.slice(newline + 1);
        if (event.type === 'ADDED' || event.type === 'MODIFIED') records.push(event.object.spec ?? {});
      }
    });
    res.on('error', () => undefined);
  });
  req.on('error', () => undefined);
  req.end();
  return { records, stop: () => req.destroy() };
}

/** Both replicas' status, once exactly one reports 1 and the other 0. */
async function oneLeader(t: Test, candidates: readonly Replica[], timeoutMs = 15_000): Promise<Replica | undefined> {
  return eventually(t, 'exactly one replica reports leader_election_master_status 1', async () => {
    const statuses = await Promise.all(candidates.map(masterStatus));
    const leading = candidates.filter((_, i) => statuses[i] === 1);
    return leading.length === 1 && statuses.every((s) => s === 0 || s === 1) ? leading[0] : undefined;
  }, timeoutMs, 50);
}

/** Creates a namespace with content through `via`, deletes it, and waits until it is gone. */
async function namespaceLifecycle(t: Test, via: Replica, ns: string): Promise<void> {
  const k = (args: string[]) => via.server.kubectl(MINOR, args);
  ok(t, await k(['create', 'namespace', ns]), `create namespace ${ns}`);
  ok(t, await k(['-n', ns, 'create', 'configmap', 'content', '--from-literal=a=1']), 'create a configmap in it');
  ok(t, await k(['delete', 'namespace', ns, '--wait=false']), `delete namespace ${ns}`);
  const gone = await eventually(t, `namespace ${ns} emptied and removed by the namespace controller`, async () => {
    const result = await k(['get', 'namespace', ns, '-o', 'name']);
    return result.code !== 0 && /NotFound/.test(result.stderr);
  }, 20_000, 200);
  if (gone) t.pass(`namespace ${ns} is gone`);
}

const finalizes = { resource: 'namespaces', subresource: 'finalize', verb: 'PUT' };
const namespaceWatches = { resource: 'namespaces', verb: 'WATCH' };

t.test('one replica leads; the controllers run only there', async (t) => {
  const [a, b] = replicas as [Replica, Replica];
  t.not(a.identity, b.identity, 'distinct identities');
  const leader = await oneLeader(t, replicas);
  if (!leader) return;
  const follower = leader === a ? b : a;
  t.pass(`${leader.name} leads`);

  const spec = await leaseSpec(t, follower);
  t.equal(spec.holderIdentity, leader.identity, 'the Lease names the leader (read through the follower)');
  t.equal(spec.leaseDurationSeconds, LEASE_MS / 1000, 'leaseDurationSeconds from --leader-elect-lease-duration');
  t.match(spec.renewTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/, 'renewTime is a MicroTime');

  // Longer than the lease: the leader renews, the follower never takes over.
  for (let i = 0; i < 6; i++) {
    await sleep(500);
    const statuses = await Promise.all([masterStatus(leader), masterStatus(follower)]);
    t.same(statuses, [1, 0], `sample ${i + 1}: leader 1, follower 0`);
  }
  t.equal((await leaseSpec(t, follower)).holderIdentity, leader.identity, 'still the same holder');

  // The namespace is created and deleted through the follower's API; the leader's namespace
  // controller (a client of the leader's own API) empties and finalizes it.
  await namespaceLifecycle(t, follower, 'le-before-failover');
  t.ok(await requests(leader, finalizes) >= 1, 'the leader\'s API served the namespace controller\'s finalize');
  t.equal(await requests(follower, finalizes), 0, 'the follower\'s API served no finalize');
  t.ok(await requests(leader, namespaceWatches) >= 1, 'the leader\'s controllers watch namespaces');
  t.equal(await requests(follower, namespaceWatches), 0, 'nothing watches namespaces on the follower: its controllers do not run');
});

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
let member: { child: ChildProcess; dir: string } | undefined;
t.teardown(async () => {
  member?.child.kill('SIGKILL');
  if (member) await rm(member.dir, { recursive: true, force: true });
});

/** A `flotilla member` process with one simulated member; resolves with its kubeconfig. */
async function startMemberProcess(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-le-member-'));
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'member', '--count', '1', '--name-prefix', 'le-member', '--secure-port', '0', '--data-dir', dir, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  member = { child, dir };
  let stdout = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`flotilla member did not start:\n${stdout}`)), 30_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const kubeconfig = /^kubeconfig: (\S+)$/m.exec(stdout)?.[1];
      if (kubeconfig) {
        clearTimeout(timer);
        resolve(kubeconfig);
      }
    });
    child.once('exit', (code) => reject(new Error(`flotilla member exited with ${String(code)}:\n${stdout}`)));
  });
}

const bindingStatusWrites = { resource: 'resourcebindings', subresource: 'status', verb: 'PUT', code: '200' };
/** Placement writes (PUT of the binding itself; a series without a subresource label). */
const bindingSpecWrites = { resource: 'resourcebindings', subresource: '', verb: 'PUT', code: '200' };

interface Binding {
  metadata: { name: string; resourceVersion: string };
  spec: { clusters?: { name: string; replicas?: number }[] };
  status?: { conditions?: { type: string; status: string }[]; lastScheduledTime?: string };
}

async function scheduledBindings(t: Test, via: Replica, ns: string): Promise<Binding[]> {
  const out = ok(t, await via.server.kubectl(MINOR, ['-n', ns, 'get', 'resourcebindings', '-o', 'json']), 'list bindings');
  return (JSON.parse(out) as { items: Binding[] }).items.filter((b) => b.status?.conditions?.some((c) => c.type === 'Scheduled' && c.status === 'True'));
}

const deploymentYaml = (name: string) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: le-sched}
spec:
  replicas: 2
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}}}
    spec: {containers: [{name: c, image: nginx}]}
`;

t.test('only the leader schedules; each binding is scheduled once', async (t) => {
  const leader = await oneLeader(t, replicas);
  if (!leader) return;
  const follower = replicas.find((r) => r !== leader) as Replica;
  await joinCluster({ name: 'le-member1', clusterKubeconfig: await startMemberProcess(), kubeconfig: follower.server.kubeconfig });
  const k = (args: string[], stdin?: string) => follower.server.kubectl(MINOR, args, stdin !== undefined ? { stdin } : {});
  await eventually(t, 'le-member1 Ready, serving Deployments', async () => {
    const cluster = JSON.parse(ok(t, await k(['get', 'cluster', 'le-member1', '-o', 'json']), 'get cluster')) as { status?: { conditions?: { type: string; status: string }[]; apiEnablements?: { groupVersion: string }[] } };
    return cluster.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') && cluster.status.apiEnablements?.some((e) => e.groupVersion === 'apps/v1');
  }, 30_000, 200);
  ok(t, await k(['create', 'namespace', 'le-sched']), 'create namespace le-sched');
  const policy = `apiVersion: policy.karmada.io/v1alpha1
kind: PropagationPolicy
metadata: {name: all, namespace: le-sched}
spec:
  resourceSelectors: [{apiVersion: apps/v1, kind: Deployment}]
  placement:
    clusterAffinity: {clusterNames: [le-member1]}
    replicaScheduling: {replicaSchedulingType: Divided, replicaDivisionPreference: Weighted}
`;
  ok(t, await k(['apply', '-f', '-'], policy), 'apply the policy through the follower');
  ok(t, await k(['apply', '-f', '-'], ['d1', 'd2', 'd3'].map(deploymentYaml).join('---\n')), 'apply three deployments through the follower');
  const bindings = await eventually(t, 'three bindings scheduled to le-member1', async () => {
    const scheduled = await scheduledBindings(t, follower, 'le-sched');
    return scheduled.length === 3 && scheduled.every((b) => b.spec.clusters?.[0]?.name === 'le-member1' && b.spec.clusters[0].replicas === 2) ? scheduled : undefined;
  }, 30_000, 200);
  if (!bindings) return;
  t.equal(await requests(follower, bindingStatusWrites), 0, 'the follower\'s API served no binding status write: its scheduler does not run');
  t.equal(await requests(leader, bindingStatusWrites), 3, 'the leader\'s scheduler wrote each binding\'s status once');
  t.equal(await requests(leader, bindingSpecWrites), 3, 'and each binding\'s placement once');
});

t.test('kill -9 of the leader: the other replica takes over once the lease expires', async (t) => {
  const leader = await oneLeader(t, replicas);
  if (!leader) return;
  const survivor = replicas.find((r) => r !== leader) as Replica;
  const scheduledBefore = await scheduledBindings(t, survivor, 'le-sched');
  const before = await leaseSpec(t, survivor);
  t.equal(before.holderIdentity, leader.identity);

  await leader.server.kill('SIGKILL');
  const killed = Date.now();
  const tookOver = await eventually(t, 'the survivor reports leader_election_master_status 1', async () => (await masterStatus(survivor)) === 1, 15_000, 50);
  const failover = Date.now() - killed;
  if (!tookOver) return;
  t.pass(`failover after ${failover} ms`);
  // The leader's last renewal was at most a retry period before the kill; the survivor may take
  // the lease leaseDuration after it saw that renewal, at its next (jittered) retry.
  t.ok(failover >= LEASE_MS - RETRY_MS - 200, `not before the lease could have expired (${failover} ms ≥ ${LEASE_MS - RETRY_MS - 200} ms)`);
  t.ok(failover <= LEASE_MS + 2 * 2.2 * RETRY_MS + 500, `within the lease duration plus retry slack (${failover} ms ≤ ${LEASE_MS + 2 * 2.2 * RETRY_MS + 500} ms)`);

  const after = await leaseSpec(t, survivor);
  t.equal(after.holderIdentity, survivor.identity, 'the Lease names the survivor');
  t.equal(after.leaseTransitions, (before.leaseTransitions ?? 0) + 1, 'leaseTransitions incremented');
  t.ok(Date.parse(after.acquireTime ?? '') - Date.parse(before.renewTime ?? '') >= LEASE_MS - 1, 'acquired no earlier than a lease duration after the dead leader\'s last renewal seen before the kill');

  const finalizesBefore = await requests(survivor, finalizes);
  await namespaceLifecycle(t, survivor, 'le-after-failover');
  t.ok(await requests(survivor, finalizes) > finalizesBefore, 'the survivor\'s namespace controller finalized it');

  // The survivor's scheduler has listed the bindings; what was scheduled is not scheduled again.
  ok(t, await survivor.server.kubectl(MINOR, ['apply', '-f', '-'], { stdin: deploymentYaml('d4') }), 'apply a fourth deployment');
  const after4 = await eventually(t, 'the new leader schedules the fourth binding', async () => {
    const scheduled = await scheduledBindings(t, survivor, 'le-sched');
    return scheduled.length === 4 ? scheduled : undefined;
  }, 30_000, 200);
  if (!after4) return;
  for (const b of scheduledBefore) {
    const now = after4.find((x) => x.metadata.name === b.metadata.name);
    t.equal(now?.metadata.resourceVersion, b.metadata.resourceVersion, `${b.metadata.name} was not scheduled again`);
  }
  t.equal(await requests(survivor, bindingStatusWrites), 1, 'the survivor wrote one binding status: the new one');
  t.equal(await requests(survivor, bindingSpecWrites), 1, 'and one placement');
});

t.test('SIGTERM of the leader releases the lease: a new replica takes over at once', async (t) => {
  const fresh = await startReplica('replica-3');
  replicas.push(fresh);
  // The replica killed above does not answer; the survivor of the failover leads.
  const leader = await eventually(t, 'a leader among the live replicas', async () => {
    for (const r of replicas) if ((await masterStatus(r).catch(() => undefined)) === 1) return r;
    return undefined;
  });
  if (!leader) return;
  await eventually(t, 'the new replica has read the lease', async () => (await masterStatus(fresh)) === 0 || undefined);
  const before = await leaseSpec(t, fresh);
  // Every version of the Lease from here on, in order: whether the leader gave it up is seen, not timed.
  const history = watchLease(fresh, before.resourceVersion ?? '0');
  const stopping = Date.now();
  await leader.server.kill('SIGTERM');
  const exited = Date.now() - stopping;
  t.ok(exited < 10_000, `the leader shut down gracefully in ${exited} ms`);
  const tookOver = await eventually(t, 'the new replica leads', async () => (await masterStatus(fresh)) === 1, 10_000, 50);
  if (tookOver) await eventually(t, 'the watch brings its acquisition', async () => history.records.some((r) => r.holderIdentity === fresh.identity), 5_000, 50);
  history.stop();
  if (!tookOver) return;
  t.comment(`taken over ${Date.now() - stopping} ms after SIGTERM (the lease lasts ${LEASE_MS} ms)`);
  const holders = history.records.map((r) => r.holderIdentity ?? '');
  const acquired = holders.indexOf(fresh.identity);
  t.ok(acquired > 0, 'the watch saw the new replica acquire the lease', { holders });
  t.equal(holders[acquired - 1], '', 'the version before that is the leader giving it up (holder empty), not its lease running out', { holders });
  t.equal(history.records[acquired - 1]?.leaseDurationSeconds, 1, 'released as client-go releases: leaseDurationSeconds 1');
  const after = await leaseSpec(t, fresh);
  t.equal(after.holderIdentity, fresh.identity, 'the Lease names the new replica');
  t.equal(after.leaseTransitions, (before.leaseTransitions ?? 0) + 1, 'leaseTransitions incremented');
});
