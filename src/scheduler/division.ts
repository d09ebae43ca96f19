import { clusterMatches } from './affinity.js';
import type { Candidate } from './candidate.js';
import { ScheduleFailure } from './failure.js';
import { strategyOf } from './strategy.js';
import type { BindingSpec, BindingStatus, Placement, TargetCluster } from './types.js';

/**
 * Replica division: how many replicas each selected cluster gets.
 *
 * - Duplicated: every selected cluster gets spec.replicas.
 * - Static weights: each cluster's weight is the largest weight of the staticWeightList entries
 *   whose targetCluster matches it (clusters without one are left out; if none has a weight, all
 *   get weight 1; no weightPreference at all = weight 1 each), then the replicas are apportioned by
 *   the Webster/Sainte-Laguë method. Recomputed from scratch every time.
 * - Dynamic weight (AvailableReplicas) and Aggregated: the estimator's available replicas are the
 *   weights. In steady mode a scale-up divides only the extra replicas (and keeps what every
 *   cluster already has), a scale-down re-divides the new total in proportion to the previous
 *   result; fresh mode (rescheduleTriggeredAt newer than lastScheduledTime) ignores the previous
 *   result except that the replicas a cluster already runs count as room. Aggregated first keeps
 *   only the shortest prefix of clusters (already-used ones first, then most available) that can
 *   hold the replicas.
 * - Clusters ending with 0 replicas are dropped.
 */

// ---- Webster / Sainte-Laguë ----

/** 32-bit FNV-1a of the UTF-8 bytes of `text`. */
export function fnv32a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash >>> 0;
}

/**
 * Ties between clusters with equal priority and equal seats go to the alphabetically first name when
 * fnv32a(uid) is even (or there is no uid), and to the alphabetically last one when it is odd — a
 * stable but per-workload choice, so that 1:1 splits of odd counts do not always favour one cluster.
 */
export function namesAscendingOnTie(uid: string | undefined): boolean {
  if (!uid) return true;
  return (fnv32a(uid) & 1) === 0;
}

export interface Party {
  readonly name: string;
  readonly weight: number;
}

/**
 * Apportions `seats` among parties by the Webster method: each seat goes to the party with the
 * highest weight / (2·seats + 1); ties go to the party with fewer seats, then by name (see
 * namesAscendingOnTie). Returns every party, sorted by name, with its seats; nothing if the
 * weights add up to 0.
 */
export function webster(seats: number, parties: readonly Party[], uid: string | undefined): TargetCluster[] {
  const byName = new Map<string, { name: string; weight: number; seats: number }>();
  for (const party of parties) {
    const existing = byName.get(party.name);
    if (existing) existing.weight = party.weight;
    else byName.set(party.name, { name: party.name, weight: party.weight, seats: 0 });
  }
  const all = [...byName.values()];
  if (all.length === 0 || all.reduce((sum, p) => sum + p.weight, 0) === 0) return [];
  const ascending = namesAscendingOnTie(uid);
  const before = (a: (typeof all)[number], b: (typeof all)[number]): boolean => {
    const pa = a.weight / (2 * a.seats + 1);
    const pb = b.weight / (2 * b.seats + 1);
    if (pa !== pb) return pa > pb;
    if (a.seats !== b.seats) return a.seats < b.seats;
    return ascending ? a.name < b.name : a.name > b.name;
  };
  for (let left = seats; left > 0; left--) {
    let best = all[0] as (typeof all)[number];
    for (const party of all) if (before(party, best)) best = party;
    best.seats++;
  }
  return all.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)).map((p) => ({ name: p.name, replicas: p.seats }));
}

// ---- helpers ----

/** util.RescheduleRequired: a reschedule was requested after the last successful schedule. */
export function rescheduleRequired(spec: BindingSpec, status: BindingStatus | undefined): boolean {
  const triggered = spec.rescheduleTriggeredAt ? Date.parse(spec.rescheduleTriggeredAt) : NaN;
  const last = status?.lastScheduledTime ? Date.parse(status.lastScheduledTime) : NaN;
  // No lastScheduledTime: the first schedule has not succeeded yet; that one will do.
  if (Number.isNaN(triggered) || Number.isNaN(last)) return false;
  return triggered > last;
}

/** "1 replica", "3 replicas". */
export const replicasText = (n: number): string => `${n} ${n === 1 ? 'replica' : 'replicas'}`;

const sumOf = (targets: readonly TargetCluster[]): number => targets.reduce((sum, t) => sum + (t.replicas ?? 0), 0);
const withoutZeros = (targets: readonly TargetCluster[]): TargetCluster[] => targets.filter((t) => (t.replicas ?? 0) > 0);

/** Most replicas first; equal ones keep their order. */
const byReplicasDescending = (targets: readonly TargetCluster[]): TargetCluster[] => [...targets].sort((a, b) => (b.replicas ?? 0) - (a.replicas ?? 0));

/** util.MergeTargetClusters: adds `previous` into `added`; clusters only in `previous` follow, in order. */
function mergeTargets(previous: readonly TargetCluster[], added: readonly TargetCluster[]): TargetCluster[] {
  if (previous.length === 0) return [...added];
  if (added.length === 0) return [...previous];
  const old = new Map(previous.map((t) => [t.name, t.replicas ?? 0]));
  const merged = added.map((t) => {
    const kept = old.get(t.name);
    if (kept === undefined) return t;
    old.delete(t.name);
    return { name: t.name, replicas: (t.replicas ?? 0) + kept };
  });
  for (const [name, replicas] of old) merged.push({ name, replicas });
  return merged;
}

export interface Division {
  readonly targets: TargetCluster[];
  /** A sentence per candidate handed to division. */
  readonly notes: Map<string, string>;
}

// ---- the strategies ----

function divideDuplicated(candidates: readonly Candidate[], replicas: number, notes: Map<string, string>): TargetCluster[] {
  for (const c of candidates) notes.set(c.name, replicas > 0 ? `selected: Duplicated, all ${replicasText(replicas)}` : 'not selected: Duplicated with 0 replicas');
  return candidates.map((c) => ({ name: c.name, replicas }));
}

function divideByStaticWeight(candidates: readonly Candidate[], replicas: number, spec: BindingSpec, placement: Placement, notes: Map<string, string>): TargetCluster[] {
  const preference = placement.replicaScheduling?.weightPreference;
  let weights: Party[];
  if (!preference) {
    weights = candidates.map((c) => ({ name: c.name, weight: 1 }));
  } else {
    const rules = preference.staticWeightList ?? [];
    weights = [];
    for (const c of candidates) {
      let weight = 0;
      for (const rule of rules) if (clusterMatches(c.cluster, rule.targetCluster) && rule.weight > weight) weight = rule.weight;
      if (weight > 0) weights.push({ name: c.name, weight });
    }
    if (weights.reduce((sum, w) => sum + w.weight, 0) === 0) weights = candidates.map((c) => ({ name: c.name, weight: 1 }));
  }
  const result = webster(replicas, weights, spec.resource.uid);
  const weightSum = weights.reduce((sum, w) => sum + w.weight, 0);
  const weightOf = new Map(weights.map((w) => [w.name, w.weight]));
  const seatsOf = new Map(result.map((t) => [t.name, t.replicas ?? 0]));
  for (const c of candidates) {
    const weight = weightOf.get(c.name);
    const seats = seatsOf.get(c.name) ?? 0;
    if (weight === undefined) notes.set(c.name, 'not selected: no staticWeightList entry matches it (weight 0)');
    else if (seats === 0) notes.set(c.name, `not selected: weight ${weight} of ${weightSum} earned none of the ${replicas} replicas`);
    else notes.set(c.name, `selected: weight ${weight} of ${weightSum}, ${replicasText(seats)}`);
  }
  return result;
}

function divideByAvailability(
  candidates: readonly Candidate[],
  replicas: number,
  aggregated: boolean,
  spec: BindingSpec,
  status: BindingStatus | undefined,
  notes: Map<string, string>,
): TargetCluster[] {
  const names = new Set(candidates.map((c) => c.name));
  // The previous result, restricted to clusters that are still candidates: replicas on clusters that
  // dropped out count as missing and get divided again.
  const scheduled: TargetCluster[] = (spec.clusters ?? []).filter((t) => names.has(t.name)).map((t) => ({ name: t.name, replicas: t.replicas ?? 0 }));
  const previous = new Map(scheduled.map((t) => [t.name, t.replicas ?? 0]));
  const assigned = sumOf(scheduled);

  let mode: 'fresh' | 'down' | 'up';
  let target: number;
  let available: TargetCluster[];
  let keep: TargetCluster[];
  let failurePrefix: string;
  if (rescheduleRequired(spec, status)) {
    mode = 'fresh';
    target = replicas;
    available = byReplicasDescending(candidates.map((c) => ({ name: c.name, replicas: c.allocatable + (previous.get(c.name) ?? 0) })));
    keep = [];
    failurePrefix = 'failed to do fresh scale';
  } else if (assigned > replicas) {
    mode = 'down';
    target = replicas;
    available = byReplicasDescending(scheduled);
    keep = [];
    failurePrefix = 'failed to scale down';
  } else if (assigned < replicas) {
    // The first schedule is a scale-up from nothing.
    mode = 'up';
    target = replicas - assigned;
    available = byReplicasDescending(candidates.map((c) => ({ name: c.name, replicas: c.allocatable })));
    keep = scheduled;
    failurePrefix = 'failed to scale up';
  } else {
    for (const c of candidates) {
      const kept = previous.get(c.name) ?? 0;
      notes.set(c.name, kept > 0 ? `selected: ${replicasText(kept)}, unchanged from the previous result` : 'not selected: not in the previous result and no replicas to add');
    }
    return scheduled;
  }

  const totalAvailable = sumOf(available);
  if (totalAvailable < target) {
    throw new ScheduleFailure('Unschedulable', `${failurePrefix}: Clusters available replicas ${totalAvailable} are not enough to schedule.`);
  }
  const weightOf = new Map(available.map((t) => [t.name, t.replicas ?? 0]));
  let used = available;
  if (aggregated) {
    // Clusters already running replicas first, then the roomiest; as few as can hold the target.
    const prior = new Set(keep.filter((t) => (t.replicas ?? 0) > 0).map((t) => t.name));
    const ordered = [...available.filter((t) => prior.has(t.name)), ...available.filter((t) => !prior.has(t.name))];
    let sum = 0;
    const cut = ordered.findIndex((t) => (sum += t.replicas ?? 0) >= target);
    used = cut >= 0 ? ordered.slice(0, cut + 1) : ordered;
  }
  const usedNames = new Set(used.map((t) => t.name));
  const divided = webster(
    target,
    used.map((t) => ({ name: t.name, weight: t.replicas ?? 0 })),
    spec.resource.uid,
  );
  const result = mergeTargets(keep, divided);

  const finalOf = new Map(result.map((t) => [t.name, t.replicas ?? 0]));
  for (const c of candidates) {
    const final = finalOf.get(c.name) ?? 0;
    const before = previous.get(c.name) ?? 0;
    const weight = weightOf.get(c.name);
    const room = weight === undefined ? '' : ` (${weight} available)`;
    if (final > 0) {
      const got = replicasText(final);
      if (mode === 'down') notes.set(c.name, `selected: ${got}, scaled down in proportion to the previous ${before}`);
      else if (mode === 'fresh') notes.set(c.name, `selected: ${got}, divided afresh by available replicas${room}`);
      else if (before > 0 && final > before) notes.set(c.name, `selected: ${got} (kept ${before}, added ${final - before} by available replicas${room})`);
      else if (before > 0) notes.set(c.name, `selected: ${got}, kept from the previous result`);
      else notes.set(c.name, `selected: ${got}, divided by available replicas${room}`);
    } else if (mode === 'down') {
      notes.set(c.name, before > 0 ? `not selected: scaled down from ${before} to 0` : 'not selected: a scale-down only re-divides among clusters of the previous result');
    } else if (aggregated && !usedNames.has(c.name)) {
      notes.set(c.name, 'not selected: Aggregated fit the replicas into fewer clusters');
    } else {
      notes.set(c.name, `not selected: got 0 replicas${room}`);
    }
  }
  return result;
}

function divideAmong(candidates: readonly Candidate[], replicas: number, spec: BindingSpec, status: BindingStatus | undefined, placement: Placement, notes: Map<string, string>): TargetCluster[] {
  let targets: TargetCluster[];
  switch (strategyOf(placement)) {
    case 'Duplicated':
      targets = divideDuplicated(candidates, replicas, notes);
      break;
    case 'StaticWeight':
      targets = divideByStaticWeight(candidates, replicas, spec, placement, notes);
      break;
    case 'DynamicWeight':
      targets = divideByAvailability(candidates, replicas, false, spec, status, notes);
      break;
    case 'Aggregated':
      targets = divideByAvailability(candidates, replicas, true, spec, status, notes);
      break;
  }
  return withoutZeros(targets);
}

/** Overflow applies when the clusterAffinities term being tried declares overflowAffinities. */
function overflowEnabled(placement: Placement, affinityName: string | undefined): boolean {
  if (placement.clusterAffinity || !placement.clusterAffinities || !affinityName) return false;
  const term = placement.clusterAffinities.find((t) => t.affinityName === affinityName);
  return term?.overflowAffinities !== undefined && term.overflowAffinities !== null;
}

/**
 * Divides the replicas among the selected clusters. Non-workloads (no replicas and no replica
 * requirements) go to every selected cluster without a replica count. With overflow affinities the
 * clusters are filled group by group (primary first), each group taking at most what it has room for.
 */
export function assignReplicas(
  selected: readonly Candidate[],
  spec: BindingSpec,
  status: BindingStatus | undefined,
  placement: Placement,
  affinityName: string | undefined,
): Division {
  if (selected.length === 0) throw new ScheduleFailure('SchedulerError', 'no clusters available to schedule');
  const notes = new Map<string, string>();
  const replicas = spec.replicas ?? 0;
  const workload = (replicas > 0 || Boolean(spec.replicaRequirements)) && (spec.components ?? []).length <= 1;
  if (!workload) {
    for (const c of selected) notes.set(c.name, 'selected: not a workload, propagated without replicas');
    return { targets: selected.map((c) => ({ name: c.name })), notes };
  }
  if (!overflowEnabled(placement, affinityName)) return { targets: divideAmong(selected, replicas, spec, status, placement, notes), notes };

  const tiers = new Map<number, Candidate[]>();
  for (const c of selected) tiers.set(c.overflowOrder, [...(tiers.get(c.overflowOrder) ?? []), c]);
  const targets: TargetCluster[] = [];
  let remaining = replicas;
  for (const order of [...tiers.keys()].sort((a, b) => a - b)) {
    const tier = tiers.get(order) ?? [];
    const room = tier.reduce((sum, c) => sum + c.available, 0);
    const share = Math.min(remaining, room);
    targets.push(...divideAmong(tier, share, spec, status, placement, notes));
    remaining -= share;
    if (remaining <= 0) break;
  }
  if (remaining > 0) throw new ScheduleFailure('Unschedulable', 'Clusters available replicas are not enough to schedule.');
  for (const c of selected) if (!notes.has(c.name)) notes.set(c.name, 'not selected: earlier affinity groups had room for every replica');
  return { targets, notes };
}
