import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { labelSelectorFromObject } from '../api/label-selector.js';
import type { LabelSelectorObject } from '../api/label-selector.js';
import type { PolicyKind } from './claims.js';

/**
 * Which (Cluster)PropagationPolicy a resource template belongs to (karmada-api.md §4.1), as pure
 * functions over plain objects:
 *  - a resource selector matches when apiVersion and kind are equal, the namespace is equal when the
 *    selector names one, and then: a name must be equal (the label selector is not looked at); else
 *    no label selector matches everything; else the label selector must match. The match is ranked
 *    name (3) > label selector (2) > everything (1); a policy's rank is its best selector's;
 *  - the best policy: highest spec.priority (absent = 0), then highest rank, then the smallest name;
 *    policies being deleted never match;
 *  - preemption (`spec.preemption: Always`): a PropagationPolicy takes templates from
 *    PropagationPolicies of lower priority and from any ClusterPropagationPolicy; a
 *    ClusterPropagationPolicy only from ClusterPropagationPolicies of lower priority.
 */
export const MATCH_NONE = 0;
export const MATCH_ALL = 1;
export const MATCH_LABEL_SELECTOR = 2;
export const MATCH_NAME = 3;

interface ResourceSelector {
  readonly apiVersion?: unknown;
  readonly kind?: unknown;
  readonly namespace?: unknown;
  readonly name?: unknown;
  readonly labelSelector?: unknown;
}

const policySpec = (policy: KubeObject): Record<string, unknown> => (isPlainObject(policy['spec']) ? policy['spec'] : {});

/** The selectors of a policy (its spec.resourceSelectors). */
export function resourceSelectors(policy: KubeObject): ResourceSelector[] {
  const selectors = policySpec(policy)['resourceSelectors'];
  return Array.isArray(selectors) ? selectors.filter(isPlainObject) : [];
}

/** How well one selector matches a template: MATCH_NONE … MATCH_NAME. */
export function selectorMatch(selector: ResourceSelector, template: KubeObject): number {
  if (selector.apiVersion !== template.apiVersion || selector.kind !== template.kind) return MATCH_NONE;
  const namespace = typeof selector.namespace === 'string' ? selector.namespace : '';
  if (namespace !== '' && namespace !== (template.metadata.namespace ?? '')) return MATCH_NONE;
  const name = typeof selector.name === 'string' ? selector.name : '';
  if (name !== '') return name === template.metadata.name ? MATCH_NAME : MATCH_NONE;
  if (selector.labelSelector === undefined || selector.labelSelector === null) return MATCH_ALL;
  try {
    return labelSelectorFromObject(selector.labelSelector as LabelSelectorObject).matches(template.metadata.labels ?? {}) ? MATCH_LABEL_SELECTOR : MATCH_NONE;
  } catch {
    return MATCH_NONE; // admission rejects invalid selectors; one that slipped in matches nothing
  }
}

/** A policy's rank for a template: the best of its selectors (MATCH_NONE when none matches). */
export function policyMatch(policy: KubeObject, template: KubeObject): number {
  let best = MATCH_NONE;
  for (const selector of resourceSelectors(policy)) best = Math.max(best, selectorMatch(selector, template));
  return best;
}

/** spec.priority, 0 when absent. */
export function explicitPriority(policy: KubeObject): number {
  const priority = policySpec(policy)['priority'];
  return typeof priority === 'number' && Number.isFinite(priority) ? priority : 0;
}

export const preemptionEnabled = (policy: KubeObject): boolean => policySpec(policy)['preemption'] === 'Always';

export const lazyActivation = (policy: KubeObject): boolean => policySpec(policy)['activationPreference'] === 'Lazy';

/** The policy that wins for a template among `policies` (one kind), or undefined. */
export function bestPolicy(policies: Iterable<KubeObject>, template: KubeObject): KubeObject | undefined {
  let best: { policy: KubeObject; explicit: number; implicit: number } | undefined;
  for (const policy of policies) {
    if (policy.metadata.deletionTimestamp) continue;
    const implicit = policyMatch(policy, template);
    if (implicit === MATCH_NONE) continue;
    const explicit = explicitPriority(policy);
    if (
      !best ||
      explicit > best.explicit ||
      (explicit === best.explicit && (implicit > best.implicit || (implicit === best.implicit && (policy.metadata.name ?? '') < (best.policy.metadata.name ?? ''))))
    ) {
      best = { policy, explicit, implicit };
    }
  }
  return best?.policy;
}

/** Whether `candidate` may take a template away from the policy that claims it now. */
export function canPreempt(candidate: { kind: PolicyKind; policy: KubeObject }, current: { kind: PolicyKind; policy: KubeObject }): boolean {
  if (!preemptionEnabled(candidate.policy) || candidate.policy.metadata.uid === current.policy.metadata.uid) return false;
  if (candidate.kind === 'PropagationPolicy' && current.kind === 'ClusterPropagationPolicy') return true;
  if (candidate.kind !== current.kind) return false;
  return explicitPriority(candidate.policy) > explicitPriority(current.policy);
}
