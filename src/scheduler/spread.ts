import { sortCandidates } from './candidate.js';
import type { Candidate } from './candidate.js';
import { ScheduleFailure } from './failure.js';
import { availabilityIgnored, replicaSchedulingType, spreadConstraintsIgnored } from './strategy.js';
import type { BindingSpec, Placement, SpreadConstraint } from './types.js';

/**
 * The selection step: which of the (sorted) feasible clusters go on to replica division, under
 * `placement.spreadConstraints`. Without constraints, or with static weighting, every feasible
 * cluster is selected. Otherwise only two shapes are implemented, as in Karmada: a region
 * constraint (optionally with a cluster one), or a cluster constraint alone; anything else
 * (zone, provider, spreadByLabel) fails with Karmada's error.
 */

export interface Selection {
  readonly selected: readonly Candidate[];
  /** Why each feasible-but-dropped cluster was left out. */
  readonly dropped: ReadonlyMap<string, string>;
}

const fail = (message: string): ScheduleFailure => new ScheduleFailure('SchedulerError', message);

export function selectClusters(candidates: readonly Candidate[], placement: Placement, spec: BindingSpec): Selection {
  const constraints = placement.spreadConstraints ?? [];
  if (constraints.length === 0 || spreadConstraintsIgnored(placement)) return { selected: candidates, dropped: new Map() };
  // -1: the strategy does not care about room for replicas (Duplicated).
  const needReplicas = availabilityIgnored(placement) ? -1 : (spec.replicas ?? 0);
  // One constraint per field; a later one for the same field wins, like Go's map assignment.
  const byField = new Map<string, SpreadConstraint>();
  for (const constraint of constraints) byField.set(constraint.spreadByField ?? '', constraint);
  const region = byField.get('region');
  const cluster = byField.get('cluster');
  let selected: readonly Candidate[];
  if (region) selected = selectByRegion(region, cluster, candidates, placement, spec);
  else if (cluster) selected = selectByCluster(cluster, candidates, needReplicas);
  else throw fail('just support cluster and region spread constraint');
  const dropped = new Map<string, string>();
  const chosen = new Set(selected.map((c) => c.name));
  const chosenRegions = new Set(selected.map((c) => c.cluster.spec?.region ?? ''));
  const maxGroups = cluster?.maxGroups ?? 0;
  candidates.forEach((candidate, rank) => {
    if (chosen.has(candidate.name)) return;
    if (region && !chosenRegions.has(candidate.cluster.spec?.region ?? '')) {
      dropped.set(candidate.name, `not selected: region ${candidate.cluster.spec?.region ?? ''} was not among the regions the region spread constraint chose`);
    } else if (!region && rank < maxGroups) {
      dropped.set(candidate.name, `not selected: spread constraint maxGroups ${maxGroups} swapped it for a cluster with more room for ${spec.replicas ?? 0} replicas`);
    } else {
      dropped.set(candidate.name, `not selected: spread constraint maxGroups ${maxGroups} kept higher-ranked clusters`);
    }
  });
  return { selected, dropped };
}

// ---- by cluster ----

function selectByCluster(constraint: SpreadConstraint, candidates: readonly Candidate[], needReplicas: number): Candidate[] {
  const total = candidates.length;
  if (total < (constraint.minGroups ?? 0)) throw fail('the number of feasible clusters is less than spreadConstraint.MinGroups');
  const needCount = Math.max(0, Math.min(total, constraint.maxGroups ?? 0));
  if (needReplicas === -1) return candidates.slice(0, needCount);
  const selected = selectByAvailableResource(candidates, needCount, needReplicas);
  if (selected.length === 0) throw fail(`no enough resource when selecting ${needCount} clusters`);
  return selected;
}

const totalAvailable = (clusters: readonly Candidate[]): number => clusters.reduce((sum, c) => sum + c.available, 0);

/**
 * The top `count` clusters, except that while they cannot hold `needReplicas` together, the
 * lowest-ranked of them is swapped (from the bottom up) for the left-out cluster with the most
 * available replicas, if that one has more. Empty when even that is not enough.
 */
function selectByAvailableResource(candidates: readonly Candidate[], count: number, needReplicas: number): Candidate[] {
  const kept = candidates.slice(0, count);
  const rest = candidates.slice(count);
  for (let slot = kept.length - 1; totalAvailable(kept) < needReplicas && slot >= 0; slot--) {
    const current = kept[slot];
    if (!current) continue;
    let best = -1;
    let bestAvailable = current.available;
    rest.forEach((c, i) => {
      if (c.available > bestAvailable) {
        best = i;
        bestAvailable = c.available;
      }
    });
    const replacement = rest[best];
    if (!replacement) continue;
    kept[slot] = replacement;
    rest[best] = current;
  }
  return totalAvailable(kept) >= needReplicas ? kept : [];
}

// ---- by region ----

interface RegionGroup {
  readonly name: string;
  /** In candidate order. */
  readonly clusters: Candidate[];
  score: number;
}

/** Score weight of "replicas the group can hold" over the clusters' average score (which is ≤ 100). */
const WEIGHT_UNIT = 1000;

/**
 * A region's score. Duplicated: how many of its clusters can run all replicas (×1000) plus their
 * average score. Divided: how much of its share (replicas / region minGroups) its best clusters can
 * hold (×1000, capped at the share), plus their average score.
 */
function groupScore(clusters: readonly Candidate[], placement: Placement, spec: BindingSpec, minGroups: number, clusterConstraint: SpreadConstraint | undefined): number {
  const replicas = spec.replicas ?? 0;
  if (replicaSchedulingType(placement) === 'Duplicated') {
    const valid = clusters.filter((c) => c.available >= replicas);
    if (valid.length === 0) return 0;
    return valid.length * WEIGHT_UNIT + Math.trunc(valid.reduce((sum, c) => sum + c.score, 0) / valid.length);
  }
  const target = Math.ceil(replicas / Math.max(1, minGroups));
  const clusterMinGroups = Math.max(clusterConstraint?.minGroups ?? 0, minGroups);
  let sumAvailable = 0;
  let sumScore = 0;
  let counted = 0;
  for (const c of clusters) {
    sumAvailable += c.available;
    sumScore += c.score;
    counted++;
    if (counted >= clusterMinGroups && sumAvailable >= target) break;
  }
  if (sumAvailable < target) return sumAvailable * WEIGHT_UNIT + Math.trunc(sumScore / clusters.length);
  return target * WEIGHT_UNIT + Math.trunc(sumScore / counted);
}

function selectByRegion(
  regionConstraint: SpreadConstraint,
  clusterConstraint: SpreadConstraint | undefined,
  candidates: readonly Candidate[],
  placement: Placement,
  spec: BindingSpec,
): Candidate[] {
  const regions = new Map<string, RegionGroup>();
  for (const candidate of candidates) {
    const name = candidate.cluster.spec?.region;
    if (!name) continue;
    let group = regions.get(name);
    if (!group) {
      group = { name, clusters: [], score: 0 };
      regions.set(name, group);
    }
    group.clusters.push(candidate);
  }
  const regionMinGroups = regionConstraint.minGroups ?? 0;
  for (const group of regions.values()) group.score = groupScore(group.clusters, placement, spec, regionMinGroups, clusterConstraint);
  if (regions.size < regionMinGroups) throw fail('the number of feasible region is less than spreadConstraint.MinGroups');

  const chosen = selectGroups(
    [...regions.values()].map((g) => ({ name: g.name, value: g.clusters.length, weight: g.score })),
    regionMinGroups,
    regionConstraint.maxGroups ?? 0,
    clusterConstraint?.minGroups ?? 0,
  );
  if (!chosen) throw fail('the number of clusters is less than the cluster spreadConstraint.MinGroups');

  // The best cluster of every chosen region, then the best of the rest up to the cluster maxGroups.
  const selected: Candidate[] = [];
  const others: Candidate[] = [];
  for (const group of chosen) {
    const clusters = regions.get(group.name)?.clusters ?? [];
    const [first, ...rest] = clusters;
    if (first) selected.push(first);
    others.push(...rest);
  }
  const needCount = Math.min(others.length + selected.length, clusterConstraint?.maxGroups ?? 0);
  const restCount = needCount - selected.length;
  if (restCount > 0) selected.push(...sortCandidates(others).slice(0, restCount));
  return selected;
}

// ---- group selection (regions) ----

export interface Group {
  readonly name: string;
  /** Number of clusters in the group. */
  readonly value: number;
  /** The group's score. */
  readonly weight: number;
}

interface Path {
  readonly id: number;
  /** Sorted by weight (desc), then name. */
  readonly groups: readonly Group[];
  readonly weight: number;
  readonly value: number;
}

const byWeightThenName = (a: Group, b: Group): number => (a.weight !== b.weight ? b.weight - a.weight : a.name < b.name ? -1 : a.name > b.name ? 1 : 0);

/**
 * Picks the best set of groups: between `min` and `max` groups whose cluster counts add up to at
 * least `target`. Every such set is found by a depth-first search over the groups ordered by
 * cluster count (ascending), score (descending) and name, stopping each branch as soon as it is
 * feasible; the best set has the highest total score, then the most clusters, then was found first —
 * except that a set which is a strict prefix of it (by score order) is preferred. Undefined if none.
 */
export function selectGroups(groups: readonly Group[], min: number, max: number, target: number): readonly Group[] | undefined {
  if (groups.length === 0) return undefined;
  const ordered = [...groups].sort((a, b) => {
    if (a.value !== b.value) return a.value - b.value;
    if (a.weight !== b.weight) return b.weight - a.weight;
    return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
  });
  const paths: Path[] = [];
  const stack: Group[] = [];
  const search = (sum: number, begin: number): void => {
    if (sum >= target && stack.length >= min && stack.length <= max) {
      paths.push({
        id: paths.length + 1,
        groups: [...stack].sort(byWeightThenName),
        weight: stack.reduce((s, g) => s + g.weight, 0),
        value: stack.reduce((s, g) => s + g.value, 0),
      });
      return;
    }
    if (stack.length >= max) return;
    for (let i = begin; i < ordered.length; i++) {
      const group = ordered[i];
      if (!group) continue;
      stack.push(group);
      search(sum + group.value, i + 1);
      // When every group is needed to reach the minimum there is only one combination worth trying.
      if (ordered.length === min) break;
      stack.pop();
    }
  };
  search(0, 0);
  if (paths.length === 0) return undefined;
  if (paths.length === 1) return paths[0]?.groups;
  const ranked = [...paths].sort((a, b) => (a.weight !== b.weight ? b.weight - a.weight : a.value !== b.value ? b.value - a.value : a.id - b.id));
  let best = ranked[0] as Path;
  for (const path of ranked.slice(1)) {
    if (path.groups.length < best.groups.length && path.groups.every((g, i) => best.groups[i]?.name === g.name)) best = path;
  }
  return best.groups;
}
