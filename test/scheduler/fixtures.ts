import type { Test } from 'tap';
import { scheduleBinding } from '../../src/scheduler/index.js';
import type { BindingSpec, BindingStatus, ClusterObject, Placement, ResourceList, ResourceModel, Taint, TargetCluster } from '../../src/scheduler/index.js';

/** Builders for Cluster objects and binding specs as the API serves them, plus the table runner. */

export interface ClusterOptions {
  readonly labels?: Record<string, string>;
  readonly provider?: string;
  readonly region?: string;
  readonly zones?: string[];
  readonly taints?: Taint[];
  /** group/version + kind pairs the cluster serves; default: apps/v1 Deployment, v1 ConfigMap. */
  readonly apis?: readonly (readonly [string, string])[];
  /** Free pods: sets status.resourceSummary.allocatable.pods (no summary at all when absent). */
  readonly pods?: number;
  readonly allocatable?: ResourceList;
  readonly allocated?: ResourceList;
  readonly allocating?: ResourceList;
  readonly deleting?: boolean;
  readonly ready?: 'True' | 'False';
  readonly resourceModels?: ResourceModel[];
  readonly modelings?: { grade: number; count: number }[];
}

const DEFAULT_APIS: readonly (readonly [string, string])[] = [
  ['apps/v1', 'Deployment'],
  ['v1', 'ConfigMap'],
];

export function cluster(name: string, options: ClusterOptions = {}): ClusterObject {
  const apis = new Map<string, { name: string; kind: string }[]>();
  for (const [groupVersion, kind] of options.apis ?? DEFAULT_APIS) {
    apis.set(groupVersion, [...(apis.get(groupVersion) ?? []), { name: `${kind.toLowerCase()}s`, kind }]);
  }
  const allocatable = options.allocatable ?? (options.pods !== undefined ? { pods: String(options.pods) } : undefined);
  const summary =
    allocatable || options.modelings
      ? {
          allocatable: allocatable ?? {},
          ...(options.allocated ? { allocated: options.allocated } : {}),
          ...(options.allocating ? { allocating: options.allocating } : {}),
          ...(options.modelings ? { allocatableModelings: options.modelings } : {}),
        }
      : undefined;
  return {
    apiVersion: 'cluster.karmada.io/v1alpha1',
    kind: 'Cluster',
    metadata: {
      name,
      ...(options.labels ? { labels: options.labels } : {}),
      ...(options.deleting ? { deletionTimestamp: '2026-08-01T10:00:00Z' } : {}),
    },
    spec: {
      syncMode: 'Push',
      apiEndpoint: `https://${name}.example.com:6443`,
      ...(options.provider ? { provider: options.provider } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(options.zones ? { zones: options.zones } : {}),
      ...(options.taints ? { taints: options.taints } : {}),
      ...(options.resourceModels ? { resourceModels: options.resourceModels } : {}),
    },
    status: {
      kubernetesVersion: 'v1.31.0',
      apiEnablements: [...apis].map(([groupVersion, resources]) => ({ groupVersion, resources })),
      conditions: [{ type: 'Ready', status: options.ready ?? 'True', reason: 'ClusterReady', message: 'cluster is healthy and ready to accept workloads' }],
      ...(summary ? { resourceSummary: summary } : {}),
    },
  };
}

/** A Deployment binding spec (apps/v1), `uid` empty unless given. */
export function deployment(replicas: number, placement: Placement, extra: Partial<BindingSpec> & { uid?: string } = {}): BindingSpec {
  const { uid, ...rest } = extra;
  return {
    resource: { apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'default', name: 'nginx', ...(uid ? { uid } : {}) },
    replicas,
    placement,
    ...rest,
  };
}

/** A ConfigMap binding spec: a non-workload. */
export function configMap(placement: Placement, extra: Partial<BindingSpec> = {}): BindingSpec {
  return { resource: { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'settings' }, placement, ...extra };
}

export const dividedStatic = (weights: Record<string, number>): Placement => ({
  replicaScheduling: {
    replicaSchedulingType: 'Divided',
    replicaDivisionPreference: 'Weighted',
    weightPreference: { staticWeightList: Object.entries(weights).map(([name, weight]) => ({ targetCluster: { clusterNames: [name] }, weight })) },
  },
});

export const dynamicWeight = (extra: Placement = {}): Placement => ({
  ...extra,
  replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Weighted', weightPreference: { dynamicWeight: 'AvailableReplicas' } },
});

export const aggregated = (extra: Placement = {}): Placement => ({
  ...extra,
  replicaScheduling: { replicaSchedulingType: 'Divided', replicaDivisionPreference: 'Aggregated' },
});

export const NOT_READY: Taint = { key: 'cluster.karmada.io/not-ready', effect: 'NoSchedule' };

/** What a case expects; every field given is asserted. */
export interface Expect {
  /** spec.clusters as written (undefined = left unchanged). */
  readonly clusters?: readonly TargetCluster[] | undefined;
  /** Condition reason; defaults to Success. */
  readonly reason?: string;
  readonly message?: string;
  readonly affinityName?: string | undefined;
  /** cluster → filter plugin that rejected it. */
  readonly filteredBy?: Record<string, string>;
  /** cluster → the filter's reason text. */
  readonly filterReason?: Record<string, string>;
  /** cluster → the explanation's `why` must contain this. */
  readonly why?: Record<string, string>;
  /** cluster → availableReplicas in the explanation. */
  readonly available?: Record<string, number | undefined>;
  /** cluster → score in the explanation. */
  readonly score?: Record<string, number>;
  /** Every explanation entry belongs to this clusterAffinities term. */
  readonly term?: string;
}

export interface Case {
  readonly name: string;
  readonly clusters: readonly ClusterObject[];
  readonly spec: BindingSpec;
  readonly status?: BindingStatus;
  readonly want: Expect;
}

export function runCases(t: Test, cases: readonly Case[]): void {
  for (const c of cases) {
    t.test(c.name, async (t) => {
      const result = scheduleBinding({ clusters: c.clusters, spec: c.spec, status: c.status });
      const want = c.want;
      const reason = want.reason ?? 'Success';
      t.equal(result.condition.reason, reason, 'condition reason');
      t.equal(result.condition.status, reason === 'Success' ? 'True' : 'False', 'condition status');
      t.equal(result.scheduled, reason === 'Success', 'scheduled');
      if (want.message !== undefined) t.equal(result.condition.message, want.message, 'condition message');
      if ('clusters' in want) t.strictSame(result.clusters, want.clusters, 'spec.clusters');
      if ('affinityName' in want) t.equal(result.affinityName, want.affinityName, 'affinityName');
      t.strictSame(
        result.explanation.map((e) => e.cluster),
        c.clusters.map((cl) => cl.metadata.name).sort(),
        'one explanation per cluster, sorted by name',
      );
      const entry = (name: string) => result.explanation.find((e) => e.cluster === name);
      for (const [name, plugin] of Object.entries(want.filteredBy ?? {})) t.equal(entry(name)?.filteredBy?.plugin, plugin, `${name} filtered by ${plugin}`);
      for (const [name, text] of Object.entries(want.filterReason ?? {})) t.equal(entry(name)?.filteredBy?.reason, text, `${name} filter reason`);
      for (const [name, text] of Object.entries(want.why ?? {})) t.match(entry(name)?.why ?? '', text, `${name} why`);
      for (const [name, n] of Object.entries(want.available ?? {})) t.equal(entry(name)?.availableReplicas, n, `${name} availableReplicas`);
      for (const [name, n] of Object.entries(want.score ?? {})) t.equal(entry(name)?.score, n, `${name} score`);
      if (want.term !== undefined) t.strictSame([...new Set(result.explanation.map((e) => e.affinityTerm))], [want.term], 'explanation affinity term');
      // Every selected cluster in the explanation carries the replicas it got.
      for (const target of result.clusters ?? []) {
        if (!result.scheduled) continue;
        t.equal(entry(target.name)?.selected, true, `${target.name} explained as selected`);
        t.equal(entry(target.name)?.replicas, target.replicas, `${target.name} explained replicas`);
      }
    });
  }
}
