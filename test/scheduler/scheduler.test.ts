import t from 'tap';
import { NOT_READY, cluster, configMap, deployment, dividedStatic, runCases } from './fixtures.js';
import type { Case } from './fixtures.js';

/** The filter plugins, deleting clusters and the FitError (NoClusterFit) text. */

const tolerate = (key: string, effect: string) => ({ clusterTolerations: [{ key, operator: 'Exists', effect }] });

const cases: Case[] = [
  // ---- TaintToleration ----
  {
    name: 'an untolerated NoSchedule taint filters the cluster out',
    clusters: [cluster('member1', { taints: [NOT_READY] }), cluster('member2')],
    spec: deployment(2, {}),
    want: {
      clusters: [{ name: 'member2', replicas: 2 }],
      filteredBy: { member1: 'TaintToleration' },
      filterReason: { member1: 'cluster(s) had untolerated taint {cluster.karmada.io/not-ready:NoSchedule}' },
      why: { member1: 'filtered out by TaintToleration: had untolerated taint {cluster.karmada.io/not-ready:NoSchedule}' },
    },
  },
  {
    name: 'an untolerated NoExecute taint (with a value) filters the cluster out',
    clusters: [cluster('member1', { taints: [{ key: 'maintenance', value: 'planned', effect: 'NoExecute' }] }), cluster('member2')],
    spec: deployment(1, {}),
    want: { clusters: [{ name: 'member2', replicas: 1 }], filterReason: { member1: 'cluster(s) had untolerated taint {maintenance=planned:NoExecute}' } },
  },
  {
    name: 'a PreferNoSchedule taint does not filter',
    clusters: [cluster('member1', { taints: [{ key: 'soft', effect: 'PreferNoSchedule' }] })],
    spec: deployment(1, {}),
    want: { clusters: [{ name: 'member1', replicas: 1 }] },
  },
  {
    name: 'toleration Exists on the key tolerates any value',
    clusters: [cluster('member1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })],
    spec: deployment(1, { clusterTolerations: [{ key: 'dedicated', operator: 'Exists' }] }),
    want: { clusters: [{ name: 'member1', replicas: 1 }] },
  },
  {
    name: 'toleration Equal with the same value tolerates',
    clusters: [cluster('member1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })],
    spec: deployment(1, { clusterTolerations: [{ key: 'dedicated', operator: 'Equal', value: 'gpu', effect: 'NoSchedule' }] }),
    want: { clusters: [{ name: 'member1', replicas: 1 }] },
  },
  {
    name: 'toleration Equal with another value does not tolerate',
    clusters: [cluster('member1', { taints: [{ key: 'dedicated', value: 'gpu', effect: 'NoSchedule' }] })],
    spec: deployment(1, { clusterTolerations: [{ key: 'dedicated', value: 'cpu' }] }),
    want: { clusters: [], reason: 'NoClusterFit', message: '0/1 clusters are available: 1 cluster(s) had untolerated taint {dedicated=gpu:NoSchedule}.' },
  },
  {
    name: 'toleration with an empty key and effect NoSchedule tolerates every NoSchedule taint but no NoExecute one',
    clusters: [
      cluster('member1', { taints: [NOT_READY, { key: 'cluster.karmada.io/unreachable', effect: 'NoSchedule' }] }),
      cluster('member2', { taints: [{ key: 'evict', effect: 'NoExecute' }] }),
    ],
    spec: deployment(1, { clusterTolerations: [{ operator: 'Exists', effect: 'NoSchedule' }] }),
    want: { clusters: [{ name: 'member1', replicas: 1 }], filteredBy: { member2: 'TaintToleration' } },
  },
  {
    name: 'toleration for NoExecute with a matching key lets a NoExecute-tainted cluster in',
    clusters: [cluster('member1', { taints: [{ key: 'evict', effect: 'NoExecute' }] })],
    spec: deployment(1, tolerate('evict', 'NoExecute')),
    want: { clusters: [{ name: 'member1', replicas: 1 }] },
  },
  {
    name: 'a cluster already in spec.clusters passes TaintToleration',
    clusters: [cluster('member1', { taints: [NOT_READY] }), cluster('member2', { taints: [NOT_READY] })],
    spec: deployment(2, {}, { clusters: [{ name: 'member1', replicas: 2 }] }),
    want: { clusters: [{ name: 'member1', replicas: 2 }], filteredBy: { member2: 'TaintToleration' } },
  },
  {
    name: 'a not-ready cluster without a taint is not filtered (only taints filter)',
    clusters: [cluster('member1', { ready: 'False' })],
    spec: deployment(1, {}),
    want: { clusters: [{ name: 'member1', replicas: 1 }] },
  },

  // ---- APIEnablement ----
  {
    name: 'a cluster that does not serve the kind is filtered by APIEnablement',
    clusters: [cluster('member1', { apis: [['v1', 'ConfigMap']] }), cluster('member2')],
    spec: deployment(1, {}),
    want: {
      clusters: [{ name: 'member2', replicas: 1 }],
      filteredBy: { member1: 'APIEnablement' },
      filterReason: { member1: 'cluster(s) did not have the API resource' },
    },
  },
  {
    name: 'the group/version must match too (extensions/v1beta1 Deployment does not count)',
    clusters: [cluster('member1', { apis: [['extensions/v1beta1', 'Deployment']] })],
    spec: deployment(1, {}),
    want: { clusters: [], reason: 'NoClusterFit', message: '0/1 clusters are available: 1 cluster(s) did not have the API resource.' },
  },
  {
    name: 'a cluster already in spec.clusters passes APIEnablement',
    clusters: [cluster('member1', { apis: [] }), cluster('member2', { apis: [] })],
    spec: deployment(1, {}, { clusters: [{ name: 'member2', replicas: 1 }] }),
    want: { clusters: [{ name: 'member2', replicas: 1 }], filteredBy: { member1: 'APIEnablement' } },
  },

  // ---- FitError / deleting clusters ----
  {
    name: 'NoClusterFit message counts reasons, sorted, and clears spec.clusters',
    clusters: [
      cluster('member1', { apis: [] }),
      cluster('member2', { taints: [{ key: 'team', value: 'a', effect: 'NoSchedule' }] }),
      cluster('member3', { taints: [{ key: 'team', value: 'a', effect: 'NoSchedule' }] }),
    ],
    spec: configMap({}, { clusters: [] }),
    want: {
      clusters: [],
      reason: 'NoClusterFit',
      message: '0/3 clusters are available: 1 cluster(s) did not have the API resource, 2 cluster(s) had untolerated taint {team=a:NoSchedule}.',
    },
  },
  {
    name: 'NoClusterFit on a previously scheduled binding clears the old result',
    clusters: [cluster('member1'), cluster('member2')],
    spec: deployment(2, { clusterAffinity: { clusterNames: ['member9'] } }, { clusters: [{ name: 'member1', replicas: 2 }] }),
    want: {
      clusters: [],
      reason: 'NoClusterFit',
      message: '0/2 clusters are available: 2 cluster(s) did not match the placement cluster affinity constraint.',
    },
  },
  {
    name: 'deleting clusters are skipped but counted',
    clusters: [cluster('member1', { deleting: true }), cluster('member2', { taints: [NOT_READY] })],
    spec: deployment(1, {}),
    want: {
      clusters: [],
      reason: 'NoClusterFit',
      message: '0/2 clusters are available: 1 cluster(s) had untolerated taint {cluster.karmada.io/not-ready:NoSchedule}.',
      why: { member1: 'being deleted' },
    },
  },
  {
    name: 'only deleting clusters → "no cluster exists"',
    clusters: [cluster('member1', { deleting: true }), cluster('member2', { deleting: true })],
    spec: deployment(1, {}),
    want: { clusters: [], reason: 'NoClusterFit', message: '0/2 clusters are available: no cluster exists.' },
  },
  {
    name: 'no clusters at all → "0/0 clusters are available: no cluster exists."',
    clusters: [],
    spec: deployment(1, {}),
    want: { clusters: [], reason: 'NoClusterFit', message: '0/0 clusters are available: no cluster exists.' },
  },
  {
    name: 'a deleting cluster of the previous result is replaced',
    clusters: [cluster('member1', { deleting: true }), cluster('member2')],
    spec: deployment(3, dividedStatic({ member1: 1, member2: 1 }), { clusters: [{ name: 'member1', replicas: 2 }, { name: 'member2', replicas: 1 }] }),
    want: { clusters: [{ name: 'member2', replicas: 3 }] },
  },

  // ---- ClusterEviction ----
  {
    name: 'a cluster with a graceful eviction task is filtered by ClusterEviction',
    clusters: [cluster('member1'), cluster('member2')],
    spec: deployment(2, {}, { gracefulEvictionTasks: [{ fromCluster: 'member1', reason: 'ApplicationFailure', producer: 'ApplicationFailover' }] }),
    want: { clusters: [{ name: 'member2', replicas: 2 }], filteredBy: { member1: 'ClusterEviction' } },
  },

  // ---- ClusterAffinity ----
  {
    name: 'clusterAffinity.clusterNames limits the clusters',
    clusters: [cluster('member1'), cluster('member2'), cluster('member3')],
    spec: configMap({ clusterAffinity: { clusterNames: ['member1', 'member3'] } }),
    want: {
      clusters: [{ name: 'member1' }, { name: 'member3' }],
      filteredBy: { member2: 'ClusterAffinity' },
      filterReason: { member2: 'cluster(s) did not match the placement cluster affinity constraint' },
    },
  },
  {
    name: 'clusterAffinity.exclude removes a cluster even when clusterNames lists it',
    clusters: [cluster('member1'), cluster('member2')],
    spec: configMap({ clusterAffinity: { clusterNames: ['member1', 'member2'], exclude: ['member2'] } }),
    want: { clusters: [{ name: 'member1' }], filteredBy: { member2: 'ClusterAffinity' } },
  },
  {
    name: 'clusterAffinity.labelSelector with matchLabels and matchExpressions',
    clusters: [
      cluster('member1', { labels: { env: 'prod', tier: 'gold' } }),
      cluster('member2', { labels: { env: 'prod', tier: 'bronze' } }),
      cluster('member3', { labels: { env: 'dev' } }),
    ],
    spec: configMap({ clusterAffinity: { labelSelector: { matchLabels: { env: 'prod' }, matchExpressions: [{ key: 'tier', operator: 'In', values: ['gold', 'silver'] }] } } }),
    want: { clusters: [{ name: 'member1' }], filteredBy: { member2: 'ClusterAffinity', member3: 'ClusterAffinity' } },
  },
  {
    name: 'fieldSelector provider In',
    clusters: [cluster('member1', { provider: 'aws' }), cluster('member2', { provider: 'gcp' }), cluster('member3')],
    spec: configMap({ clusterAffinity: { fieldSelector: { matchExpressions: [{ key: 'provider', operator: 'In', values: ['aws'] }] } } }),
    want: { clusters: [{ name: 'member1' }], filteredBy: { member2: 'ClusterAffinity', member3: 'ClusterAffinity' } },
  },
  {
    name: 'fieldSelector region NotIn matches a cluster without a region',
    clusters: [cluster('member1', { region: 'us-east' }), cluster('member2', { region: 'eu-west' }), cluster('member3')],
    spec: configMap({ clusterAffinity: { fieldSelector: { matchExpressions: [{ key: 'region', operator: 'NotIn', values: ['us-east'] }] } } }),
    want: { clusters: [{ name: 'member2' }, { name: 'member3' }], filteredBy: { member1: 'ClusterAffinity' } },
  },
  {
    name: 'fieldSelector zone In matches any overlap with spec.zones',
    clusters: [cluster('member1', { zones: ['z1', 'z2'] }), cluster('member2', { zones: ['z3'] }), cluster('member3')],
    spec: configMap({ clusterAffinity: { fieldSelector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['z2', 'z9'] }] } } }),
    want: { clusters: [{ name: 'member1' }], filteredBy: { member2: 'ClusterAffinity', member3: 'ClusterAffinity' } },
  },
  {
    name: 'fieldSelector zone NotIn needs no overlap (a cluster without zones matches)',
    clusters: [cluster('member1', { zones: ['z1', 'z2'] }), cluster('member2', { zones: ['z3'] }), cluster('member3')],
    spec: configMap({ clusterAffinity: { fieldSelector: { matchExpressions: [{ key: 'zone', operator: 'NotIn', values: ['z2'] }] } } }),
    want: { clusters: [{ name: 'member2' }, { name: 'member3' }], filteredBy: { member1: 'ClusterAffinity' } },
  },
  {
    name: 'fieldSelector requirements are AND-ed with clusterNames',
    clusters: [cluster('member1', { provider: 'aws', region: 'us-east' }), cluster('member2', { provider: 'aws', region: 'us-west' })],
    spec: configMap({
      clusterAffinity: {
        clusterNames: ['member1', 'member2'],
        fieldSelector: {
          matchExpressions: [
            { key: 'provider', operator: 'In', values: ['aws'] },
            { key: 'region', operator: 'In', values: ['us-west'] },
          ],
        },
      },
    }),
    want: { clusters: [{ name: 'member2' }], filteredBy: { member1: 'ClusterAffinity' } },
  },

  // ---- SpreadConstraint filter ----
  {
    name: 'spreading by region filters clusters without a region',
    clusters: [cluster('member1', { region: 'r1' }), cluster('member2')],
    spec: deployment(1, { spreadConstraints: [{ spreadByField: 'region', minGroups: 1, maxGroups: 1 }] }),
    want: {
      clusters: [{ name: 'member1', replicas: 1 }],
      filteredBy: { member2: 'SpreadConstraint' },
      filterReason: { member2: 'cluster(s) did not have region property' },
    },
  },
  {
    name: 'a placement without a spec.placement is a SchedulerError and leaves the result alone',
    clusters: [cluster('member1')],
    spec: { resource: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'nginx', namespace: 'default' }, replicas: 1 },
    want: { clusters: undefined, reason: 'SchedulerError' },
  },
];

runCases(t, cases);
