import { rmSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeObject } from '../src/api/object.js';
import { HttpClient, resourcePath } from '../src/client/client.js';
import { Informer } from '../src/client/informer.js';
import { ResourceDetector } from '../src/controllers/detector/detector.js';
import { CONTROLLER_MANAGER_USER } from '../src/controllers/manager.js';
import { BindingScheduler } from '../src/controllers/scheduler.js';
import { KARMADA_API } from '../src/karmada/api.js';
import { createLogger } from '../src/log.js';
import { ensurePki, issueClientCertificate } from '../src/server/pki.js';
import { buildServer } from '../src/server/server.js';
import type { ApiServer } from '../src/server/server.js';
import { openStore } from '../storage/open-store.js';
import type { Store } from '../storage/types.js';
import { printTable } from './measure.js';

/**
 * `npm run bench -- scheduler`: the scheduler at scale (issue 6): N Deployments (1,000) matched by
 * 10 PropagationPolicies over C simulated clusters (100), in one process — a real HTTPS API server
 * (embedded store, Karmada API) with the resource detector and the binding scheduler as its HTTP
 * clients, as in `flotilla serve`. The Clusters are written directly (POST, then PUT /status with
 * what the cluster status controller would report for a healthy member); no member is contacted.
 * Phases: clusters, policies, Deployments (32 in flight); the detector alone until N bindings exist;
 * then the scheduler, timed from its start until every binding has a Scheduled condition:
 *   - bindings scheduled per second (target ≥ 500/s), API writes per binding (≤ 2; the scheduler's
 *     own count and the server's apiserver_request_total), decisions per binding;
 *   - one decision's algorithm time (p50/p99/max of BindingScheduler.stats.algorithmMs);
 *   - then, idle, end to end: a Deployment created → its binding Scheduled=True, one at a time.
 * BENCH_SCHEDULER_CPU_PROFILE=out.cpuprofile writes a V8 CPU profile of the schedule phase alone.
 * Progress is followed with a watch (an informer), not by re-listing 1,000 bindings. Every wait is
 * bounded; the server, the controllers and the temp dir go on exit, error or SIGINT; loopback only.
 */
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' } as const;
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' } as const;
const CLUSTERS = { group: 'cluster.karmada.io', version: 'v1alpha1', resource: 'clusters' } as const;
const PPS = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'propagationpolicies' } as const;
const RBS = { group: 'work.karmada.io', version: 'v1alpha2', resource: 'resourcebindings' } as const;
const NS = 'bench';
const GROUPS = 10;
const REGIONS = 10;
const CREATE_IN_FLIGHT = 32;
const TRICKLE = 20;

export interface SchedulerBenchOptions {
  /** Deployments (and so bindings); 1,000 by default. */
  readonly deployments: number;
  /** Simulated clusters, in 10 regions; 100 by default (at least 40: the placements name clusters). */
  readonly clusters: number;
  /** Bound on each waiting phase (bindings created; bindings scheduled), seconds. */
  readonly timeoutSeconds: number;
  /** The scheduler's concurrent decisions; its own default (16) when absent. */
  readonly workers?: number;
  /** How the controllers reach the API: over HTTPS (the default, as `flotilla serve`) or in-process. */
  readonly transport?: 'https' | 'in-process';
}

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const pad = (n: number, width: number): string => String(n).padStart(width, '0');
const round = (n: number, digits = 2): number => Number(n.toFixed(digits));
const quantile = (sorted: readonly number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
const scheduledOf = (binding: KubeObject): Condition | undefined =>
  ((binding['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === 'Scheduled');

const clusterName = (i: number): string => `member-${pad(i, 3)}`;
const regionOf = (i: number, count: number): string => `region-${Math.floor((i * REGIONS) / count)}`;
/** Clusters of region-5 carry a NoSchedule taint; only the policy of group g5 tolerates it. */
const TAINTED_REGION = 'region-5';

function clusterObject(i: number, count: number): KubeObject {
  const region = regionOf(i, count);
  return {
    apiVersion: 'cluster.karmada.io/v1alpha1',
    kind: 'Cluster',
    metadata: { name: clusterName(i), labels: { region, tier: i % 10 < 3 ? 'gold' : 'standard' } },
    spec: {
      syncMode: 'Push',
      apiEndpoint: 'https://127.0.0.1:1',
      provider: 'simulated',
      region,
      ...(region === TAINTED_REGION ? { taints: [{ key: 'dedicated', value: 'batch', effect: 'NoSchedule' }] } : {}),
    },
  };
}

/** What the cluster status controller writes for a healthy member of ~10 nodes. */
function clusterStatus(i: number): Record<string, unknown> {
  const scale = i % 4;
  const used = i % 8;
  return {
    conditions: [{ type: 'Ready', status: 'True', reason: 'ClusterReady', message: 'cluster is healthy and ready to accept workloads', lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }],
    kubernetesVersion: 'v1.31.0',
    apiEnablements: [
      { groupVersion: 'v1', resources: ['configmaps:ConfigMap', 'pods:Pod', 'secrets:Secret', 'serviceaccounts:ServiceAccount', 'services:Service'].map((r) => ({ name: r.split(':')[0], kind: r.split(':')[1] })) },
      { groupVersion: 'apps/v1', resources: ['daemonsets:DaemonSet', 'deployments:Deployment', 'replicasets:ReplicaSet', 'statefulsets:StatefulSet'].map((r) => ({ name: r.split(':')[0], kind: r.split(':')[1] })) },
      { groupVersion: 'batch/v1', resources: [{ name: 'cronjobs', kind: 'CronJob' }, { name: 'jobs', kind: 'Job' }] },
    ],
    nodeSummary: { totalNum: 10, readyNum: 10 },
    resourceSummary: {
      allocatable: { cpu: String(64 + scale * 8), memory: `${256 + scale * 32}Gi`, pods: '1100' },
      ...(used > 0 ? { allocated: { cpu: `${used * 1500}m`, memory: `${used * 6}Gi`, pods: String(used * 12) } } : {}),
    },
  };
}

/** The 10 placements, one per group g0..g9: realistic variety, all satisfiable. */
function placements(count: number): Record<string, unknown>[] {
  const region = (r: number) => `region-${r}`;
  const byRegion = (...regions: number[]) => ({ labelSelector: { matchExpressions: [{ key: 'region', operator: 'In', values: regions.map(region) }] } });
  const firstOf = (r: number) => Math.ceil((r * count) / REGIONS);
  const dynamic = { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted', weightPreference: { dynamicWeight: 'AvailableReplicas' } };
  const aggregated = { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Aggregated' };
  const s = firstOf(1);
  return [
    // g0: Duplicated to one region, by label.
    { clusterAffinity: { labelSelector: { matchLabels: { region: region(0) } } }, replicaScheduling: { replicaSchedulingType: 'Duplicated' } },
    // g1: static weights 1:2:3:4 over four named clusters.
    {
      clusterAffinity: { clusterNames: [0, 1, 2, 3].map((k) => clusterName(s + k)) },
      replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted', weightPreference: { staticWeightList: [0, 1, 2, 3].map((k) => ({ targetCluster: { clusterNames: [clusterName(s + k)] }, weight: k + 1 })) } },
    },
    // g2: dynamic weight by available replicas over a region.
    { clusterAffinity: byRegion(2), replicaScheduling: dynamic },
    // g3: Aggregated over two regions.
    { clusterAffinity: byRegion(3, 4), replicaScheduling: aggregated },
    // g4: Duplicated to 2–3 gold clusters (spread by cluster).
    { clusterAffinity: { labelSelector: { matchLabels: { tier: 'gold' } } }, spreadConstraints: [{ spreadByField: 'cluster', minGroups: 2, maxGroups: 3 }], replicaScheduling: { replicaSchedulingType: 'Duplicated' } },
    // g5: the tainted region, tolerated.
    { clusterAffinity: byRegion(5), clusterTolerations: [{ key: 'dedicated', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }], replicaScheduling: dynamic },
    // g6: two regions minus five excluded clusters, Aggregated.
    { clusterAffinity: { ...byRegion(6, 7), exclude: [0, 1, 2, 3, 4].map((k) => clusterName(firstOf(6) + k)) }, replicaScheduling: aggregated },
    // g7: spread over exactly 2 of 3 regions and 2–4 clusters, by field selector.
    {
      clusterAffinity: { fieldSelector: { matchExpressions: [{ key: 'region', operator: 'In', values: [region(7), region(8), region(9)] }] } },
      spreadConstraints: [{ spreadByField: 'region', minGroups: 2, maxGroups: 2 }, { spreadByField: 'cluster', minGroups: 2, maxGroups: 4 }],
      replicaScheduling: dynamic,
    },
    // g8: clusterAffinities, a primary region and a backup one.
    { clusterAffinities: [{ affinityName: 'primary', ...byRegion(8) }, { affinityName: 'backup', ...byRegion(9) }], replicaScheduling: aggregated },
    // g9: every cluster (the tainted ones filtered out), dynamic weight.
    { replicaScheduling: dynamic },
  ];
}

function policyObject(g: number, placement: Record<string, unknown>): KubeObject {
  return {
    apiVersion: 'policy.karmada.io/v1alpha1',
    kind: 'PropagationPolicy',
    metadata: { name: `policy-g${g}`, namespace: NS },
    spec: { resourceSelectors: [{ apiVersion: 'apps/v1', kind: 'Deployment', labelSelector: { matchLabels: { group: `g${g}` } } }], placement },
  };
}

function deploymentObject(name: string, i: number): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, namespace: NS, labels: { app: name, group: `g${i % GROUPS}` } },
    spec: {
      replicas: ((i * 7) % 10) + 1,
      selector: { matchLabels: { app: name } },
      template: {
        metadata: { labels: { app: name } },
        spec: { containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: { requests: { cpu: `${100 + (i % 5) * 100}m`, memory: `${128 * (1 + (i % 4))}Mi` }, limits: { cpu: '1', memory: '1Gi' } } }] },
      },
    },
  };
}

async function boundedAll(count: number, inFlight: number, op: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, async () => {
    while (next < count) await op(next++);
  }));
}

/** Waits (polling every 100 ms, bounded) until `done` holds; throws with `what` otherwise. */
async function until(what: () => string, done: () => boolean, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!done()) {
    if (performance.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs / 1000} s: ${what()}`);
    await sleep(100);
  }
  return performance.now() - start;
}

/** apiserver_request_total for resourcebindings writes, by "VERB[/subresource]". */
async function bindingWrites(server: ApiServer): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { labels, value } of (await server.metrics.requests.get()).values) {
    if (labels['resource'] !== 'resourcebindings' || !['PUT', 'PATCH', 'POST'].includes(String(labels['verb']))) continue;
    const key = `${String(labels['verb'])}${labels['subresource'] ? `/${String(labels['subresource'])}` : ''}${String(labels['code']).startsWith('2') ? '' : ` ${String(labels['code'])}`}`;
    counts.set(key, (counts.get(key) ?? 0) + value);
  }
  return counts;
}

/** Sum and count of the server's resourcebindings PUT latency and of the store's update latency for them. */
async function bindingLatencies(server: ApiServer): Promise<Record<string, { sum: number; count: number }>> {
  const out: Record<string, { sum: number; count: number }> = {};
  const add = (key: string, field: 'sum' | 'count', value: number) => {
    const entry = (out[key] ??= { sum: 0, count: 0 });
    entry[field] += value;
  };
  // prom-client keeps the labels of _sum and _count in `sharedLabels`.
  const labelsOf = (v: { labels: object; sharedLabels?: object }): Record<string, unknown> => ({ ...(v.sharedLabels ?? {}), ...v.labels });
  for (const v of (await server.metrics.requestDuration.get()).values) {
    const { value, metricName } = v;
    const labels = labelsOf(v);
    if (labels['resource'] !== 'resourcebindings' || labels['verb'] !== 'PUT') continue;
    const key = `server PUT${labels['subresource'] ? `/${String(labels['subresource'])}` : ''}`;
    if (metricName?.endsWith('_sum')) add(key, 'sum', value);
    else if (metricName?.endsWith('_count')) add(key, 'count', value);
  }
  for (const v of (await server.metrics.storageDuration.get()).values) {
    const { value, metricName } = v;
    const labels = labelsOf(v);
    if (labels['operation'] !== 'update' || !String(labels['type']).startsWith('resourcebindings')) continue;
    if (metricName?.endsWith('_sum')) add('store update', 'sum', value);
    else if (metricName?.endsWith('_count')) add('store update', 'count', value);
  }
  return out;
}

/** Mean milliseconds per call between two snapshots, by key. */
const meanMs = (after: Record<string, { sum: number; count: number }>, before: Record<string, { sum: number; count: number }>): Record<string, number> =>
  Object.fromEntries(Object.entries(after).map(([k, a]) => {
    const b = before[k] ?? { sum: 0, count: 0 };
    return [k, a.count > b.count ? round(((a.sum - b.sum) / (a.count - b.count)) * 1000, 2) : 0];
  }));

const diff = (after: Map<string, number>, before: Map<string, number>): Record<string, number> =>
  Object.fromEntries([...after].map(([k, v]) => [k, v - (before.get(k) ?? 0)]).filter(([, v]) => (v as number) > 0));

export async function schedulerBench(options: SchedulerBenchOptions): Promise<Record<string, unknown>> {
  const { deployments: count, clusters: clusterCount, timeoutSeconds } = options;
  if (clusterCount < 40) throw new Error('the scheduler bench needs at least 40 clusters (its placements name clusters of several regions)');
  const timeoutMs = timeoutSeconds * 1000;
  const log = (line: string) => process.stderr.write(`scheduler: ${line}\n`);
  const logger = createLogger({ level: process.env['BENCH_SCHEDULER_LOG_LEVEL'] ?? 'silent' });
  const load0 = loadavg();
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-scheduler-'));

  let store: Store | undefined;
  let server: ApiServer | undefined;
  const clients: HttpClient[] = [];
  let detector: ResourceDetector | undefined;
  let scheduler: BindingScheduler | undefined;
  let tracker: Informer | undefined;
  let cleaning: Promise<void> | undefined;
  const cleanUp = (): Promise<void> =>
    (cleaning ??= (async () => {
      await tracker?.stop().catch(() => undefined);
      await scheduler?.stop().catch(() => undefined);
      await detector?.stop().catch(() => undefined);
      for (const client of clients) client.close();
      if (server) {
        await server.app.close().catch(() => undefined);
        server.objects.stopCaches();
      }
      await store?.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    })());
  const onSignal = () => {
    const hardExit = setTimeout(() => {
      rmSync(dir, { recursive: true, force: true });
      process.exit(130);
    }, 5_000);
    hardExit.unref();
    void cleanUp().finally(() => process.exit(130));
  };
  // An abrupt exit (an uncaught error, a closed stderr pipe) still takes the temp dir along.
  const onExit = () => rmSync(dir, { recursive: true, force: true });
  process.on('exit', onExit);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  try {
    // ---- the API server, in process ----
    store = await openStore({ backend: 'embedded', dataDir: join(dir, 'store') });
    const pki = await ensurePki(join(dir, 'pki'), { sans: ['127.0.0.1', 'localhost'] });
    server = await buildServer({ store, pki, logger, extensions: [KARMADA_API] });
    await server.app.listen({ host: '127.0.0.1', port: 0 });
    const address = server.app.server.address();
    const url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    const admin = new HttpClient({ server: url, caPem: pki.caCertPem, certPem: pki.adminCertPem, keyPem: pki.adminKeyPem, userAgent: 'flotilla-bench/scheduler', maxSockets: CREATE_IN_FLIGHT });
    clients.push(admin);
    const cert = await issueClientCertificate(pki, { commonName: CONTROLLER_MANAGER_USER, organizations: ['system:masters'] });
    // One client for both controllers, as the controller manager shares one.
    const controllerClient = new HttpClient({
      server: url,
      caPem: pki.caCertPem,
      certPem: cert.certPem,
      keyPem: cert.keyPem,
      userAgent: 'flotilla-controller-manager/v0.1.0',
      fieldManager: 'flotilla-controller-manager',
      ...(options.transport === 'in-process' ? { local: server.localTransport({ name: CONTROLLER_MANAGER_USER, groups: ['system:masters', 'system:authenticated'] }) } : {}),
    });
    clients.push(controllerClient);
    // The bench's own eye on the bindings shares the server's process: in-process, it costs least.
    const observer = new HttpClient({ server: url, local: server.localTransport({ name: 'bench-observer', groups: ['system:masters', 'system:authenticated'] }) });
    clients.push(observer);

    // ---- clusters, policies, Deployments ----
    let t = performance.now();
    await admin.create(resourcePath(NAMESPACES), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } });
    await boundedAll(clusterCount, 16, async (i) => {
      const created = await admin.create(resourcePath(CLUSTERS), clusterObject(i, clusterCount));
      await admin.update(resourcePath(CLUSTERS, undefined, clusterName(i), 'status'), { ...created, status: clusterStatus(i) });
    });
    const policyList = placements(clusterCount);
    for (const [g, placement] of policyList.entries()) await admin.create(resourcePath(PPS, NS), policyObject(g, placement));
    log(`${clusterCount} clusters and ${policyList.length} policies in ${((performance.now() - t) / 1000).toFixed(1)} s; creating ${count} Deployments`);
    t = performance.now();
    await boundedAll(count, CREATE_IN_FLIGHT, (i) => admin.create(resourcePath(DEPLOYMENTS, NS), deploymentObject(`app-${pad(i, 4)}`, i)));
    const createSeconds = (performance.now() - t) / 1000;

    // ---- progress, followed by a watch: first Scheduled per binding, relative to performance.now() ----
    const scheduledAt = new Map<string, number>();
    const finalFalse = new Map<string, string>();
    const onBinding = (binding: KubeObject) => {
      const name = binding.metadata.name ?? '';
      const condition = scheduledOf(binding);
      if (condition?.status === 'True') {
        if (!scheduledAt.has(name)) scheduledAt.set(name, performance.now());
        finalFalse.delete(name);
      } else if (condition?.status === 'False' && !scheduledAt.has(name)) {
        finalFalse.set(name, `${condition.reason ?? ''}: ${condition.message ?? ''}`);
      }
    };
    tracker = new Informer(observer, resourcePath(RBS, NS), { logger }).addHandlers({ onAdd: onBinding, onUpdate: (_old, binding) => onBinding(binding) });
    tracker.start();
    const bindings = tracker;

    // ---- the detector alone: N bindings ----
    log(`${count} Deployments in ${createSeconds.toFixed(1)} s; resource detector started, waiting for ${count} bindings (≤ ${timeoutSeconds} s)`);
    const writesBeforeDetector = await bindingWrites(server);
    t = performance.now();
    detector = new ResourceDetector({ client: controllerClient, logger: logger.child({ controller: 'resource-detector' }) });
    detector.start();
    const detectorMs = await until(() => `${bindings.size} of ${count} bindings`, () => bindings.size >= count, timeoutMs);
    const writesBeforeScheduler = await bindingWrites(server);
    const latenciesBeforeScheduler = await bindingLatencies(server);
    const detectorWrites = diff(writesBeforeScheduler, writesBeforeDetector);
    if (scheduledAt.size > 0) throw new Error(`${scheduledAt.size} bindings scheduled before the scheduler ran`);

    // ---- the scheduler: all N Scheduled ----
    log(`${count} bindings in ${(detectorMs / 1000).toFixed(1)} s; scheduler started (≤ ${timeoutSeconds} s)`);
    const load1 = loadavg();
    const sched = new BindingScheduler({ client: controllerClient, logger: logger.child({ controller: 'scheduler' }), ...(options.workers !== undefined ? { workers: options.workers } : {}) });
    scheduler = sched;
    // BENCH_SCHEDULER_CPU_PROFILE=file.cpuprofile: a V8 CPU profile of this phase only (all in-process work).
    const profilePath = process.env['BENCH_SCHEDULER_CPU_PROFILE'];
    const profiler = profilePath ? new Session() : undefined;
    if (profiler) {
      profiler.connect();
      await profiler.post('Profiler.enable');
      await profiler.post('Profiler.setSamplingInterval', { interval: 200 });
      await profiler.post('Profiler.start');
    }
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    sched.start();
    const scheduleMs = await until(
      () => `${scheduledAt.size} of ${count} Scheduled=True, ${finalFalse.size} False (e.g. ${[...finalFalse.values()][0] ?? '-'})`,
      () => scheduledAt.size + finalFalse.size >= count,
      timeoutMs,
    );
    const cpu = process.cpuUsage(cpu0);
    if (profiler && profilePath) {
      const { profile } = await profiler.post('Profiler.stop');
      profiler.disconnect();
      await writeFile(profilePath, JSON.stringify(profile));
      log(`CPU profile of the schedule phase: ${profilePath}`);
    }
    const atDone = { ...sched.stats, algorithmMs: sched.stats.algorithmMs.length };
    // Let re-decisions caused by the scheduler's own writes (generation bumps) finish: 1 s without a decision.
    let lastDecisions = -1;
    const settleStart = performance.now();
    while (sched.stats.decisions !== lastDecisions && performance.now() - settleStart < 15_000) {
      lastDecisions = sched.stats.decisions;
      await sleep(1_000);
    }
    const writesAfterScheduler = await bindingWrites(server);
    const writeLatencyMs = meanMs(await bindingLatencies(server), latenciesBeforeScheduler);
    const schedulerServerWrites = diff(writesAfterScheduler, writesBeforeScheduler);
    const stats = { decisions: sched.stats.decisions, specWrites: sched.stats.specWrites, statusWrites: sched.stats.statusWrites };
    const algorithm = [...sched.stats.algorithmMs].sort((a, b) => a - b);
    const load2 = loadavg();
    const completion = [...scheduledAt.values()].map((at) => at - start).sort((a, b) => a - b);
    const byReason = new Map<string, number>();
    for (const reason of finalFalse.values()) byReason.set(reason, (byReason.get(reason) ?? 0) + 1);
    // Writes the server committed (2xx); rejected ones (409 conflicts) are counted apart.
    const serverWriteTotal = Object.entries(schedulerServerWrites).filter(([k]) => !k.includes(' ')).reduce((a, [, v]) => a + v, 0);
    const serverConflicts = Object.entries(schedulerServerWrites).filter(([k]) => k.includes(' 409')).reduce((a, [, v]) => a + v, 0);

    // ---- idle: a Deployment created → its binding Scheduled=True, one at a time ----
    const endToEnd: number[] = [];
    for (let k = 0; k < TRICKLE; k++) {
      const i = count + k;
      const name = `app-${pad(i, 4)}`;
      const t0 = performance.now();
      await admin.create(resourcePath(DEPLOYMENTS, NS), deploymentObject(name, i));
      await until(() => `${name}-deployment not scheduled`, () => scheduledAt.has(`${name}-deployment`), 10_000);
      endToEnd.push((scheduledAt.get(`${name}-deployment`) ?? t0) - t0);
    }
    endToEnd.sort((a, b) => a - b);

    // ---- figures ----
    const perSecond = count / (scheduleMs / 1000);
    const writesPerBinding = (stats.specWrites + stats.statusWrites) / count;
    const rows = [
      { metric: 'bindings scheduled per second', value: round(perSecond, 1), target: '≥ 500/s', pass: perSecond >= 500 ? 'yes' : 'NO' },
      { metric: `time to schedule all ${count} (s)`, value: round(scheduleMs / 1000), target: '', pass: '' },
      { metric: 'API writes per binding (scheduler stats)', value: round(writesPerBinding, 3), target: '≤ 2', pass: writesPerBinding <= 2 ? 'yes' : 'NO' },
      { metric: 'API writes per binding (server: 2xx PUT/PATCH resourcebindings)', value: round(serverWriteTotal / count, 3), target: '≤ 2', pass: serverWriteTotal / count <= 2 ? 'yes' : 'NO' },
      { metric: 'rejected writes (409 conflicts) per binding (server)', value: round(serverConflicts / count, 3), target: '', pass: '' },
      { metric: 'decisions per binding', value: round(stats.decisions / count, 3), target: '', pass: '' },
      { metric: 'one decision, algorithm p50 (ms)', value: round(quantile(algorithm, 0.5), 3), target: '', pass: '' },
      { metric: 'one decision, algorithm p99 (ms)', value: round(quantile(algorithm, 0.99), 3), target: '', pass: '' },
      { metric: 'one decision, algorithm max (ms)', value: round(algorithm.at(-1) ?? 0, 3), target: '', pass: '' },
      { metric: 'algorithm share of the schedule phase (%)', value: round((algorithm.reduce((a, b) => a + b, 0) / scheduleMs) * 100, 1), target: '', pass: '' },
      { metric: 'process CPU during the schedule phase (% of one core)', value: round(((cpu.user + cpu.system) / 1000 / scheduleMs) * 100, 1), target: '', pass: '' },
      { metric: 'binding Scheduled after scheduler start p50 / p99 (s)', value: `${round(quantile(completion, 0.5) / 1000)} / ${round(quantile(completion, 0.99) / 1000)}`, target: '', pass: '' },
      { metric: `idle end to end: Deployment POST → Scheduled=True p50 / max of ${TRICKLE} (ms)`, value: `${round(quantile(endToEnd, 0.5), 1)} / ${round(endToEnd.at(-1) ?? 0, 1)}`, target: '', pass: '' },
      { metric: 'Scheduled True / False', value: `${scheduledAt.size - TRICKLE} / ${finalFalse.size}`, target: `${count} / 0`, pass: finalFalse.size === 0 ? 'yes' : 'NO' },
    ];
    const setup = [
      { metric: `create ${count} Deployments, ${CREATE_IN_FLIGHT} in flight (s)`, value: round(createSeconds) },
      { metric: `detector alone: ${count} bindings (s)`, value: round(detectorMs / 1000) },
      { metric: 'detector writes to resourcebindings (server)', value: JSON.stringify(detectorWrites) },
      { metric: 'scheduler writes to resourcebindings (server)', value: JSON.stringify(schedulerServerWrites) },
      { metric: 'mean latency of the scheduler\'s binding writes (ms)', value: JSON.stringify(writeLatencyMs) },
      { metric: 'scheduler workers', value: options.workers ?? 'default (16)' },
      { metric: 'scheduler stats (decisions / spec / status writes)', value: `${stats.decisions} / ${stats.specWrites} / ${stats.statusWrites}` },
      { metric: 'scheduler stats at completion (decisions / spec / status)', value: `${atDone.decisions} / ${atDone.specWrites} / ${atDone.statusWrites}` },
      { metric: 'load average 1m (start / scheduler start / end)', value: `${round(load0[0] ?? 0)} / ${round(load1[0] ?? 0)} / ${round(load2[0] ?? 0)}` },
    ];
    printTable(`scheduler: ${count} Deployments, ${policyList.length} policies, ${clusterCount} clusters (server, detector and scheduler in one process; controllers over ${options.transport === 'in-process' ? 'the in-process transport' : 'HTTPS'})`, rows);
    printTable('scheduler: setup and cross-checks', setup);
    if (byReason.size > 0) printTable('scheduler: bindings not scheduled', [...byReason].map(([reason, n]) => ({ reason, bindings: n })));
    return {
      scenario: 'scheduler',
      deployments: count,
      clusters: clusterCount,
      policies: policyList.length,
      bindingsPerSecond: round(perSecond, 1),
      scheduleSeconds: round(scheduleMs / 1000, 3),
      writesPerBinding: round(writesPerBinding, 3),
      serverWritesPerBinding: round(serverWriteTotal / count, 3),
      serverWrites: schedulerServerWrites,
      serverConflictsPerBinding: round(serverConflicts / count, 3),
      writeLatencyMs,
      workers: options.workers ?? 16,
      transport: options.transport ?? 'https',
      decisionsPerBinding: round(stats.decisions / count, 3),
      stats,
      algorithmMs: { p50: round(quantile(algorithm, 0.5), 3), p99: round(quantile(algorithm, 0.99), 3), max: round(algorithm.at(-1) ?? 0, 3), samples: algorithm.length },
      completionSeconds: { p50: round(quantile(completion, 0.5) / 1000, 3), p99: round(quantile(completion, 0.99) / 1000, 3) },
      endToEndIdleMs: { p50: round(quantile(endToEnd, 0.5), 1), max: round(endToEnd.at(-1) ?? 0, 1), samples: endToEnd.length },
      processCpuPercent: round(((cpu.user + cpu.system) / 1000 / scheduleMs) * 100, 1),
      scheduledFalse: finalFalse.size,
      createSeconds: round(createSeconds),
      detectorSeconds: round(detectorMs / 1000),
      loadAverage1m: [round(load0[0] ?? 0), round(load1[0] ?? 0), round(load2[0] ?? 0)],
    };
  } finally {
    await cleanUp();
    process.off('exit', onExit);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
