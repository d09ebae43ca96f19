import t from 'tap';
import type { Test } from 'tap';
import { join } from 'node:path';
import { runKubectl } from '../../conformance/harness.js';
import type { KubectlResult } from '../../conformance/harness.js';
import { tempDir } from '../helpers/temp-dir.js';
import { spawnFlotilla as spawnProcess, stopProc, waitForOutput } from '../helpers/flotilla-process.js';
import type { Proc } from '../helpers/flotilla-process.js';
import { eventually as pollTest } from '../helpers/in-process-server.js';

/**
 * Members and cluster health through real processes only (the in-process version is
 * test/federation/cluster-status.test.ts): `flotilla serve` with fast cluster-status intervals, one
 * `flotilla member --count 3` process, `flotilla join` for each member, the real kubectl 1.31, and
 * faults injected through the members' admin endpoint.
 */
const FREQUENCY_MS = 200;
const THRESHOLD_MS = 1_000;
/** A Ready flip: the next probe, the threshold, and slack for two shared cores. */
const FLIP_WITHIN_MS = FREQUENCY_MS + THRESHOLD_MS + 8_000;
const NOT_READY_TAINT = 'cluster.karmada.io/not-ready';
const UNREACHABLE_TAINT = 'cluster.karmada.io/unreachable';
const started = Date.now();

const procs: Proc[] = [];
const spawnFlotilla = (name: string, args: readonly string[]): Proc => spawnProcess(name, args, procs);

const dir = await tempDir('member-process');
// However the test ends (failure, timeout, crash), no child outlives it.
const killAll = () => {
  for (const proc of procs) if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
};
process.once('exit', killAll);
t.teardown(async () => {
  await Promise.all(procs.map((proc) => stopProc(proc)));
  process.off('exit', killAll);
  await dir.remove();
  t.comment(`member-process suite took ${Date.now() - started} ms`);
});

const kubectl = (args: readonly string[]): Promise<KubectlResult> =>
  runKubectl('1.31', ['--kubeconfig', controlPlaneKubeconfig, '--cache-dir', join(dir.path, 'kubectl-cache'), ...args]);

/** Polls every 200 ms: each check runs kubectl. */
const eventually = <T>(t: Test, what: string, check: () => Promise<T | undefined | false>, timeoutMs: number) => pollTest(t, what, check, timeoutMs, 200);

interface Condition { type: string; status: string; reason?: string; message?: string }
interface Taint { key: string; effect: string; timeAdded?: string }
interface Cluster {
  metadata: { name: string; uid: string };
  spec: { syncMode?: string; apiEndpoint?: string; region?: string; zones?: string[]; provider?: string; taints?: Taint[] };
  status?: {
    kubernetesVersion?: string;
    conditions?: Condition[];
    nodeSummary?: { totalNum?: number; readyNum?: number };
    resourceSummary?: { allocatable?: Record<string, string> };
  };
}

async function getCluster(name: string): Promise<Cluster> {
  const result = await kubectl(['get', 'cluster', name, '-o', 'json']);
  if (result.code !== 0) throw new Error(`kubectl get cluster ${name}: ${result.stderr}`);
  return JSON.parse(result.stdout) as Cluster;
}
const readyOf = (cluster: Cluster): Condition | undefined => cluster.status?.conditions?.find((c) => c.type === 'Ready');
const taintOf = (cluster: Cluster, key: string): Taint | undefined => (cluster.spec.taints ?? []).find((taint) => taint.key === key);

/** `kubectl get clusters` as rows of its columns (NAME VERSION MODE READY AGE). */
async function clusterTable(): Promise<Record<string, Record<string, string>>> {
  const result = await kubectl(['get', 'clusters']);
  if (result.code !== 0) throw new Error(`kubectl get clusters: ${result.stderr}`);
  const [header, ...lines] = result.stdout.trim().split('\n');
  const columns = (header ?? '').trim().split(/\s+/);
  return Object.fromEntries(lines.map((line) => {
    const cells = line.trim().split(/\s+/);
    return [cells[0] ?? '', Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? '']))];
  }));
}

async function admin(method: 'GET' | 'POST', path: string): Promise<{ code: number; type: string; body: unknown }> {
  const res = await fetch(`${adminUrl}${path}`, { method, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { code: res.status, type: res.headers.get('content-type') ?? '', body: JSON.parse(text) as unknown };
}

// ---- start: the control plane and three members, as two processes ----

const serve = spawnFlotilla('flotilla serve', [
  'serve', '--data-dir', join(dir.path, 'control-plane'), '--secure-port', '0', '--log-level', 'warn',
  '--cluster-status-update-frequency', `${FREQUENCY_MS}ms`, '--cluster-failure-threshold', `${THRESHOLD_MS}ms`, '--cluster-success-threshold', `${THRESHOLD_MS}ms`,
]);
// --secure-port 0 with --count 3: every member gets its own free port; --admin-port 0 likewise (read back from stdout).
const members = spawnFlotilla('flotilla member', [
  'member', '--count', '3', '--name-prefix', 'member', '--secure-port', '0', '--admin-port', '0',
  '--data-dir', join(dir.path, 'members'), '--nodes', '3', '--node-cpu', '8', '--node-memory', '32Gi', '--node-pods', '110', '--log-level', 'warn',
]);
const [serveOut, adminOut] = await Promise.all([
  waitForOutput(serve, /listening on (https:\/\/\S+).*\nkubeconfig: (\S+)/),
  waitForOutput(members, /^admin: (http:\/\/127\.0\.0\.1:\d+)\/members/m),
]);
const controlPlaneKubeconfig = serveOut[2] as string;
const adminUrl = adminOut[1] as string;
const memberInfo = new Map([...members.stdout.matchAll(/^member (\S+) listening on (https:\/\/\S+)\nkubeconfig: (\S+)$/gm)].map((m) => [m[1] as string, { url: m[2] as string, kubeconfig: m[3] as string }]));
t.comment(`started in ${Date.now() - started} ms`);

t.test('flotilla member --count 3 --secure-port 0: three members, each on its own free port', async (t) => {
  t.same([...memberInfo.keys()], ['member1', 'member2', 'member3']);
  const ports = [...memberInfo.values()].map((m) => new URL(m.url).port);
  t.equal(new Set(ports).size, 3, `distinct ports ${ports.join(', ')}`);
  t.ok(ports.every((p) => Number(p) > 0), 'real ports');
  const list = await admin('GET', '/members');
  t.equal(list.code, 200);
  t.match(list.type, /^application\/json/);
  t.match(list.body, [...memberInfo].map(([name, m]) => ({ name, url: m.url, kubeconfig: m.kubeconfig, paused: false, ready: true })));
});

t.test('flotilla join member1..3', async (t) => {
  const places = [['us-east-1', 'us-east-1a', 'us'], ['cn-north-1', 'cn-north-1a', 'cn'], ['eu-west-1', 'eu-west-1a', 'eu']] as const;
  const joins = [...memberInfo].map(([name, m], i) => {
    const [region, zone, location] = places[i] as (typeof places)[number];
    return spawnFlotilla(`flotilla join ${name}`, ['join', name, '--cluster-kubeconfig', m.kubeconfig, '--kubeconfig', controlPlaneKubeconfig, '--provider', 'flotilla', '--region', region, '--zone', zone, '--label', `location=${location}`]);
  });
  const timer = setTimeout(() => joins.forEach((j) => j.child.kill('SIGKILL')), 60_000);
  const codes = await Promise.all(joins.map((j) => j.exited));
  clearTimeout(timer);
  for (const [i, join] of joins.entries()) {
    t.equal(codes[i], 0, `${join.name} exits 0`, { stderr: join.stderr });
    t.match(join.stdout, new RegExp(`cluster\\(member${i + 1}\\) is joined successfully`));
  }
});

t.test('kubectl get clusters: all three Ready, v1.31, Push; summaries present', async (t) => {
  const table = await eventually(t, 'member1..3 READY True', async () => {
    const rows = await clusterTable();
    return ['member1', 'member2', 'member3'].every((n) => rows[n]?.['READY'] === 'True') ? rows : undefined;
  }, 20_000);
  if (!table) return;
  for (const name of ['member1', 'member2', 'member3']) {
    t.match(table[name], { NAME: name, VERSION: /^v1\.31\.\d+/, MODE: 'Push', READY: 'True' }, `${name}'s row`);
  }
  // The summaries land with the first Ready write; give them one more interval if not.
  const jsonpath = '{range .items[*]}{.metadata.name}{"\\t"}{.spec.region}{"\\t"}{.status.resourceSummary.allocatable}{"\\t"}{.status.nodeSummary}{"\\n"}{end}';
  const rows = await eventually(t, 'resourceSummary.allocatable of every cluster', async () => {
    const result = await kubectl(['get', 'clusters', '-o', `jsonpath=${jsonpath}`]);
    if (result.code !== 0) throw new Error(result.stderr);
    const parsed = result.stdout.trim().split('\n').map((line) => line.split('\t'));
    return parsed.length === 3 && parsed.every((cells) => (cells[2] ?? '').startsWith('{')) ? parsed : undefined;
  }, 10_000);
  for (const [name, region, allocatable, nodeSummary] of rows ?? []) {
    t.equal(region, { member1: 'us-east-1', member2: 'cn-north-1', member3: 'eu-west-1' }[name ?? ''], `${name ?? ''}: spec.region from join --region`);
    t.same(JSON.parse(allocatable ?? '{}'), { cpu: '24', 'ephemeral-storage': '300Gi', memory: '96Gi', pods: '330' }, `${name ?? ''}: allocatable of 3 nodes × (8 CPU, 32Gi, 110 pods)`);
    t.same(JSON.parse(nodeSummary ?? '{}'), { totalNum: 3, readyNum: 3 }, `${name ?? ''}: nodeSummary`);
  }
  for (const name of ['member1', 'member2', 'member3']) {
    const cluster = await getCluster(name);
    t.equal(taintOf(cluster, NOT_READY_TAINT), undefined, `${name} untainted`);
    t.equal(cluster.spec.apiEndpoint, memberInfo.get(name)?.url, `${name}: apiEndpoint is the member's URL`);
  }
});

t.test('pause member2: Ready=False ClusterNotReachable, tainted not-ready; resume: Ready, untainted', async (t) => {
  const before = Date.now();
  const paused = await admin('POST', '/members/member2/pause');
  t.match(paused, { code: 200, body: { name: 'member2', paused: true } });
  const down = await eventually(t, 'member2 Ready=False', async () => {
    const c = await getCluster('member2');
    return readyOf(c)?.status === 'False' ? c : undefined;
  }, FLIP_WITHIN_MS);
  const elapsed = Date.now() - before;
  t.ok(elapsed >= THRESHOLD_MS - 50, `not before the failure threshold (${elapsed} ms after the pause)`);
  t.comment(`paused → Ready=False seen after ${elapsed} ms`);
  if (down) t.match(readyOf(down), { status: 'False', reason: 'ClusterNotReachable', message: 'cluster is not reachable' });
  // Karmada: an unreachable Push cluster is Ready=False (not Unknown), so the taint is not-ready, not unreachable.
  const tainted = await eventually(t, 'not-ready:NoSchedule taint added', async () => {
    const c = await getCluster('member2');
    return taintOf(c, NOT_READY_TAINT) ? c : undefined;
  }, 5_000);
  if (tainted) {
    t.match(taintOf(tainted, NOT_READY_TAINT), { effect: 'NoSchedule', timeAdded: /^\d{4}-\d\d-\d\dT/ });
    t.equal(taintOf(tainted, UNREACHABLE_TAINT), undefined, 'no unreachable taint (that is for Ready=Unknown)');
  }
  const rows = await clusterTable();
  t.equal(rows['member2']?.['READY'], 'False', 'kubectl get clusters shows member2 READY False');
  t.equal(rows['member1']?.['READY'], 'True', 'member1 unaffected');
  t.equal(rows['member3']?.['READY'], 'True', 'member3 unaffected');

  const resumed = await admin('POST', '/members/member2/resume');
  t.match(resumed, { code: 200, body: { name: 'member2', paused: false } });
  await eventually(t, 'member2 Ready=True ClusterReady again', async () => {
    const c = await getCluster('member2');
    return readyOf(c)?.status === 'True' && readyOf(c)?.reason === 'ClusterReady';
  }, FLIP_WITHIN_MS);
  await eventually(t, 'not-ready taint removed', async () => {
    const c = await getCluster('member2');
    return !taintOf(c, NOT_READY_TAINT) && !taintOf(c, UNREACHABLE_TAINT);
  }, 5_000);
});

t.test('not-ready member1 (answers, /readyz fails): Ready=False ClusterNotReady; ready: back', async (t) => {
  const res = await admin('POST', '/members/member1/not-ready');
  t.match(res, { code: 200, body: { name: 'member1', paused: false, ready: false } });
  const down = await eventually(t, 'member1 Ready=False', async () => {
    const c = await getCluster('member1');
    return readyOf(c)?.status === 'False' ? c : undefined;
  }, FLIP_WITHIN_MS);
  if (down) t.match(readyOf(down), { reason: 'ClusterNotReady', message: 'cluster is reachable but health endpoint responded without ok' });
  await eventually(t, 'not-ready taint added', async () => Boolean(taintOf(await getCluster('member1'), NOT_READY_TAINT)), 5_000);

  t.match(await admin('POST', '/members/member1/ready'), { code: 200, body: { name: 'member1', ready: true } });
  await eventually(t, 'member1 Ready=True again, untainted', async () => {
    const c = await getCluster('member1');
    return readyOf(c)?.status === 'True' && !taintOf(c, NOT_READY_TAINT);
  }, FLIP_WITHIN_MS);
  await eventually(t, 'its nodes Ready again in nodeSummary', async () => {
    const c = await getCluster('member1');
    return c.status?.nodeSummary?.totalNum === 3 && c.status.nodeSummary.readyNum === 3;
  }, 10_000);
});

t.test('remove-nodes on member3: nodeSummary and allocatable drop', async (t) => {
  const res = await admin('POST', '/members/member3/remove-nodes?count=1');
  t.equal(res.code, 200);
  t.match(res.body, { name: 'member3', removedNodes: [/^node-/] });
  t.equal((res.body as { removedNodes: unknown[] }).removedNodes.length, 1, 'one node removed');
  const after = await eventually(t, 'nodeSummary.totalNum 3 → 2', async () => {
    const c = await getCluster('member3');
    return c.status?.nodeSummary?.totalNum === 2 ? c : undefined;
  }, 10_000);
  if (after) {
    t.same(after.status?.nodeSummary, { totalNum: 2, readyNum: 2 });
    t.match(after.status?.resourceSummary?.allocatable, { cpu: '16', memory: '64Gi', pods: '220' }, 'allocatable of two nodes');
    t.equal(readyOf(after)?.status, 'True', 'still Ready');
  }
});

t.test('admin endpoint errors', async (t) => {
  const unknown = await admin('POST', '/members/nope/pause');
  t.equal(unknown.code, 404, 'unknown member → 404');
  t.match(unknown.type, /^application\/json/);
  t.same(unknown.body, { error: 'no member named nope' });
  t.equal((await admin('GET', '/members/nope')).code, 404, 'GET of an unknown member → 404');
  for (const count of ['0', '-1', 'abc', '1.5']) {
    const bad = await admin('POST', `/members/member3/remove-nodes?count=${count}`);
    t.equal(bad.code, 400, `count=${count} → 400`);
    t.match(bad.type, /^application\/json/);
    t.same(bad.body, { error: 'count must be a positive integer' });
  }
  const action = await admin('POST', '/members/member3/explode');
  t.equal(action.code, 404, 'unknown action → 404');
  t.match(action.body, { error: /^unknown action explode/ });
  t.equal((await admin('GET', '/members/member3/pause')).code, 405, 'GET on an action → 405');
  t.match(await admin('GET', '/nothing'), { code: 404, body: { error: 'not found' } });
  t.equal((await getCluster('member3')).status?.nodeSummary?.totalNum, 2, 'the bad requests removed no nodes');
});

t.test('both processes stop cleanly on SIGTERM', async (t) => {
  const [memberCode, serveCode] = await Promise.all([stopProc(members), stopProc(serve)]);
  t.equal(memberCode, 0, 'flotilla member exits 0', { stderr: members.stderr });
  t.equal(serveCode, 0, 'flotilla serve exits 0', { stderr: serve.stderr });
});
