import t from 'tap';
import type { KubeObject } from '../../src/api/object.js';
import { aggregateTemplateStatus, aggregatedStatusItems, fullyAppliedCondition } from '../../src/karmada/status-aggregation.js';
import type { AggregatedStatusItem } from '../../src/karmada/status-aggregation.js';
import { manifestStatus } from '../../src/karmada/status-reflection.js';

/**
 * From Works back to the binding and the template (karmada-api.md §2.5, §4.4; Karmada's workstatus.go and
 * aggregatestatus.go): aggregatedStatus items, FullyApplied, and the template status that `kubectl get`
 * and `kubectl rollout status` read on the control plane.
 */

type Obj = Record<string, unknown>;

// ---------------------------------------------------------------------------------------------------
// Builders: a binding of default/nginx, the member Deployments, and the Works reporting them.

const DEPLOYMENT_REF = { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'nginx' };

function binding(spec: Obj = {}): KubeObject {
  return {
    apiVersion: 'work.karmada.io/v1alpha2',
    kind: 'ResourceBinding',
    metadata: { name: 'nginx-deployment', namespace: 'default' },
    spec: { resource: DEPLOYMENT_REF, clusters: [{ name: 'member1', replicas: 1 }, { name: 'member2', replicas: 1 }], ...spec },
  };
}

const deploymentManifest = { ...{ apiVersion: 'apps/v1', kind: 'Deployment' }, metadata: { name: 'nginx', namespace: 'default' }, spec: { replicas: 1 } };
const deploymentIdentifier = { ordinal: 0, group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'default', name: 'nginx' };

interface WorkParts {
  applied?: Obj;
  manifestStatuses?: unknown[];
  manifests?: unknown[];
  generation?: number;
  deleting?: boolean;
  namespace?: string;
}

function work(cluster: string, parts: WorkParts = {}): KubeObject {
  return {
    apiVersion: 'work.karmada.io/v1alpha1',
    kind: 'Work',
    metadata: {
      name: 'nginx-687f7fb96f',
      namespace: parts.namespace ?? `karmada-es-${cluster}`,
      generation: parts.generation ?? 1,
      ...(parts.deleting ? { deletionTimestamp: '2026-11-22T10:00:00Z' } : {}),
    },
    spec: { workload: { manifests: parts.manifests ?? [deploymentManifest] } },
    status: {
      ...(parts.applied ? { conditions: [{ type: 'Applied', reason: 'AppliedSuccessful', lastTransitionTime: '2026-11-22T10:00:00Z', ...parts.applied }] } : {}),
      ...(parts.manifestStatuses ? { manifestStatuses: parts.manifestStatuses } : {}),
    },
  };
}

/** A member Deployment as the member apiserver reports it. */
function memberDeployment(replicas: number, status: Obj, generation = 2, templateGeneration = 5): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'nginx', namespace: 'default', generation, annotations: { 'resourcetemplate.karmada.io/generation': String(templateGeneration) } },
    spec: { replicas },
    status,
  };
}

/** The Work of a cluster once its member Deployment reported. */
const reportingWork = (cluster: string, member: KubeObject): KubeObject => work(cluster, { applied: { status: 'True' }, manifestStatuses: [manifestStatus(deploymentIdentifier, member)] });

/** A member Deployment that finished rolling out generation `generation` built from template generation `templateGeneration`. */
const rolledOut = (replicas: number, generation = 2, templateGeneration = 5) =>
  memberDeployment(replicas, { observedGeneration: generation, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas }, generation, templateGeneration);

const template = (replicas: number, generation: number, status?: Obj): KubeObject => ({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name: 'nginx', namespace: 'default', generation },
  spec: { replicas },
  ...(status ? { status } : {}),
});

/** `kubectl rollout status deployment/nginx` against the control plane: kubectl's DeploymentStatusViewer. */
function rolloutStatus(deploy: KubeObject, status: Obj | undefined): string {
  const s = status ?? {};
  const n = (field: string) => (typeof s[field] === 'number' ? (s[field] as number) : 0);
  if ((deploy.metadata.generation ?? 0) > n('observedGeneration')) return 'Waiting for deployment spec update to be observed...';
  const wanted = (deploy['spec'] as Obj)['replicas'] as number | undefined;
  if (wanted !== undefined && n('updatedReplicas') < wanted) return `Waiting for deployment "nginx" rollout to finish: ${n('updatedReplicas')} out of ${wanted} new replicas have been updated...`;
  if (n('replicas') > n('updatedReplicas')) return `Waiting for deployment "nginx" rollout to finish: ${n('replicas') - n('updatedReplicas')} old replicas are pending termination...`;
  if (n('availableReplicas') < n('updatedReplicas')) return `Waiting for deployment "nginx" rollout to finish: ${n('availableReplicas')} of ${n('updatedReplicas')} updated replicas are available...`;
  return 'successfully rolled out';
}

// ---------------------------------------------------------------------------------------------------

interface ItemsCase {
  name: string;
  binding?: KubeObject;
  works: KubeObject[];
  want: AggregatedStatusItem[];
}

const reportedStatus = (replicas: number) => ({ generation: 2, resourceTemplateGeneration: 5, observedGeneration: 2, replicas, updatedReplicas: replicas, readyReplicas: replicas, availableReplicas: replicas });

const itemsCases: ItemsCase[] = [
  {
    name: 'sorted by cluster name; applied items carry the reflected status and health',
    works: [reportingWork('member2', rolledOut(1)), reportingWork('member1', rolledOut(1))],
    want: [
      { clusterName: 'member1', status: reportedStatus(1), applied: true, health: 'Healthy' },
      { clusterName: 'member2', status: reportedStatus(1), applied: true, health: 'Healthy' },
    ],
  },
  {
    name: 'an Applied=False Work: applied false, its message, health Unknown, no status',
    works: [work('member1', { applied: { status: 'False', reason: 'AppliedFailed', message: 'deployments.apps "nginx" already exists in the cluster' } })],
    want: [{ clusterName: 'member1', applied: false, appliedMessage: 'deployments.apps "nginx" already exists in the cluster', health: 'Unknown' }],
  },
  {
    name: 'an Applied=Unknown Work counts as not applied, with its message',
    works: [work('member1', { applied: { status: 'Unknown', message: 'cluster member1 not ready' } })],
    want: [{ clusterName: 'member1', applied: false, appliedMessage: 'cluster member1 not ready', health: 'Unknown' }],
  },
  { name: 'a Work with no Applied condition yet: not applied, no message', works: [work('member1')], want: [{ clusterName: 'member1', applied: false, health: 'Unknown' }] },
  {
    name: 'applied, but the member object has not reported yet: health Unknown, no status',
    works: [work('member1', { applied: { status: 'True' } })],
    want: [{ clusterName: 'member1', applied: true, health: 'Unknown' }],
  },
  {
    name: 'only the manifest that is the template counts (ordinal, group, version, kind, namespace, name)',
    works: [
      work('member1', {
        applied: { status: 'True' },
        manifests: [{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'nginx', namespace: 'default' } }, deploymentManifest],
        manifestStatuses: [
          { identifier: { ordinal: 0, version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespace: 'default', name: 'nginx' }, status: { other: true }, health: 'Unhealthy' },
          { identifier: { ...deploymentIdentifier, ordinal: 0 }, status: { wrongOrdinal: true }, health: 'Unhealthy' },
          { identifier: { ...deploymentIdentifier, ordinal: 1 }, status: { replicas: 1 }, health: 'Healthy' },
        ],
      }),
    ],
    want: [{ clusterName: 'member1', status: { replicas: 1 }, applied: true, health: 'Healthy' }],
  },
  {
    name: 'a Work applied for an older Work generation: the health is not known yet (Flotilla)',
    works: [{ ...reportingWork('member1', rolledOut(1)), metadata: { name: 'nginx-687f7fb96f', namespace: 'karmada-es-member1', generation: 3 }, status: { conditions: [{ type: 'Applied', status: 'True', observedGeneration: 2 }], manifestStatuses: [manifestStatus(deploymentIdentifier, rolledOut(1))] } }],
    want: [{ clusterName: 'member1', status: reportedStatus(1), applied: true, health: 'Unknown' }],
  },
  {
    name: 'deleting Works and Works outside an execution namespace are left out',
    works: [work('member1', { applied: { status: 'True' }, deleting: true }), work('member2', { applied: { status: 'True' }, namespace: 'default' }), work('member3', { applied: { status: 'True' } })],
    want: [{ clusterName: 'member3', applied: true, health: 'Unknown' }],
  },
  { name: 'no Works yet: no items', works: [], want: [] },
];

t.test('aggregatedStatusItems', async (t) => {
  for (const c of itemsCases) t.strictSame(aggregatedStatusItems(c.binding ?? binding(), c.works), c.want, c.name);
});

// ---------------------------------------------------------------------------------------------------

const applied = (...clusters: string[]): AggregatedStatusItem[] => clusters.map((clusterName) => ({ clusterName, applied: true, health: 'Healthy' }));

interface FullyAppliedCase {
  name: string;
  spec?: Obj;
  items: AggregatedStatusItem[];
  want: 'True' | 'False';
}

const fullyAppliedCases: FullyAppliedCase[] = [
  { name: 'every scheduled cluster applied: True', items: applied('member1', 'member2'), want: 'True' },
  { name: 'a scheduled cluster not applied: False', items: [...applied('member1'), { clusterName: 'member2', applied: false, appliedMessage: 'boom', health: 'Unknown' }], want: 'False' },
  { name: 'a scheduled cluster without a Work yet: False', items: applied('member1'), want: 'False' },
  { name: 'a leftover Work on a cluster no longer scheduled: False', items: applied('member1', 'member2', 'member3'), want: 'False' },
  { name: 'not scheduled anywhere: False', spec: { clusters: [] }, items: [], want: 'False' },
  { name: 'a dependency binding expects the clusters of the bindings that require it', spec: { clusters: [], requiredBy: [{ namespace: 'default', name: 'app', clusters: [{ name: 'member1' }, { name: 'member2' }] }] }, items: applied('member1'), want: 'False' },
  { name: 'requiredBy clusters all applied: True', spec: { clusters: [], requiredBy: [{ namespace: 'default', name: 'app', clusters: [{ name: 'member1' }] }] }, items: applied('member1'), want: 'True' },
  { name: 'a cluster under graceful eviction (default purge mode) is still expected', spec: { gracefulEvictionTasks: [{ fromCluster: 'member3', reason: 'TaintUntolerated', producer: 'taint-manager' }] }, items: applied('member1', 'member2'), want: 'False' },
  { name: 'graceful eviction with purgeMode Gracefully, its Work still applied: True', spec: { gracefulEvictionTasks: [{ fromCluster: 'member3', purgeMode: 'Gracefully', reason: 'TaintUntolerated', producer: 'taint-manager' }] }, items: applied('member1', 'member2', 'member3'), want: 'True' },
  { name: 'eviction with purgeMode Directly is not expected', spec: { gracefulEvictionTasks: [{ fromCluster: 'member3', purgeMode: 'Directly', reason: 'TaintUntolerated', producer: 'taint-manager' }] }, items: applied('member1', 'member2'), want: 'True' },
];

t.test('fullyAppliedCondition', async (t) => {
  for (const c of fullyAppliedCases) {
    const condition = fullyAppliedCondition(binding(c.spec), c.items);
    t.strictSame(
      condition,
      c.want === 'True'
        ? { type: 'FullyApplied', status: 'True', reason: 'FullyAppliedSuccess', message: 'All works have been successfully applied' }
        : { type: 'FullyApplied', status: 'False', reason: 'FullyAppliedFailed', message: 'Failed to apply all works, see status.aggregatedStatus for details' },
      c.name,
    );
  }
});

// ---------------------------------------------------------------------------------------------------
// Deployments end to end: member objects → Work manifestStatuses → items → template status → kubectl.

/** The template status after every member reported, and what `kubectl rollout status` says of it. */
function federate(deploy: KubeObject, members: Record<string, KubeObject>): { status: Obj | undefined; rollout: string } {
  const works = Object.entries(members).map(([cluster, member]) => reportingWork(cluster, member));
  const items = aggregatedStatusItems(binding({ clusters: Object.keys(members).map((name) => ({ name })) }), works);
  const status = aggregateTemplateStatus(deploy, items);
  return { status, rollout: rolloutStatus(deploy, status) };
}

t.test('Deployment template status and kubectl rollout status', async (t) => {
  const divided = federate(template(2, 5, { observedGeneration: 4 }), { member1: rolledOut(1), member2: rolledOut(1) });
  t.strictSame(divided.status, { observedGeneration: 5, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2 }, 'Divided 1/1: counters summed, generation observed');
  t.equal(divided.rollout, 'successfully rolled out', 'Divided 1/1: rollout status completes once both members are up to date');

  const duplicated = federate(template(2, 5), { member1: rolledOut(2), member2: rolledOut(2) });
  t.equal(duplicated.status?.['replicas'], 4, 'Duplicated 2 over 2 members: status.replicas is 4');
  t.equal(duplicated.rollout, 'successfully rolled out', 'Duplicated: rollout status still completes');

  const memberBehind = memberDeployment(1, { observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 }, 3, 6);
  const behind = federate(template(2, 6, { observedGeneration: 5, replicas: 2 }), { member1: rolledOut(1, 3, 6), member2: memberBehind });
  t.equal(behind.status?.['observedGeneration'], 5, 'a member that has not observed its new generation keeps the old observedGeneration');
  t.equal(behind.rollout, 'Waiting for deployment spec update to be observed...', 'so rollout status waits');

  const stale = federate(template(2, 6, { observedGeneration: 5 }), { member1: rolledOut(1, 3, 6), member2: rolledOut(1, 2, 5) });
  t.equal(stale.status?.['observedGeneration'], 5, 'a member still built from the previous template generation keeps it too');

  const rolling = federate(template(2, 6, { observedGeneration: 5 }), {
    member1: rolledOut(1, 3, 6),
    member2: memberDeployment(1, { observedGeneration: 3, replicas: 2, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1, unavailableReplicas: 1 }, 3, 6),
  });
  t.strictSame(rolling.status, { observedGeneration: 6, replicas: 3, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, unavailableReplicas: 1 }, 'mid-rollout: observed, old replica still counted');
  t.equal(rolling.rollout, 'Waiting for deployment "nginx" rollout to finish: 1 old replicas are pending termination...', 'rollout status waits for the old replica');
});

interface TemplateCase {
  name: string;
  template: KubeObject;
  items: AggregatedStatusItem[];
  want: Obj | undefined;
}

const item = (clusterName: string, status?: Obj): AggregatedStatusItem => ({ clusterName, ...(status ? { status } : {}), applied: true, health: 'Healthy' });
const notApplied = (clusterName: string): AggregatedStatusItem => ({ clusterName, applied: false, appliedMessage: 'boom', health: 'Unknown' });
const kind = (apiVersion: string, kindName: string, parts: { generation?: number; spec?: Obj; status?: Obj } = {}): KubeObject => ({
  apiVersion,
  kind: kindName,
  metadata: { name: 'x', namespace: 'default', ...(parts.generation !== undefined ? { generation: parts.generation } : {}) },
  ...(parts.spec ? { spec: parts.spec } : {}),
  ...(parts.status ? { status: parts.status } : {}),
});

const NOW = new Date('2026-11-22T12:00:00Z');
const stamp = { lastProbeTime: '2026-11-22T12:00:00Z', lastTransitionTime: '2026-11-22T12:00:00Z' };
const jobDone = (type: 'Complete' | 'Failed', extra: Obj = {}): Obj => ({ conditions: [{ type, status: 'True' }], ...extra });

const templateCases: TemplateCase[] = [
  {
    name: 'Deployment: a cluster without a status (not applied) keeps observedGeneration; the others are still summed',
    template: template(2, 5, { observedGeneration: 4 }),
    items: [item('member1', reportedStatus(1)), notApplied('member2')],
    want: { observedGeneration: 4, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 },
  },
  {
    name: 'Deployment: conditions and collisionCount are kept; counters that sum to 0 are dropped',
    template: template(2, 5, { observedGeneration: 4, replicas: 2, unavailableReplicas: 2, conditions: [{ type: 'Available', status: 'True' }], collisionCount: 0 }),
    items: [item('member1', reportedStatus(1)), item('member2', reportedStatus(1))],
    want: { observedGeneration: 5, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, conditions: [{ type: 'Available', status: 'True' }], collisionCount: 0 },
  },
  {
    name: 'Deployment already up to date: the status is left exactly as it is',
    template: template(2, 5, { observedGeneration: 5, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, note: 'kept' }),
    items: [item('member1', reportedStatus(1)), item('member2', reportedStatus(1))],
    want: { observedGeneration: 5, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, note: 'kept' },
  },
  {
    name: 'ReplicaSet: summed, replicas written even when 0',
    template: kind('apps/v1', 'ReplicaSet', { generation: 2, status: { replicas: 3, observedGeneration: 1 } }),
    items: [item('a', { generation: 1, resourceTemplateGeneration: 2, replicas: 0, observedGeneration: 1 }), item('b', { generation: 1, resourceTemplateGeneration: 2, replicas: 0, observedGeneration: 1 })],
    want: { replicas: 0, observedGeneration: 2 },
  },
  {
    name: 'StatefulSet: summed; observedGeneration moves once every member observed the current template generation',
    template: kind('apps/v1', 'StatefulSet', { generation: 3, status: { observedGeneration: 2, currentRevision: 'web-1' } }),
    items: [
      item('a', { generation: 2, resourceTemplateGeneration: 3, observedGeneration: 2, replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, availableReplicas: 2 }),
      item('b', { generation: 4, resourceTemplateGeneration: 3, observedGeneration: 4, replicas: 1, readyReplicas: 1, currentReplicas: 1, updatedReplicas: 1, availableReplicas: 1 }),
    ],
    want: { observedGeneration: 3, replicas: 3, readyReplicas: 3, currentReplicas: 3, updatedReplicas: 3, currentRevision: 'web-1', availableReplicas: 3 },
  },
  {
    name: 'StatefulSet: a member built from an older template keeps the old observedGeneration',
    template: kind('apps/v1', 'StatefulSet', { generation: 3, status: { observedGeneration: 2 } }),
    items: [item('a', { generation: 2, resourceTemplateGeneration: 2, observedGeneration: 2, replicas: 1, availableReplicas: 1 })],
    want: { observedGeneration: 2, replicas: 1, availableReplicas: 1 },
  },
  {
    name: 'DaemonSet: every counter summed, the scheduling four written even when 0',
    template: kind('apps/v1', 'DaemonSet', { generation: 1 }),
    items: [
      item('a', { generation: 1, resourceTemplateGeneration: 1, currentNumberScheduled: 2, numberMisscheduled: 0, desiredNumberScheduled: 2, numberReady: 2, observedGeneration: 1, updatedNumberScheduled: 2, numberAvailable: 2 }),
      item('b', { generation: 1, resourceTemplateGeneration: 1, currentNumberScheduled: 3, numberMisscheduled: 0, desiredNumberScheduled: 3, numberReady: 1, observedGeneration: 1, updatedNumberScheduled: 3, numberAvailable: 1, numberUnavailable: 2 }),
    ],
    want: { currentNumberScheduled: 5, numberMisscheduled: 0, desiredNumberScheduled: 5, numberReady: 3, observedGeneration: 1, updatedNumberScheduled: 5, numberAvailable: 3, numberUnavailable: 2 },
  },
  {
    name: 'Service LoadBalancer: addresses merged, duplicates folded with their ports, hostnames first, conditions replaced',
    template: kind('v1', 'Service', { spec: { type: 'LoadBalancer' }, status: { conditions: [{ type: 'old' }] } }),
    items: [
      item('a', { loadBalancer: { ingress: [{ ip: '10.0.0.2', ports: [{ port: 443, protocol: 'TCP' }] }, { ip: '10.0.0.1' }] } }),
      item('b', { loadBalancer: { ingress: [{ ip: '10.0.0.2', ports: [{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }] }, { hostname: 'lb.example.com' }] } }),
      item('c'),
    ],
    want: { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }, { ip: '10.0.0.1' }, { ip: '10.0.0.2', ports: [{ port: 80, protocol: 'TCP' }, { port: 443, protocol: 'TCP' }] }] } },
  },
  {
    name: 'Service of another type: left as it is',
    template: kind('v1', 'Service', { spec: { type: 'ClusterIP' }, status: { loadBalancer: {} } }),
    items: [item('a', { loadBalancer: { ingress: [{ ip: '10.0.0.1' }] } })],
    want: { loadBalancer: {} },
  },
  {
    name: 'Ingress: addresses merged and sorted',
    template: kind('networking.k8s.io/v1', 'Ingress'),
    items: [item('a', { loadBalancer: { ingress: [{ ip: '192.168.1.9' }] } }), item('b', { loadBalancer: { ingress: [{ ip: '192.168.1.3' }, { ip: '192.168.1.9' }] } })],
    want: { loadBalancer: { ingress: [{ ip: '192.168.1.3' }, { ip: '192.168.1.9' }] } },
  },
  {
    name: 'Job: Complete only when every member completed; earliest start, latest completion; counters summed',
    template: kind('batch/v1', 'Job'),
    items: [
      item('a', jobDone('Complete', { startTime: '2026-11-22T10:00:00Z', completionTime: '2026-11-22T10:05:00Z', succeeded: 1 })),
      item('b', jobDone('Complete', { startTime: '2026-11-22T09:58:00Z', completionTime: '2026-11-22T10:07:00Z', succeeded: 2 })),
    ],
    want: { conditions: [{ type: 'Complete', status: 'True', ...stamp, reason: 'Completed', message: 'Job completed' }], startTime: '2026-11-22T09:58:00Z', completionTime: '2026-11-22T10:07:00Z', succeeded: 3 },
  },
  {
    name: 'Job: one member still running: no Complete, no completionTime',
    template: kind('batch/v1', 'Job'),
    items: [item('a', jobDone('Complete', { startTime: '2026-11-22T10:00:00Z', completionTime: '2026-11-22T10:05:00Z', succeeded: 1 })), item('b', { startTime: '2026-11-22T10:01:00Z', active: 1 })],
    want: { startTime: '2026-11-22T10:00:00Z', active: 1, succeeded: 1 },
  },
  {
    name: 'Job: Failed as soon as any member failed, naming the clusters',
    template: kind('batch/v1', 'Job'),
    items: [item('a', jobDone('Failed', { failed: 2 })), item('b', { active: 1 }), item('c', jobDone('Failed', { failed: 1 }))],
    want: { conditions: [{ type: 'Failed', status: 'True', ...stamp, reason: 'JobFailed', message: 'Job executed failed in member clusters a,c' }], active: 1, failed: 3 },
  },
  {
    name: 'Job: SuccessCriteriaMet once every member met it',
    template: kind('batch/v1', 'Job'),
    items: [item('a', { conditions: [{ type: 'SuccessCriteriaMet', status: 'True' }, { type: 'Complete', status: 'True' }], succeeded: 1 })],
    want: {
      conditions: [
        { type: 'Complete', status: 'True', ...stamp, reason: 'Completed', message: 'Job completed' },
        { type: 'SuccessCriteriaMet', status: 'True', ...stamp, reason: 'CompletionsReached', message: 'All member clusters have met success criteria' },
      ],
      succeeded: 1,
    },
  },
  {
    name: 'Job: a member not reporting yet blocks start time and completion',
    template: kind('batch/v1', 'Job'),
    items: [item('a', jobDone('Complete', { startTime: '2026-11-22T10:00:00Z', completionTime: '2026-11-22T10:05:00Z', succeeded: 1 })), notApplied('b')],
    want: { succeeded: 1 },
  },
  {
    name: 'Job: the template keeps the start time it has',
    template: kind('batch/v1', 'Job', { status: { startTime: '2026-11-22T08:00:00Z', active: 2 } }),
    items: [item('a', { startTime: '2026-11-22T10:00:00Z', active: 1 })],
    want: { startTime: '2026-11-22T08:00:00Z', active: 1 },
  },
  {
    name: 'Job: once the template finished it is never touched again',
    template: kind('batch/v1', 'Job', { status: { conditions: [{ type: 'Failed', status: 'True', reason: 'JobFailed' }], failed: 1 } }),
    items: [item('a', jobDone('Complete', { succeeded: 5 }))],
    want: { conditions: [{ type: 'Failed', status: 'True', reason: 'JobFailed' }], failed: 1 },
  },
  {
    name: 'CronJob: active jobs joined, the latest schedule and success times',
    template: kind('batch/v1', 'CronJob'),
    items: [
      item('a', { active: [{ kind: 'Job', name: 'x-1', namespace: 'default' }], lastScheduleTime: '2026-11-22T10:00:00Z', lastSuccessfulTime: '2026-11-22T09:00:00Z' }),
      item('b', { active: [{ kind: 'Job', name: 'x-2', namespace: 'default' }], lastScheduleTime: '2026-11-22T11:00:00Z' }),
    ],
    want: { active: [{ kind: 'Job', name: 'x-1', namespace: 'default' }, { kind: 'Job', name: 'x-2', namespace: 'default' }], lastScheduleTime: '2026-11-22T11:00:00Z', lastSuccessfulTime: '2026-11-22T09:00:00Z' },
  },
  {
    name: 'Pod: the worst phase wins (Failed > Pending > Running > Succeeded); container readiness and state kept',
    template: kind('v1', 'Pod', { status: { phase: 'Pending', podIP: '10.0.0.1' } }),
    items: [
      item('a', { phase: 'Running', containerStatuses: [{ name: 'nginx', ready: true, restartCount: 3, image: 'nginx', imageID: 'sha', state: { running: { startedAt: '2026-11-22T10:00:00Z' } } }] }),
      item('b', { phase: 'Succeeded' }),
    ],
    want: { phase: 'Running', containerStatuses: [{ name: '', state: { running: { startedAt: '2026-11-22T10:00:00Z' } }, lastState: {}, ready: true, restartCount: 0, image: '', imageID: '' }] },
  },
  {
    name: 'Pod: a member that has not reported counts as Pending',
    template: kind('v1', 'Pod'),
    items: [item('a', { phase: 'Running' }), item('b')],
    want: { phase: 'Pending' },
  },
  { name: 'Pod: a failed member makes the Pod Failed', template: kind('v1', 'Pod'), items: [item('a', { phase: 'Pending' }), item('b', { phase: 'Failed' })], want: { phase: 'Failed' } },
  { name: 'Pod with no items: left as it is', template: kind('v1', 'Pod', { status: { phase: 'Running' } }), items: [], want: { phase: 'Running' } },
  {
    name: 'PersistentVolume: Failed > Pending > Available > Bound > Released',
    template: kind('v1', 'PersistentVolume', { status: { phase: 'Released', message: 'old' } }),
    items: [item('a', { phase: 'Bound' }), item('b', { phase: 'Available' })],
    want: { phase: 'Available' },
  },
  { name: 'PersistentVolumeClaim: Bound only when every member is', template: kind('v1', 'PersistentVolumeClaim', { status: { phase: 'Pending', capacity: { storage: '1Gi' } } }), items: [item('a', { phase: 'Bound' }), item('b', { phase: 'Bound' })], want: { phase: 'Bound' } },
  { name: 'PersistentVolumeClaim: a Lost member makes it Lost', template: kind('v1', 'PersistentVolumeClaim'), items: [item('a', { phase: 'Pending' }), item('b', { phase: 'Lost' }), item('c', { phase: 'Bound' })], want: { phase: 'Lost' } },
  { name: 'PersistentVolumeClaim: a Pending member makes it Pending', template: kind('v1', 'PersistentVolumeClaim'), items: [item('a', { phase: 'Bound' }), item('b', { phase: 'Pending' })], want: { phase: 'Pending' } },
  {
    name: 'PodDisruptionBudget: counters summed, disrupted pods named by cluster',
    template: kind('policy/v1', 'PodDisruptionBudget', { status: { observedGeneration: 1, currentHealthy: 1, desiredHealthy: 1, disruptionsAllowed: 1, expectedPods: 1 } }),
    items: [
      item('member1', { disruptedPods: { 'pod-1234': '2026-11-22T10:00:00Z' }, disruptionsAllowed: 0, currentHealthy: 0, desiredHealthy: 1, expectedPods: 1 }),
      item('member2', { disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1 }),
    ],
    want: { disruptedPods: { 'member1/pod-1234': '2026-11-22T10:00:00Z' }, disruptionsAllowed: 1, currentHealthy: 1, desiredHealthy: 2, expectedPods: 2 },
  },
  {
    name: 'HorizontalPodAutoscaler (autoscaling/v2): current and desired replicas summed',
    template: kind('autoscaling/v2', 'HorizontalPodAutoscaler', { status: { currentReplicas: 1, desiredReplicas: 1, currentMetrics: [] } }),
    items: [item('a', { currentReplicas: 2, desiredReplicas: 3 }), item('b', { currentReplicas: 1, desiredReplicas: 1 })],
    want: { currentReplicas: 3, desiredReplicas: 4 },
  },
  { name: 'a kind without an aggregator (ConfigMap): undefined, the template is left alone', template: kind('v1', 'ConfigMap'), items: [item('a', { anything: 1 })], want: undefined },
  { name: 'a custom resource: undefined', template: kind('example.io/v1', 'Widget', { status: { phase: 'Up' } }), items: [item('a', { phase: 'Down' })], want: undefined },
  { name: 'a member status that does not decode: undefined, the template is left alone', template: template(2, 5, { observedGeneration: 4 }), items: [item('a', { replicas: 'two' })], want: undefined },
];

t.test('aggregateTemplateStatus', async (t) => {
  for (const c of templateCases) t.strictSame(aggregateTemplateStatus(c.template, c.items, NOW), c.want, c.name);
});

t.test('aggregateTemplateStatus does not change its inputs', async (t) => {
  const deploy = template(2, 5, { observedGeneration: 4, conditions: [{ type: 'Available', status: 'True' }] });
  const before = structuredClone(deploy);
  const items = [item('member1', reportedStatus(1)), item('member2', reportedStatus(1))];
  const itemsBefore = structuredClone(items);
  const status = aggregateTemplateStatus(deploy, items, NOW) as { conditions: Obj[] };
  status.conditions.push({ type: 'Progressing' });
  t.strictSame(deploy, before, 'the template is untouched');
  t.strictSame(items, itemsBefore, 'the items are untouched');
});
