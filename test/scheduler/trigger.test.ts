import t from 'tap';
import { APPLIED_PLACEMENT_ANNOTATION, schedulingTrigger } from '../../src/scheduler/index.js';
import type { BindingSpec, BindingStatus, ClusterObject, Placement } from '../../src/scheduler/index.js';
import { cluster, configMap, deployment, dividedStatic } from './fixtures.js';

/** schedulingTrigger: when Karmada's scheduler (re)schedules a binding. */

const divided = dividedStatic({ member1: 1, member2: 1 });
const applied = (placement: Placement) => ({ [APPLIED_PLACEMENT_ANNOTATION]: JSON.stringify(placement) });
const split = [
  { name: 'member1', replicas: 2 },
  { name: 'member2', replicas: 2 },
];

const affinityTerms: Placement = {
  clusterAffinities: [
    { affinityName: 'a', clusterNames: ['member1'] },
    { affinityName: 'b', clusterNames: ['member2'] },
  ],
  replicaScheduling: divided.replicaScheduling,
};

interface TriggerCase {
  readonly name: string;
  readonly annotations?: Record<string, string>;
  readonly spec: BindingSpec;
  readonly status?: BindingStatus;
  readonly clusters?: ClusterObject[];
  readonly kind: 'none' | 'schedule' | 'scale' | 'fresh' | 'always';
  readonly reason?: string;
}

const cases: TriggerCase[] = [
  { name: 'never scheduled (no applied-placement annotation) → schedule', spec: deployment(4, divided), kind: 'schedule', reason: 'no applied placement' },
  { name: 'placement unchanged, replicas match, Divided → none', annotations: applied(divided), spec: deployment(4, divided, { clusters: split }), kind: 'none' },
  {
    name: 'tolerations changed → schedule',
    annotations: applied(divided),
    spec: deployment(4, { ...divided, clusterTolerations: [{ key: 'x', operator: 'Exists' }] }, { clusters: split }),
    kind: 'schedule',
    reason: 'clusterTolerations',
  },
  {
    name: 'weights changed → schedule',
    annotations: applied(divided),
    spec: deployment(4, dividedStatic({ member1: 2, member2: 1 }), { clusters: split }),
    kind: 'schedule',
    reason: 'replicaScheduling',
  },
  { name: 'Divided: sum of replicas differs from spec.replicas → scale', annotations: applied(divided), spec: deployment(6, divided, { clusters: split }), kind: 'scale' },
  {
    name: 'Duplicated: a cluster with other replicas → scale',
    annotations: applied({ replicaScheduling: { replicaSchedulingType: 'Duplicated' } }),
    spec: deployment(3, { replicaScheduling: { replicaSchedulingType: 'Duplicated' } }, { clusters: split }),
    kind: 'scale',
  },
  {
    name: 'rescheduleTriggeredAt after lastScheduledTime → fresh',
    annotations: applied(divided),
    spec: deployment(4, divided, { clusters: split, rescheduleTriggeredAt: '2026-08-02T00:00:00Z' }),
    status: { lastScheduledTime: '2026-08-01T00:00:00Z' },
    kind: 'fresh',
  },
  {
    name: 'rescheduleTriggeredAt before lastScheduledTime → none',
    annotations: applied(divided),
    spec: deployment(4, divided, { clusters: split, rescheduleTriggeredAt: '2026-07-31T00:00:00Z' }),
    status: { lastScheduledTime: '2026-08-01T00:00:00Z' },
    kind: 'none',
  },
  {
    name: 'rescheduleTriggeredAt without any lastScheduledTime → none (the pending first schedule will do)',
    annotations: applied(divided),
    spec: deployment(4, divided, { clusters: split, rescheduleTriggeredAt: '2026-08-02T00:00:00Z' }),
    kind: 'none',
  },
  { name: 'non-workload → always', annotations: applied(divided), spec: configMap(divided, { clusters: [{ name: 'member1' }] }), kind: 'always', reason: 'non-workload' },
  {
    name: 'Duplicated (no replicaScheduling) with matching replicas → always',
    annotations: applied({}),
    spec: deployment(2, {}, { clusters: split }),
    kind: 'always',
    reason: 'Duplicated',
  },
  {
    name: 'a target cluster being deleted → schedule',
    annotations: applied(divided),
    spec: deployment(4, divided, { clusters: split }),
    clusters: [cluster('member1', { deleting: true }), cluster('member2')],
    kind: 'schedule',
    reason: 'member1 is being deleted',
  },
  {
    name: 'a deleting cluster outside the result → none',
    annotations: applied(divided),
    spec: deployment(4, divided, { clusters: split }),
    clusters: [cluster('member1'), cluster('member2'), cluster('member3', { deleting: true })],
    kind: 'none',
  },
  {
    name: 'clusterAffinities: only a term not in use changed → none',
    annotations: applied(affinityTerms),
    spec: deployment(4, { ...affinityTerms, clusterAffinities: [{ affinityName: 'a', clusterNames: ['member1'] }, { affinityName: 'b', clusterNames: ['member3'] }] }, { clusters: [{ name: 'member1', replicas: 4 }] }),
    status: { schedulerObservingAffinityName: 'a' },
    kind: 'none',
  },
  {
    name: 'clusterAffinities: the term in use changed → schedule',
    annotations: applied(affinityTerms),
    spec: deployment(4, { ...affinityTerms, clusterAffinities: [{ affinityName: 'a', clusterNames: ['member1', 'member3'] }, { affinityName: 'b', clusterNames: ['member2'] }] }, { clusters: [{ name: 'member1', replicas: 4 }] }),
    status: { schedulerObservingAffinityName: 'a' },
    kind: 'schedule',
    reason: 'term a',
  },
  {
    name: 'empty lists and zero values compare like Go zero values → none',
    annotations: applied(divided),
    spec: deployment(4, { ...divided, clusterTolerations: [], spreadConstraints: [] }, { clusters: split }),
    kind: 'none',
  },
  {
    name: 'an unparsable applied-placement annotation counts as unchanged',
    annotations: { [APPLIED_PLACEMENT_ANNOTATION]: '{not json' },
    spec: deployment(4, divided, { clusters: split }),
    kind: 'none',
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const trigger = schedulingTrigger({ metadata: { annotations: c.annotations }, spec: c.spec, status: c.status }, c.clusters);
    t.equal(trigger.kind, c.kind);
    if (c.reason !== undefined) t.match(trigger.kind === 'none' ? '' : trigger.reason, c.reason);
  });
}
