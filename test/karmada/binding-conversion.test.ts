import t from 'tap';
import type { KubeObject } from '../../src/api/object.js';
import { bindingFromV1alpha1, bindingToV1alpha1 } from '../../src/karmada/binding-conversion.js';

const metadata = () => ({
  name: 'nginx-deployment',
  namespace: 'default',
  uid: '6f1c2a0e-3d4b-4c5d-8e9f-0a1b2c3d4e5f',
  resourceVersion: '42',
  generation: 3,
  creationTimestamp: '2026-08-01T10:00:00Z',
  labels: { 'propagationpolicy.karmada.io/permanent-id': 'a4c2f7d0-1111-4222-8333-944455556666' },
  annotations: { 'propagationpolicy.karmada.io/name': 'nginx-propagation', 'propagationpolicy.karmada.io/namespace': 'default' },
  finalizers: ['karmada.io/binding-controller'],
});

const condition = (type: string, status: string, reason: string) => ({ type, status, reason, message: `${type} is ${status}`, lastTransitionTime: '2026-08-01T10:00:05Z', observedGeneration: 3 });

/** A v1alpha2 ResourceBinding using most of what v1alpha2 has. */
const stored = (): KubeObject => ({
  apiVersion: 'work.karmada.io/v1alpha2',
  kind: 'ResourceBinding',
  metadata: metadata(),
  spec: {
    resource: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'nginx', uid: '0b9e8d7c-aaaa-4bbb-8ccc-dddddddddddd', resourceVersion: '1001' },
    propagateDeps: true,
    replicaRequirements: {
      nodeClaim: { nodeSelector: { disktype: 'ssd' }, tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }] },
      resourceRequest: { cpu: '250m', memory: '64Mi' },
      namespace: 'default',
      priorityClassName: 'high',
    },
    replicas: 3,
    components: [{ name: 'main', replicas: 3 }],
    clusters: [{ name: 'member1', replicas: 2, components: [{ name: 'main', replicas: 2 }] }, { name: 'member2', replicas: 1 }],
    placement: { clusterAffinity: { clusterNames: ['member1', 'member2'] }, replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted' } },
    gracefulEvictionTasks: [{ fromCluster: 'member3', reason: 'TaintUntolerated', producer: 'taint-manager', purgeMode: 'Gracefully', replicas: 1 }],
    requiredBy: [{ namespace: 'default', name: 'other-deployment', clusters: [{ name: 'member1' }] }],
    schedulerName: 'default-scheduler',
    failover: { application: { decisionConditions: { tolerationSeconds: 300 }, purgeMode: 'Gracefully' } },
    conflictResolution: 'Abort',
    rescheduleTriggeredAt: '2026-08-01T09:00:00Z',
    suspension: { scheduling: false, dispatching: false },
    preserveResourcesOnDeletion: false,
    schedulePriority: { priority: 5 },
  },
  status: {
    schedulerObservedGeneration: 3,
    schedulerObservingAffinityName: 'primary',
    lastScheduledTime: '2026-08-01T10:00:04Z',
    conditions: [condition('Scheduled', 'True', 'Success'), condition('FullyApplied', 'True', 'FullyAppliedSuccess')],
    aggregatedStatus: [
      { clusterName: 'member1', status: { replicas: 2, readyReplicas: 2 }, applied: true, health: 'Healthy' },
      { clusterName: 'member2', status: { replicas: 1 }, applied: false, appliedMessage: 'quota exceeded', health: 'Unknown' },
    ],
  },
});

/** What `stored()` looks like through v1alpha1. */
const storedAsV1alpha1 = (): KubeObject => ({
  apiVersion: 'work.karmada.io/v1alpha1',
  kind: 'ResourceBinding',
  metadata: metadata(),
  spec: {
    resource: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'nginx', resourceVersion: '1001', resourcePerReplicas: { cpu: '250m', memory: '64Mi' }, replicas: 3 },
    clusters: [{ name: 'member1', replicas: 2 }, { name: 'member2', replicas: 1 }],
  },
  status: {
    conditions: [condition('Scheduled', 'True', 'Success'), condition('FullyApplied', 'True', 'FullyAppliedSuccess')],
    aggregatedStatus: [
      { clusterName: 'member1', status: { replicas: 2, readyReplicas: 2 }, applied: true },
      { clusterName: 'member2', status: { replicas: 1 }, applied: false, appliedMessage: 'quota exceeded' },
    ],
  },
});

t.test('v1alpha2 → v1alpha1 keeps exactly the fields v1alpha1 has', async (t) => {
  const input = stored();
  const out = bindingToV1alpha1(input);
  t.same(out, storedAsV1alpha1());
  t.equal(out.apiVersion, 'work.karmada.io/v1alpha1');
  t.equal(out.kind, 'ResourceBinding');
  t.same(out.metadata, input.metadata, 'metadata unchanged');
  t.not(out.metadata, input.metadata, 'metadata is a copy');
  t.notOk('uid' in ((out['spec'] as { resource: object }).resource), 'v1alpha1 has no resource uid');
  t.same(input, stored(), 'input not mutated');
});

t.test('v1alpha1 read of a v1alpha2 object with replicaRequirements', async (t) => {
  const minimal: KubeObject = {
    apiVersion: 'work.karmada.io/v1alpha2',
    kind: 'ClusterResourceBinding',
    metadata: { name: 'guestbooks.webapp.my.domain-customresourcedefinition' },
    spec: {
      resource: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'guestbooks.webapp.my.domain' },
      replicaRequirements: { resourceRequest: { cpu: 1, 'nvidia.com/gpu': '2' }, nodeClaim: { nodeSelector: { gpu: 'true' } } },
      replicas: 4,
    },
  };
  t.same(bindingToV1alpha1(minimal), {
    apiVersion: 'work.karmada.io/v1alpha1',
    kind: 'ClusterResourceBinding',
    metadata: { name: 'guestbooks.webapp.my.domain-customresourcedefinition' },
    spec: { resource: { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'guestbooks.webapp.my.domain', resourcePerReplicas: { cpu: 1, 'nvidia.com/gpu': '2' }, replicas: 4 } },
  });
  // replicaRequirements without resourceRequest: nothing to show in v1alpha1
  const noRequest = structuredClone(minimal);
  (noRequest['spec'] as Record<string, unknown>)['replicaRequirements'] = { priorityClassName: 'high' };
  delete (noRequest['spec'] as Record<string, unknown>)['replicas'];
  t.same((bindingToV1alpha1(noRequest)['spec'] as Record<string, unknown>)['resource'], { apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', name: 'guestbooks.webapp.my.domain' });
  t.notOk('status' in bindingToV1alpha1(minimal), 'no status when the stored object has none');
});

t.test('a new v1alpha1 object (no current) becomes v1alpha2', async (t) => {
  const sample: KubeObject = {
    apiVersion: 'work.karmada.io/v1alpha1',
    kind: 'ResourceBinding',
    metadata: { name: 'binding-foo' },
    spec: { resource: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx', namespace: 'default' }, clusters: [{ name: 'cluster1' }, { name: 'cluster3' }] },
  };
  const before = structuredClone(sample);
  t.same(bindingFromV1alpha1(sample, undefined), {
    apiVersion: 'work.karmada.io/v1alpha2',
    kind: 'ResourceBinding',
    metadata: { name: 'binding-foo' },
    spec: { resource: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'nginx' }, clusters: [{ name: 'cluster1' }, { name: 'cluster3' }] },
  });
  t.same(sample, before, 'input not mutated');

  const withReplicas = structuredClone(sample);
  Object.assign((withReplicas['spec'] as { resource: object }).resource, { replicas: 2, resourcePerReplicas: { cpu: '100m' } });
  const converted = bindingFromV1alpha1(withReplicas, undefined);
  t.same((converted['spec'] as Record<string, unknown>)['replicas'], 2);
  t.same((converted['spec'] as Record<string, unknown>)['replicaRequirements'], { resourceRequest: { cpu: '100m' } });
  t.notOk('resourcePerReplicas' in ((converted['spec'] as { resource: object }).resource), 'resourcePerReplicas moved out of resource');
  t.notOk('replicas' in ((converted['spec'] as { resource: object }).resource), 'replicas moved out of resource');
});

t.test('round trips', async (t) => {
  t.test('v1alpha2 → v1alpha1 → v1alpha2 with the stored object as current is lossless', async (t) => {
    const current = stored();
    const back = bindingFromV1alpha1(bindingToV1alpha1(current), current);
    t.same(back, stored());
    t.same(Object.keys(back['spec'] as object), Object.keys(stored()['spec'] as object), 'spec field order kept');
    t.same(Object.keys(back['status'] as object), Object.keys(stored()['status'] as object), 'status field order kept');
    t.same(current, stored(), 'current not mutated');
  });

  t.test('v1alpha1 → v1alpha2 → v1alpha1 is lossless', async (t) => {
    const v1 = storedAsV1alpha1();
    t.same(bindingToV1alpha1(bindingFromV1alpha1(v1, undefined)), storedAsV1alpha1());
    t.same(bindingToV1alpha1(bindingFromV1alpha1(v1, stored())), storedAsV1alpha1(), 'also with a current object');
    t.same(v1, storedAsV1alpha1(), 'input not mutated');
  });

  t.test('ClusterResourceBinding keeps its kind', async (t) => {
    const crb = { ...stored(), kind: 'ClusterResourceBinding', metadata: { name: 'crb' } };
    t.equal(bindingToV1alpha1(crb).kind, 'ClusterResourceBinding');
    t.equal(bindingFromV1alpha1(bindingToV1alpha1(crb), crb).kind, 'ClusterResourceBinding');
    t.same(bindingFromV1alpha1(bindingToV1alpha1(crb), crb), crb);
  });
});

t.test('a v1alpha1 update keeps the v1alpha2-only fields of the stored object', async (t) => {
  const current = stored();
  const update = storedAsV1alpha1();
  const spec = update['spec'] as { resource: Record<string, unknown>; clusters: Record<string, unknown>[] };
  spec.resource['replicas'] = 5;
  spec.resource['resourcePerReplicas'] = { cpu: '500m' };
  spec.clusters = [{ name: 'member1', replicas: 3 }, { name: 'member4', replicas: 2 }];
  (update.metadata.labels as Record<string, string>)['team'] = 'web';
  const before = structuredClone(update);

  const out = bindingFromV1alpha1(update, current);
  t.same(update, before, 'object not mutated');
  t.same(current, stored(), 'current not mutated');
  t.equal(out.apiVersion, 'work.karmada.io/v1alpha2');
  t.same(out.metadata, update.metadata, 'metadata comes from the object');

  const outSpec = out['spec'] as Record<string, unknown>;
  const storedSpec = stored()['spec'] as Record<string, unknown>;
  for (const field of ['propagateDeps', 'components', 'placement', 'gracefulEvictionTasks', 'requiredBy', 'schedulerName', 'failover', 'conflictResolution', 'rescheduleTriggeredAt', 'suspension', 'preserveResourcesOnDeletion', 'schedulePriority']) {
    t.same(outSpec[field], storedSpec[field], `spec.${field} kept`);
  }
  t.same(outSpec['replicas'], 5, 'replicas from the object');
  t.same(outSpec['replicaRequirements'], { nodeClaim: { nodeSelector: { disktype: 'ssd' }, tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }] }, resourceRequest: { cpu: '500m' }, namespace: 'default', priorityClassName: 'high' }, 'resourceRequest replaced, the rest of replicaRequirements kept');
  t.same(outSpec['resource'], storedSpec['resource'], 'resource (with its uid) kept for the same object');
  t.same(outSpec['clusters'], [{ name: 'member1', replicas: 3, components: [{ name: 'main', replicas: 2 }] }, { name: 'member4', replicas: 2 }], 'clusters from the object; components kept for a cluster still targeted');

  const outStatus = out['status'] as Record<string, unknown>;
  const storedStatus = stored()['status'] as Record<string, unknown>;
  for (const field of ['schedulerObservedGeneration', 'schedulerObservingAffinityName', 'lastScheduledTime', 'conditions']) t.same(outStatus[field], storedStatus[field], `status.${field} kept`);
  t.same(outStatus['aggregatedStatus'], storedStatus['aggregatedStatus'], 'aggregatedStatus health kept from current');
});

t.test('removing a field v1alpha1 can express removes it', async (t) => {
  const current = stored();
  const update = storedAsV1alpha1();
  const spec = update['spec'] as { resource: Record<string, unknown>; clusters?: unknown };
  delete spec.resource['replicas'];
  delete spec.resource['resourcePerReplicas'];
  delete spec.resource['resourceVersion'];
  delete spec.clusters;
  delete update['status'];
  const out = bindingFromV1alpha1(update, current);
  const outSpec = out['spec'] as Record<string, unknown>;
  t.notOk('replicas' in outSpec, 'spec.replicas removed');
  t.notOk('clusters' in outSpec, 'spec.clusters removed');
  t.notOk('resourceVersion' in (outSpec['resource'] as object), 'spec.resource.resourceVersion removed');
  t.same(outSpec['replicaRequirements'], { nodeClaim: { nodeSelector: { disktype: 'ssd' }, tolerations: [{ key: 'dedicated', operator: 'Exists', effect: 'NoSchedule' }] }, namespace: 'default', priorityClassName: 'high' }, 'only resourceRequest removed');
  t.equal(outSpec['schedulerName'], 'default-scheduler', 'v1alpha2-only fields still kept');
  const outStatus = out['status'] as Record<string, unknown>;
  t.notOk('conditions' in outStatus, 'status.conditions removed');
  t.notOk('aggregatedStatus' in outStatus, 'status.aggregatedStatus removed');
  t.equal(outStatus['schedulerObservedGeneration'], 3, 'v1alpha2-only status kept');

  t.test('replicaRequirements disappears when nothing is left in it', async (t) => {
    const only = stored();
    (only['spec'] as Record<string, unknown>)['replicaRequirements'] = { resourceRequest: { cpu: '1' } };
    const v1 = bindingToV1alpha1(only);
    delete (v1['spec'] as { resource: Record<string, unknown> }).resource['resourcePerReplicas'];
    t.notOk('replicaRequirements' in (bindingFromV1alpha1(v1, only)['spec'] as object));
  });

  t.test('an aggregatedStatus entry removed in v1alpha1 is gone, its health with it', async (t) => {
    const v1 = bindingToV1alpha1(current);
    (v1['status'] as { aggregatedStatus: unknown[] }).aggregatedStatus.splice(0, 1);
    t.same((bindingFromV1alpha1(v1, current)['status'] as Record<string, unknown>)['aggregatedStatus'], [{ clusterName: 'member2', status: { replicas: 1 }, applied: false, appliedMessage: 'quota exceeded', health: 'Unknown' }]);
  });

  t.test('the resource uid is dropped when the reference names another object', async (t) => {
    const v1 = bindingToV1alpha1(current);
    (v1['spec'] as { resource: Record<string, unknown> }).resource['name'] = 'nginx-2';
    t.same((bindingFromV1alpha1(v1, current)['spec'] as Record<string, unknown>)['resource'], { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'nginx-2', resourceVersion: '1001' });
  });

  t.same(current, stored(), 'current not mutated');
});

t.test('unknown v1alpha1 fields are not carried into v1alpha2', async (t) => {
  const v1 = storedAsV1alpha1();
  (v1['spec'] as { resource: Record<string, unknown> }).resource['uid'] = 'client-sent';
  (v1['spec'] as Record<string, unknown>)['placement'] = { clusterAffinity: { clusterNames: ['x'] } };
  const out = bindingFromV1alpha1(v1, undefined);
  t.notOk('uid' in ((out['spec'] as { resource: object }).resource));
  t.notOk('placement' in (out['spec'] as object));
});
