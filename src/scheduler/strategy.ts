import { ScheduleFailure } from './failure.js';
import type { Placement } from './types.js';

/**
 * The effective replica scheduling strategy of a placement, with the defaults Karmada's CRD and
 * webhook apply before the scheduler ever sees a binding: no `replicaScheduling` means Duplicated;
 * a present `replicaScheduling` without a type is Divided; Divided without a preference is Weighted;
 * Weighted is dynamic when `weightPreference.dynamicWeight` is set, static otherwise.
 */
export type StrategyType = 'Duplicated' | 'Aggregated' | 'StaticWeight' | 'DynamicWeight';

/** Duplicated | Divided (or whatever unknown text the placement carries). */
export function replicaSchedulingType(placement: Placement | null | undefined): string {
  const strategy = placement?.replicaScheduling;
  if (!strategy) return 'Duplicated';
  return strategy.replicaSchedulingType || 'Divided';
}

function divisionPreference(placement: Placement | null | undefined): string {
  return placement?.replicaScheduling?.replicaDivisionPreference || 'Weighted';
}

export function strategyOf(placement: Placement | null | undefined): StrategyType {
  const type = replicaSchedulingType(placement);
  if (type === 'Duplicated') return 'Duplicated';
  const preference = divisionPreference(placement);
  if (type === 'Divided') {
    if (preference === 'Aggregated') return 'Aggregated';
    if (preference === 'Weighted') return placement?.replicaScheduling?.weightPreference?.dynamicWeight ? 'DynamicWeight' : 'StaticWeight';
  }
  throw new ScheduleFailure(
    'SchedulerError',
    `unsupported replica scheduling strategy, replicaSchedulingType: ${type}, replicaDivisionPreference: ${preference}, please try another scheduling strategy`,
  );
}

/**
 * Static weighting ignores spread constraints: Divided + Weighted with no weightPreference, or with a
 * static weight list and no dynamic weight.
 */
export function spreadConstraintsIgnored(placement: Placement): boolean {
  if (replicaSchedulingType(placement) !== 'Divided' || divisionPreference(placement) !== 'Weighted') return false;
  const preference = placement.replicaScheduling?.weightPreference;
  if (!preference) return true;
  return (preference.staticWeightList ?? []).length > 0 && !preference.dynamicWeight;
}

/** Duplicated placements select clusters by score alone, never by room for replicas. */
export function availabilityIgnored(placement: Placement): boolean {
  return replicaSchedulingType(placement) === 'Duplicated';
}
