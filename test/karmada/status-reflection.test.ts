import t from 'tap';
import type { KubeObject } from '../../src/api/object.js';
import { interpretHealth, manifestStatus, reflectStatus } from '../../src/karmada/status-reflection.js';
import type { Health } from '../../src/karmada/status-reflection.js';

/**
 * What a member object reports to its Work (karmada-api.md §2.6, §4.4; Karmada's reflectstatus.go,
 * healthy.go and the work-status controller): the reflected status, its health, the manifestStatuses entry.
 */

type Obj = Record<string, unknown>;

const object = (apiVersion: string, kind: string, parts: { generation?: number; templateGeneration?: string; spec?: Obj; status?: unknown } = {}): KubeObject => ({
  apiVersion,
  kind,
  metadata: {
    name: 'web',
    namespace: 'default',
    ...(parts.generation !== undefined ? { generation: parts.generation } : {}),
    ...(parts.templateGeneration !== undefined ? { annotations: { 'resourcetemplate.karmada.io/generation': parts.templateGeneration } } : {}),
  },
  ...(parts.spec ? { spec: parts.spec } : {}),
  ...(parts.status !== undefined ? { status: parts.status } : {}),
});

/** templateGeneration null: the manifest carries no template-generation annotation. */
const deployment = (status: unknown, generation = 2, templateGeneration: string | null = '5', replicas?: number) =>
  object('apps/v1', 'Deployment', { generation, ...(templateGeneration !== null ? { templateGeneration } : {}), ...(replicas !== undefined ? { spec: { replicas } } : {}), status });

interface ReflectCase {
  name: string;
  object: KubeObject;
  want: Obj | undefined;
  /** The JSON text exactly, where Karmada's field order is part of what is checked. */
  json?: string;
}

const reflectCases: ReflectCase[] = [
  {
    name: 'Deployment: the wrapper generations first, then the counters Karmada keeps, in its order; zeros left out',
    object: deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, unavailableReplicas: 0, conditions: [{ type: 'Available', status: 'True' }], collisionCount: 1 }),
    want: { generation: 2, resourceTemplateGeneration: 5, observedGeneration: 2, replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3 },
    json: '{"generation":2,"resourceTemplateGeneration":5,"observedGeneration":2,"replicas":3,"updatedReplicas":3,"readyReplicas":3,"availableReplicas":3}',
  },
  { name: 'Deployment without a status: nothing to reflect', object: deployment(undefined), want: undefined },
  { name: 'Deployment with an empty status still carries its generations', object: deployment({}), want: { generation: 2, resourceTemplateGeneration: 5 } },
  { name: 'Deployment with an empty status and no generations: nothing collected yet', object: deployment({}, 0, '0'), want: undefined },
  { name: 'Deployment without the template-generation annotation: resourceTemplateGeneration left out', object: deployment({ replicas: 1 }, 2, null), want: { generation: 2, replicas: 1 } },
  { name: 'Deployment with a non-integer template-generation annotation: read as 0', object: deployment({ replicas: 1 }, 2, 'five'), want: { generation: 2, replicas: 1 } },
  { name: 'Deployment whose status does not decode (replicas a string): nothing reflected', object: deployment({ replicas: '3' }), want: undefined },
  {
    name: 'ReplicaSet: replicas always written, even 0',
    object: object('apps/v1', 'ReplicaSet', { generation: 1, templateGeneration: '1', status: { replicas: 0, fullyLabeledReplicas: 0, observedGeneration: 1 } }),
    want: { generation: 1, resourceTemplateGeneration: 1, replicas: 0, observedGeneration: 1 },
  },
  {
    name: 'StatefulSet: counters with replicas and availableReplicas always written; observedGeneration kept; revisions dropped',
    object: object('apps/v1', 'StatefulSet', { generation: 3, templateGeneration: '7', status: { observedGeneration: 3, replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, availableReplicas: 0, currentRevision: 'web-1', updateRevision: 'web-1' } }),
    want: { generation: 3, resourceTemplateGeneration: 7, observedGeneration: 3, replicas: 2, readyReplicas: 2, currentReplicas: 2, updatedReplicas: 2, availableReplicas: 0 },
    json: '{"generation":3,"resourceTemplateGeneration":7,"observedGeneration":3,"replicas":2,"readyReplicas":2,"currentReplicas":2,"updatedReplicas":2,"availableReplicas":0}',
  },
  {
    name: 'DaemonSet: the four scheduling counters always written, the rest only when set',
    object: object('apps/v1', 'DaemonSet', { generation: 1, templateGeneration: '1', status: { currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0, conditions: [] } }),
    want: { generation: 1, resourceTemplateGeneration: 1, currentNumberScheduled: 0, numberMisscheduled: 0, desiredNumberScheduled: 0, numberReady: 0 },
  },
  {
    name: 'Service of type LoadBalancer: its load balancer only (conditions dropped, unknown ingress fields dropped)',
    object: object('v1', 'Service', { spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ip: '10.0.0.1', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }], vendor: 'x' }] }, conditions: [{ type: 'x' }] } }),
    want: { loadBalancer: { ingress: [{ ip: '10.0.0.1', ipMode: 'VIP', ports: [{ port: 80, protocol: 'TCP' }] }] } },
  },
  { name: 'Service of type LoadBalancer with no address yet: an empty load balancer', object: object('v1', 'Service', { spec: { type: 'LoadBalancer' }, status: {} }), want: { loadBalancer: {} } },
  { name: 'Service of type ClusterIP: nothing', object: object('v1', 'Service', { spec: { type: 'ClusterIP' }, status: { loadBalancer: {} } }), want: undefined },
  { name: 'Service without spec.type: nothing', object: object('v1', 'Service', { spec: {}, status: { loadBalancer: {} } }), want: undefined },
  { name: 'Service of type LoadBalancer without a status: nothing', object: object('v1', 'Service', { spec: { type: 'LoadBalancer' } }), want: undefined },
  {
    name: 'Ingress: the whole status',
    object: object('networking.k8s.io/v1', 'Ingress', { status: { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] } } }),
    want: { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] } },
  },
  {
    name: 'Job: conditions, times (as Kubernetes writes them) and counters; ready and uncounted pods dropped',
    object: object('batch/v1', 'Job', {
      status: { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: '2026-11-22T10:00:00.000Z' }], startTime: '2026-11-22T11:59:00+02:00', completionTime: '2026-11-22T10:00:00Z', succeeded: 1, ready: 0, uncountedTerminatedPods: {} },
    }),
    want: { conditions: [{ type: 'Complete', status: 'True', lastTransitionTime: '2026-11-22T10:00:00Z' }], startTime: '2026-11-22T09:59:00Z', completionTime: '2026-11-22T10:00:00Z', succeeded: 1 },
  },
  { name: 'Job with an empty status: an empty status', object: object('batch/v1', 'Job', { status: {} }), want: {} },
  {
    name: 'PodDisruptionBudget: the four counters always, disrupted pods when any; observedGeneration and conditions dropped',
    object: object('policy/v1', 'PodDisruptionBudget', { status: { observedGeneration: 4, disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2, expectedPods: 2, conditions: [{ type: 'DisruptionAllowed' }] } }),
    want: { disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 2, expectedPods: 2 },
  },
  {
    name: 'HorizontalPodAutoscaler (autoscaling/v2): current and desired replicas only',
    object: object('autoscaling/v2', 'HorizontalPodAutoscaler', { status: { currentReplicas: 2, desiredReplicas: 3, currentMetrics: [{ type: 'Resource' }], conditions: [{ type: 'AbleToScale' }] } }),
    want: { currentReplicas: 2, desiredReplicas: 3 },
  },
  {
    name: 'HorizontalPodAutoscaler in autoscaling/v1 has no native reflection: the whole status',
    object: object('autoscaling/v1', 'HorizontalPodAutoscaler', { status: { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 40 } }),
    want: { currentReplicas: 2, desiredReplicas: 3, currentCPUUtilizationPercentage: 40 },
  },
  { name: 'a Pod: the whole status', object: object('v1', 'Pod', { status: { phase: 'Running', podIP: '10.1.0.4' } }), want: { phase: 'Running', podIP: '10.1.0.4' } },
  { name: 'a custom resource with an empty status: the empty status', object: object('example.io/v1', 'Widget', { status: {} }), want: {} },
  { name: 'a ConfigMap (no status): nothing', object: object('v1', 'ConfigMap'), want: undefined },
];

t.test('reflectStatus', async (t) => {
  for (const c of reflectCases) {
    const got = reflectStatus(c.object);
    t.strictSame(got, c.want, c.name);
    if (c.json !== undefined) t.equal(JSON.stringify(got), c.json, `${c.name} (field order)`);
  }
});

t.test('reflectStatus does not share the member object', async (t) => {
  const member = object('example.io/v1', 'Widget', { status: { nested: { phase: 'Up' } } });
  const reflected = reflectStatus(member) as { nested: Obj };
  reflected.nested['phase'] = 'Down';
  t.strictSame(member['status'], { nested: { phase: 'Up' } }, 'the member object is untouched');
});

interface HealthCase {
  name: string;
  object: KubeObject;
  want: Health;
}

const healthCases: HealthCase[] = [
  { name: 'Deployment rolled out: Healthy', object: deployment({ observedGeneration: 2, updatedReplicas: 3, availableReplicas: 3 }, 2, '5', 3), want: 'Healthy' },
  { name: 'Deployment whose generation is not observed yet: Unhealthy', object: deployment({ observedGeneration: 1, updatedReplicas: 3, availableReplicas: 3 }, 2, '5', 3), want: 'Unhealthy' },
  { name: 'Deployment with fewer updated replicas than spec.replicas: Unhealthy', object: deployment({ observedGeneration: 2, updatedReplicas: 2, availableReplicas: 2 }, 2, '5', 3), want: 'Unhealthy' },
  { name: 'Deployment with updated replicas not all available: Unhealthy', object: deployment({ observedGeneration: 2, updatedReplicas: 3, availableReplicas: 2 }, 2, '5', 3), want: 'Unhealthy' },
  { name: 'Deployment without spec.replicas: only generation and availability count', object: deployment({ observedGeneration: 2 }, 2, '5'), want: 'Healthy' },
  { name: 'Deployment whose status does not decode: Unknown', object: deployment({ observedGeneration: 'two' }, 2, '5', 1), want: 'Unknown' },
  { name: 'StatefulSet rolled out: Healthy', object: object('apps/v1', 'StatefulSet', { generation: 1, spec: { replicas: 2 }, status: { observedGeneration: 1, updatedReplicas: 2, availableReplicas: 2 } }), want: 'Healthy' },
  { name: 'StatefulSet with an updated replica not available: Unhealthy', object: object('apps/v1', 'StatefulSet', { generation: 1, spec: { replicas: 2 }, status: { observedGeneration: 1, updatedReplicas: 2, availableReplicas: 1 } }), want: 'Unhealthy' },
  { name: 'ReplicaSet with spec.replicas available: Healthy', object: object('apps/v1', 'ReplicaSet', { generation: 1, spec: { replicas: 2 }, status: { observedGeneration: 1, availableReplicas: 2 } }), want: 'Healthy' },
  { name: 'ReplicaSet short of available replicas: Unhealthy', object: object('apps/v1', 'ReplicaSet', { generation: 1, spec: { replicas: 2 }, status: { observedGeneration: 1, availableReplicas: 1 } }), want: 'Unhealthy' },
  { name: 'DaemonSet updated on every desired node and available: Healthy', object: object('apps/v1', 'DaemonSet', { generation: 1, status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 } }), want: 'Healthy' },
  { name: 'DaemonSet not yet updated everywhere: Unhealthy', object: object('apps/v1', 'DaemonSet', { generation: 1, status: { observedGeneration: 1, desiredNumberScheduled: 3, updatedNumberScheduled: 2, numberAvailable: 2 } }), want: 'Unhealthy' },
  { name: 'Service of type ClusterIP: Healthy', object: object('v1', 'Service', { spec: { type: 'ClusterIP' } }), want: 'Healthy' },
  { name: 'Service of type LoadBalancer without an address: Unhealthy', object: object('v1', 'Service', { spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ ports: [{ port: 80, protocol: 'TCP' }] }] } } }), want: 'Unhealthy' },
  { name: 'Service of type LoadBalancer with a hostname: Healthy', object: object('v1', 'Service', { spec: { type: 'LoadBalancer' }, status: { loadBalancer: { ingress: [{ hostname: 'lb.example.com' }] } } }), want: 'Healthy' },
  { name: 'Ingress with an ip: Healthy', object: object('networking.k8s.io/v1', 'Ingress', { status: { loadBalancer: { ingress: [{ ip: '10.0.0.9' }] } } }), want: 'Healthy' },
  { name: 'Ingress without an address: Unhealthy', object: object('networking.k8s.io/v1', 'Ingress', { status: { loadBalancer: {} } }), want: 'Unhealthy' },
  { name: 'PersistentVolumeClaim Bound: Healthy', object: object('v1', 'PersistentVolumeClaim', { status: { phase: 'Bound' } }), want: 'Healthy' },
  { name: 'PersistentVolumeClaim Pending: Unhealthy', object: object('v1', 'PersistentVolumeClaim', { status: { phase: 'Pending' } }), want: 'Unhealthy' },
  { name: 'Pod Succeeded: Healthy', object: object('v1', 'Pod', { status: { phase: 'Succeeded' } }), want: 'Healthy' },
  { name: 'Pod Running and Ready: Healthy', object: object('v1', 'Pod', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }), want: 'Healthy' },
  { name: 'Pod Running but not Ready: Unhealthy', object: object('v1', 'Pod', { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'False' }] } }), want: 'Unhealthy' },
  { name: 'Pod Pending with a Ready condition: Unhealthy', object: object('v1', 'Pod', { status: { phase: 'Pending', conditions: [{ type: 'Ready', status: 'True' }] } }), want: 'Unhealthy' },
  { name: 'PodDisruptionBudget with enough healthy pods: Healthy', object: object('policy/v1', 'PodDisruptionBudget', { status: { currentHealthy: 2, desiredHealthy: 2 } }), want: 'Healthy' },
  { name: 'PodDisruptionBudget short of healthy pods: Unhealthy', object: object('policy/v1', 'PodDisruptionBudget', { status: { currentHealthy: 1, desiredHealthy: 2 } }), want: 'Unhealthy' },
  { name: 'a Job (no native health rule): Healthy', object: object('batch/v1', 'Job', { status: { failed: 3 } }), want: 'Healthy' },
  { name: 'a custom resource: Healthy', object: object('example.io/v1', 'Widget', { status: { phase: 'Broken' } }), want: 'Healthy' },
];

t.test('interpretHealth', async (t) => {
  for (const c of healthCases) t.equal(interpretHealth(c.object), c.want, c.name);
});

t.test('manifestStatus: one manifestStatuses entry', async (t) => {
  const member = deployment({ observedGeneration: 2, replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 }, 2, '5', 1);
  const entry = manifestStatus({ ordinal: 0, group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'default', name: 'web' }, member);
  t.equal(
    JSON.stringify(entry),
    '{"identifier":{"ordinal":0,"group":"apps","version":"v1","kind":"Deployment","resource":"deployments","namespace":"default","name":"web"},' +
      '"status":{"generation":2,"resourceTemplateGeneration":5,"observedGeneration":2,"replicas":1,"updatedReplicas":1,"readyReplicas":1,"availableReplicas":1},"health":"Healthy"}',
    'identifier, reflected status and health, in Karmada order',
  );

  const namespaceObject: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'team-a' } };
  t.strictSame(
    manifestStatus({ ordinal: 1, group: '', version: 'v1', kind: 'Namespace', resource: 'namespaces', namespace: '', name: 'team-a' }, namespaceObject),
    { identifier: { ordinal: 1, version: 'v1', kind: 'Namespace', resource: 'namespaces', name: 'team-a' }, health: 'Healthy' },
    'core group and cluster scope: group and namespace left out; no status, no status field',
  );

  // A list item from a member apiserver has no apiVersion/kind: the identifier says what it is.
  const listItem: KubeObject = { metadata: { name: 'web', namespace: 'default', generation: 2, annotations: { 'resourcetemplate.karmada.io/generation': '5' } }, spec: { replicas: 2 }, status: { observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 } };
  t.strictSame(
    manifestStatus({ ordinal: 0, group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'default', name: 'web' }, listItem),
    {
      identifier: { ordinal: 0, group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'default', name: 'web' },
      status: { generation: 2, resourceTemplateGeneration: 5, observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 1 },
      health: 'Unhealthy',
    },
    'an object without apiVersion/kind is reflected and judged as the identifier kind',
  );
});
