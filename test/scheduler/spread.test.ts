import t from 'tap';
import { selectGroups } from '../../src/scheduler/index.js';
import { cluster, configMap, deployment, dynamicWeight, runCases } from './fixtures.js';
import type { Case } from './fixtures.js';

/** Selection under spread constraints (by cluster, by region) and Karmada's selection errors. */

const byCluster = (minGroups: number, maxGroups: number) => ({ spreadByField: 'cluster', minGroups, maxGroups });
const byRegion = (minGroups: number, maxGroups: number) => ({ spreadByField: 'region', minGroups, maxGroups });

const cases: Case[] = [
  {
    name: 'by cluster (Duplicated): maxGroups 2 keeps the two best-scored clusters',
    clusters: [cluster('member1'), cluster('member2'), cluster('member3')],
    spec: deployment(1, { spreadConstraints: [byCluster(2, 2)] }, { clusters: [{ name: 'member3', replicas: 1 }] }),
    want: {
      clusters: [{ name: 'member3', replicas: 1 }, { name: 'member1', replicas: 1 }],
      why: { member2: 'not selected: spread constraint maxGroups 2 kept higher-ranked clusters' },
    },
  },
  {
    name: 'by cluster: fewer feasible clusters than minGroups is a SchedulerError',
    clusters: [cluster('member1'), cluster('member2')],
    spec: deployment(1, { spreadConstraints: [byCluster(3, 3)] }),
    want: { clusters: undefined, reason: 'SchedulerError', message: 'failed to select clusters: the number of feasible clusters is less than spreadConstraint.MinGroups' },
  },
  {
    name: 'by cluster (dynamic): maxGroups 2 takes the roomiest when scores tie (12/8)',
    clusters: [cluster('member1', { pods: 10 }), cluster('member2', { pods: 20 }), cluster('member3', { pods: 30 })],
    spec: deployment(20, dynamicWeight({ spreadConstraints: [byCluster(1, 2)] })),
    want: { clusters: [{ name: 'member2', replicas: 8 }, { name: 'member3', replicas: 12 }], available: { member1: 10, member2: 20, member3: 30 } },
  },
  {
    name: 'by cluster (dynamic): a low-scored roomy cluster is swapped in when the best-scored two cannot hold the replicas',
    clusters: [cluster('A', { pods: 30 }), cluster('B', { pods: 20 }), cluster('C', { pods: 70 })],
    spec: deployment(80, dynamicWeight({ spreadConstraints: [byCluster(1, 2)] }), { clusters: [{ name: 'A', replicas: 10 }, { name: 'B', replicas: 10 }] }),
    want: {
      clusters: [{ name: 'A', replicas: 31 }, { name: 'C', replicas: 49 }],
      score: { A: 100, B: 100, C: 0 },
      why: { B: 'maxGroups 2 swapped it for a cluster with more room for 80 replicas' },
    },
  },
  {
    name: 'by cluster (dynamic): no pair can hold the replicas',
    clusters: [cluster('member1', { pods: 3 }), cluster('member2', { pods: 3 }), cluster('member3', { pods: 3 })],
    spec: deployment(12, dynamicWeight({ spreadConstraints: [byCluster(1, 2)] })),
    want: { clusters: undefined, reason: 'SchedulerError', message: 'failed to select clusters: no enough resource when selecting 2 clusters' },
  },
  {
    name: 'by cluster without maxGroups selects nothing (Duplicated → no clusters to assign)',
    clusters: [cluster('member1'), cluster('member2')],
    spec: deployment(1, { spreadConstraints: [{ spreadByField: 'cluster', minGroups: 1 }] }),
    want: { clusters: undefined, reason: 'SchedulerError', message: 'failed to assign replicas: no clusters available to schedule' },
  },
  {
    name: 'spreadByField zone alone is not supported',
    clusters: [cluster('member1', { zones: ['z1'] }), cluster('member2', { zones: ['z2'] })],
    spec: deployment(1, { spreadConstraints: [{ spreadByField: 'zone', minGroups: 1, maxGroups: 2 }] }),
    want: { clusters: undefined, reason: 'SchedulerError', message: 'failed to select clusters: just support cluster and region spread constraint' },
  },
  {
    name: 'spreadByField provider alone is not supported',
    clusters: [cluster('member1', { provider: 'aws' }), cluster('member2', { provider: 'gcp' })],
    spec: configMap({ spreadConstraints: [{ spreadByField: 'provider', minGroups: 1, maxGroups: 2 }] }),
    want: { clusters: undefined, reason: 'SchedulerError', message: 'failed to select clusters: just support cluster and region spread constraint' },
  },
  {
    name: 'spreadByLabel alone is not supported either',
    clusters: [cluster('member1'), cluster('member2')],
    spec: deployment(1, { spreadConstraints: [{ spreadByLabel: 'topology/rack', minGroups: 1, maxGroups: 2 }] }),
    want: { clusters: undefined, reason: 'SchedulerError', message: 'failed to select clusters: just support cluster and region spread constraint' },
  },
  {
    name: 'spreadByField zone filters clusters without zones before selection fails',
    clusters: [cluster('member1', { zones: ['z1'] }), cluster('member2')],
    spec: deployment(1, { spreadConstraints: [{ spreadByField: 'zone', minGroups: 1, maxGroups: 1 }] }),
    want: { clusters: undefined, reason: 'SchedulerError', filteredBy: { member2: 'SpreadConstraint' }, filterReason: { member2: 'cluster(s) did not have zones property' } },
  },
  {
    name: 'by region: one cluster per region, then the roomiest others up to the cluster maxGroups',
    clusters: [
      cluster('a', { region: 'r1', pods: 10 }),
      cluster('b', { region: 'r1', pods: 5 }),
      cluster('c', { region: 'r2', pods: 8 }),
      cluster('d', { region: 'r2', pods: 1 }),
    ],
    spec: deployment(1, { spreadConstraints: [byRegion(2, 2), byCluster(2, 3)] }),
    want: {
      clusters: [
        { name: 'a', replicas: 1 },
        { name: 'c', replicas: 1 },
        { name: 'b', replicas: 1 },
      ],
      why: { d: 'maxGroups 3' },
    },
  },
  {
    name: 'by region: fewer regions than the region minGroups',
    clusters: [cluster('a', { region: 'r1' }), cluster('b', { region: 'r2' })],
    spec: deployment(1, { spreadConstraints: [byRegion(3, 3), byCluster(1, 3)] }),
    want: { clusters: undefined, reason: 'SchedulerError', message: 'failed to select clusters: the number of feasible region is less than spreadConstraint.MinGroups' },
  },
  {
    name: 'by region: the region with enough clusters for the cluster minGroups wins',
    clusters: [
      cluster('a', { region: 'r1' }),
      cluster('b', { region: 'r1' }),
      cluster('c', { region: 'r2' }),
      cluster('d', { region: 'r2' }),
      cluster('e', { region: 'r2' }),
    ],
    spec: configMap({ spreadConstraints: [byRegion(1, 1), byCluster(3, 3)] }),
    want: { clusters: [{ name: 'c' }, { name: 'd' }, { name: 'e' }], why: { a: 'region r1 was not among the regions' } },
  },
  {
    name: 'by region: the region holding the current result scores higher',
    clusters: [cluster('a', { region: 'r1' }), cluster('b', { region: 'r2' })],
    spec: deployment(2, { spreadConstraints: [byRegion(1, 1), byCluster(1, 1)] }, { clusters: [{ name: 'b', replicas: 2 }] }),
    want: { clusters: [{ name: 'b', replicas: 2 }] },
  },
  {
    name: 'by region: no region combination has enough clusters',
    clusters: [cluster('a', { region: 'r1' }), cluster('b', { region: 'r1' }), cluster('c', { region: 'r2' }), cluster('d', { region: 'r2' })],
    spec: deployment(1, { spreadConstraints: [byRegion(1, 1), byCluster(3, 3)] }),
    want: { clusters: undefined, reason: 'SchedulerError', message: 'failed to select clusters: the number of clusters is less than the cluster spreadConstraint.MinGroups' },
  },
];

runCases(t, cases);

t.test('region group search', async (t) => {
  const groups = [
    { name: 'R1', value: 2, weight: 100 },
    { name: 'R2', value: 3, weight: 80 },
    { name: 'R3', value: 1, weight: 90 },
  ];
  const table: { name: string; min: number; max: number; target: number; want: string[] | undefined }[] = [
    { name: 'one group with the highest score that is big enough', min: 1, max: 1, target: 2, want: ['R1'] },
    { name: 'only the biggest group is big enough alone', min: 1, max: 1, target: 3, want: ['R2'] },
    { name: 'two groups: the best-scored pair', min: 2, max: 2, target: 3, want: ['R1', 'R3'] },
    { name: 'a shorter prefix of the best set is preferred', min: 1, max: 3, target: 2, want: ['R1'] },
    { name: 'nothing feasible', min: 1, max: 1, target: 4, want: undefined },
  ];
  for (const c of table) {
    t.test(c.name, async (t) => {
      t.strictSame(selectGroups(groups, c.min, c.max, c.target)?.map((g) => g.name), c.want);
    });
  }
});
