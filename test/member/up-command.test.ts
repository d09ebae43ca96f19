import t from 'tap';
import type { Test } from 'tap';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runKubectl } from '../../conformance/harness.js';
import type { KubectlResult } from '../../conformance/harness.js';
import { tempDir } from '../helpers/temp-dir.js';
import { spawnFlotilla as spawnProcess, stopProc, waitForOutput } from '../helpers/flotilla-process.js';
import type { Proc } from '../helpers/flotilla-process.js';
import { eventually as pollTest } from '../helpers/in-process-server.js';

/**
 * `flotilla up` as a user runs it: one process (control plane + three members, joined), the real
 * kubectl 1.31, Ctrl-C (SIGINT) to stop, and a second start on the same data dir that keeps the same
 * clusters. The fast cluster-status flags are passed through to the control plane (a paused member
 * turns not Ready within seconds, not the default ~40 s).
 */
const FREQUENCY_MS = 200;
const THRESHOLD_MS = 1_000;
const FLIP_WITHIN_MS = FREQUENCY_MS + THRESHOLD_MS + 8_000;
const START_TIMEOUT_MS = 60_000;
const STOP_WITHIN_MS = 10_000;
const NAMES = ['member1', 'member2', 'member3'];
const started = Date.now();

/** The whole banner, through its last line (the hints come after the kubeconfig line). */
const UP_BANNER = /Flotilla is up\. kubeconfig: (\S+)[\s\S]*Ctrl-C stops everything\./;

const procs: Proc[] = [];
const spawnUp = (args: readonly string[]): Proc => spawnProcess('flotilla up', ['up', ...args], procs);

/** Sends `signal` (SIGKILL after 10 s); the exit code (-1: killed by a signal) and how long it took. */
async function stopTimed(proc: Proc, signal: NodeJS.Signals): Promise<{ code: number | null; ms: number }> {
  const t0 = Date.now();
  const code = await stopProc(proc, signal);
  return { code, ms: Date.now() - t0 };
}

const canListen = (port: number): Promise<boolean> => new Promise((resolve) => {
  const server = createServer();
  server.once('error', () => resolve(false));
  server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
});

/**
 * `up` takes fixed ports: the control plane's, the members' on the next ones, and the admin port.
 * A run of `count` free ports below the ephemeral range (so outgoing connections do not take them); bounded tries.
 */
async function freePortRun(count: number): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 20_000 + Math.floor(Math.random() * 12_000);
    let free = true;
    for (let i = 0; i < count && free; i++) free = await canListen(base + i);
    if (free) return base;
  }
  throw new Error('no run of free loopback ports found in 50 tries');
}

/** Polls every 200 ms: each check runs kubectl. */
const eventually = <T>(t: Test, what: string, check: () => Promise<T | undefined | false>, timeoutMs: number) => pollTest(t, what, check, timeoutMs, 200);

const dir = await tempDir('up-command');
const killAll = () => {
  for (const proc of procs) if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
};
process.once('exit', killAll);
t.teardown(async () => {
  await Promise.all(procs.map((proc) => stopTimed(proc, 'SIGTERM')));
  process.off('exit', killAll);
  await dir.remove();
  t.comment(`up-command suite took ${Date.now() - started} ms`);
});

const base = await freePortRun(5); // control plane, member1..3, admin
const securePort = base;
const adminPort = base + 4;
const dataDir = join(dir.path, 'flotilla');
const upArgs = [
  '--data-dir', dataDir, '--secure-port', String(securePort), '--admin-port', String(adminPort), '--members', '3', '--log-level', 'warn',
  '--cluster-status-update-frequency', `${FREQUENCY_MS}ms`, '--cluster-failure-threshold', `${THRESHOLD_MS}ms`, '--cluster-success-threshold', `${THRESHOLD_MS}ms`,
];

const kubectl = (kubeconfig: string, args: readonly string[]): Promise<KubectlResult> =>
  runKubectl('1.31', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir.path, 'kubectl-cache'), ...args]);

/** name → { uid, ready, reason } of every Cluster, through kubectl. */
async function clusters(kubeconfig: string): Promise<Map<string, { uid: string; ready: string; reason: string; endpoint: string }>> {
  const jsonpath = '{range .items[*]}{.metadata.name}{"\\t"}{.metadata.uid}{"\\t"}{.status.conditions[?(@.type=="Ready")].status}{"\\t"}{.status.conditions[?(@.type=="Ready")].reason}{"\\t"}{.spec.apiEndpoint}{"\\n"}{end}';
  const result = await kubectl(kubeconfig, ['get', 'clusters', '-o', `jsonpath=${jsonpath}`]);
  if (result.code !== 0) throw new Error(`kubectl get clusters: ${result.stderr}`);
  return new Map(result.stdout.split('\n').filter(Boolean).map((line) => {
    const [name = '', uid = '', ready = '', reason = '', endpoint = ''] = line.split('\t');
    return [name, { uid, ready, reason, endpoint }];
  }));
}

/** `kubectl get clusters` (the table) shows member1..3 with READY True. */
async function tableAllReady(kubeconfig: string): Promise<boolean> {
  const result = await kubectl(kubeconfig, ['get', 'clusters']);
  if (result.code !== 0) return false;
  const rows = result.stdout.trim().split('\n').slice(1).map((line) => line.trim().split(/\s+/));
  // NAME VERSION MODE READY AGE
  return rows.length === 3 && NAMES.every((name) => rows.some((r) => r[0] === name && /^v1\.31\./.test(r[1] ?? '') && r[2] === 'Push' && r[3] === 'True'));
}

let firstKubeconfig = '';
let firstUids = new Map<string, string>();

t.test('first start: kubeconfig printed, member1..3 joined and Ready; SIGINT stops it cleanly', async (t) => {
  const t0 = Date.now();
  const up = spawnUp(upArgs);
  const match = await waitForOutput(up, UP_BANNER, START_TIMEOUT_MS);
  t.comment(`flotilla up: "Flotilla is up" after ${Date.now() - t0} ms`);
  firstKubeconfig = match[1] as string;
  t.equal(firstKubeconfig, join(dataDir, 'admin.kubeconfig'), 'the kubeconfig is in the data dir');
  t.match(up.stdout, `control plane: https://127.0.0.1:${securePort}`);
  for (const [i, place] of ['us-east-1', 'cn-north-1', 'eu-west-1'].entries()) {
    t.match(up.stdout, `joined member${i + 1} (${place}) at https://127.0.0.1:${securePort + 1 + i}`, `member${i + 1} joined on port ${securePort + 1 + i}`);
  }
  t.match(up.stdout, `curl -X POST http://127.0.0.1:${adminPort}/members/member2/pause`, 'the admin endpoint on --admin-port');
  t.match(up.stdout, 'turn not Ready (within ~2 s)', 'the hint reflects the fast status flags');

  await eventually(t, 'kubectl get clusters: member1..3 Ready, v1.31, Push', () => tableAllReady(firstKubeconfig), 20_000);
  const list = await clusters(firstKubeconfig);
  t.same([...list.keys()].sort(), NAMES);
  firstUids = new Map([...list].map(([name, c]) => [name, c.uid]));

  const stopped = await stopTimed(up, 'SIGINT');
  t.equal(stopped.code, 0, 'SIGINT: exit code 0', { stderr: up.stderr });
  t.ok(stopped.ms < STOP_WITHIN_MS, `stopped in ${stopped.ms} ms`);
  t.comment(`SIGINT → exit in ${stopped.ms} ms`);
});

t.test('second start on the same data dir: the same clusters, Ready again; the fast status flags apply', async (t) => {
  const t0 = Date.now();
  const up = spawnUp(upArgs);
  const match = await waitForOutput(up, UP_BANNER, START_TIMEOUT_MS);
  t.comment(`second start: "Flotilla is up" after ${Date.now() - t0} ms`);
  t.equal(match[1], firstKubeconfig, 'the same kubeconfig');
  for (const [i, place] of ['us-east-1', 'cn-north-1', 'eu-west-1'].entries()) {
    t.match(up.stdout, `member${i + 1} (${place}) at https://127.0.0.1:${securePort + 1 + i}: already joined`, `member${i + 1} already joined`);
  }
  t.notMatch(up.stdout, /^joined /m, 'nothing joined anew');

  await eventually(t, 'member1..3 Ready again', () => tableAllReady(firstKubeconfig), 20_000);
  const list = await clusters(firstKubeconfig);
  t.same([...list.keys()].sort(), NAMES, 'still exactly member1..3');
  for (const name of NAMES) t.equal(list.get(name)?.uid, firstUids.get(name), `${name}: the same Cluster (uid)`);

  // The pass-through of --cluster-failure-threshold: with the default (30 s) this would take ~40 s.
  const res = await fetch(`http://127.0.0.1:${adminPort}/members/member2/pause`, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  t.equal(res.status, 200, 'admin endpoint: pause member2');
  const t1 = Date.now();
  await eventually(t, 'member2 Ready=False ClusterNotReachable within seconds', async () => {
    const c = (await clusters(firstKubeconfig)).get('member2');
    return c?.ready === 'False' && c.reason === 'ClusterNotReachable';
  }, FLIP_WITHIN_MS);
  t.comment(`pause → Ready=False seen after ${Date.now() - t1} ms`);

  const stopped = await stopTimed(up, 'SIGINT');
  t.equal(stopped.code, 0, 'SIGINT (with a paused member): exit code 0', { stderr: up.stderr });
  t.ok(stopped.ms < STOP_WITHIN_MS, `stopped in ${stopped.ms} ms`);
  t.comment(`SIGINT → exit in ${stopped.ms} ms`);
});
