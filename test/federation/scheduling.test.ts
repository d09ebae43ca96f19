import t from 'tap';
import type { KubeObject } from '../../src/api/object.js';
import { HttpClient, isApiError, resourcePath } from '../../src/client/client.js';
import type { RunningMember } from '../../src/member/member.js';
import { eventually } from '../helpers/in-process-server.js';
import { startInProcessFederation } from '../helpers/in-process-federation.js';

/**
 * Detector + scheduler end to end, in process: a control plane with its controllers as clients, three
 * simulated members joined in push mode and reported on by the cluster status controller. Templates
 * and policies go in; ResourceBindings come out with spec.clusters and a Scheduled condition.
 */
const DEPLOYMENTS = { group: 'apps', version: 'v1', resource: 'deployments' };
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' };
const CLUSTERS = { group: 'cluster.karmada.io', version: 'v1alpha1', resource: 'clusters' };
const CRDS = { group: 'apiextensions.k8s.io', version: 'v1', resource: 'customresourcedefinitions' };
const PPS = { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'propagationpolicies' };
const RBS = { group: 'work.karmada.io', version: 'v1alpha2', resource: 'resourcebindings' };

const REGIONS = { member1: 'us-east-1', member2: 'cn-north-1', member3: 'eu-west-1' } as const;
const fed = await startInProcessFederation('scheduling', {
  members: (Object.keys(REGIONS) as (keyof typeof REGIONS)[]).map((name) => ({ name, region: REGIONS[name], labels: { location: name } })),
  nodes: { count: 2, cpu: '4', memory: '8Gi', pods: 110 },
  // Scheduling only: Works are not applied and no status comes back (no binding status writes).
  enabledControllers: ['*', '-execution', '-work-status', '-binding-status', '-namespace-sync'],
});
t.teardown(() => fed.stop());
const { cp, members } = fed;
const api = cp.admin;

interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}
const conditionOf = (o: KubeObject | undefined, type: string): Condition | undefined => ((o?.['status'] as { conditions?: Condition[] } | undefined)?.conditions ?? []).find((c) => c.type === type);
const specOf = (o: KubeObject | undefined): Record<string, unknown> => ((o?.['spec'] ?? {}) as Record<string, unknown>);
const targets = (o: KubeObject | undefined): string => ((specOf(o)['clusters'] ?? []) as { name: string; replicas?: number }[]).map((c) => `${c.name}:${c.replicas ?? '-'}`).join(',');

await eventually(t, 'three clusters Ready with their API enablements', async () => {
  const list = await api.list(resourcePath(CLUSTERS));
  return list.items.length === 3 && list.items.every((c) => conditionOf(c, 'Ready')?.status === 'True' && Array.isArray((c['status'] as { apiEnablements?: unknown[] }).apiEnablements));
}, 20_000);

let serial = 0;
async function namespace(): Promise<string> {
  const name = `sched-${++serial}`;
  await api.create(resourcePath(NAMESPACES), { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}
const deployment = (ns: string, name: string, replicas: number): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name, namespace: ns },
  spec: { replicas, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'c', image: 'nginx', resources: { requests: { cpu: '500m' } } }] } } },
});
const pp = (ns: string, name: string, placement: Record<string, unknown>, selector: Record<string, unknown> = { apiVersion: 'apps/v1', kind: 'Deployment', name }): KubeObject => ({
  apiVersion: 'policy.karmada.io/v1alpha1',
  kind: 'PropagationPolicy',
  metadata: { name, namespace: ns },
  spec: { resourceSelectors: [selector], placement },
});
const binding = async (ns: string, name: string): Promise<KubeObject | undefined> => {
  try {
    return await api.get(resourcePath(RBS, ns, name));
  } catch (err) {
    if (isApiError(err, 404)) return undefined;
    throw err;
  }
};

t.test('static weights 1:1 over member1/member2 (the nginx sample): one replica each, Scheduled=True', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(DEPLOYMENTS, ns), deployment(ns, 'nginx', 2));
  await api.create(resourcePath(PPS, ns), pp(ns, 'nginx', {
    clusterAffinity: { clusterNames: ['member1', 'member2'] },
    replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted', weightPreference: { staticWeightList: [{ targetCluster: { clusterNames: ['member1'] }, weight: 1 }, { targetCluster: { clusterNames: ['member2'] }, weight: 1 }] } },
  }));
  const rb = await eventually(t, 'scheduled to member1:1, member2:1', async () => {
    const b = await binding(ns, 'nginx-deployment');
    return targets(b) === 'member1:1,member2:1' && conditionOf(b, 'Scheduled')?.status === 'True' ? b : undefined;
  });
  t.match(conditionOf(rb, 'Scheduled'), { status: 'True', reason: 'Success', message: 'Binding has been scheduled successfully.' });
  const status = rb?.['status'] as { schedulerObservedGeneration?: number; lastScheduledTime?: string };
  t.equal(status.schedulerObservedGeneration, rb?.metadata.generation, 'schedulerObservedGeneration follows the generation');
  t.ok(status.lastScheduledTime, 'lastScheduledTime set');
  t.same(JSON.parse(rb?.metadata.annotations?.['policy.karmada.io/applied-placement'] ?? '{}'), specOf(rb)['placement'], 'applied placement recorded');

  await api.patch(resourcePath(DEPLOYMENTS, ns, 'nginx'), 'merge', { spec: { replicas: 6 } });
  const settled = await eventually(t, 'scaled to 6: 3/3, status observed', async () => {
    const b = await binding(ns, 'nginx-deployment');
    const observed = (b?.['status'] as { schedulerObservedGeneration?: number } | undefined)?.schedulerObservedGeneration;
    return targets(b) === 'member1:3,member2:3' && observed === b?.metadata.generation ? b : undefined;
  });
  await new Promise((r) => setTimeout(r, 500));
  t.equal((await binding(ns, 'nginx-deployment'))?.metadata.resourceVersion, settled?.metadata.resourceVersion, 'a settled binding is not written again');
});

t.test('no replicaScheduling: Duplicated to every selected cluster; labelSelector and exclude', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(DEPLOYMENTS, ns), deployment(ns, 'dup', 3));
  await api.create(resourcePath(PPS, ns), pp(ns, 'dup', { clusterAffinity: { labelSelector: { matchExpressions: [{ key: 'location', operator: 'Exists' }] }, exclude: ['member2'] } }));
  await eventually(t, 'member1:3, member3:3', async () => targets(await binding(ns, 'dup-deployment')) === 'member1:3,member3:3');
});

t.test('dynamic weight by available replicas follows the members resource summaries', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(DEPLOYMENTS, ns), deployment(ns, 'dyn', 6));
  await api.create(resourcePath(PPS, ns), pp(ns, 'dyn', { replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted', weightPreference: { dynamicWeight: 'AvailableReplicas' } } }));
  const rb = await eventually(t, 'divided over the three members', async () => {
    const b = await binding(ns, 'dyn-deployment');
    const clusters = (specOf(b)['clusters'] ?? []) as { replicas?: number }[];
    return clusters.reduce((sum, c) => sum + (c.replicas ?? 0), 0) === 6 ? b : undefined;
  });
  t.equal(targets(rb), 'member1:2,member2:2,member3:2', 'equal capacity: equal shares');
});

t.test('no cluster fits: Scheduled=False NoClusterFit with the reason per cluster, then scheduled when the placement changes', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(DEPLOYMENTS, ns), deployment(ns, 'nowhere', 1));
  await api.create(resourcePath(PPS, ns), pp(ns, 'nowhere', { clusterAffinity: { clusterNames: ['member9'] } }));
  const rb = await eventually(t, 'NoClusterFit', async () => {
    const b = await binding(ns, 'nowhere-deployment');
    return conditionOf(b, 'Scheduled')?.reason === 'NoClusterFit' ? b : undefined;
  });
  t.match(conditionOf(rb, 'Scheduled'), { status: 'False', message: /^0\/3 clusters are available: 3 cluster\(s\)/ });
  t.notOk(specOf(rb)['clusters'], 'no clusters');
  await api.patch(resourcePath(PPS, ns, 'nowhere'), 'merge', { spec: { placement: { clusterAffinity: { clusterNames: ['member3'] } } } });
  await eventually(t, 'scheduled once the placement names a real cluster', async () => {
    const b = await binding(ns, 'nowhere-deployment');
    return targets(b) === 'member3:1' && conditionOf(b, 'Scheduled')?.status === 'True';
  });
});

t.test('a kind a member does not serve waits until the member serves it (API enablement)', async (t) => {
  const ns = await namespace();
  const crd = (group: string): KubeObject => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `widgets.${group}` },
    spec: { group, scope: 'Namespaced', names: { plural: 'widgets', singular: 'widget', kind: 'Widget', listKind: 'WidgetList' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] },
  });
  await api.create(resourcePath(CRDS), crd('example.org'));
  await eventually(t, 'widget created on the control plane', () => api.create(resourcePath({ group: 'example.org', version: 'v1', resource: 'widgets' }, ns), { apiVersion: 'example.org/v1', kind: 'Widget', metadata: { name: 'w' } }));
  await api.create(resourcePath(PPS, ns), pp(ns, 'widgets', { clusterAffinity: { clusterNames: ['member1'] } }, { apiVersion: 'example.org/v1', kind: 'Widget' }));
  await eventually(t, 'not schedulable: member1 lacks the API', async () => {
    const c = conditionOf(await binding(ns, 'w-widget'), 'Scheduled');
    return c?.reason === 'NoClusterFit' && /did not have the API resource/.test(c.message ?? '');
  }, 15_000);
  const member1 = members[0] as RunningMember;
  const memberApi = new HttpClient(await memberClientOf(member1));
  t.teardown(() => memberApi.close());
  await memberApi.create(resourcePath(CRDS), crd('example.org'));
  await eventually(t, 'scheduled to member1 once it serves Widget', async () => targets(await binding(ns, 'w-widget')) === 'member1:-', 15_000);
});

t.test('a NotReady member is tainted and new bindings avoid it; bindings already on it stay', async (t) => {
  const ns = await namespace();
  await api.create(resourcePath(DEPLOYMENTS, ns), deployment(ns, 'before', 1));
  await api.create(resourcePath(PPS, ns), pp(ns, 'spread', { clusterAffinity: { clusterNames: ['member1', 'member2', 'member3'] } }, { apiVersion: 'apps/v1', kind: 'Deployment' }));
  await eventually(t, 'before: on all three', async () => targets(await binding(ns, 'before-deployment')) === 'member1:1,member2:1,member3:1');
  const member2 = members[1] as RunningMember;
  member2.pause();
  t.teardown(() => member2.resume());
  await eventually(t, 'member2 tainted not-ready', async () => {
    const cluster = await api.get(resourcePath(CLUSTERS, undefined, 'member2'));
    return ((cluster['spec'] as { taints?: { key: string }[] }).taints ?? []).some((taint) => taint.key === 'cluster.karmada.io/not-ready');
  }, 15_000);
  await api.create(resourcePath(DEPLOYMENTS, ns), deployment(ns, 'after', 1));
  await eventually(t, 'after: member1 and member3 only', async () => targets(await binding(ns, 'after-deployment')) === 'member1:1,member3:1');
  t.equal(targets(await binding(ns, 'before-deployment')), 'member1:1,member2:1,member3:1', 'a scheduled cluster passes the taint filter');
  member2.resume();
  await eventually(t, 'member2 untainted again', async () => {
    const cluster = await api.get(resourcePath(CLUSTERS, undefined, 'member2'));
    return !((cluster['spec'] as { taints?: { key: string }[] }).taints ?? []).length;
  }, 15_000);
  await eventually(t, 'after follows the clusters again (Duplicated)', async () => targets(await binding(ns, 'after-deployment')) === 'member1:1,member2:1,member3:1');
});

async function memberClientOf(member: RunningMember) {
  const { readFile } = await import('node:fs/promises');
  const { parse } = await import('yaml');
  const config = parse(await readFile(member.kubeconfigPath, 'utf8')) as { clusters: { cluster: { server: string; 'certificate-authority-data': string } }[]; users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[] };
  const b64 = (s: string) => Buffer.from(s, 'base64').toString();
  const cluster = config.clusters[0]?.cluster;
  const user = config.users[0]?.user;
  return { server: cluster?.server ?? '', caPem: b64(cluster?.['certificate-authority-data'] ?? ''), certPem: b64(user?.['client-certificate-data'] ?? ''), keyPem: b64(user?.['client-key-data'] ?? '') };
}

t.test('PlacementReview: where a template would go and why, without storing anything', async (t) => {
  const ns = await namespace();
  const REVIEWS = '/apis/scheduling.flotilla.io/v1alpha1/placementreviews';
  const review = (spec: Record<string, unknown>) => api.create(REVIEWS, { apiVersion: 'scheduling.flotilla.io/v1alpha1', kind: 'PlacementReview', metadata: {}, spec });
  type Decision = { cluster: string; selected: boolean; replicas?: number; filteredBy?: { plugin: string; reason: string }; why: string };
  type ReviewStatus = { policy?: { kind: string; name: string }; binding?: { name: string; exists: boolean; replicas?: number }; scheduled: boolean; clusters?: { name: string; replicas?: number }[]; condition?: { reason: string }; decisions: Decision[]; message?: string };
  const statusOf = (o: KubeObject) => o['status'] as ReviewStatus;

  const template = deployment(ns, 'what-if', 4);
  const none = statusOf(await review({ template }));
  t.match(none, { scheduled: false, decisions: [], message: /no PropagationPolicy or ClusterPropagationPolicy selects Deployment/ }, 'no policy: says so');

  const policy = pp(ns, 'what-if', { clusterAffinity: { clusterNames: ['member1', 'member2'] }, replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted', weightPreference: { staticWeightList: [{ targetCluster: { clusterNames: ['member1'] }, weight: 3 }, { targetCluster: { clusterNames: ['member2'] }, weight: 1 }] } } });
  const withPolicy = statusOf(await review({ template, policy }));
  t.match(withPolicy, { policy: { kind: 'PropagationPolicy', name: 'what-if' }, binding: { name: 'what-if-deployment', exists: false, replicas: 4 }, scheduled: true, condition: { reason: 'Success' } });
  t.same(withPolicy.clusters, [{ name: 'member1', replicas: 3 }, { name: 'member2', replicas: 1 }], 'weights 3:1 over 4 replicas');
  const member3 = withPolicy.decisions.find((d) => d.cluster === 'member3');
  t.match(member3, { selected: false, filteredBy: { plugin: 'ClusterAffinity' } }, 'member3 filtered out by the affinity, with the plugin named');
  t.equal(withPolicy.decisions.length, 3, 'one decision per cluster');
  t.notOk(await binding(ns, 'what-if-deployment'), 'nothing was stored');
  t.equal((await api.list(resourcePath(DEPLOYMENTS, ns))).items.length, 0, 'no template stored either');

  await api.create(resourcePath(DEPLOYMENTS, ns), template);
  await api.create(resourcePath(PPS, ns), policy);
  await eventually(t, 'the real binding matches the review', async () => targets(await binding(ns, 'what-if-deployment')) === 'member1:3,member2:1');
  const stored = statusOf(await review({ template: await api.get(resourcePath(DEPLOYMENTS, ns, 'what-if')) }));
  t.match(stored, { policy: { name: 'what-if' }, binding: { exists: true }, scheduled: true }, 'a stored template is reviewed with its claiming policy and binding');

  await t.rejects(review({}), { code: 422 }, 'no template: 422 Invalid');
  await t.rejects(review({ template, policy: { kind: 'OverridePolicy', metadata: {} } }), { code: 422 }, 'not a propagation policy: 422');
  await t.rejects(review({ template, policy: { apiVersion: 'policy.karmada.io/v1alpha1', kind: 'PropagationPolicy', metadata: {}, spec: { resourceSelectors: [] } } }), { code: 422 }, 'an invalid policy fails its admission: 422');
});
