import t from 'tap';
import type { KubeObject } from '../../src/api/object.js';
import { HttpClient, resourcePath } from '../../src/client/client.js';
import { workName } from '../../src/karmada/work-builder.js';
import { eventually } from '../helpers/in-process-server.js';
import { getOrUndefined, startInProcessFederation } from '../helpers/in-process-federation.js';

/**
 * Binding → Works → members → status, in process (issue 7): a control plane with every controller as
 * an HTTPS client, three simulated members joined in push mode. What the conformance suite shows with
 * the samples is covered there; here the edges a user relies on: replicas follow a reschedule and the
 * Work of a cluster no longer targeted goes; a Work deleted by hand comes back; an object deleted or
 * edited in a member is put back while a member-side change to the status is not fought; suspended
 * dispatching; preserveResourcesOnDeletion; a pre-existing member object taken over only with
 * conflictResolution Overwrite; Job status summed onto the template.
 */
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const JOBS = { group: 'batch', version: 'v1', resource: 'jobs' };
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const CLUSTERS = { group: 'cluster.karmada.io', version: 'v1alpha1', resource: 'clusters' };
const PPS = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'propagationpolicies' };
const RBS = { group: 'work.karmada.io', version: 'v1alpha2', resource: 'resourcebindings' };
const WORKS = { group: 'work.karmada.io', version: 'v1alpha1', resource: 'works' };

const fed = await startInProcessFederation('propagation', {
  members: [{ name: 'member1' }, { name: 'member2' }, { name: 'member3' }],
  nodes: { count: 2, cpu: '8', memory: '16Gi', pods: 110 },
});
t.teardown(() => fed.stop());
const { cp } = fed;
const api = cp.admin;
const memberClient = (name: string): HttpClient => fed.member(name);

interface Condition { type: string; status: string; reason?: string; message?: string }
const conditionOf = (o: KubeObject | undefined, type: string): Condition | undefined => ((o?.['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === type);
const specOf = (o: KubeObject | undefined): Record<string, unknown> => ((o?.['spec'] ?? {}) as Record<string, unknown>);
const statusOf = (o: KubeObject | undefined): Record<string, unknown> => ((o?.['status'] ?? {}) as Record<string, unknown>);

await eventually(t, 'three clusters Ready', async () => {
  const list = await api.list(resourcePath(CLUSTERS));
  return list.items.length === 3 && list.items.every((c) => conditionOf(c, 'Ready')?.status === 'True');
}, 20_000);

let serial = 0;
async function namespace(): Promise<string> {
  const name = `prop-${++serial}`;
  await api.create(resourcePath(NAMESPACES), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  for (const member of ['member1', 'member2', 'member3']) {
    await eventually(t, `namespace ${name} reaches ${member}`, async () => (await getOrUndefined(memberClient(member), resourcePath(NAMESPACES, undefined, name))) !== undefined);
  }
  return name;
}
const deployment = (ns: string, name: string, replicas: number): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '100m' } } }] } } },
});
const pp = (ns: string, name: string, kind: string, apiVersion: string, placement: Record<string, unknown>, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'policy.karmada.io/v1alpha1',
  kind: 'PropagationPolicy',
  metadata: { name, namespace: ns },
  spec: { resourceSelectors: [{ apiVersion, kind, name }], placement, ...extra },
});
const staticWeights = (clusters: string[]) => ({
  clusterAffinity: { clusterNames: clusters },
  replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted', weightPreference: { staticWeightList: clusters.map((c) => ({ targetCluster: { clusterNames: [c] }, weight: 1 })) } },
});
const inMember = (member: string, path: string, want: (o: KubeObject) => boolean = () => true) => async () => {
  const object = await getOrUndefined(memberClient(member), path);
  return object && want(object) ? object : undefined;
};
const goneFrom = (member: string, path: string) => async () => (await getOrUndefined(memberClient(member), path)) === undefined;

t.test('a reschedule moves replicas and removes the Work of a cluster no longer targeted; the binding finalizer', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(DEPLOYMENTS, ns), deployment(ns, 'web', 4));
  await api.create(resourcePath(PPS, ns), pp(ns, 'web', 'Deployment', 'apps/v1', staticWeights(['member1', 'member2'])));
  const path = resourcePath(DEPLOYMENTS, ns, 'web');
  await eventually(t, 'member1 runs 2', inMember('member1', path, (d) => specOf(d)['replicas'] === 2));
  await eventually(t, 'member2 runs 2', inMember('member2', path, (d) => specOf(d)['replicas'] === 2));
  const rb = await api.get(resourcePath(RBS, ns, 'web-deployment'));
  t.ok(rb.metadata.finalizers?.includes('karmada.io/binding-controller'), 'the binding carries karmada.io/binding-controller');
  const work = await api.get(resourcePath(WORKS, 'karmada-es-member1', workName('Deployment', 'web', ns)));
  t.ok(work.metadata.finalizers?.includes('karmada.io/execution-controller'), 'the Work carries karmada.io/execution-controller');

  await api.patch(resourcePath(PPS, ns, 'web'), 'merge', { spec: { placement: staticWeights(['member2', 'member3']) } });
  await eventually(t, 'member3 now runs 2', inMember('member3', path, (d) => specOf(d)['replicas'] === 2));
  await eventually(t, "member1's copy is removed", goneFrom('member1', path));
  await eventually(t, "member1's Work is gone", async () => (await getOrUndefined(api, resourcePath(WORKS, 'karmada-es-member1', workName('Deployment', 'web', ns)))) === undefined);
  await eventually(t, 'the template sums members 2 and 3: 4 ready', async () => {
    const d = await api.get(path);
    return statusOf(d)['readyReplicas'] === 4 && statusOf(d)['observedGeneration'] === d.metadata.generation;
  }, 20_000);
});

t.test('what others change is put back: a deleted Work, a deleted or edited member object', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(CONFIGMAPS, ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'conf', namespace: ns }, data: { level: 'info' } });
  await api.create(resourcePath(PPS, ns), pp(ns, 'conf', 'ConfigMap', 'v1', { clusterAffinity: { clusterNames: ['member1'] } }));
  const path = resourcePath(CONFIGMAPS, ns, 'conf');
  const original = await eventually(t, 'the ConfigMap reaches member1', inMember('member1', path));
  t.equal(original?.metadata.labels?.['karmada.io/managed'], 'true', 'labelled karmada.io/managed');

  const workPath = resourcePath(WORKS, 'karmada-es-member1', workName('ConfigMap', 'conf', ns));
  const work = await api.get(workPath);
  await api.delete(workPath);
  await eventually(t, 'the deleted Work is written again', async () => {
    const again = await getOrUndefined(api, workPath);
    return again && again.metadata.uid !== work.metadata.uid && !again.metadata.deletionTimestamp ? again : undefined;
  });
  await eventually(t, '… and its object is back in member1', inMember('member1', path));

  await memberClient('member1').delete(path);
  await eventually(t, 'an object deleted in the member comes back', inMember('member1', path, (c) => (c['data'] as Record<string, string>)['level'] === 'info'));
  const current = await memberClient('member1').get(path);
  await memberClient('member1').update(path, { ...current, data: { level: 'debug' }, metadata: { ...current.metadata, labels: { ...current.metadata.labels, team: 'ops' } } });
  const restored = await eventually(t, 'an edit in the member is reverted to the template', inMember('member1', path, (c) => (c['data'] as Record<string, string>)['level'] === 'info'));
  t.equal(restored?.metadata.labels?.['team'], 'ops', "a label the member added is kept (not Karmada's)");

  await api.patch(resourcePath(CONFIGMAPS, ns, 'conf'), 'merge', { data: { level: 'warn' } });
  await eventually(t, 'a template change reaches the member', inMember('member1', path, (c) => (c['data'] as Record<string, string>)['level'] === 'warn'));
});

t.test('suspended dispatching holds changes back; preserveResourcesOnDeletion keeps member objects', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(CONFIGMAPS, ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'held', namespace: ns }, data: { v: '1' } });
  await api.create(resourcePath(PPS, ns), pp(ns, 'held', 'ConfigMap', 'v1', { clusterAffinity: { clusterNames: ['member2'] } }, { preserveResourcesOnDeletion: true }));
  const path = resourcePath(CONFIGMAPS, ns, 'held');
  await eventually(t, 'v1 reaches member2', inMember('member2', path, (c) => (c['data'] as Record<string, string>)['v'] === '1'));
  await api.patch(resourcePath(PPS, ns, 'held'), 'merge', { spec: { suspension: { dispatching: true } } });
  const workPath = resourcePath(WORKS, 'karmada-es-member2', workName('ConfigMap', 'held', ns));
  const suspended = await eventually(t, 'the Work says Dispatching=False SuspendDispatching', async () => {
    const w = await api.get(workPath);
    return specOf(w)['suspendDispatching'] === true && conditionOf(w, 'Dispatching')?.reason === 'SuspendDispatching' ? w : undefined;
  });
  t.equal(conditionOf(suspended, 'Dispatching')?.message, 'Work dispatching is in a suspended state.');
  await api.patch(resourcePath(CONFIGMAPS, ns, 'held'), 'merge', { data: { v: '2' } });
  await eventually(t, 'the Work carries v2', async () => JSON.stringify(specOf(await api.get(workPath))).includes('"v":"2"'));
  await new Promise((r) => setTimeout(r, 1_000));
  t.equal(((await memberClient('member2').get(path))['data'] as Record<string, string>)['v'], '1', 'member2 still has v1 while dispatching is suspended');
  await api.patch(resourcePath(PPS, ns, 'held'), 'merge', { spec: { suspension: null } });
  await eventually(t, 'v2 reaches member2 once dispatching resumes', inMember('member2', path, (c) => (c['data'] as Record<string, string>)['v'] === '2'));

  await api.delete(resourcePath(CONFIGMAPS, ns, 'held'));
  await eventually(t, 'the Work goes with the template', async () => (await getOrUndefined(api, workPath)) === undefined);
  const kept = await memberClient('member2').get(path);
  t.equal((kept['data'] as Record<string, string>)['v'], '2', 'member2 keeps its copy (preserveResourcesOnDeletion)');
});

t.test('a member object that was there first: Abort refuses, Overwrite takes it over', async (t) => {
  const ns = await namespace();
  const path = resourcePath(CONFIGMAPS, ns, 'shared');
  await memberClient('member3').create(resourcePath(CONFIGMAPS, ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: ns }, data: { owner: 'member3' } });
  await api.create(resourcePath(CONFIGMAPS, ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'shared', namespace: ns }, data: { owner: 'federation' } });
  await api.create(resourcePath(PPS, ns), pp(ns, 'shared', 'ConfigMap', 'v1', { clusterAffinity: { clusterNames: ['member3'] } }));
  const workPath = resourcePath(WORKS, 'karmada-es-member3', workName('ConfigMap', 'shared', ns));
  const failed = await eventually(t, 'Applied=False AppliedFailed', async () => {
    const w = await getOrUndefined(api, workPath);
    return conditionOf(w, 'Applied')?.reason === 'AppliedFailed' ? w : undefined;
  });
  t.match(conditionOf(failed, 'Applied')?.message, /^Failed to apply all manifests \(0\/1\): resource\(kind=ConfigMap, prop-\d+\/shared\) already exists in the cluster member3 and the work.karmada.io\/conflict-resolution strategy value is empty, Karmada will not manage this resource$/);
  const rb = await eventually(t, 'the binding reports the failure in aggregatedStatus', async () => {
    const b = await api.get(resourcePath(RBS, ns, 'shared-configmap'));
    return conditionOf(b, 'FullyApplied')?.status === 'False' && ((statusOf(b)['aggregatedStatus'] ?? []) as unknown[]).length === 1 ? b : undefined;
  });
  t.match((statusOf(rb)['aggregatedStatus'] as Record<string, unknown>[])[0], { clusterName: 'member3', applied: false, health: 'Unknown' });
  t.equal(((await memberClient('member3').get(path))['data'] as Record<string, string>)['owner'], 'member3', 'the member object is untouched');

  await api.patch(resourcePath(PPS, ns, 'shared'), 'merge', { spec: { conflictResolution: 'Overwrite' } });
  await eventually(t, 'with conflictResolution Overwrite the object is taken over', inMember('member3', path, (c) => (c['data'] as Record<string, string>)['owner'] === 'federation' && c.metadata.labels?.['karmada.io/managed'] === 'true'));
  await eventually(t, 'FullyApplied=True', async () => conditionOf(await api.get(resourcePath(RBS, ns, 'shared-configmap')), 'FullyApplied')?.status === 'True');
});

t.test('a Divided Job: parallelism split, succeeded summed onto the template', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(JOBS, ns), {
    apiVersion: 'batch/v1',
    kind: 'Job',
    metadata: { name: 'batch', namespace: ns },
    spec: { parallelism: 2, completions: 2, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', resources: { requests: { cpu: '100m' } } }] } } },
  });
  await api.create(resourcePath(PPS, ns), pp(ns, 'batch', 'Job', 'batch/v1', staticWeights(['member1', 'member2'])));
  const path = resourcePath(JOBS, ns, 'batch');
  await eventually(t, 'member1 runs a Job of parallelism 1', inMember('member1', path, (j) => specOf(j)['parallelism'] === 1));
  await eventually(t, 'member2 runs a Job of parallelism 1', inMember('member2', path, (j) => specOf(j)['parallelism'] === 1));
  await eventually(t, 'the template reports succeeded 2 once both members completed', async () => statusOf(await api.get(path))['succeeded'] === 2, 30_000);
});

t.test('propagateDeps: the ConfigMap and Secret a Deployment uses follow it, also when rescheduled', async (t) => {
  const ns = await namespace();
  const SECRETS = { group: '', version: 'v1', resource: 'secrets' };
  await api.create(resourcePath(CONFIGMAPS, ns), { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'app-config', namespace: ns }, data: { mode: 'fast' } });
  const web = deployment(ns, 'app', 2);
  const podSpec = ((web['spec'] as Record<string, unknown>)['template'] as { spec: Record<string, unknown> }).spec;
  podSpec['volumes'] = [{ name: 'config', configMap: { name: 'app-config' } }];
  (podSpec['containers'] as Record<string, unknown>[])[0]!['envFrom'] = [{ secretRef: { name: 'app-secret' } }];
  await api.create(resourcePath(DEPLOYMENTS, ns), web);
  await api.create(resourcePath(PPS, ns), pp(ns, 'app', 'Deployment', 'apps/v1', staticWeights(['member1', 'member2']), { propagateDeps: true }));
  for (const member of ['member1', 'member2']) {
    await eventually(t, `the ConfigMap follows the Deployment to ${member}`, inMember(member, resourcePath(CONFIGMAPS, ns, 'app-config'), (c) => (c['data'] as Record<string, string>)['mode'] === 'fast'));
  }
  const attached = await api.get(resourcePath(RBS, ns, 'app-config-configmap'));
  t.match(specOf(attached)['requiredBy'], [{ namespace: ns, name: 'app-deployment', clusters: [{ name: 'member1' }, { name: 'member2' }] }], 'the attached binding requires it by the parent, with its clusters');
  t.ok(Object.keys(attached.metadata.labels ?? {}).some((k) => k.startsWith('resourcebinding.karmada.io/depended-by-')), 'labelled depended-by the parent');
  const parent = await api.get(resourcePath(RBS, ns, 'app-deployment'));
  t.match(JSON.parse(parent.metadata.annotations?.['resourcebinding.karmada.io/dependencies'] ?? '[]'), [{ kind: 'ConfigMap', name: 'app-config' }, { kind: 'Secret', name: 'app-secret' }], 'the parent records its dependencies');

  await api.create(resourcePath(SECRETS, ns), { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'app-secret', namespace: ns }, stringData: { token: 't0ps3cret' } });
  await eventually(t, 'a Secret created after the Deployment follows it too', inMember('member2', resourcePath(SECRETS, ns, 'app-secret')));

  await api.patch(resourcePath(PPS, ns, 'app'), 'merge', { spec: { placement: staticWeights(['member3']) } });
  await eventually(t, 'rescheduled to member3: the ConfigMap goes there', inMember('member3', resourcePath(CONFIGMAPS, ns, 'app-config')));
  await eventually(t, '… and leaves member1', goneFrom('member1', resourcePath(CONFIGMAPS, ns, 'app-config')));

  await api.patch(resourcePath(PPS, ns, 'app'), 'merge', { spec: { propagateDeps: false } });
  await eventually(t, 'propagateDeps off: the attached bindings go', async () => (await getOrUndefined(api, resourcePath(RBS, ns, 'app-config-configmap'))) === undefined && (await getOrUndefined(api, resourcePath(RBS, ns, 'app-secret-secret'))) === undefined);
  await eventually(t, '… and so does the ConfigMap in member3', goneFrom('member3', resourcePath(CONFIGMAPS, ns, 'app-config')));
  t.ok(await getOrUndefined(memberClient('member3'), resourcePath(DEPLOYMENTS, ns, 'app')), 'the Deployment stays');
});
