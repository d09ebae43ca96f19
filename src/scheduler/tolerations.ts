import type { Taint, Toleration } from './types.js';

/**
 * Taints and tolerations with kube's core/v1 semantics, as Karmada's TaintToleration filter uses
 * them on cluster taints and `placement.clusterTolerations`.
 */

/** The effects the scheduler cares about: a PreferNoSchedule taint never keeps a binding away. */
export const SCHEDULING_EFFECTS: readonly string[] = ['NoSchedule', 'NoExecute'];

/**
 * Whether one toleration tolerates one taint: an empty effect matches every effect, an empty key
 * matches every key, `Exists` ignores the value and `Equal` (or no operator) needs the same value.
 * The comparison operators Lt/Gt never match (Karmada keeps kube's comparison switch off).
 */
export function tolerates(toleration: Toleration, taint: Taint): boolean {
  if (toleration.effect && toleration.effect !== taint.effect) return false;
  if (toleration.key && toleration.key !== taint.key) return false;
  const operator = toleration.operator ?? '';
  if (operator === 'Exists') return true;
  if (operator === '' || operator === 'Equal') return (toleration.value ?? '') === (taint.value ?? '');
  return false;
}

/** The first taint with one of `effects` that no toleration tolerates, in the cluster's order. */
export function firstUntoleratedTaint(
  taints: readonly Taint[] | null | undefined,
  tolerations: readonly Toleration[] | null | undefined,
  effects: readonly string[] = SCHEDULING_EFFECTS,
): Taint | undefined {
  for (const taint of taints ?? []) {
    if (!effects.includes(taint.effect)) continue;
    if (!(tolerations ?? []).some((toleration) => tolerates(toleration, taint))) return taint;
  }
  return undefined;
}

/** kube's Taint.ToString(): `key=value:effect`, `key:effect`, `key=value:` or `key`. */
export function formatTaint(taint: Taint): string {
  const value = taint.value ?? '';
  if (!taint.effect) return value ? `${taint.key}=${value}:` : taint.key;
  return value ? `${taint.key}=${value}:${taint.effect}` : `${taint.key}:${taint.effect}`;
}
