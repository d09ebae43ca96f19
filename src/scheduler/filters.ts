import { clusterMatches } from './affinity.js';
import { firstUntoleratedTaint, formatTaint } from './tolerations.js';
import type { BindingSpec, ClusterAffinity, ClusterObject, Placement } from './types.js';

/**
 * Karmada's in-tree filter plugins. Each looks at one cluster and either lets it through
 * (undefined) or names the reason it is unfit, in Karmada's words (the text that ends up, counted,
 * in the FitError message). Karmada runs its plugins in Go map order, so which reason a cluster
 * failing several filters reports is not fixed there; here the order is always the one below.
 */

export interface FilterContext {
  readonly spec: BindingSpec;
  readonly placement: Placement;
  /** The clusterAffinities term being tried (status.schedulerObservingAffinityName). */
  readonly affinityName: string | undefined;
}

export interface FilterPlugin {
  readonly name: string;
  filter(cluster: ClusterObject, ctx: FilterContext): string | undefined;
}

export interface FilterRejection {
  readonly plugin: string;
  readonly reason: string;
}

/** Whether the previous result (spec.clusters) already has the cluster. */
export function alreadyScheduledOn(spec: BindingSpec, cluster: string): boolean {
  return (spec.clusters ?? []).some((target) => target.name === cluster);
}

/** ResourceBindingSpec.IsWorkload: replicas, replica requirements or components. */
export function isWorkload(spec: BindingSpec): boolean {
  return (spec.replicas ?? 0) > 0 || Boolean(spec.replicaRequirements) || (spec.components ?? []).length >= 1;
}

/** The template's API (group/version + kind) must be listed in the cluster's apiEnablements. */
const apiEnablement: FilterPlugin = {
  name: 'APIEnablement',
  filter(cluster, { spec }) {
    // A cluster that already runs the resource keeps it, so a briefly incomplete API list never evicts.
    if (alreadyScheduledOn(spec, cluster.metadata.name)) return undefined;
    const { apiVersion, kind } = spec.resource;
    for (const enablement of cluster.status?.apiEnablements ?? []) {
      if (enablement.groupVersion !== apiVersion) continue;
      if ((enablement.resources ?? []).some((resource) => resource.kind === kind)) return undefined;
    }
    return 'cluster(s) did not have the API resource';
  },
};

/** Every NoSchedule/NoExecute taint must be tolerated by placement.clusterTolerations. */
const taintToleration: FilterPlugin = {
  name: 'TaintToleration',
  filter(cluster, { spec, placement }) {
    // Already scheduled: leaving is the taint manager's business (NoExecute eviction), not the scheduler's.
    if (alreadyScheduledOn(spec, cluster.metadata.name)) return undefined;
    const taint = firstUntoleratedTaint(cluster.spec?.taints, placement.clusterTolerations);
    return taint ? `cluster(s) had untolerated taint {${formatTaint(taint)}}` : undefined;
  },
};

/**
 * The affinities a cluster may match: placement.clusterAffinity, or the clusterAffinities term
 * being tried plus (for workloads) its overflow affinities. Undefined = no constraint.
 */
export function activeAffinities(spec: BindingSpec, placement: Placement, affinityName: string | undefined): ClusterAffinity[] | undefined {
  if (placement.clusterAffinity) return [placement.clusterAffinity];
  for (const term of placement.clusterAffinities ?? []) {
    if (term.affinityName !== affinityName) continue;
    // Overflow groups exist to find room for replicas; a Service or ConfigMap only uses the primary group.
    return isWorkload(spec) ? [term, ...(term.overflowAffinities ?? [])] : [term];
  }
  return undefined;
}

const clusterAffinity: FilterPlugin = {
  name: 'ClusterAffinity',
  filter(cluster, { spec, placement, affinityName }) {
    const affinities = activeAffinities(spec, placement, affinityName);
    if (!affinities) return undefined;
    if (affinities.some((affinity) => clusterMatches(cluster, affinity))) return undefined;
    return 'cluster(s) did not match the placement cluster affinity constraint';
  },
};

/** Spreading by provider/region/zone needs the cluster to declare that property. */
const spreadConstraint: FilterPlugin = {
  name: 'SpreadConstraint',
  filter(cluster, { placement }) {
    for (const constraint of placement.spreadConstraints ?? []) {
      const field = constraint.spreadByField;
      if (field === 'provider' && !cluster.spec?.provider) return 'cluster(s) did not have provider property';
      if (field === 'region' && !cluster.spec?.region) return 'cluster(s) did not have region property';
      if (field === 'zone' && (cluster.spec?.zones ?? []).length === 0) return 'cluster(s) did not have zones property';
    }
    return undefined;
  },
};

/** A cluster the binding is being gracefully evicted from is not a candidate again. */
const clusterEviction: FilterPlugin = {
  name: 'ClusterEviction',
  filter(cluster, { spec }) {
    const evicting = (spec.gracefulEvictionTasks ?? []).some((task) => task.fromCluster === cluster.metadata.name);
    return evicting ? 'cluster(s) is in the process of eviction' : undefined;
  },
};

export const FILTER_PLUGINS: readonly FilterPlugin[] = [apiEnablement, taintToleration, clusterAffinity, spreadConstraint, clusterEviction];

/** Runs the filters in order; the first rejection wins. */
export function runFilters(cluster: ClusterObject, ctx: FilterContext): FilterRejection | undefined {
  for (const plugin of FILTER_PLUGINS) {
    const reason = plugin.filter(cluster, ctx);
    if (reason !== undefined) return { plugin: plugin.name, reason };
  }
  return undefined;
}

/** Score plugins: ClusterLocality gives 100 to a cluster already in spec.clusters; ClusterAffinity scores 0. */
export function scoreCluster(cluster: ClusterObject, spec: BindingSpec): number {
  if ((spec.clusters ?? []).length === 0) return 0;
  return alreadyScheduledOn(spec, cluster.metadata.name) ? 100 : 0;
}
