import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../src/api/object.js';
import { HttpClient, isApiError, resourcePath } from '../src/client/client.js';
import { Informer } from '../src/client/informer.js';
import { clientConfig, joinCluster, loadKubeconfig } from '../src/cli/join-command.js';
import { spawnFlotilla, stopProc, waitForOutput } from '../test/helpers/flotilla-process.js';
import type { Proc } from '../test/helpers/flotilla-process.js';
import { cpuTicks, printTable, rssKb, ticksPerSecond } from './measure.js';

/**
 * `npm run bench -- propagation` (issue 7, must-show 4), real processes on loopback: `flotilla serve`
 * (embedded store, every controller), one `flotilla member --count N`, N joins; the bench is a client.
 *  1. Steady rate: one PropagationPolicy sends every Deployment of namespace `bench` to all 10 members
 *     (Duplicated). Deployments (1 replica) are created at 20/s for 15 s; each is timed from its create
 *     response to (a) its binding FullyApplied=True — its Work applied in all 10 members — and (b) its
 *     template's status aggregated back: readyReplicas = 10 and observedGeneration = generation.
 *     Watched with informers, never polled. Targets: p99 (a) ≤ 500 ms, (b) ≤ 1 s. The members start
 *     pods at once (--pod-start-delay 0s): (b) is Flotilla's round trip, not a simulated container start.
 *  2. Cold start (Karmada's v1.14 test): 5,000 Deployments, each with its own PropagationPolicy to
 *     2 members and one ConfigMap dependency (propagateDeps), are created while serve runs without the
 *     propagation controllers; serve is then restarted with all of them and timed from its start until
 *     every Deployment's and every ConfigMap's binding is FullyApplied (20,000 Works applied).
 *     Target ≤ 40 s.
 * Every wait is bounded; children are stopped on exit, error or SIGINT; the temp dir goes.
 */
export interface PropagationBenchOptions {
  readonly members: number;
  readonly ratePerSecond: number;
  readonly seconds: number;
  readonly coldDeployments: number;
  readonly timeoutSeconds: number;
  /** `flotilla serve --controller-transport`: how the controllers reach the API. */
  readonly transport: 'https' | 'in-process';
}

const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' } as const;
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' } as const;
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' } as const;
const CLUSTERS = { group: 'cluster.karmada.io', version: 'v1alpha1', resource: 'clusters' } as const;
const PPS = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'propagationpolicies' } as const;
const RBS = { group: 'work.karmada.io', version: 'v1alpha2', resource: 'resourcebindings' } as const;
const PROPAGATION_CONTROLLERS = ['resource-detector', 'scheduler', 'binding', 'execution', 'work-status', 'binding-status', 'dependencies-distributor'];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const round = (n: number, digits = 1): number => Number(n.toFixed(digits));
const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
const conditionTrue = (o: KubeObject, type: string) => ((o['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? []).some((c) => c.type === type && c.status === 'True');

interface Plane {
  readonly serve: Proc;
  readonly kubeconfig: string;
  readonly client: HttpClient;
}

async function until(what: () => string, done: () => boolean | Promise<boolean>, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!(await done())) {
    if (performance.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs / 1000} s: ${what()}`);
    await sleep(50);
  }
  return performance.now() - start;
}

async function boundedAll(count: number, inFlight: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, async () => {
    while (next < count) await op(next++);
  }));
}

function deployment(name: string, labels: Record<string, string>, configMap?: string): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: 'bench', labels: { app: name, ...labels } },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: 'app', image: 'nginx:1.27', resources: { requests: { cpu: '10m', memory: '16Mi' } } }],
          ...(configMap ? { volumes: [{ name: 'config', configMap: { name: configMap } }] } : {}),
        },
      },
    },
  };
}

export async function propagationBench(options: PropagationBenchOptions): Promise<Record<string, unknown>> {
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-propagation-'));
  const procs: Proc[] = [];
  const log = (line: string) => process.stderr.write(`propagation: ${line}\n`);
  const killAll = () => {
    for (const proc of procs) if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  process.once('SIGINT', () => {
    killAll();
    process.exit(130);
  });
  const clients: HttpClient[] = [];
  const timeoutMs = options.timeoutSeconds * 1000;

  const startServe = async (dataDir: string, extra: readonly string[] = []): Promise<Plane> => {
    const serve = spawnFlotilla('flotilla serve', ['serve', '--data-dir', dataDir, '--secure-port', '0', '--log-level', 'warn', '--controller-transport', options.transport, '--cluster-status-update-frequency', '5s', '--cluster-failure-threshold', '10s', '--cluster-success-threshold', '1s', ...extra], procs);
    const match = await waitForOutput(serve, /kubeconfig: (\S+)/, 60_000);
    const kubeconfig = match[1] as string;
    const client = new HttpClient({ ...clientConfig(await loadKubeconfig(kubeconfig), 30_000, 'flotilla-bench/propagation'), maxSockets: 64 });
    clients.push(client);
    return { serve, kubeconfig, client };
  };
  const startMembers = async (count: number, dataDir: string): Promise<{ proc: Proc; kubeconfigs: Map<string, string> }> => {
    const member = spawnFlotilla('flotilla member', ['member', '--count', String(count), '--secure-port', '0', '--admin-port', '0', '--data-dir', dataDir, '--nodes', '2', '--node-cpu', '64', '--node-memory', '256Gi', '--node-pods', '5000', '--pod-start-delay', '0s', '--log-level', 'warn'], procs);
    await waitForOutput(member, new RegExp(`^member member${count} listening on`, 'm'), 120_000);
    await waitForOutput(member, /^admin: /m, 60_000);
    return { proc: member, kubeconfigs: new Map([...member.stdout.matchAll(/^member (\S+) listening on \S+\nkubeconfig: (\S+)$/gm)].map((m) => [m[1] as string, m[2] as string])) };
  };
  const joinAll = async (plane: Plane, members: Map<string, string>): Promise<void> => {
    await boundedAll(members.size, 4, async (i) => {
      const name = `member${i + 1}`;
      await joinCluster({ name, clusterKubeconfig: members.get(name) as string, kubeconfig: plane.kubeconfig });
    });
    await until(() => 'all members Ready', async () => {
      const list = await plane.client.list(resourcePath(CLUSTERS));
      return list.items.length === members.size && list.items.every((c) => conditionTrue(c, 'Ready'));
    }, 120_000);
  };
  const ensureNamespace = async (client: HttpClient) => {
    await client.create(resourcePath(NAMESPACES), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bench' } }).catch((err: unknown) => {
      if (!isApiError(err, 409)) throw err;
    });
  };

  try {
    // ---- 1. steady rate to 10 members ----
    log(`steady: serve + ${options.members} members`);
    const plane = await startServe(join(dir, 'steady'));
    const steadyMembers = await startMembers(options.members, join(dir, 'steady-members'));
    await joinAll(plane, steadyMembers.kubeconfigs);
    await ensureNamespace(plane.client);
    await plane.client.create(resourcePath(PPS, 'bench'), {
      apiVersion: 'policy.karmada.io/v1alpha1', kind: 'PropagationPolicy', metadata: { name: 'everywhere', namespace: 'bench' },
      spec: { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: { matchLabels: { bench: 'steady' } } }], placement: { replicaScheduling: { replicaSchedulingType: 'Duplicated' } } },
    });
    const created = new Map<string, number>();
    const applied = new Map<string, number>();
    const aggregated = new Map<string, number>();
    const bindings = new Informer(plane.client, resourcePath(RBS, 'bench'), {}).addHandlers({
      onUpdate: (_old, rb) => {
        const name = rb.metadata.name?.replace(/-deployment$/, '') ?? '';
        const at = created.get(name);
        if (at !== undefined && !applied.has(name) && conditionTrue(rb, 'FullyApplied')) applied.set(name, performance.now() - at);
      },
    });
    const templates = new Informer(plane.client, resourcePath(DEPLOYMENTS, 'bench'), {}).addHandlers({
      onUpdate: (_old, d) => {
        const name = d.metadata.name ?? '';
        const at = created.get(name);
        const status = (d['status'] ?? {}) as { readyReplicas?: number; observedGeneration?: number };
        if (at !== undefined && !aggregated.has(name) && status.readyReplicas === options.members && status.observedGeneration === d.metadata.generation) aggregated.set(name, performance.now() - at);
      },
    });
    bindings.start();
    templates.start();
    await Promise.all([bindings.waitForSync(30_000), templates.waitForSync(30_000)]);
    // Warm-up: one template end to end (connections, member informers).
    created.set('warmup', performance.now());
    await plane.client.create(resourcePath(DEPLOYMENTS, 'bench'), deployment('warmup', { bench: 'steady' }));
    await until(() => 'warm-up template aggregated', () => aggregated.has('warmup'), timeoutMs);
    created.clear();
    applied.clear();
    aggregated.clear();

    const total = options.ratePerSecond * options.seconds;
    const cpu0 = cpuTicks(plane.serve.child.pid as number);
    const memberCpu0 = cpuTicks(steadyMembers.proc.child.pid as number);
    const phaseStart = performance.now();
    let rssMax = 0;
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < total; i++) {
      const due = phaseStart + (i * 1000) / options.ratePerSecond;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const name = `web-${String(i).padStart(4, '0')}`;
      pending.push(plane.client.create(resourcePath(DEPLOYMENTS, 'bench'), deployment(name, { bench: 'steady' })).then(() => created.set(name, performance.now())));
      if (i % 20 === 0) rssMax = Math.max(rssMax, rssKb(plane.serve.child.pid as number));
    }
    await Promise.all(pending);
    const createSeconds = (performance.now() - phaseStart) / 1000;
    await until(() => `${aggregated.size}/${total} aggregated, ${applied.size}/${total} applied`, () => aggregated.size >= total && applied.size >= total, timeoutMs);
    const phaseSeconds = (performance.now() - phaseStart) / 1000;
    const serveCpuPct = ((cpuTicks(plane.serve.child.pid as number) - cpu0) / ticksPerSecond() / phaseSeconds) * 100;
    // The simulated members run beside serve on the same cores: what they cost tells how much of the
    // machine is left for Flotilla (each member Deployment goes through kube's whole workload pipeline).
    const memberCpuSeconds = (cpuTicks(steadyMembers.proc.child.pid as number) - memberCpu0) / ticksPerSecond();
    rssMax = Math.max(rssMax, rssKb(plane.serve.child.pid as number));
    const a = [...applied.values()].sort((x, y) => x - y);
    const b = [...aggregated.values()].sort((x, y) => x - y);
    const steady = {
      members: options.members,
      templates: total,
      createRatePerSecond: round(total / createSeconds),
      appliedP50Ms: round(quantile(a, 0.5)),
      appliedP99Ms: round(quantile(a, 0.99)),
      appliedMaxMs: round(a.at(-1) ?? NaN),
      aggregatedP50Ms: round(quantile(b, 0.5)),
      aggregatedP99Ms: round(quantile(b, 0.99)),
      aggregatedMaxMs: round(b.at(-1) ?? NaN),
      appliedTarget: quantile(a, 0.99) <= 500 ? 'met (p99 ≤ 500 ms)' : 'NOT met (p99 ≤ 500 ms)',
      aggregatedTarget: quantile(b, 0.99) <= 1000 ? 'met (p99 ≤ 1 s)' : 'NOT met (p99 ≤ 1 s)',
      serveCpuPctOfOneCore: round(serveCpuPct),
      membersCpuPctOfOneCore: round((memberCpuSeconds / phaseSeconds) * 100),
      memberCpuMsPerMemberDeployment: round((memberCpuSeconds * 1000) / (total * options.members), 2),
      cores: availableParallelism(),
      serveRssMaxMiB: round(rssMax / 1024),
      loadAverage1m: round(loadavg()[0] ?? 0, 2),
    };
    printTable(`propagation: controllers over ${options.transport}`, [{ metric: 'serve --controller-transport', value: options.transport }]);
    printTable('propagation: steady 20 templates/s, Duplicated to every member (create → FullyApplied; create → status aggregated)', Object.entries(steady).map(([metric, value]) => ({ metric, value })));
    await bindings.stop();
    await templates.stop();
    for (const proc of procs.splice(0)) await stopProc(proc);

    // ---- 2. cold start: N Deployments + N policies + N ConfigMaps to 2 members ----
    const n = options.coldDeployments;
    log(`cold: ${n} Deployments + policies + ConfigMaps, 2 members`);
    const coldDir = join(dir, 'cold');
    let cold = await startServe(coldDir);
    const coldMembers = await startMembers(2, join(dir, 'cold-members'));
    await joinAll(cold, coldMembers.kubeconfigs);
    await ensureNamespace(cold.client);
    await stopProc(cold.serve);
    cold = await startServe(coldDir, ['--controllers', `*,${PROPAGATION_CONTROLLERS.map((c) => `-${c}`).join(',')}`]);
    const setupStart = performance.now();
    await boundedAll(n, 32, async (i) => {
      const name = `app-${String(i).padStart(5, '0')}`;
      await cold.client.create(resourcePath(CONFIGMAPS, 'bench'), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `${name}-config`, namespace: 'bench' }, data: { index: String(i) } });
      await cold.client.create(resourcePath(DEPLOYMENTS, 'bench'), deployment(name, { bench: 'cold' }, `${name}-config`));
      await cold.client.create(resourcePath(PPS, 'bench'), {
        apiVersion: 'policy.karmada.io/v1alpha1', kind: 'PropagationPolicy', metadata: { name, namespace: 'bench' },
        spec: { propagateDeps: true, resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', name }], placement: { clusterAffinity: { clusterNames: ['member1', 'member2'] } } },
      });
    });
    const setupSeconds = (performance.now() - setupStart) / 1000;
    await stopProc(cold.serve);
    log('cold: restarting serve with every controller');
    const restartAt = performance.now();
    cold = await startServe(coldDir);
    const pid = cold.serve.child.pid as number;
    const cpuCold0 = cpuTicks(pid);
    const fullyApplied = new Set<string>();
    const watch = new Informer(cold.client, resourcePath(RBS, 'bench'), {});
    const track = (rb: KubeObject) => {
      if (conditionTrue(rb, 'FullyApplied')) fullyApplied.add(rb.metadata.name ?? '');
    };
    watch.addHandlers({ onAdd: track, onUpdate: (_old, rb) => track(rb) });
    watch.start();
    let coldRssMax = 0;
    // Bounded: a cold start that does not finish is reported with how far it got, not thrown away.
    let finished = true;
    await until(() => `${fullyApplied.size}/${2 * n} bindings FullyApplied`, () => {
      coldRssMax = Math.max(coldRssMax, rssKb(pid));
      return fullyApplied.size >= 2 * n;
    }, timeoutMs * 4).catch(() => {
      finished = false;
    });
    const coldSeconds = (performance.now() - restartAt) / 1000;
    const coldFigures = {
      deployments: n,
      configMaps: n,
      policies: n,
      worksApplied: 4 * n,
      setupCreatesPerSecond: round((3 * n) / setupSeconds),
      coldStartSeconds: finished ? round(coldSeconds) : `unfinished: ${fullyApplied.size}/${2 * n} bindings FullyApplied after ${round(coldSeconds)} s`,
      bindingsFullyAppliedPerSecond: round(fullyApplied.size / coldSeconds),
      target: finished && coldSeconds <= 40 ? 'met (≤ 40 s)' : 'NOT met (≤ 40 s)',
      serveCpuPctOfOneCore: round(((cpuTicks(pid) - cpuCold0) / ticksPerSecond() / coldSeconds) * 100),
      serveRssMaxMiB: round(coldRssMax / 1024),
      loadAverage1m: round(loadavg()[0] ?? 0, 2),
    };
    await watch.stop();
    printTable(`propagation: cold start of ${n} Deployments + ${n} PropagationPolicies + ${n} ConfigMaps (propagateDeps) to 2 members`, Object.entries(coldFigures).map(([metric, value]) => ({ metric, value })));
    return { scenario: 'propagation', transport: options.transport, steady, cold: coldFigures };
  } finally {
    for (const client of clients) client.close();
    for (const proc of procs.splice(0)) await stopProc(proc).catch(() => undefined);
    process.off('exit', killAll);
    await rm(dir, { recursive: true, force: true });
  }
}
