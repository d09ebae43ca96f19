import { clusterMatches } from './affinity.js';
import { sortCandidates } from './candidate.js';
import type { Candidate } from './candidate.js';
import { assignReplicas, rescheduleRequired } from './division.js';
import { estimateAvailableReplicas } from './estimator.js';
import { ScheduleFailure, wrapFailure } from './failure.js';
import { runFilters, scoreCluster } from './filters.js';
import type { FilterRejection } from './filters.js';
import { selectClusters } from './spread.js';
import { availabilityIgnored, spreadConstraintsIgnored, strategyOf } from './strategy.js';
import type {
  BindingSpec,
  BindingStatus,
  ClusterExplanation,
  ClusterObject,
  Placement,
  ScheduledCondition,
  SchedulingInput,
  SchedulingResult,
  TargetCluster,
} from './types.js';

/**
 * One binding through Karmada's scheduling pipeline: filter every cluster, score the survivors
 * (ClusterLocality), select among them (spread constraints), divide the replicas; with
 * clusterAffinities, the terms are tried in order (from the one in use, or from the first on a
 * fresh reschedule) and the first that schedules wins.
 */

export const SUCCESS_MESSAGE = 'Binding has been scheduled successfully.';

/** The outcome of one run of the pipeline (Karmada's genericScheduler.Schedule). */
interface Attempt {
  readonly targets?: TargetCluster[];
  readonly failure?: ScheduleFailure;
  readonly explanation: ClusterExplanation[];
}

export function scheduleBinding(input: SchedulingInput): SchedulingResult {
  const { spec, clusters } = input;
  const status = input.status ?? undefined;
  const placement = spec.placement;
  // Karmada never sees such bindings (the API requires spec.resource; the detector always copies a placement).
  if (!spec.resource || !placement) {
    const field = spec.resource ? 'spec.placement' : 'spec.resource';
    const failure = new ScheduleFailure('SchedulerError', `failed to get ${field} from the binding`);
    return { scheduled: false, clusters: undefined, condition: conditionOf(failure), explanation: unexplained(clusters, `not scheduled: the binding has no ${field}`) };
  }
  const terms = placement.clusterAffinities ?? [];
  if (terms.length === 0) return finish(attempt(clusters, spec, status, placement, status?.schedulerObservingAffinityName));

  // clusterAffinities: resume from the term in use (a fresh reschedule starts over from the first).
  const observed = status?.schedulerObservingAffinityName ?? '';
  let index = observed ? Math.max(0, terms.findIndex((t) => t.affinityName === observed)) : 0;
  if (rescheduleRequired(spec, status)) index = 0;
  let firstFailure: ScheduleFailure | undefined;
  let last: Attempt | undefined;
  let lastTerm = '';
  for (; index < terms.length; index++) {
    lastTerm = terms[index]?.affinityName ?? '';
    last = attempt(clusters, spec, status, placement, lastTerm);
    if (!last.failure) return { ...finish(last, lastTerm), affinityName: lastTerm };
    firstFailure ??= last.failure;
  }
  // Every term failed: the condition reports the first failure, the status keeps its old term.
  const result = finish({ failure: firstFailure as ScheduleFailure, explanation: last?.explanation ?? [] }, lastTerm);
  return observed ? { ...result, affinityName: observed } : result;
}

function finish(outcome: Attempt, affinityTerm?: string): SchedulingResult {
  const explanation = affinityTerm === undefined ? outcome.explanation : outcome.explanation.map((e) => ({ ...e, affinityTerm }));
  if (!outcome.failure) {
    return { scheduled: true, clusters: outcome.targets ?? [], condition: { status: 'True', reason: 'Success', message: SUCCESS_MESSAGE }, explanation };
  }
  // A FitError clears the previous result; other failures leave it as it was.
  const cleared = outcome.failure.kind === 'NoClusterFit' ? [] : undefined;
  return { scheduled: false, clusters: cleared, condition: conditionOf(outcome.failure), explanation };
}

function conditionOf(failure: ScheduleFailure): ScheduledCondition {
  return { status: 'False', reason: failure.kind, message: failure.message };
}

function unexplained(clusters: readonly ClusterObject[], why: string): ClusterExplanation[] {
  return byName(clusters.map((c) => ({ cluster: c.metadata.name, selected: false, why })));
}

const byName = (list: ClusterExplanation[]): ClusterExplanation[] => list.sort((a, b) => (a.cluster < b.cluster ? -1 : a.cluster > b.cluster ? 1 : 0));

/** Karmada's FitError text: `0/N clusters are available: <count> <reason>, ….` with the parts sorted. */
export function fitErrorMessage(total: number, rejections: readonly FilterRejection[]): string {
  if (total === 0 || rejections.length === 0) return `0/${total} clusters are available: no cluster exists.`;
  const counts = new Map<string, number>();
  for (const r of rejections) counts.set(r.reason, (counts.get(r.reason) ?? 0) + 1);
  const parts = [...counts].map(([reason, n]) => `${n} ${reason}`).sort();
  return `0/${total} clusters are available: ${parts.join(', ')}.`;
}

/** 0 in the primary group of the term being tried, n in its n-th overflow group (1000: neither). */
function overflowOrder(cluster: ClusterObject, placement: Placement, affinityName: string | undefined): number {
  if (placement.clusterAffinity || (placement.clusterAffinities ?? []).length === 0) return 0;
  const term = (placement.clusterAffinities ?? []).find((t) => t.affinityName === affinityName);
  if (term) {
    if (clusterMatches(cluster, term)) return 0;
    const overflow = (term.overflowAffinities ?? []).findIndex((a) => clusterMatches(cluster, a));
    if (overflow >= 0) return overflow + 1;
  }
  return 1000;
}

/** Whether the estimator's figures mattered for this placement (worth showing in the explanation). */
function availabilityMatters(spec: BindingSpec, placement: Placement): boolean {
  if ((spec.replicas ?? 0) <= 0) return false;
  let strategy: string;
  try {
    strategy = strategyOf(placement);
  } catch {
    return false;
  }
  if (strategy === 'DynamicWeight' || strategy === 'Aggregated') return true;
  return (placement.spreadConstraints ?? []).length > 0 && !spreadConstraintsIgnored(placement) && !availabilityIgnored(placement);
}

function attempt(
  clusters: readonly ClusterObject[],
  spec: BindingSpec,
  status: BindingStatus | undefined,
  placement: Placement,
  affinityName: string | undefined,
): Attempt {
  // ---- filter ----
  const deleting = new Set<string>();
  const rejected = new Map<string, FilterRejection>();
  const feasible: ClusterObject[] = [];
  for (const cluster of clusters) {
    // Results on a deleting cluster are being cleaned up; never schedule onto it.
    if (cluster.metadata.deletionTimestamp) {
      deleting.add(cluster.metadata.name);
      continue;
    }
    const rejection = runFilters(cluster, { spec, placement, affinityName });
    if (rejection) rejected.set(cluster.metadata.name, rejection);
    else feasible.push(cluster);
  }
  const explain = (entries: Map<string, ClusterExplanation>): ClusterExplanation[] => {
    for (const cluster of clusters) {
      const name = cluster.metadata.name;
      if (entries.has(name)) continue;
      const rejection = rejected.get(name);
      if (deleting.has(name)) entries.set(name, { cluster: name, selected: false, why: 'skipped: the cluster is being deleted' });
      else if (rejection) {
        entries.set(name, {
          cluster: name,
          filteredBy: rejection,
          selected: false,
          why: `filtered out by ${rejection.plugin}: ${rejection.reason.replace(/^cluster\(s\) /, '')}`,
        });
      }
    }
    return byName([...entries.values()]);
  };
  if (feasible.length === 0) {
    const failure = new ScheduleFailure('NoClusterFit', fitErrorMessage(clusters.length, [...rejected.values()]));
    return { failure, explanation: explain(new Map()) };
  }

  // ---- score and estimate ----
  const available = estimateAvailableReplicas(feasible, spec);
  const candidates: Candidate[] = sortCandidates(
    feasible.map((cluster) => {
      const name = cluster.metadata.name;
      const allocatable = available.get(name) ?? 0;
      const assigned = (spec.clusters ?? []).find((t) => t.name === name)?.replicas ?? 0;
      return { name, cluster, score: scoreCluster(cluster, spec), overflowOrder: overflowOrder(cluster, placement, affinityName), allocatable, available: allocatable + assigned };
    }),
  );
  const showAvailability = availabilityMatters(spec, placement);
  const feasibleEntry = (c: Candidate, why: string, replicas?: number): ClusterExplanation => ({
    cluster: c.name,
    score: c.score,
    ...(showAvailability ? { availableReplicas: c.allocatable } : {}),
    selected: replicas !== undefined || why.startsWith('selected'),
    ...(replicas !== undefined ? { replicas } : {}),
    why,
  });
  const failed = (failure: ScheduleFailure, notes?: ReadonlyMap<string, string>): Attempt => {
    const entries = new Map<string, ClusterExplanation>();
    for (const c of candidates) entries.set(c.name, { ...feasibleEntry(c, notes?.get(c.name) ?? `not scheduled: ${failure.message}`), selected: false });
    return { failure, explanation: explain(entries) };
  };

  // ---- select ----
  let selection;
  try {
    selection = selectClusters(candidates, placement, spec);
  } catch (err) {
    return failed(wrapFailure('failed to select clusters', err));
  }

  // ---- assign ----
  let division;
  try {
    division = assignReplicas(selection.selected, spec, status, placement, affinityName);
  } catch (err) {
    return failed(wrapFailure('failed to assign replicas', err), selection.dropped);
  }

  const entries = new Map<string, ClusterExplanation>();
  const targetOf = new Map(division.targets.map((t) => [t.name, t]));
  for (const c of candidates) {
    const target = targetOf.get(c.name);
    const why = selection.dropped.get(c.name) ?? division.notes.get(c.name) ?? (target ? 'selected' : 'not selected');
    if (target) entries.set(c.name, feasibleEntry(c, why.startsWith('selected') ? why : `selected: ${why}`, target.replicas));
    else entries.set(c.name, { ...feasibleEntry(c, why), selected: false });
  }
  return { targets: division.targets, explanation: explain(entries) };
}
