import t from 'tap';
import { estimateCluster } from '../../src/scheduler/index.js';
import type { ReplicaRequirements } from '../../src/scheduler/index.js';
import { cluster, deployment, dynamicWeight, runCases } from './fixtures.js';
import type { ClusterOptions } from './fixtures.js';

/** The general estimator: free pods, free resources over requests, resource models. */

const models: ClusterOptions['resourceModels'] = [
  { grade: 0, ranges: [{ name: 'cpu', min: '0', max: '1' }, { name: 'memory', min: '0', max: '4Gi' }] },
  { grade: 1, ranges: [{ name: 'cpu', min: '1', max: '2' }, { name: 'memory', min: '4Gi', max: '16Gi' }] },
  { grade: 2, ranges: [{ name: 'cpu', min: '2', max: '4' }, { name: 'memory', min: '16Gi', max: '32Gi' }] },
];

const table: { name: string; cluster: ClusterOptions; requirements?: ReplicaRequirements; want: number }[] = [
  { name: 'no resourceSummary → 0', cluster: {}, requirements: { resourceRequest: { cpu: '1' } }, want: 0 },
  { name: 'free pods = allocatable − allocated − allocating', cluster: { allocatable: { pods: '10' }, allocated: { pods: '3' }, allocating: { pods: '2' } }, want: 5 },
  { name: 'no free pods → 0', cluster: { allocatable: { pods: '10', cpu: '8' }, allocated: { pods: '12' } }, requirements: { resourceRequest: { cpu: '1' } }, want: 0 },
  { name: 'cpu in millicores: (2 − 500m) / 100m = 15', cluster: { allocatable: { pods: '110', cpu: '2' }, allocated: { cpu: '500m' } }, requirements: { resourceRequest: { cpu: '100m' } }, want: 15 },
  {
    name: 'memory: (8Gi − 2Gi − 1Gi) / 1Gi = 5',
    cluster: { allocatable: { pods: '110', memory: '8Gi' }, allocated: { memory: '2Gi' }, allocating: { memory: '1Gi' } },
    requirements: { resourceRequest: { memory: '1Gi' } },
    want: 5,
  },
  {
    name: 'the scarcest resource bounds it (cpu 16, memory 8 → 8)',
    cluster: { allocatable: { pods: '110', cpu: '4', memory: '4Gi' } },
    requirements: { resourceRequest: { cpu: '250m', memory: '512Mi' } },
    want: 8,
  },
  { name: 'free pods bound it too', cluster: { allocatable: { pods: '3', cpu: '64' } }, requirements: { resourceRequest: { cpu: '1' } }, want: 3 },
  { name: 'a requested resource the cluster does not have → 0', cluster: { allocatable: { pods: '110', cpu: '64' } }, requirements: { resourceRequest: { cpu: '1', 'nvidia.com/gpu': '1' } }, want: 0 },
  { name: 'a zero request is ignored', cluster: { allocatable: { pods: '110', memory: '2Gi' } }, requirements: { resourceRequest: { cpu: '0', memory: '1Gi' } }, want: 2 },
  { name: 'fractions are exact: (1.5 − 1) / 250m = 2', cluster: { allocatable: { pods: '110', cpu: '1.5' }, allocating: { cpu: '1' } }, requirements: { resourceRequest: { cpu: '250m' } }, want: 2 },
  { name: 'replicaRequirements without requests → free pods', cluster: { allocatable: { pods: '7', cpu: '1' } }, requirements: {}, want: 7 },
  {
    name: 'resource models: only grade-1+ nodes fit 1 cpu / 2Gi (3×1 + 1×2 = 5)',
    cluster: { allocatable: { pods: '100', cpu: '1000', memory: '1000Gi' }, resourceModels: models, modelings: [{ grade: 0, count: 2 }, { grade: 1, count: 3 }, { grade: 2, count: 1 }] },
    requirements: { resourceRequest: { cpu: '1', memory: '2Gi' } },
    want: 5,
  },
  {
    name: 'resource models are still capped by free pods',
    cluster: { allocatable: { pods: '2', cpu: '1000', memory: '1000Gi' }, resourceModels: models, modelings: [{ grade: 1, count: 3 }] },
    requirements: { resourceRequest: { cpu: '1', memory: '2Gi' } },
    want: 2,
  },
  {
    name: 'allocatableModelings without resourceModels fall back to the summary',
    cluster: { allocatable: { pods: '100', cpu: '4' }, modelings: [{ grade: 1, count: 3 }] },
    requirements: { resourceRequest: { cpu: '1' } },
    want: 4,
  },
];

t.test('general estimator', async (t) => {
  for (const c of table) {
    t.test(c.name, async (t) => {
      t.equal(estimateCluster(cluster('member1', c.cluster), c.requirements), c.want);
    });
  }
});

runCases(t, [
  {
    name: 'dynamic weight by cpu-based availability: 8 and 4 free cores at 500m → 16:8, 6 replicas → 4/2',
    clusters: [cluster('member1', { allocatable: { pods: '110', cpu: '8' } }), cluster('member2', { allocatable: { pods: '110', cpu: '6' }, allocated: { cpu: '2' } })],
    spec: deployment(6, dynamicWeight(), { replicaRequirements: { resourceRequest: { cpu: '500m' } } }),
    want: { clusters: [{ name: 'member1', replicas: 4 }, { name: 'member2', replicas: 2 }], available: { member1: 16, member2: 8 } },
  },
]);
