import t from 'tap';
import { fnv32a } from '../../src/scheduler/index.js';
import { aggregated, cluster, configMap, deployment, dividedStatic, dynamicWeight, runCases } from './fixtures.js';
import type { Case } from './fixtures.js';

// uids whose fnv32a is even (ties go to the alphabetically first cluster) and odd (to the last).
const EVEN_UID = 'uid-b';
const ODD_UID = 'uid-a';

t.test('tie-break uids have the parity the cases rely on', async (t) => {
  t.equal(fnv32a('a'), 0xe40c292c, 'fnv32a matches the reference value');
  t.equal(fnv32a(EVEN_UID) % 2, 0);
  t.equal(fnv32a(ODD_UID) % 2, 1);
});

const two = [cluster('member1'), cluster('member2')];
const three = [cluster('member1'), cluster('member2'), cluster('member3')];
const four = [...three, cluster('member4')];

const cases: Case[] = [
  // ---- static weights (Webster) ----
  {
    name: 'static weights 1:2 with 3 replicas → 1/2',
    clusters: two,
    spec: deployment(3, dividedStatic({ member1: 1, member2: 2 })),
    want: { clusters: [{ name: 'member1', replicas: 1 }, { name: 'member2', replicas: 2 }], why: { member2: 'selected: weight 2 of 3, 2 replicas' } },
  },
  {
    name: 'static weights 2:1 with 6 replicas → 4/2',
    clusters: two,
    spec: deployment(6, dividedStatic({ member1: 2, member2: 1 })),
    want: { clusters: [{ name: 'member1', replicas: 4 }, { name: 'member2', replicas: 2 }] },
  },
  {
    name: 'static weights 1:3 with 9 replicas → 2/7 (documented approximate split)',
    clusters: two,
    spec: deployment(9, dividedStatic({ member1: 1, member2: 3 })),
    want: { clusters: [{ name: 'member1', replicas: 2 }, { name: 'member2', replicas: 7 }] },
  },
  {
    name: 'static weights 2:1:1:1 with 7 replicas → 3/2/1/1',
    clusters: four,
    spec: deployment(7, dividedStatic({ member1: 2, member2: 1, member3: 1, member4: 1 })),
    want: {
      clusters: [
        { name: 'member1', replicas: 3 },
        { name: 'member2', replicas: 2 },
        { name: 'member3', replicas: 1 },
        { name: 'member4', replicas: 1 },
      ],
    },
  },
  {
    name: 'static weights 2:1:1:1 scaled to 8 → 3/2/2/1, recomputed from scratch',
    clusters: four,
    spec: deployment(8, dividedStatic({ member1: 2, member2: 1, member3: 1, member4: 1 }), {
      clusters: [
        { name: 'member1', replicas: 3 },
        { name: 'member2', replicas: 2 },
        { name: 'member3', replicas: 1 },
        { name: 'member4', replicas: 1 },
      ],
    }),
    want: {
      clusters: [
        { name: 'member1', replicas: 3 },
        { name: 'member2', replicas: 2 },
        { name: 'member3', replicas: 2 },
        { name: 'member4', replicas: 1 },
      ],
    },
  },
  {
    name: 'static weights ignore spread constraints',
    clusters: three,
    spec: deployment(6, { ...dividedStatic({ member1: 1, member2: 1, member3: 1 }), spreadConstraints: [{ spreadByField: 'cluster', minGroups: 1, maxGroups: 1 }] }),
    want: {
      clusters: [
        { name: 'member1', replicas: 2 },
        { name: 'member2', replicas: 2 },
        { name: 'member3', replicas: 2 },
      ],
    },
  },
  {
    name: 'Divided Weighted without weightPreference weighs every cluster 1 (7 over 3 → 3/2/2)',
    clusters: three,
    spec: deployment(7, { replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted' } }),
    want: {
      clusters: [
        { name: 'member1', replicas: 3 },
        { name: 'member2', replicas: 2 },
        { name: 'member3', replicas: 2 },
      ],
    },
  },
  {
    name: 'a cluster no staticWeightList entry matches gets nothing (not an error)',
    clusters: three,
    spec: deployment(4, dividedStatic({ member1: 1, member2: 1 })),
    want: {
      clusters: [
        { name: 'member1', replicas: 2 },
        { name: 'member2', replicas: 2 },
      ],
      why: { member3: 'no staticWeightList entry matches it' },
    },
  },
  {
    name: 'when no entry matches any cluster every cluster weighs 1',
    clusters: two,
    spec: deployment(4, dividedStatic({ elsewhere: 5 })),
    want: { clusters: [{ name: 'member1', replicas: 2 }, { name: 'member2', replicas: 2 }] },
  },
  {
    name: 'the largest weight among matching entries counts (label selector entry)',
    clusters: [cluster('member1', { labels: { tier: 'gold' } }), cluster('member2')],
    spec: deployment(4, {
      replicaScheduling: {
        replicaSchedulingType: 'Divided',
        replicaDivisionPreference: 'Weighted',
        weightPreference: {
          staticWeightList: [
            { targetCluster: { clusterNames: ['member1', 'member2'] }, weight: 1 },
            { targetCluster: { labelSelector: { matchLabels: { tier: 'gold' } } }, weight: 3 },
          ],
        },
      },
    }),
    want: { clusters: [{ name: 'member1', replicas: 3 }, { name: 'member2', replicas: 1 }] },
  },
  {
    name: 'clusters whose share rounds to 0 are dropped from the result',
    clusters: three,
    spec: deployment(2, dividedStatic({ member1: 1, member2: 1, member3: 1 })),
    want: { clusters: [{ name: 'member1', replicas: 1 }, { name: 'member2', replicas: 1 }], why: { member3: 'weight 1 of 3 earned none of the 2 replicas' } },
  },
  {
    name: 'tie-break: even fnv32a(uid) gives the odd replica to the first name (1:1 with 3 → 2/1)',
    clusters: two,
    spec: deployment(3, dividedStatic({ member1: 1, member2: 1 }), { uid: EVEN_UID }),
    want: { clusters: [{ name: 'member1', replicas: 2 }, { name: 'member2', replicas: 1 }] },
  },
  {
    name: 'tie-break: odd fnv32a(uid) gives the odd replica to the last name (1:1 with 3 → 1/2)',
    clusters: two,
    spec: deployment(3, dividedStatic({ member1: 1, member2: 1 }), { uid: ODD_UID }),
    want: { clusters: [{ name: 'member1', replicas: 1 }, { name: 'member2', replicas: 2 }] },
  },
  {
    name: 'static failover: member1 under graceful eviction, member2 takes all 3 of a 1:2 split',
    clusters: two,
    spec: deployment(3, dividedStatic({ member1: 1, member2: 2 }), {
      clusters: [{ name: 'member2', replicas: 2 }],
      gracefulEvictionTasks: [{ fromCluster: 'member1', reason: 'TaintUntolerated', producer: 'TaintManager', replicas: 1 }],
    }),
    want: { clusters: [{ name: 'member2', replicas: 3 }], filteredBy: { member1: 'ClusterEviction' }, filterReason: { member1: 'cluster(s) is in the process of eviction' } },
  },

  // ---- Duplicated and non-workloads ----
  {
    name: 'no replicaScheduling means Duplicated: every cluster runs all replicas',
    clusters: three,
    spec: deployment(5, {}),
    want: {
      clusters: [
        { name: 'member1', replicas: 5 },
        { name: 'member2', replicas: 5 },
        { name: 'member3', replicas: 5 },
      ],
      why: { member1: 'Duplicated' },
    },
  },
  {
    name: 'explicit Duplicated with a cluster affinity',
    clusters: three,
    spec: deployment(2, { clusterAffinity: { clusterNames: ['member1', 'member3'] }, replicaScheduling: { replicaSchedulingType: 'Duplicated' } }),
    want: { clusters: [{ name: 'member1', replicas: 2 }, { name: 'member3', replicas: 2 }], filteredBy: { member2: 'ClusterAffinity' } },
  },
  {
    name: 'Duplicated lists clusters already running the workload first (ClusterLocality)',
    clusters: three,
    spec: deployment(1, {}, { clusters: [{ name: 'member3', replicas: 1 }] }),
    want: {
      clusters: [
        { name: 'member3', replicas: 1 },
        { name: 'member1', replicas: 1 },
        { name: 'member2', replicas: 1 },
      ],
      score: { member3: 100, member1: 0 },
    },
  },
  {
    name: 'a non-workload goes to every cluster without replicas, even when Divided',
    clusters: three,
    spec: configMap(dynamicWeight()),
    want: { clusters: [{ name: 'member1' }, { name: 'member2' }, { name: 'member3' }], why: { member2: 'not a workload' } },
  },
  {
    name: 'a workload with 0 replicas but replicaRequirements ends up nowhere (0-replica clusters are dropped)',
    clusters: two,
    spec: deployment(0, {}, { replicaRequirements: { resourceRequest: { cpu: '100m' } } }),
    want: { clusters: [] },
  },

  // ---- dynamic weight (AvailableReplicas) ----
  {
    name: 'dynamic weight: availability 6/12/18 with 12 replicas → 2/4/6 (documented example)',
    clusters: [cluster('A', { pods: 6 }), cluster('B', { pods: 12 }), cluster('C', { pods: 18 })],
    spec: deployment(12, dynamicWeight()),
    want: {
      clusters: [
        { name: 'A', replicas: 2 },
        { name: 'B', replicas: 4 },
        { name: 'C', replicas: 6 },
      ],
      available: { A: 6, B: 12, C: 18 },
    },
  },
  {
    name: 'dynamic weight: availability 6/8/10 with 12 replicas → 3/4/5',
    clusters: [cluster('member1', { pods: 6 }), cluster('member2', { pods: 8 }), cluster('member3', { pods: 10 })],
    spec: deployment(12, dynamicWeight()),
    want: {
      clusters: [
        { name: 'member1', replicas: 3 },
        { name: 'member2', replicas: 4 },
        { name: 'member3', replicas: 5 },
      ],
    },
  },
  {
    name: 'dynamic weight: not enough availability → Unschedulable, result left alone',
    clusters: [cluster('member1', { pods: 3 }), cluster('member2', { pods: 3 }), cluster('member3', { pods: 3 })],
    spec: deployment(12, dynamicWeight()),
    want: {
      clusters: undefined,
      reason: 'Unschedulable',
      message: 'failed to assign replicas: failed to scale up: Clusters available replicas 9 are not enough to schedule.',
    },
  },
  {
    name: 'dynamic weight: a cluster without resourceSummary counts as 0 available',
    clusters: [cluster('member1'), cluster('member2', { pods: 10 })],
    spec: deployment(4, dynamicWeight()),
    want: { clusters: [{ name: 'member2', replicas: 4 }], available: { member1: 0, member2: 10 } },
  },
  {
    name: 'steady scale-up 12 → 24 divides only the 12 extra replicas and keeps the old ones',
    clusters: [cluster('member1', { pods: 10 }), cluster('member2', { pods: 10 }), cluster('member3', { pods: 10 })],
    spec: deployment(24, dynamicWeight(), {
      clusters: [
        { name: 'member1', replicas: 2 },
        { name: 'member2', replicas: 4 },
        { name: 'member3', replicas: 6 },
      ],
    }),
    want: {
      clusters: [
        { name: 'member1', replicas: 6 },
        { name: 'member2', replicas: 8 },
        { name: 'member3', replicas: 10 },
      ],
      why: { member1: 'kept 2, added 4' },
    },
  },
  {
    name: 'steady scale-down 12 → 6 is proportional to the previous result',
    clusters: [cluster('member1', { pods: 1 }), cluster('member2', { pods: 1 }), cluster('member3', { pods: 1 })],
    spec: deployment(6, dynamicWeight(), {
      clusters: [
        { name: 'member1', replicas: 2 },
        { name: 'member2', replicas: 4 },
        { name: 'member3', replicas: 6 },
      ],
    }),
    want: {
      clusters: [
        { name: 'member1', replicas: 1 },
        { name: 'member2', replicas: 2 },
        { name: 'member3', replicas: 3 },
      ],
    },
  },
  {
    name: 'steady: a cluster that dropped out hands its replicas to the remaining candidates',
    clusters: [cluster('member1', { pods: 3 }), cluster('member2', { pods: 3 }), cluster('member3', { pods: 30 })],
    spec: deployment(12, dynamicWeight({ clusterAffinity: { clusterNames: ['member1', 'member2'] } }), {
      clusters: [
        { name: 'member1', replicas: 6 },
        { name: 'member3', replicas: 6 },
      ],
    }),
    want: { clusters: [{ name: 'member1', replicas: 9 }, { name: 'member2', replicas: 3 }], filteredBy: { member3: 'ClusterAffinity' } },
  },
  {
    name: 'steady with unchanged replicas keeps the previous result as is',
    clusters: [cluster('member1', { pods: 2 }), cluster('member2', { pods: 10 })],
    spec: deployment(12, dynamicWeight(), { clusters: [{ name: 'member1', replicas: 10 }, { name: 'member2', replicas: 2 }] }),
    want: { clusters: [{ name: 'member1', replicas: 10 }, { name: 'member2', replicas: 2 }] },
  },
  {
    name: 'fresh reschedule ignores the previous split (room = free + already running)',
    clusters: [cluster('member1', { pods: 2 }), cluster('member2', { pods: 10 })],
    spec: deployment(12, dynamicWeight(), {
      clusters: [{ name: 'member1', replicas: 10 }, { name: 'member2', replicas: 2 }],
      rescheduleTriggeredAt: '2026-08-02T10:00:00Z',
    }),
    status: { lastScheduledTime: '2026-08-01T10:00:00Z' },
    want: { clusters: [{ name: 'member1', replicas: 6 }, { name: 'member2', replicas: 6 }], why: { member1: 'divided afresh' } },
  },

  // ---- Aggregated ----
  {
    name: 'Aggregated uses the fewest clusters: availability 12/8/10 with 12 → all on the roomiest',
    clusters: [cluster('member1', { pods: 12 }), cluster('member2', { pods: 8 }), cluster('member3', { pods: 10 })],
    spec: deployment(12, aggregated()),
    want: { clusters: [{ name: 'member1', replicas: 12 }], why: { member2: 'Aggregated fit the replicas into fewer clusters' } },
  },
  {
    name: 'Aggregated availability 6/8/10 with 12 → the two roomiest, split by availability (5/7)',
    clusters: [cluster('member1', { pods: 6 }), cluster('member2', { pods: 8 }), cluster('member3', { pods: 10 })],
    spec: deployment(12, aggregated()),
    want: { clusters: [{ name: 'member2', replicas: 5 }, { name: 'member3', replicas: 7 }] },
  },
  {
    name: 'Aggregated scale-up 12 → 24 fills the clusters already used first',
    clusters: [cluster('member1', { pods: 4 }), cluster('member2', { pods: 6 }), cluster('member3', { pods: 8 })],
    spec: deployment(24, aggregated(), { clusters: [{ name: 'member1', replicas: 4 }, { name: 'member2', replicas: 8 }] }),
    want: {
      clusters: [
        { name: 'member1', replicas: 7 },
        { name: 'member2', replicas: 12 },
        { name: 'member3', replicas: 5 },
      ],
    },
  },
  {
    name: 'Aggregated scale-down 12 → 6 keeps only the biggest previous cluster',
    clusters: [cluster('member1', { pods: 1 }), cluster('member2', { pods: 1 }), cluster('member3', { pods: 1 })],
    spec: deployment(6, aggregated(), { clusters: [{ name: 'member1', replicas: 4 }, { name: 'member2', replicas: 8 }] }),
    want: { clusters: [{ name: 'member2', replicas: 6 }], why: { member1: 'scaled down from 4 to 0' } },
  },
  {
    name: 'Aggregated not enough room → Unschedulable',
    clusters: [cluster('member1', { pods: 3 }), cluster('member2', { pods: 3 })],
    spec: deployment(12, aggregated()),
    want: { clusters: undefined, reason: 'Unschedulable', message: 'failed to assign replicas: failed to scale up: Clusters available replicas 6 are not enough to schedule.' },
  },
];

runCases(t, cases);
