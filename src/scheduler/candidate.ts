import type { ClusterObject } from './types.js';

/** A cluster that passed every filter, with what selection and division need to know about it. */
export interface Candidate {
  readonly name: string;
  readonly cluster: ClusterObject;
  /** Sum of the score plugins. */
  readonly score: number;
  /** 0 for the primary affinity group, n for the n-th overflow affinity of the term being tried. */
  readonly overflowOrder: number;
  /** The estimator's figure: replicas the cluster can still take. */
  readonly allocatable: number;
  /** `allocatable` plus the replicas spec.clusters already gives the cluster. */
  readonly available: number;
}

/**
 * Karmada's candidate order: overflow group first, then higher score, then more available
 * replicas, then name.
 */
export function compareCandidates(a: Candidate, b: Candidate): number {
  if (a.overflowOrder !== b.overflowOrder) return a.overflowOrder - b.overflowOrder;
  if (a.score !== b.score) return b.score - a.score;
  if (a.available !== b.available) return b.available - a.available;
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

export function sortCandidates(candidates: readonly Candidate[]): Candidate[] {
  return [...candidates].sort(compareCandidates);
}
