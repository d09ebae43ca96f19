import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import t from 'tap';
import type { Test } from 'tap';
import { openStore } from '../../storage/open-store.js';
import { HttpClient } from '../../src/client/client.js';
import type { KubeObject } from '../../src/api/object.js';
import { startControllers } from '../../src/controllers/manager.js';
import { createLogger } from '../../src/log.js';
import { startSimulator } from '../../src/member/simulator/index.js';
import type { RunningSimulator } from '../../src/member/simulator/index.js';
import { ensurePki } from '../../src/server/pki.js';
import { writeKubeconfig } from '../../src/server/kubeconfig.js';
import { buildServer } from '../../src/server/server.js';
import { runKubectl } from '../../conformance/harness.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * The member simulator against a real (in-process) API server with its garbage collector, driven
 * the way a user would: kubectl 1.31 apply / rollout status / scale / set image / wait.
 */
const START_DELAY_MS = 200;
const started = Date.now();

const dir = await tempDir('simulator');
const logger = createLogger({ level: process.env['FLOTILLA_LOG_LEVEL'] ?? 'warn' });
const pki = await ensurePki(join(dir.path, 'pki'), { sans: ['localhost', '127.0.0.1'] });
const store = await openStore({ backend: 'embedded', dataDir: join(dir.path, 'store') });
const server = await buildServer({ store, pki, logger: logger.child({ component: 'apiserver' }) });
await server.app.listen({ host: '127.0.0.1', port: 0 });
const address = server.app.server.address();
const url = `https://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
const kubeconfig = join(dir.path, 'admin.kubeconfig');
await writeKubeconfig(kubeconfig, { server: url, caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem });
const controllers = await startControllers({ server: url, caPem: pki.caCertPem, certPem: pki.adminCertPem, keyPem: pki.adminKeyPem, logger: logger.child({ component: 'controllers' }), rediscoveryMs: 2_000 });
const client = new HttpClient({ server: url, caPem: pki.caCertPem, certPem: pki.adminCertPem, keyPem: pki.adminKeyPem, userAgent: 'flotilla-member-simulator/test', fieldManager: 'flotilla-member-simulator' });
const simulatorOptions = { client, logger: logger.child({ component: 'simulator' }), nodes: { count: 3, cpu: '4', memory: '16Gi', pods: 110 }, podStartDelayMs: START_DELAY_MS };
let sim: RunningSimulator = await startSimulator(simulatorOptions);

t.teardown(async () => {
  await sim.stop();
  await controllers.stop();
  client.close();
  server.stopAccepting();
  await server.app.close();
  server.objects.stopCaches();
  await store.close();
  await dir.remove();
  t.comment(`simulator suite took ${Date.now() - started} ms`);
});

const kubectl = (args: readonly string[], stdin?: string) =>
  runKubectl('1.31', ['--kubeconfig', kubeconfig, '--cache-dir', join(dir.path, 'kubectl-cache'), ...args], stdin !== undefined ? { stdin } : {});

async function apply(t: Test, manifest: string): Promise<void> {
  const path = join(dir.path, `manifest-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(path, manifest);
  const result = await kubectl(['apply', '-f', path]);
  t.equal(result.code, 0, `kubectl apply: ${result.stderr}`);
}

async function getJson<T = KubeObject>(args: readonly string[]): Promise<T> {
  const result = await kubectl(['get', ...args, '-o', 'json']);
  if (result.code !== 0) throw new Error(`kubectl get ${args.join(' ')}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}

interface PodJson extends KubeObject {
  spec: { nodeName?: string; containers: { image: string }[] };
  status: { phase?: string; podIP?: string; conditions?: { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string }[]; containerStatuses?: { ready: boolean; started?: boolean; state: Record<string, unknown>; containerID?: string; imageID?: string }[] };
}

async function pods(selector: string): Promise<PodJson[]> {
  return (await getJson<{ items: PodJson[] }>(['pods', '-l', selector])).items;
}

/** Polls `check` until it returns a truthy value (or throws after `timeoutMs`). */
async function eventually<T>(what: string, check: () => Promise<T | undefined | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const condition = (object: KubeObject, type: string) =>
  ((object['status'] as { conditions?: { type: string }[] } | undefined)?.conditions?.find((c) => c.type === type) as { status: string; reason?: string; message?: string; lastTransitionTime?: string } | undefined);

function deployment(name: string, replicas: number, image: string, cpu: string, extra = ''): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
${extra}  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: ${name}
        image: ${image}
        resources:
          requests: {cpu: ${cpu}, memory: 64Mi}
`;
}

function pod(name: string, cpu: string): string {
  return `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
  labels: {role: probe}
spec:
  containers:
  - name: main
    image: busybox
    resources:
      requests: {cpu: "${cpu}"}
`;
}

t.test('the API server takes the workload kinds the simulator creates', async (t) => {
  // Server-side dry runs: if these are refused, every rollout below would only time out.
  for (const [kind, extra] of [['ReplicaSet', ''], ['StatefulSet', '  serviceName: x\n'], ['DaemonSet', '']] as const) {
    const manifest = `apiVersion: apps/v1\nkind: ${kind}\nmetadata: {name: probe}\nspec:\n${extra}  selector: {matchLabels: {a: b}}\n  template:\n    metadata: {labels: {a: b}}\n    spec: {containers: [{name: c, image: busybox}]}\n`;
    const result = await kubectl(['create', '--dry-run=server', '-f', '-'], manifest);
    t.equal(result.code, 0, `${kind} accepted: ${result.stderr.trim()}`);
  }
  if (t.counts.fail > 0) t.bailout('the API server refuses workload objects the simulator must create (see the failures above)');
});

t.test('nodes are registered with capacity, conditions and nodeInfo', async (t) => {
  t.ok(await sim.waitForSync(10_000), 'informers synced');
  const nodes = (await getJson<{ items: (KubeObject & { status: Record<string, unknown> & { conditions: { type: string; status: string; reason: string }[] } })[] }>(['nodes'])).items;
  t.same(nodes.map((n) => n.metadata.name), ['node-1', 'node-2', 'node-3']);
  const node = nodes[0] as (typeof nodes)[number];
  t.same(node.status['capacity'], { cpu: '4', 'ephemeral-storage': '100Gi', memory: '16Gi', pods: '110' });
  t.same(node.status['allocatable'], node.status['capacity']);
  t.match(condition(node, 'Ready'), { status: 'True', reason: 'KubeletReady' });
  for (const type of ['MemoryPressure', 'DiskPressure', 'PIDPressure']) t.equal(condition(node, type)?.status, 'False', type);
  t.match(node.status['nodeInfo'], { kubeletVersion: 'v1.31.0', architecture: 'amd64', operatingSystem: 'linux' });
  t.match(node.metadata.labels, { 'kubernetes.io/hostname': 'node-1', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64' });
  t.match((node.status['addresses'] as { type: string; address: string }[])[0], { type: 'InternalIP', address: /^10\.\d+\.\d+\.\d+$/ });
  const get = await kubectl(['get', 'nodes']);
  t.match(get.stdout, /node-1\s+Ready/);
});

t.test('a Deployment rolls out, spread over the nodes', async (t) => {
  await apply(t, deployment('web', 3, 'nginx:1.25', '1'));
  const rollout = await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  t.equal(rollout.code, 0, `rollout status: ${rollout.stdout}${rollout.stderr}`);
  t.match(rollout.stdout, /successfully rolled out/);
  const list = await pods('app=web');
  t.equal(list.length, 3);
  t.same(list.map((p) => p.spec.nodeName).sort(), ['node-1', 'node-2', 'node-3'], 'one pod per node (least allocated)');
  t.equal(new Set(list.map((p) => p.status.podIP)).size, 3, 'pod IPs are unique');
  for (const p of list) {
    t.equal(p.status.phase, 'Running');
    t.match(p.metadata.name, /^web-[bcdfghjklmnpqrstvwxz2456789]{10}-[bcdfghjklmnpqrstvwxz2456789]{5}$/);
    for (const type of ['PodScheduled', 'Initialized', 'ContainersReady', 'Ready']) t.equal(condition(p, type)?.status, 'True', type);
    t.match(p.status.containerStatuses?.[0], { ready: true, started: true, state: { running: { startedAt: String } }, containerID: /^containerd:\/\//, imageID: /^docker\.io\/library\/nginx@sha256:/ });
    t.match(p.metadata.ownerReferences?.[0], { kind: 'ReplicaSet', controller: true, blockOwnerDeletion: true });
  }
  const d = await getJson<KubeObject & { status: Record<string, unknown> }>(['deployment', 'web']);
  t.match(d.status, { observedGeneration: 1, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 });
  t.notOk('unavailableReplicas' in d.status, 'unavailableReplicas omitted when 0');
  t.match(condition(d, 'Available'), { status: 'True', reason: 'MinimumReplicasAvailable' });
  t.match(condition(d, 'Progressing'), { status: 'True', reason: 'NewReplicaSetAvailable' });
  t.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '1');
  const rs = (await getJson<{ items: (KubeObject & { spec: { selector: { matchLabels: Record<string, string> } }; status: Record<string, unknown> })[] }>(['replicasets', '-l', 'app=web'])).items;
  t.equal(rs.length, 1);
  const hash = rs[0]?.metadata.labels?.['pod-template-hash'] ?? '';
  t.equal(rs[0]?.metadata.name, `web-${hash}`);
  t.equal(rs[0]?.spec.selector.matchLabels['pod-template-hash'], hash);
  t.match(rs[0]?.metadata.annotations, { 'deployment.kubernetes.io/revision': '1', 'deployment.kubernetes.io/desired-replicas': '3', 'deployment.kubernetes.io/max-replicas': '4' });
  t.match(rs[0]?.status, { replicas: 3, fullyLabeledReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
});

t.test('placement follows free resources; a pod that fits nowhere is Unschedulable', async (t) => {
  // Each node runs one web pod (1 cpu of 4). A 3-cpu pod fills node-1 (ties go by name) …
  await apply(t, pod('filler', '3'));
  const filler = await eventually('filler bound', async () => (await getJson<PodJson>(['pod', 'filler'])).spec.nodeName);
  t.equal(filler, 'node-1');
  // … so the next 1-cpu pod cannot go there.
  await apply(t, pod('next', '1'));
  const next = await eventually('next bound', async () => (await getJson<PodJson>(['pod', 'next'])).spec.nodeName);
  t.not(next, 'node-1', `placed on ${next}`);
  await apply(t, pod('huge', '5'));
  const huge = await eventually('huge unschedulable', async () => {
    const p = await getJson<PodJson>(['pod', 'huge']);
    return condition(p, 'PodScheduled')?.reason === 'Unschedulable' ? p : undefined;
  });
  t.equal(huge.status.phase, 'Pending');
  t.notOk(huge.spec.nodeName);
  t.match(condition(huge, 'PodScheduled'), { status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: 3 Insufficient cpu.' });
  const deleted = await kubectl(['delete', 'pod', 'filler', 'next', 'huge', '--wait=false']);
  t.equal(deleted.code, 0, deleted.stderr);
});

t.test('an image update rolls out a new ReplicaSet', async (t) => {
  const set = await kubectl(['set', 'image', 'deployment/web', 'web=nginx:1.26']);
  t.equal(set.code, 0, set.stderr);
  const rollout = await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
  t.equal(rollout.code, 0, `rollout status: ${rollout.stdout}${rollout.stderr}`);
  const rs = (await getJson<{ items: (KubeObject & { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } })[] }>(['replicasets', '-l', 'app=web'])).items;
  t.equal(rs.length, 2, 'old and new ReplicaSets');
  const fresh = rs.find((r) => r.spec.template.spec.containers[0]?.image === 'nginx:1.26');
  const old = rs.find((r) => r.spec.template.spec.containers[0]?.image === 'nginx:1.25');
  t.equal(fresh?.spec.replicas, 3);
  t.equal(old?.spec.replicas, 0);
  t.equal(fresh?.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
  const d = await getJson<KubeObject & { status: Record<string, unknown> }>(['deployment', 'web']);
  t.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '2');
  t.match(d.status, { replicas: 3, updatedReplicas: 3, availableReplicas: 3 });
  const list = await eventually('old pods gone', async () => {
    const l = await pods('app=web');
    return l.length === 3 && l.every((p) => p.spec.containers[0]?.image === 'nginx:1.26') ? l : undefined;
  });
  t.equal(list.length, 3);
});

t.test('scaling to 5 and to 1', async (t) => {
  for (const replicas of [5, 1]) {
    const scale = await kubectl(['scale', 'deployment/web', `--replicas=${replicas}`]);
    t.equal(scale.code, 0, scale.stderr);
    const rollout = await kubectl(['rollout', 'status', 'deployment/web', '--timeout=60s']);
    t.equal(rollout.code, 0, `rollout status: ${rollout.stdout}${rollout.stderr}`);
    const list = await eventually(`${replicas} pods`, async () => {
      const l = await pods('app=web');
      return l.length === replicas && l.every((p) => p.status.phase === 'Running') ? l : undefined;
    });
    t.equal(list.length, replicas);
    const d = await getJson<KubeObject & { status: Record<string, unknown> }>(['deployment', 'web']);
    t.match(d.status, { replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas });
  }
});

t.test('a StatefulSet rolls out in order', async (t) => {
  await apply(
    t,
    `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  replicas: 3
  serviceName: db
  selector:
    matchLabels: {app: db}
  template:
    metadata:
      labels: {app: db}
    spec:
      containers:
      - name: db
        image: postgres:16
`,
  );
  const rollout = await kubectl(['rollout', 'status', 'sts/db', '--timeout=60s']);
  t.equal(rollout.code, 0, `rollout status: ${rollout.stdout}${rollout.stderr}`);
  const list = (await pods('app=db')).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  t.same(list.map((p) => p.metadata.name), ['db-0', 'db-1', 'db-2']);
  const sts = await getJson<KubeObject & { status: Record<string, unknown> }>(['sts', 'db']);
  for (const [i, p] of list.entries()) {
    t.match(p.metadata.labels, { 'statefulset.kubernetes.io/pod-name': `db-${i}`, 'apps.kubernetes.io/pod-index': String(i), 'controller-revision-hash': sts.status['updateRevision'] });
    if (i > 0) {
      const previousReady = Date.parse(condition(list[i - 1] as PodJson, 'Ready')?.lastTransitionTime ?? '');
      t.ok(Date.parse(p.metadata.creationTimestamp ?? '') >= previousReady, `db-${i} created after db-${i - 1} was ready`);
    }
  }
  t.match(sts.status, { observedGeneration: 1, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, availableReplicas: 3, collisionCount: 0 });
  t.equal(sts.status['currentRevision'], sts.status['updateRevision']);
  t.match(sts.status['updateRevision'], /^db-[bcdfghjklmnpqrstvwxz2456789]{10}$/);

  // A rolling update replaces the pods from the highest ordinal down.
  const set = await kubectl(['set', 'image', 'sts/db', 'db=postgres:16.4']);
  t.equal(set.code, 0, set.stderr);
  const updated = await kubectl(['rollout', 'status', 'sts/db', '--timeout=60s']);
  t.equal(updated.code, 0, `rollout status: ${updated.stdout}${updated.stderr}`);
  const after = await getJson<KubeObject & { status: Record<string, unknown> }>(['sts', 'db']);
  t.not(after.status['updateRevision'], sts.status['updateRevision'], 'new revision');
  const revisions = await eventually('current revision caught up', async () => {
    const s = await getJson<KubeObject & { status: Record<string, unknown> }>(['sts', 'db']);
    return s.status['currentRevision'] === s.status['updateRevision'] ? s : undefined;
  });
  t.match(revisions.status, { replicas: 3, readyReplicas: 3, updatedReplicas: 3, currentReplicas: 3 });
  const renewed = (await pods('app=db')).sort((a, b) => (a.metadata.name ?? '').localeCompare(b.metadata.name ?? ''));
  t.ok(renewed.every((p) => p.metadata.labels?.['controller-revision-hash'] === after.status['updateRevision'] && p.spec.containers[0]?.image === 'postgres:16.4'), 'every pod at the update revision');
  const created = renewed.map((p) => Date.parse(p.metadata.creationTimestamp ?? ''));
  t.ok((created[2] ?? 0) <= (created[1] ?? 0) && (created[1] ?? 0) <= (created[0] ?? 0), 'replaced from the highest ordinal down');
});

t.test('a DaemonSet runs one pod per node', async (t) => {
  await apply(
    t,
    `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: agent
spec:
  selector:
    matchLabels: {app: agent}
  template:
    metadata:
      labels: {app: agent}
    spec:
      containers:
      - name: agent
        image: fluent/fluent-bit:3.0
`,
  );
  const rollout = await kubectl(['rollout', 'status', 'ds/agent', '--timeout=60s']);
  t.equal(rollout.code, 0, `rollout status: ${rollout.stdout}${rollout.stderr}`);
  const list = await pods('app=agent');
  t.same(list.map((p) => p.spec.nodeName).sort(), ['node-1', 'node-2', 'node-3']);
  const ds = await getJson<KubeObject & { status: Record<string, unknown> }>(['ds', 'agent']);
  t.match(ds.status, { desiredNumberScheduled: 3, currentNumberScheduled: 3, numberReady: 3, numberAvailable: 3, updatedNumberScheduled: 3, numberMisscheduled: 0, observedGeneration: 1 });

  const set = await kubectl(['set', 'image', 'ds/agent', 'agent=fluent/fluent-bit:3.1']);
  t.equal(set.code, 0, set.stderr);
  const updated = await kubectl(['rollout', 'status', 'ds/agent', '--timeout=60s']);
  t.equal(updated.code, 0, `rollout status: ${updated.stdout}${updated.stderr}`);
  const renewed = await eventually('old daemon pods gone', async () => {
    const l = await pods('app=agent');
    return l.length === 3 && l.every((p) => p.spec.containers[0]?.image === 'fluent/fluent-bit:3.1') ? l : undefined;
  });
  t.same(renewed.map((p) => p.spec.nodeName).sort(), ['node-1', 'node-2', 'node-3']);
});

t.test('a Recreate Deployment replaces all pods at once', async (t) => {
  await apply(t, deployment('batch', 2, 'busybox:1.36', '100m', '  strategy: {type: Recreate}\n'));
  let rollout = await kubectl(['rollout', 'status', 'deployment/batch', '--timeout=60s']);
  t.equal(rollout.code, 0, rollout.stderr);
  const set = await kubectl(['set', 'image', 'deployment/batch', 'batch=busybox:1.37']);
  t.equal(set.code, 0, set.stderr);
  rollout = await kubectl(['rollout', 'status', 'deployment/batch', '--timeout=60s']);
  t.equal(rollout.code, 0, `rollout status: ${rollout.stdout}${rollout.stderr}`);
  const rs = (await getJson<{ items: (KubeObject & { spec: { replicas: number } })[] }>(['replicasets', '-l', 'app=batch'])).items;
  t.same(rs.map((r) => r.spec.replicas).sort(), [0, 2]);
  const undo = await kubectl(['rollout', 'undo', 'deployment/batch']);
  t.equal(undo.code, 0, undo.stderr);
  rollout = await kubectl(['rollout', 'status', 'deployment/batch', '--timeout=60s']);
  t.equal(rollout.code, 0, `rollout status: ${rollout.stdout}${rollout.stderr}`);
  const d = await getJson<KubeObject>(['deployment', 'batch']);
  t.equal(d.metadata.annotations?.['deployment.kubernetes.io/revision'], '3', 'rollback is revision 3');
  const back = (await getJson<{ items: (KubeObject & { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } })[] }>(['replicasets', '-l', 'app=batch'])).items;
  t.equal(back.length, 2, 'the old ReplicaSet is reused');
  t.equal(back.find((r) => r.spec.replicas === 2)?.spec.template.spec.containers[0]?.image, 'busybox:1.36');
  const del = await kubectl(['delete', 'deployment', 'batch']);
  t.equal(del.code, 0, del.stderr);
});

t.test('a Job runs to completion', async (t) => {
  await apply(
    t,
    `apiVersion: batch/v1
kind: Job
metadata:
  name: pi
spec:
  completions: 2
  parallelism: 1
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: pi
        image: perl:5.34
        command: ["perl", "-e", "print 1"]
`,
  );
  const wait = await kubectl(['wait', '--for=condition=complete', 'job/pi', '--timeout=60s']);
  t.equal(wait.code, 0, `kubectl wait: ${wait.stdout}${wait.stderr}`);
  const job = await getJson<KubeObject & { status: Record<string, unknown> & { conditions: { type: string; status: string; reason: string }[] } }>(['job', 'pi']);
  t.equal(job.status['succeeded'], 2);
  t.match(job.status, { ready: 0, terminating: 0, uncountedTerminatedPods: {}, startTime: String, completionTime: String });
  t.notOk('active' in job.status, 'active omitted when 0');
  t.match(condition(job, 'Complete'), { status: 'True', reason: 'CompletionsReached' });
  t.match(condition(job, 'SuccessCriteriaMet'), { status: 'True' });
  const list = await pods('job-name=pi');
  t.equal(list.length, 2);
  for (const p of list) {
    t.equal(p.status.phase, 'Succeeded');
    t.match(p.status.containerStatuses?.[0]?.state, { terminated: { exitCode: 0, reason: 'Completed' } });
    t.equal(condition(p, 'Ready')?.status, 'False');
  }
});

t.test('a restarted simulator adopts what exists', async (t) => {
  const before = (await getJson<{ items: KubeObject[] }>(['replicasets', '-l', 'app=web'])).items.map((r) => `${r.metadata.name}@${r.metadata.resourceVersion}`).sort();
  const podsBefore = (await pods('app in (web,db,agent)')).map((p) => p.metadata.uid).sort();
  await sim.stop();
  sim = await startSimulator(simulatorOptions);
  t.ok(await sim.waitForSync(10_000));
  await new Promise((resolve) => setTimeout(resolve, 1000));
  const nodes = (await getJson<{ items: KubeObject[] }>(['nodes'])).items;
  t.equal(nodes.length, 3, 'no extra nodes');
  const after = (await getJson<{ items: KubeObject[] }>(['replicasets', '-l', 'app=web'])).items.map((r) => `${r.metadata.name}@${r.metadata.resourceVersion}`).sort();
  t.same(after, before, 'ReplicaSets untouched');
  t.same((await pods('app in (web,db,agent)')).map((p) => p.metadata.uid).sort(), podsBefore, 'pods untouched');
});

t.test('deleting a Deployment removes its ReplicaSets and pods (garbage collector)', async (t) => {
  const deleted = await kubectl(['delete', 'deployment', 'web']);
  t.equal(deleted.code, 0, deleted.stderr);
  await eventually('ReplicaSets and pods gone', async () => {
    const rs = (await getJson<{ items: KubeObject[] }>(['replicasets', '-l', 'app=web'])).items;
    const list = await pods('app=web');
    return rs.length === 0 && list.length === 0;
  });
  t.pass('gone');
});

t.test('nodes turn NotReady and back', async (t) => {
  await sim.setNodesReady(false);
  const get = await kubectl(['get', 'nodes']);
  t.match(get.stdout, /node-1\s+NotReady/);
  const node = await getJson<KubeObject & { spec: { taints?: { key: string; effect: string }[] } }>(['node', 'node-2']);
  t.match(condition(node, 'Ready'), { status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' });
  t.match(node.spec.taints, [{ key: 'node.kubernetes.io/unreachable', effect: 'NoSchedule' }, { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute' }]);
  await eventually('db pods not ready', async () => (await pods('app=db')).every((p) => condition(p, 'Ready')?.status === 'False'));
  t.pass('pods on NotReady nodes are not ready');
  await sim.setNodesReady(true);
  t.match((await kubectl(['get', 'nodes'])).stdout, /node-1\s+Ready/);
  await eventually('db pods ready again', async () => (await pods('app=db')).every((p) => condition(p, 'Ready')?.status === 'True'));
  const back = await getJson<KubeObject & { spec: { taints?: unknown[] } }>(['node', 'node-2']);
  t.notOk(back.spec.taints, 'taints removed');
  const rollout = await kubectl(['rollout', 'status', 'sts/db', '--timeout=60s']);
  t.equal(rollout.code, 0, rollout.stderr);
});

t.test('removing a node deletes it and its pods; workloads reschedule', async (t) => {
  await apply(t, deployment('app', 3, 'nginx:1.25', '100m'));
  let rollout = await kubectl(['rollout', 'status', 'deployment/app', '--timeout=60s']);
  t.equal(rollout.code, 0, rollout.stderr);
  const removed = await sim.removeNodes(1);
  t.same(removed, ['node-3']);
  const nodes = (await getJson<{ items: KubeObject[] }>(['nodes'])).items.map((n) => n.metadata.name);
  t.same(nodes, ['node-1', 'node-2']);
  const list = await eventually('app pods rescheduled', async () => {
    const l = await pods('app=app');
    return l.length === 3 && l.every((p) => p.status.phase === 'Running' && p.spec.nodeName !== 'node-3') ? l : undefined;
  });
  t.ok(list.every((p) => p.spec.nodeName === 'node-1' || p.spec.nodeName === 'node-2'));
  rollout = await kubectl(['rollout', 'status', 'deployment/app', '--timeout=60s']);
  t.equal(rollout.code, 0, rollout.stderr);
  const all = (await getJson<{ items: PodJson[] }>(['pods', '-A'])).items;
  t.notOk(all.some((p) => p.spec.nodeName === 'node-3'), 'no pod left on node-3');
  await eventually('DaemonSet shrinks to 2', async () => {
    const ds = await getJson<KubeObject & { status: Record<string, unknown> }>(['ds', 'agent']);
    return ds.status['desiredNumberScheduled'] === 2 && ds.status['numberAvailable'] === 2;
  });
  t.pass('DaemonSet follows the nodes');
  const sts = await kubectl(['rollout', 'status', 'sts/db', '--timeout=60s']);
  t.equal(sts.code, 0, sts.stderr);
});
