import type { Condition } from './cluster-controller.js';

/**
 * metav1's SetStatusCondition without mutation: the conditions with `next` in place of the one of its
 * type (appended when there is none). lastTransitionTime moves (to `next`'s, else `now`) only when the
 * status changes. Returns the very same array when nothing would change, so callers can skip a write.
 */
export function upsertCondition(conditions: readonly Condition[], next: Condition, now: string): readonly Condition[] {
  const i = conditions.findIndex((c) => c.type === next.type);
  const existing = i < 0 ? undefined : conditions[i];
  if (!existing) return [...conditions, { ...next, lastTransitionTime: next.lastTransitionTime ?? now }];
  const same = existing.status === next.status && existing.reason === next.reason && existing.message === next.message && existing.observedGeneration === next.observedGeneration;
  if (same) return conditions;
  const updated: Condition = { ...next, lastTransitionTime: existing.status === next.status ? (existing.lastTransitionTime ?? now) : (next.lastTransitionTime ?? now) };
  if (updated.observedGeneration === undefined) delete updated.observedGeneration;
  return conditions.map((c, j) => (j === i ? updated : c));
}
