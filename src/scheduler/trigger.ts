import { rescheduleRequired } from './division.js';
import { isWorkload } from './filters.js';
import { replicaSchedulingType } from './strategy.js';
import type { BindingSpec, BindingStatus, ClusterObject, Placement, SchedulingTrigger } from './types.js';

/**
 * When Karmada's scheduler (re)schedules a binding it is asked about, checked in this order:
 *
 * 1. `schedule` — the placement differs from the one recorded in the
 *    `policy.karmada.io/applied-placement` annotation at the last schedule (or there is none).
 * 2. `scale` — the replicas no longer match the result (Divided: the sum of spec.clusters replicas;
 *    Duplicated: any cluster's replicas) while the placement has a replicaScheduling.
 * 3. `fresh` — spec.rescheduleTriggeredAt is newer than status.lastScheduledTime.
 * 4. `always` — non-workloads and Duplicated placements are rescheduled on every event.
 * 5. `schedule` — a cluster of the current result is being deleted (only checked when the caller
 *    passes the clusters).
 *
 * Otherwise `none`: the caller just brings status.schedulerObservedGeneration up to date.
 * Choosing which bindings to look at (schedulerName, spec.suspension.scheduling) is the caller's job.
 */

export const APPLIED_PLACEMENT_ANNOTATION = 'policy.karmada.io/applied-placement';

export function schedulingTrigger(
  binding: { readonly metadata: { readonly annotations?: Readonly<Record<string, string>> | null | undefined }; readonly spec: BindingSpec; readonly status?: BindingStatus | null | undefined },
  clusters?: readonly ClusterObject[],
): SchedulingTrigger {
  const { spec } = binding;
  const status = binding.status ?? undefined;
  const placement = spec.placement;
  // Karmada never gets here without a placement (it logs an error and gives up).
  if (!placement) return { kind: 'none' };

  const applied = binding.metadata.annotations?.[APPLIED_PLACEMENT_ANNOTATION] ?? '';
  const placementReason = placementChanged(placement, applied, status?.schedulerObservingAffinityName ?? '');
  if (placementReason) return { kind: 'schedule', reason: placementReason };

  if (replicasChanged(spec, placement)) {
    return { kind: 'scale', reason: `replicas changed: spec.replicas is ${spec.replicas ?? 0} but the scheduling result does not match` };
  }

  if (rescheduleRequired(spec, status)) {
    return { kind: 'fresh', reason: `reschedule triggered at ${spec.rescheduleTriggeredAt ?? ''}, after the last schedule at ${status?.lastScheduledTime ?? ''}` };
  }

  if (!isWorkload(spec)) return { kind: 'always', reason: 'non-workload resources are rescheduled on every event' };
  if (replicaSchedulingType(placement) === 'Duplicated') return { kind: 'always', reason: 'Duplicated placements are rescheduled on every event' };

  const targets = new Set((spec.clusters ?? []).map((t) => t.name));
  const deleting = (clusters ?? []).find((c) => c.metadata.deletionTimestamp && targets.has(c.metadata.name));
  if (deleting) return { kind: 'schedule', reason: `target cluster ${deleting.metadata.name} is being deleted` };

  return { kind: 'none' };
}

/** util.IsBindingReplicasChanged (only meaningful when replicaScheduling is set). */
function replicasChanged(spec: BindingSpec, placement: Placement): boolean {
  if (!placement.replicaScheduling) return false;
  const replicas = spec.replicas ?? 0;
  const targets = spec.clusters ?? [];
  const type = replicaSchedulingType(placement);
  if (type === 'Duplicated') return targets.some((t) => (t.replicas ?? 0) !== replicas);
  if (type === 'Divided') return targets.reduce((sum, t) => sum + (t.replicas ?? 0), 0) !== replicas;
  return false;
}

/**
 * Whether the placement changed since the last schedule, and why (undefined = unchanged). Compared
 * the way Go compares the decoded structs: absent, null, "", 0, false and empty lists are all the
 * zero value (a pointer field such as tolerationSeconds keeps its 0). When only clusterAffinities
 * differ, only the term being used counts.
 */
export function placementChanged(placement: Placement, applied: string, affinityName: string): string | undefined {
  if (applied === '') return 'no applied placement recorded yet';
  let previous: unknown;
  try {
    previous = JSON.parse(applied);
  } catch {
    // Karmada logs the bad annotation and treats the placement as unchanged.
    return undefined;
  }
  const before = normalize(previous) as Record<string, unknown> | undefined;
  const now = normalize(placement) as Record<string, unknown> | undefined;
  if (deepEqual(now, before)) return undefined;
  for (const field of ['clusterAffinity', 'clusterTolerations', 'spreadConstraints', 'replicaScheduling']) {
    if (!deepEqual(now?.[field], before?.[field])) return `placement changed: ${field} differs from the applied placement`;
  }
  if (!affinityName) return 'placement changed and no clusterAffinities term has been used yet';
  const term = (list: unknown): unknown => (Array.isArray(list) ? list.find((t: unknown) => isRecord(t) && t['affinityName'] === affinityName) : undefined);
  const current = term(now?.['clusterAffinities']);
  const recorded = term(before?.['clusterAffinities']);
  if (current === undefined || recorded === undefined) return `placement changed: clusterAffinities term ${affinityName} was added or removed`;
  if (!deepEqual(current, recorded)) return `placement changed: clusterAffinities term ${affinityName} differs from the applied placement`;
  return undefined;
}

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** Fields that are Go pointers to scalars: 0 there is not the same as absent. */
const POINTER_SCALARS = new Set(['tolerationSeconds']);
/** Fields that are Go maps: an empty one is the same as absent. */
const MAP_FIELDS = new Set(['matchLabels']);

function normalize(value: unknown, key = ''): unknown {
  if (value === null || value === undefined) return undefined;
  if (Array.isArray(value)) return value.length === 0 ? undefined : value.map((v) => normalize(v) ?? null);
  if (isRecord(value)) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const n = normalize(v, k);
      if (n !== undefined) out[k] = n;
    }
    return MAP_FIELDS.has(key) && Object.keys(out).length === 0 ? undefined : out;
  }
  if (POINTER_SCALARS.has(key)) return value;
  if (value === '' || value === 0 || value === false) return undefined;
  return value;
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isRecord(a) && isRecord(b)) {
    const keys = Object.keys(a);
    return keys.length === Object.keys(b).length && keys.every((k) => Object.hasOwn(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
