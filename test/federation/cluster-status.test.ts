import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import type { KubeObject } from '../../src/api/object.js';
import { HttpClient, isApiError, resourcePath } from '../../src/client/client.js';
import { joinCluster, unjoinCluster } from '../../src/cli/join-command.js';
import { startControllers } from '../../src/controllers/manager.js';
import type { RunningControllers } from '../../src/controllers/manager.js';
import { summarizeResources } from '../../src/controllers/cluster-status.js';
import { formatBinary, formatDecimalMilli } from '../../src/api/resource-list.js';
import { MemberConnectionError, memberClientConfig } from '../../src/federation/member-connection.js';
import { ensurePki, issueClientCertificate } from '../../src/server/pki.js';
import { tempDir } from '../helpers/temp-dir.js';
import { eventually, silentLogger, startInProcessServer } from '../helpers/in-process-server.js';

/**
 * The cluster status and cluster controllers against real in-process API servers: one control plane
 * (Kubernetes + Karmada API, controllers with fast intervals) and two members, joined with
 * joinCluster through their admin kubeconfigs.
 */
const FREQUENCY_MS = 200;
const THRESHOLD_MS = 600;
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));

const CLUSTERS = { group: 'cluster.karmada.io', version: 'v1alpha1', resource: 'clusters' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const SECRETS = { group: '', version: 'v1', resource: 'secrets' };
const NODES = { group: '', version: 'v1', resource: 'nodes' };
const PODS = { group: '', version: 'v1', resource: 'pods' };
const WORKS = { group: 'work.karmada.io', version: 'v1alpha1', resource: 'works' };

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface Condition {
  type: string;
  status: string;
  reason: string;
  message: string;
  lastTransitionTime: string;
}
interface ClusterStatus {
  kubernetesVersion?: string;
  apiEnablements?: { groupVersion: string; resources?: { name: string; kind: string }[] }[];
  conditions?: Condition[];
  nodeSummary?: { totalNum?: number; readyNum?: number };
  resourceSummary?: { allocatable?: Record<string, string>; allocating?: Record<string, string>; allocated?: Record<string, string> };
}

const statusOf = (cluster: KubeObject): ClusterStatus => (cluster['status'] ?? {}) as ClusterStatus;
const readyOf = (cluster: KubeObject): Condition | undefined => statusOf(cluster).conditions?.find((c) => c.type === 'Ready');
const taintsOf = (cluster: KubeObject): { key: string; effect: string; timeAdded?: string }[] => ((cluster['spec'] as { taints?: { key: string; effect: string; timeAdded?: string }[] }).taints ?? []);
const hasTaint = (cluster: KubeObject, key: string): boolean => taintsOf(cluster).some((taint) => taint.key === key && taint.effect === 'NoSchedule');

t.test('formatting quantities as kube does', async (t) => {
  t.equal(formatDecimalMilli(12_000n), '12');
  t.equal(formatDecimalMilli(2_500n), '2500m');
  t.equal(formatDecimalMilli(100n), '100m');
  t.equal(formatDecimalMilli(1_000_000n), '1k');
  t.equal(formatDecimalMilli(0n), '0');
  t.equal(formatBinary(8n * 1024n ** 3n), '8Gi');
  t.equal(formatBinary(1536n * 1024n * 1024n), '1536Mi');
  t.equal(formatBinary(1536n), '1536');
  t.equal(formatBinary(1000n), '1k');
  t.equal(formatBinary(110n), '110');
  const summary = summarizeResources(
    [{ metadata: { name: 'n' }, status: { allocatable: { cpu: '1500m', memory: '1Gi', pods: 110, 'nvidia.com/gpu': '2' } } }],
    [
      { metadata: { name: 'a' }, spec: { nodeName: 'n', containers: [{ resources: { requests: { cpu: '100m', 'nvidia.com/gpu': '1' } } }], initContainers: [{ resources: { requests: { cpu: '1', memory: '64Mi' } } }] } },
      { metadata: { name: 'done' }, spec: { nodeName: 'n', containers: [{ resources: { requests: { cpu: '4' } } }] }, status: { phase: 'Succeeded' } },
    ],
  );
  t.same(summary, {
    allocatable: { cpu: '1500m', memory: '1Gi', 'nvidia.com/gpu': '2', pods: '110' },
    allocated: { cpu: '1', memory: '64Mi', 'nvidia.com/gpu': '1', pods: '1' },
  }, 'init containers raise the request; finished pods do not count; nothing pending: no allocating');
});

t.test('member credentials from the Secret: token, client certificate, CA, insecure', async (t) => {
  const dir = await tempDir('member-connection');
  t.teardown(() => dir.remove());
  const pki = await ensurePki(dir.path, { sans: ['127.0.0.1'] });
  const seen: (string | undefined)[] = [];
  const server = createServer({ cert: pki.servingCertPem, key: pki.servingKeyPem }, (req, res) => {
    seen.push(req.headers.authorization);
    res.statusCode = req.url === '/readyz' ? 404 : 200;
    res.end('ok');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const port = (server.address() as AddressInfo).port;
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const clusterObject = (spec: Record<string, unknown>): KubeObject => ({ metadata: { name: 'm' }, spec: { syncMode: 'Push', secretRef: { namespace: 'karmada-cluster', name: 'm' }, ...spec } });
  const secret = (data: Record<string, string>): KubeObject => ({ metadata: { name: 'm', namespace: 'karmada-cluster' }, data });

  const withToken = memberClientConfig(clusterObject({ apiEndpoint: `127.0.0.1:${port}` }), secret({ caBundle: b64(pki.caCertPem), token: b64('s3cret') }));
  t.equal(withToken.server, `https://127.0.0.1:${port}`, 'a bare host:port endpoint gets https');
  const client = new HttpClient(withToken);
  t.same(await client.getRaw('/readyz').then((r) => r.code), 404, 'non-JSON, non-2xx answers come back as they are');
  client.close();
  t.equal(seen.at(-1), 'Bearer s3cret', 'the token is sent as a bearer token');

  const insecure = memberClientConfig(clusterObject({ apiEndpoint: `https://127.0.0.1:${port}`, insecureSkipTLSVerification: true }), secret({ token: b64('t') }));
  const insecureClient = new HttpClient(insecure);
  t.equal((await insecureClient.getRaw('/healthz')).code, 200, 'insecureSkipTLSVerification: no CA needed');
  insecureClient.close();

  const wrongCa = await ensurePki(join(dir.path, 'other'), { sans: ['127.0.0.1'] });
  const untrusted = new HttpClient(memberClientConfig(clusterObject({ apiEndpoint: `https://127.0.0.1:${port}` }), secret({ caBundle: b64(wrongCa.caCertPem), token: b64('t') })));
  t.ok(await untrusted.getRaw('/healthz').then(() => false, () => true), 'a server the CA does not vouch for is refused');
  untrusted.close();

  const certs = memberClientConfig(clusterObject({ apiEndpoint: 'https://x:1' }), secret({ caBundle: b64('CA'), 'tls.crt': b64('CERT'), 'tls.key': b64('KEY') }));
  t.match(certs, { caPem: 'CA', certPem: 'CERT', keyPem: 'KEY' });
  t.notOk('token' in certs, 'no token');
  const fails = (spec: Record<string, unknown>, data: Record<string, string>, pattern: RegExp, what: string) => {
    let err: unknown;
    try {
      memberClientConfig(clusterObject(spec), secret(data));
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof MemberConnectionError && pattern.test(err.message), what, { error: String(err) });
  };
  fails({}, { caBundle: b64('CA'), token: b64('t') }, /api endpoint of cluster m is empty/, 'no endpoint');
  fails({ apiEndpoint: 'https://x:1' }, { token: b64('t') }, /missing the CA data key "caBundle"/, 'no CA');
  fails({ apiEndpoint: 'https://x:1' }, { caBundle: b64('CA') }, /neither a "token" nor a client certificate/, 'no credentials');
  fails({ apiEndpoint: 'https://x:1' }, { caBundle: b64('CA'), 'tls.crt': b64('CERT') }, /only one of "tls.crt" and "tls.key"/, 'certificate without key');
  fails({ apiEndpoint: 'http://x:1' }, { caBundle: b64('CA'), token: b64('t') }, /must be https/, 'plain http');
});

t.test('cluster status and cluster controllers', async (t) => {
  const dir = await tempDir('cluster-status');
  const cp = await startInProcessServer(dir.path, 'control-plane', { karmada: true });
  const memberA = await startInProcessServer(dir.path, 'member-a', { karmada: false });
  const memberB = await startInProcessServer(dir.path, 'member-b', { karmada: false });
  const cpPki = cp.pki;
  const controllerCert = await issueClientCertificate(cpPki, { commonName: 'system:flotilla-controller-manager', organizations: ['system:masters'] });
  const controllers: RunningControllers = await startControllers({
    server: cp.url,
    caPem: cpPki.caCertPem,
    certPem: controllerCert.certPem,
    keyPem: controllerCert.keyPem,
    logger: silentLogger,
    federation: true,
    clusterStatusUpdateFrequencyMs: FREQUENCY_MS,
    clusterFailureThresholdMs: THRESHOLD_MS,
    clusterSuccessThresholdMs: THRESHOLD_MS,
  });
  t.teardown(async () => {
    await controllers.stop();
    for (const running of [memberA, memberB, cp]) await running.stop().catch(() => undefined);
    await dir.remove();
  });
  t.ok(await controllers.waitForSync(10_000), 'controllers synced');

  // Member A: two nodes (one Ready), a bound pod, a pending pod, a finished pod.
  const node = (name: string, allocatable: Record<string, string>, ready: boolean) => ({ name, allocatable, ready });
  for (const n of [node('node-1', { cpu: '4', memory: '8Gi', pods: '110', 'ephemeral-storage': '100Gi' }, true), node('node-2', { cpu: '3500m', memory: '4Gi', pods: '110', 'ephemeral-storage': '50Gi' }, false)]) {
    const created = await memberA.admin.create(resourcePath(NODES), { apiVersion: 'v1', kind: 'Node', metadata: { name: n.name } });
    await memberA.admin.update(resourcePath(NODES, undefined, n.name, 'status'), {
      ...created,
      status: {
        capacity: n.allocatable,
        allocatable: n.allocatable,
        conditions: [{ type: 'Ready', status: n.ready ? 'True' : 'False', reason: n.ready ? 'KubeletReady' : 'KubeletNotReady', message: 'simulated', lastHeartbeatTime: '2026-01-01T00:00:00Z', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      },
    });
  }
  const pod = (name: string, requests: Record<string, string>[], nodeName?: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' },
    spec: { ...(nodeName ? { nodeName } : {}), containers: requests.map((r, i) => ({ name: `c${i}`, image: 'nginx:1.27', resources: { requests: r } })) },
  });
  await memberA.admin.create(resourcePath(PODS, 'default'), pod('bound', [{ cpu: '250m', memory: '512Mi' }, { cpu: '250m', memory: '512Mi' }], 'node-1'));
  await memberA.admin.create(resourcePath(PODS, 'default'), pod('pending', [{ cpu: '1', memory: '1Gi' }]));
  const finished = await memberA.admin.create(resourcePath(PODS, 'default'), pod('finished', [{ cpu: '2' }], 'node-1'));
  await memberA.admin.update(resourcePath(PODS, 'default', 'finished', 'status'), { ...finished, status: { phase: 'Succeeded' } });

  const cluster = (name: string) => cp.admin.get(resourcePath(CLUSTERS, undefined, name));

  await t.test('join: the Cluster turns Ready with version, APIs and summaries', async (t) => {
    await joinCluster({ name: 'member-a', clusterKubeconfig: memberA.kubeconfig, kubeconfig: cp.kubeconfig, provider: 'flotilla', region: 'local', zones: ['z1', 'z2'], labels: { env: 'test' } });
    await joinCluster({ name: 'member-b', clusterKubeconfig: memberB.kubeconfig, kubeconfig: cp.kubeconfig });

    const secret = await cp.admin.get(resourcePath(SECRETS, 'karmada-cluster', 'member-a'));
    t.equal(secret['type'], 'Opaque');
    t.same(Object.keys(secret['data'] as object).sort(), ['caBundle', 'tls.crt', 'tls.key'], 'CA and client certificate stored');
    t.match(Buffer.from((secret['data'] as Record<string, string>)['tls.crt'] as string, 'base64').toString(), /BEGIN CERTIFICATE/);

    const a = await cluster('member-a');
    const memberKubeSystem = await memberA.admin.get(resourcePath(NAMESPACES, undefined, 'kube-system'));
    t.match(a['spec'], { syncMode: 'Push', apiEndpoint: memberA.url, id: memberKubeSystem.metadata.uid, secretRef: { namespace: 'karmada-cluster', name: 'member-a' }, provider: 'flotilla', region: 'local', zones: ['z1', 'z2'] });
    t.same(a.metadata.labels, { env: 'test' });
    t.match(secret.metadata.ownerReferences, [{ kind: 'Cluster', name: 'member-a', uid: a.metadata.uid, controller: true }], 'the Secret is owned by the Cluster');

    const ready = await eventually(t, 'member-a Ready=True ClusterReady', async () => {
      const c = await cluster('member-a');
      return readyOf(c)?.status === 'True' && statusOf(c).resourceSummary ? c : undefined;
    });
    if (!ready) return;
    const status = statusOf(ready);
    t.match(readyOf(ready), { status: 'True', reason: 'ClusterReady', message: 'cluster is healthy and ready to accept workloads' });
    t.match(status.kubernetesVersion, /^v1\.31\.\d+/, 'kubernetesVersion from /version');
    t.match(status.conditions?.find((c) => c.type === 'CompleteAPIEnablements'), { status: 'True', reason: 'Complete' });
    const apps = status.apiEnablements?.find((e) => e.groupVersion === 'apps/v1');
    t.ok(apps?.resources?.some((r) => r.name === 'deployments' && r.kind === 'Deployment'), 'apps/v1 Deployment enabled');
    t.notOk(status.apiEnablements?.some((e) => e.resources?.some((r) => r.name.includes('/'))), 'no subresources');
    const gvs = status.apiEnablements?.map((e) => e.groupVersion) ?? [];
    t.same(gvs, [...gvs].sort(), 'sorted by groupVersion');
    t.notOk(gvs.some((gv) => gv.startsWith('cluster.karmada.io')), 'the member serves no federation API');
    t.same(status.nodeSummary, { totalNum: 2, readyNum: 1 });
    t.same(status.resourceSummary, {
      allocatable: { cpu: '7500m', 'ephemeral-storage': '150Gi', memory: '12Gi', pods: '220' },
      allocating: { cpu: '1', memory: '1Gi', pods: '1' },
      allocated: { cpu: '500m', memory: '1Gi', pods: '1' },
    });

    t.ok(ready.metadata.finalizers?.includes('karmada.io/cluster-controller'), 'finalizer added');
    const ns = await cp.admin.get(resourcePath(NAMESPACES, undefined, 'karmada-es-member-a'));
    t.equal(ns.metadata.labels?.['karmada.io/system'], 'true', 'execution namespace labelled karmada.io/system');
    await eventually(t, 'no not-ready taint once Ready', async () => !hasTaint(await cluster('member-a'), 'cluster.karmada.io/not-ready'));
    await eventually(t, 'member-b Ready too', async () => readyOf(await cluster('member-b'))?.status === 'True');
  });

  await t.test('status is written only when it changes', async (t) => {
    // Let the taint removal and any last write settle, then watch a few idle intervals.
    await sleep(2 * FREQUENCY_MS);
    const before = await cluster('member-a');
    await sleep(8 * FREQUENCY_MS);
    const after = await cluster('member-a');
    t.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, 'no writes over 8 idle intervals');

    // A change in the member shows up at the next interval.
    await memberA.admin.delete(resourcePath(PODS, 'default', 'pending'));
    const updated = await eventually(t, 'allocating drops the deleted pending pod', async () => {
      const c = await cluster('member-a');
      return statusOf(c).resourceSummary?.allocating === undefined ? c : undefined;
    });
    t.equal(readyOf(updated ?? after)?.lastTransitionTime, readyOf(after)?.lastTransitionTime, 'Ready keeps its lastTransitionTime');
  });

  await t.test('a member whose /readyz fails: Ready=False ClusterNotReady after the failure threshold', async (t) => {
    const started = Date.now();
    memberB.server.setReady(false);
    const notReady = await eventually(t, 'member-b Ready=False ClusterNotReady', async () => {
      const c = await cluster('member-b');
      return readyOf(c)?.status === 'False' ? c : undefined;
    }, THRESHOLD_MS + 10 * FREQUENCY_MS + 5_000);
    const elapsed = Date.now() - started;
    t.ok(elapsed >= THRESHOLD_MS - 100, `not before the threshold (${elapsed} ms)`);
    if (notReady) t.match(readyOf(notReady), { reason: 'ClusterNotReady', message: 'cluster is reachable but health endpoint responded without ok' });
    const tainted = await eventually(t, 'not-ready taint added', async () => {
      const c = await cluster('member-b');
      return hasTaint(c, 'cluster.karmada.io/not-ready') ? c : undefined;
    });
    if (tainted) t.match(taintsOf(tainted).find((x) => x.key === 'cluster.karmada.io/not-ready')?.timeAdded, /^\d{4}-\d\d-\d\dT/, 'the taint has timeAdded');

    memberB.server.setReady(true);
    await eventually(t, 'member-b Ready=True again', async () => readyOf(await cluster('member-b'))?.status === 'True', THRESHOLD_MS + 10 * FREQUENCY_MS + 5_000);
    await eventually(t, 'not-ready taint removed', async () => !hasTaint(await cluster('member-b'), 'cluster.karmada.io/not-ready'));
  });

  await t.test('a blip shorter than the threshold does not flip Ready', async (t) => {
    const before = readyOf(await cluster('member-b'));
    memberB.server.setReady(false);
    await sleep(Math.round(THRESHOLD_MS / 2.5));
    memberB.server.setReady(true);
    const deadline = Date.now() + THRESHOLD_MS + 5 * FREQUENCY_MS;
    let flipped = false;
    while (Date.now() < deadline) {
      if (readyOf(await cluster('member-b'))?.status !== 'True') flipped = true;
      await sleep(50);
    }
    t.notOk(flipped, 'Ready stayed True');
    t.equal(readyOf(await cluster('member-b'))?.lastTransitionTime, before?.lastTransitionTime, 'and kept its lastTransitionTime');
  });

  await t.test('an unreachable member: ClusterNotReachable; back: Ready and untainted', async (t) => {
    const https = memberB.server.app.server;
    await new Promise<void>((resolve) => {
      https.close(() => resolve());
      https.closeAllConnections();
    });
    const unreachable = await eventually(t, 'member-b Ready=False ClusterNotReachable', async () => {
      const c = await cluster('member-b');
      return readyOf(c)?.status === 'False' ? c : undefined;
    }, THRESHOLD_MS + 10 * FREQUENCY_MS + 5_000);
    if (unreachable) t.match(readyOf(unreachable), { reason: 'ClusterNotReachable', message: 'cluster is not reachable' });
    await eventually(t, 'not-ready taint added', async () => hasTaint(await cluster('member-b'), 'cluster.karmada.io/not-ready'));
    t.equal(readyOf(await cluster('member-a'))?.status, 'True', 'the other member is unaffected');

    await new Promise<void>((resolve) => https.listen(memberB.port, '127.0.0.1', () => resolve()));
    await eventually(t, 'member-b Ready=True after recovery', async () => {
      const c = await cluster('member-b');
      return readyOf(c)?.status === 'True' && readyOf(c)?.reason === 'ClusterReady';
    }, THRESHOLD_MS + 10 * FREQUENCY_MS + 5_000);
    await eventually(t, 'taints removed after recovery', async () => {
      const c = await cluster('member-b');
      return !hasTaint(c, 'cluster.karmada.io/not-ready') && !hasTaint(c, 'cluster.karmada.io/unreachable');
    });
  });

  await t.test('join errors', async (t) => {
    const rejects = async (what: string, fn: () => Promise<unknown>, pattern: RegExp) => {
      const err = await fn().then(() => undefined, (e: unknown) => e);
      t.match(err instanceof Error ? err.message : String(err), pattern, what);
    };
    const secretBefore = await cp.admin.get(resourcePath(SECRETS, 'karmada-cluster', 'member-a'));
    const clusterBefore = await cluster('member-a');
    await rejects('duplicate name', () => joinCluster({ name: 'member-a', clusterKubeconfig: memberB.kubeconfig, kubeconfig: cp.kubeconfig }), /^cluster member-a already exists$/);
    t.equal((await cp.admin.get(resourcePath(SECRETS, 'karmada-cluster', 'member-a'))).metadata.resourceVersion, secretBefore.metadata.resourceVersion, 'the Secret is untouched');
    t.same((await cluster('member-a'))['spec'], clusterBefore['spec'], 'the Cluster is untouched');
    await rejects('the same member under another name', () => joinCluster({ name: 'member-a2', clusterKubeconfig: memberA.kubeconfig, kubeconfig: cp.kubeconfig }), /already registered as cluster member-a/);

    // A kubeconfig whose server does not answer.
    const config = parseYaml(await readFile(memberB.kubeconfig, 'utf8')) as { clusters: { cluster: { server: string } }[] };
    (config.clusters[0] as { cluster: { server: string } }).cluster.server = 'https://127.0.0.1:1';
    const deadKubeconfig = join(dir.path, 'dead.kubeconfig');
    await writeFile(deadKubeconfig, stringifyYaml(config));
    await rejects('unreachable member', () => joinCluster({ name: 'dead', clusterKubeconfig: deadKubeconfig, kubeconfig: cp.kubeconfig }), /cannot reach cluster dead at https:\/\/127\.0\.0\.1:1/);
    await rejects('missing kubeconfig', () => joinCluster({ name: 'ghost', clusterKubeconfig: join(dir.path, 'nope.kubeconfig'), kubeconfig: cp.kubeconfig }), /cannot read the kubeconfig .*nope\.kubeconfig: no such file/);
    await rejects('missing context', () => joinCluster({ name: 'ghost', clusterKubeconfig: memberB.kubeconfig, clusterContext: 'elsewhere', kubeconfig: cp.kubeconfig }), /context "elsewhere" not found/);
    const noUser = join(dir.path, 'no-user.kubeconfig');
    await writeFile(noUser, stringifyYaml({ ...config, users: [] }));
    await rejects('missing user', () => joinCluster({ name: 'ghost', clusterKubeconfig: noUser, kubeconfig: cp.kubeconfig }), /user "admin" of context "member-b" not found/);
    const garbage = join(dir.path, 'garbage.kubeconfig');
    await writeFile(garbage, 'clusters: [unterminated');
    await rejects('not YAML', () => joinCluster({ name: 'ghost', clusterKubeconfig: garbage, kubeconfig: cp.kubeconfig }), /is not a valid kubeconfig/);
    await rejects('bad name', () => joinCluster({ name: 'Bad_Name', clusterKubeconfig: memberB.kubeconfig, kubeconfig: cp.kubeconfig }), /invalid cluster name "Bad_Name"/);
    await rejects('too long a name', () => joinCluster({ name: 'x'.repeat(49), clusterKubeconfig: memberB.kubeconfig, kubeconfig: cp.kubeconfig }), /no more than 48 characters/);
    for (const name of ['dead', 'ghost', 'member-a2']) {
      t.ok(await cluster(name).then(() => false, (err: unknown) => isApiError(err, 404)), `no Cluster ${name} created`);
      t.ok(await cp.admin.get(resourcePath(SECRETS, 'karmada-cluster', name)).then(() => false, (err: unknown) => isApiError(err, 404)), `no Secret ${name} created`);
    }

    // The command itself: a clear message and exit code 1.
    const cli = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'join', 'member-a', '--cluster-kubeconfig', memberA.kubeconfig, '--kubeconfig', cp.kubeconfig], { stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      child.once('close', (code) => resolve({ code, stderr }));
    });
    t.equal(cli.code, 1, 'flotilla join exits 1 on a duplicate name');
    t.match(cli.stderr, /error: cluster member-a already exists/);
  });

  await t.test('unjoin: the Cluster, its Secret and its execution namespace go', async (t) => {
    await cp.admin.create(resourcePath(WORKS, 'karmada-es-member-b'), {
      apiVersion: 'work.karmada.io/v1alpha1', kind: 'Work', metadata: { name: 'cm-work' },
      spec: { workload: { manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'cm', namespace: 'default' }, data: { a: '1' } }] } },
    });
    await unjoinCluster({ name: 'member-b', kubeconfig: cp.kubeconfig, wait: 15_000 });
    t.ok(await cluster('member-b').then(() => false, (err: unknown) => isApiError(err, 404)), 'the Cluster is gone');
    t.ok(await cp.admin.get(resourcePath(SECRETS, 'karmada-cluster', 'member-b')).then(() => false, (err: unknown) => isApiError(err, 404)), 'the Secret is gone');
    t.ok(await cp.admin.get(resourcePath(NAMESPACES, undefined, 'karmada-es-member-b')).then(() => false, (err: unknown) => isApiError(err, 404)), 'the execution namespace is gone');
    t.ok(await cp.admin.get(resourcePath(WORKS, 'karmada-es-member-b', 'cm-work')).then(() => false, (err: unknown) => isApiError(err, 404)), 'its Work is gone');
    t.equal(readyOf(await cluster('member-a'))?.status, 'True', 'member-a stays');

    const err = await unjoinCluster({ name: 'member-b', kubeconfig: cp.kubeconfig }).then(() => undefined, (e: unknown) => e);
    t.match(err instanceof Error ? err.message : '', /^cluster member-b not found$/, 'unjoin of an absent cluster fails clearly');
  });
});
