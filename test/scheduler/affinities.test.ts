import t from 'tap';
import { NOT_READY, cluster, configMap, deployment, dynamicWeight, runCases } from './fixtures.js';
import type { Case } from './fixtures.js';
import type { ClusterAffinityTerm } from '../../src/scheduler/index.js';

/** placement.clusterAffinities: ordered fallback terms, schedulerObservingAffinityName, overflow groups. */

const terms: ClusterAffinityTerm[] = [
  { affinityName: 'primary', clusterNames: ['member1'] },
  { affinityName: 'backup', clusterNames: ['member2'] },
];

const cases: Case[] = [
  {
    name: 'the first term that schedules wins and is recorded',
    clusters: [cluster('member1'), cluster('member2')],
    spec: deployment(2, { clusterAffinities: terms }),
    want: { clusters: [{ name: 'member1', replicas: 2 }], affinityName: 'primary', term: 'primary', filteredBy: { member2: 'ClusterAffinity' } },
  },
  {
    name: 'falls through to the next term when the first has no feasible cluster',
    clusters: [cluster('member1', { taints: [NOT_READY] }), cluster('member2')],
    spec: deployment(2, { clusterAffinities: terms }),
    want: { clusters: [{ name: 'member2', replicas: 2 }], affinityName: 'backup', term: 'backup', filteredBy: { member1: 'TaintToleration' } },
  },
  {
    name: 'resumes from the observed term even if an earlier one would fit again',
    clusters: [cluster('member1'), cluster('member2')],
    spec: deployment(2, { clusterAffinities: terms }, { clusters: [{ name: 'member2', replicas: 2 }] }),
    status: { schedulerObservingAffinityName: 'backup', lastScheduledTime: '2026-08-01T10:00:00Z' },
    want: { clusters: [{ name: 'member2', replicas: 2 }], affinityName: 'backup' },
  },
  {
    name: 'a fresh reschedule starts over from the first term',
    clusters: [cluster('member1'), cluster('member2')],
    spec: deployment(2, { clusterAffinities: terms }, { clusters: [{ name: 'member2', replicas: 2 }], rescheduleTriggeredAt: '2026-08-02T00:00:00Z' }),
    status: { schedulerObservingAffinityName: 'backup', lastScheduledTime: '2026-08-01T10:00:00Z' },
    want: { clusters: [{ name: 'member1', replicas: 2 }], affinityName: 'primary' },
  },
  {
    name: 'every term fails on filters → NoClusterFit from the first term, result cleared, old term kept',
    clusters: [cluster('member1'), cluster('member2'), cluster('member3')],
    spec: deployment(
      2,
      { clusterAffinities: [{ affinityName: 'primary', clusterNames: ['member1', 'member3'] }, { affinityName: 'backup', clusterNames: ['member2'] }] },
      { clusters: [], gracefulEvictionTasks: ['member1', 'member2', 'member3'].map((fromCluster) => ({ fromCluster, reason: 'TaintUntolerated', producer: 'TaintManager' })) },
    ),
    status: { schedulerObservingAffinityName: 'primary' },
    want: {
      clusters: [],
      reason: 'NoClusterFit',
      // The first term's diagnosis; the second would say 2 affinity, 1 eviction.
      message: '0/3 clusters are available: 1 cluster(s) did not match the placement cluster affinity constraint, 2 cluster(s) is in the process of eviction.',
      affinityName: 'primary',
      term: 'backup',
      filteredBy: { member1: 'ClusterAffinity', member2: 'ClusterEviction', member3: 'ClusterAffinity' },
    },
  },
  {
    name: 'a term without room (Unschedulable) falls through to the next',
    clusters: [cluster('member1', { pods: 1 }), cluster('member2', { pods: 10 })],
    spec: deployment(4, dynamicWeight({ clusterAffinities: terms })),
    want: { clusters: [{ name: 'member2', replicas: 4 }], affinityName: 'backup' },
  },
  {
    name: 'first term Unschedulable, second NoClusterFit → Unschedulable and the result is left alone',
    clusters: [cluster('member1', { pods: 1 }), cluster('member2', { taints: [NOT_READY] })],
    spec: deployment(4, dynamicWeight({ clusterAffinities: terms }), { clusters: [{ name: 'member1', replicas: 1 }] }),
    status: { schedulerObservingAffinityName: 'primary' },
    want: {
      clusters: undefined,
      reason: 'Unschedulable',
      message: 'failed to assign replicas: failed to scale up: Clusters available replicas 1 are not enough to schedule.',
      affinityName: 'primary',
    },
  },
  {
    name: 'overflow: the primary group is filled to its room, the rest overflows',
    clusters: [cluster('member1', { pods: 4 }), cluster('member2', { pods: 10 }), cluster('member3', { pods: 10 })],
    spec: deployment(6, dynamicWeight({ clusterAffinities: [{ affinityName: 'local', clusterNames: ['member1'], overflowAffinities: [{ affinityName: 'cloud', clusterNames: ['member2'] }] }] })),
    want: { clusters: [{ name: 'member1', replicas: 4 }, { name: 'member2', replicas: 2 }], affinityName: 'local', filteredBy: { member3: 'ClusterAffinity' } },
  },
  {
    name: 'overflow: the primary group alone when it has room',
    clusters: [cluster('member1', { pods: 10 }), cluster('member2', { pods: 10 })],
    spec: deployment(6, dynamicWeight({ clusterAffinities: [{ affinityName: 'local', clusterNames: ['member1'], overflowAffinities: [{ affinityName: 'cloud', clusterNames: ['member2'] }] }] })),
    want: { clusters: [{ name: 'member1', replicas: 6 }], why: { member2: 'earlier affinity groups had room' } },
  },
  {
    name: 'overflow: every group full → Unschedulable',
    clusters: [cluster('member1', { pods: 4 }), cluster('member2', { pods: 1 })],
    spec: deployment(6, dynamicWeight({ clusterAffinities: [{ affinityName: 'local', clusterNames: ['member1'], overflowAffinities: [{ affinityName: 'cloud', clusterNames: ['member2'] }] }] })),
    want: { clusters: undefined, reason: 'Unschedulable', message: 'failed to assign replicas: Clusters available replicas are not enough to schedule.' },
  },
  {
    name: 'overflow groups do not apply to non-workloads',
    clusters: [cluster('member1'), cluster('member2')],
    spec: configMap({ clusterAffinities: [{ affinityName: 'local', clusterNames: ['member1'], overflowAffinities: [{ affinityName: 'cloud', clusterNames: ['member2'] }] }] }),
    want: { clusters: [{ name: 'member1' }], affinityName: 'local', filteredBy: { member2: 'ClusterAffinity' } },
  },
];

runCases(t, cases);
