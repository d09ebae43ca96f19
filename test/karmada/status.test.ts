import t from 'tap';
import type { KubeObject } from '../../src/api/object.js';
import { aggregateTemplateStatus, aggregatedStatusItems, fullyAppliedCondition } from '../../src/karmada/status-aggregation.js';
import { interpretHealth, manifestStatus, reflectStatus } from '../../src/karmada/status-reflection.js';

/** Status back from members (karmada-api.md §4.4): reflection, health, binding items, template sums. */
const memberDeployment = (spec: number, status: Record<string, number>, generation = 2, templateGeneration = 5): KubeObject => ({
  apiVersion: 'apps/v1', kind: 'Deployment',
  metadata: { name: 'nginx', namespace: 'default', generation, annotations: { 'resourcetemplate.karmada.io/generation': String(templateGeneration) } },
  spec: { replicas: spec },
  status,
});

t.test('reflection and health', async (t) => {
  t.same(reflectStatus(memberDeployment(2, { replicas: 2, readyReplicas: 2, availableReplicas: 2, updatedReplicas: 2, observedGeneration: 2 })), { generation: 2, resourceTemplateGeneration: 5, replicas: 2, updatedReplicas: 2, readyReplicas: 2, availableReplicas: 2, observedGeneration: 2 }, 'Deployment: counters + the two generations');
  t.equal(reflectStatus({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }), undefined, 'nothing without a status');
  t.same(reflectStatus({ apiVersion: 'v1', kind: 'Service', metadata: {}, spec: { type: 'ClusterIP' }, status: { loadBalancer: {} } }), undefined, 'a ClusterIP Service reflects nothing');
  t.same(reflectStatus({ apiVersion: 'example.io/v1', kind: 'Thing', metadata: {}, status: { phase: 'Up' } }), { phase: 'Up' }, 'other kinds: the whole status');
  t.equal(interpretHealth(memberDeployment(2, { updatedReplicas: 2, availableReplicas: 2, observedGeneration: 2 })), 'Healthy');
  t.equal(interpretHealth(memberDeployment(2, { updatedReplicas: 2, availableReplicas: 1, observedGeneration: 2 })), 'Unhealthy', 'not all available');
  t.equal(interpretHealth(memberDeployment(2, { updatedReplicas: 2, availableReplicas: 2, observedGeneration: 1 })), 'Unhealthy', 'generation not observed');
  t.equal(interpretHealth({ apiVersion: 'v1', kind: 'Pod', metadata: {}, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } }), 'Healthy', 'a ready Pod');
  t.equal(interpretHealth({ apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: {}, status: { phase: 'Pending' } }), 'Unhealthy', 'an unbound PVC');
  t.equal(interpretHealth({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }), 'Healthy', 'kinds without a rule are Healthy');
  t.same(manifestStatus({ ordinal: 0, group: '', version: 'v1', kind: 'ConfigMap', resource: 'configmaps', namespace: '', name: 'c' }, { apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }), { identifier: { ordinal: 0, version: 'v1', kind: 'ConfigMap', resource: 'configmaps', name: 'c' }, health: 'Healthy' }, 'empty group and namespace are omitted');
});

const binding: KubeObject = {
  apiVersion: 'work.karmada.io/v1alpha2', kind: 'ResourceBinding', metadata: { name: 'nginx-deployment', namespace: 'default', generation: 4 },
  spec: { resource: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'nginx' }, clusters: [{ name: 'member1', replicas: 1 }, { name: 'member2', replicas: 1 }] },
};
const work = (cluster: string, applied: Record<string, unknown> | undefined, reflected?: Record<string, unknown>, generation = 1): KubeObject => ({
  apiVersion: 'work.karmada.io/v1alpha1', kind: 'Work', metadata: { name: 'nginx-687f7fb96f', namespace: `karmada-es-${cluster}`, generation },
  status: {
    ...(applied ? { conditions: [{ type: 'Applied', ...applied }] } : {}),
    ...(reflected ? { manifestStatuses: [{ identifier: { ordinal: 0, group: 'apps', version: 'v1', kind: 'Deployment', resource: 'deployments', namespace: 'default', name: 'nginx' }, status: reflected, health: 'Healthy' }] } : {}),
  },
});
const ready = (n: number, observed = 2) => ({ generation: 2, resourceTemplateGeneration: 5, replicas: n, readyReplicas: n, updatedReplicas: n, availableReplicas: n, observedGeneration: observed });

t.test('aggregatedStatus items and FullyApplied', async (t) => {
  const items = aggregatedStatusItems(binding, [work('member2', { status: 'True' }, ready(1)), work('member1', { status: 'False', message: 'boom' })]);
  t.same(items, [{ clusterName: 'member1', applied: false, appliedMessage: 'boom', health: 'Unknown' }, { clusterName: 'member2', status: ready(1), applied: true, health: 'Healthy' }], 'sorted by cluster; not applied carries the message');
  t.match(fullyAppliedCondition(binding, items), { status: 'False', reason: 'FullyAppliedFailed', message: 'Failed to apply all works, see status.aggregatedStatus for details' });
  const all = aggregatedStatusItems(binding, [work('member1', { status: 'True' }, ready(1)), work('member2', { status: 'True' }, ready(1))]);
  t.match(fullyAppliedCondition(binding, all), { status: 'True', reason: 'FullyAppliedSuccess', message: 'All works have been successfully applied' });
  t.equal(aggregatedStatusItems(binding, [work('member1', { status: 'True', observedGeneration: 1 }, ready(1), 2)])[0]?.health, 'Unknown', 'applied for an older Work generation: health not known yet');
  const withEviction = { ...binding, spec: { ...(binding['spec'] as object), gracefulEvictionTasks: [{ fromCluster: 'member3' }] } };
  t.match(fullyAppliedCondition(withEviction, all), { status: 'False' }, 'a cluster under graceful eviction is expected too');
});

t.test('template status: sums, and observedGeneration only once every member caught up', async (t) => {
  const template: KubeObject = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'nginx', generation: 5 }, spec: { replicas: 2 }, status: { observedGeneration: 4 } };
  const items = (a: Record<string, number>, b: Record<string, number>) => [{ clusterName: 'member1', applied: true, status: a }, { clusterName: 'member2', applied: true, status: b }];
  t.same(aggregateTemplateStatus(template, items(ready(1), ready(1))), { observedGeneration: 5, replicas: 2, readyReplicas: 2, updatedReplicas: 2, availableReplicas: 2 }, 'Divided 1/1: 2 ready, generation 5 observed');
  t.equal(aggregateTemplateStatus(template, items(ready(1), ready(1, 1)))?.['observedGeneration'], 4, 'a member behind its own generation keeps the old observedGeneration');
  t.equal(aggregateTemplateStatus(template, items(ready(1), { ...ready(1), resourceTemplateGeneration: 4 }))?.['observedGeneration'], 4, 'a member built from an older template keeps it too');
  t.equal(aggregateTemplateStatus(template, items(ready(2), ready(2)))?.['replicas'], 4, 'Duplicated 2 over 2 members: status.replicas 4');
  t.equal(aggregateTemplateStatus({ apiVersion: 'v1', kind: 'ConfigMap', metadata: {} }, []), undefined, 'kinds without an aggregator keep their status');
  const job: KubeObject = { apiVersion: 'batch/v1', kind: 'Job', metadata: { name: 'j' } };
  const complete = { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }], completionTime: '2026-11-22T10:00:00Z', startTime: '2026-11-22T09:59:00Z' };
  const jobStatus = aggregateTemplateStatus(job, [{ clusterName: 'a', applied: true, status: complete }, { clusterName: 'b', applied: true, status: { ...complete, completionTime: '2026-11-22T10:01:00Z' } }]);
  t.match(jobStatus, { succeeded: 2, conditions: [{ type: 'Complete', status: 'True' }], completionTime: '2026-11-22T10:01:00Z', startTime: '2026-11-22T09:59:00Z' }, 'Job: succeeded summed, Complete once all completed');
  t.match(aggregateTemplateStatus(job, [{ clusterName: 'a', applied: true, status: { failed: 1, conditions: [{ type: 'Failed', status: 'True' }] } }, { clusterName: 'b', applied: true, status: { active: 1 } }]), { failed: 1, active: 1, conditions: [{ type: 'Failed', message: 'Job executed failed in member clusters a' }] }, 'Job: Failed when a member failed, in Karmada\'s words');
});
