import type { KubeObject } from '../api/object.js';
import {
  CLUSTER_PROPAGATION_POLICY_FINALIZER,
  CLUSTER_PROPAGATION_POLICY_ID_LABEL,
  PROPAGATION_POLICY_FINALIZER,
  PROPAGATION_POLICY_ID_LABEL,
} from './admission/propagation-policy.js';

/**
 * How a (Cluster)PropagationPolicy claims what it propagates (karmada-api.md §3.2): the policy's
 * permanent-id label plus annotations naming it, on the resource template and on its binding.
 * The resource detector writes claims, the policy-claim-release controller removes them, and the
 * scheduler only considers bindings that carry one.
 */
export type PolicyKind = 'PropagationPolicy' | 'ClusterPropagationPolicy';

export interface ClaimKind {
  readonly kind: PolicyKind;
  readonly resource: { readonly group: string; readonly version: string; readonly resource: string };
  readonly idLabel: string;
  /** PropagationPolicy: [namespace, name]; ClusterPropagationPolicy: [name]. */
  readonly annotations: readonly string[];
  readonly finalizer: string;
}

export const PP_CLAIM: ClaimKind = {
  kind: 'PropagationPolicy',
  resource: { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'propagationpolicies' },
  idLabel: PROPAGATION_POLICY_ID_LABEL,
  annotations: ['propagationpolicy.karmada.io/namespace', 'propagationpolicy.karmada.io/name'],
  finalizer: PROPAGATION_POLICY_FINALIZER,
};

export const CPP_CLAIM: ClaimKind = {
  kind: 'ClusterPropagationPolicy',
  resource: { group: 'policy.karmada.io', version: 'v1alpha1', resource: 'clusterpropagationpolicies' },
  idLabel: CLUSTER_PROPAGATION_POLICY_ID_LABEL,
  annotations: ['clusterpropagationpolicy.karmada.io/name'],
  finalizer: CLUSTER_PROPAGATION_POLICY_FINALIZER,
};

export const CLAIM_KINDS: readonly ClaimKind[] = [PP_CLAIM, CPP_CLAIM];

export const claimKindOf = (kind: PolicyKind): ClaimKind => (kind === 'PropagationPolicy' ? PP_CLAIM : CPP_CLAIM);

/** Makes the scheduler accept a binding that no policy claimed. */
export const MANAGED_BY_LABEL = 'binding.karmada.io/managed-by';
/** A template claimed by something else (e.g. a MultiClusterService): the detector leaves it alone. */
export const CLAIMED_BY_LABEL = 'resourcetemplate.karmada.io/claimed-by';

/** Which policy an object is claimed by, if any (a complete claim: label and annotations). */
export interface Claim {
  readonly kind: PolicyKind;
  readonly namespace?: string;
  readonly name: string;
  readonly id: string;
}

export function claimOf(object: KubeObject): Claim | undefined {
  const labels = object.metadata.labels ?? {};
  const annotations = object.metadata.annotations ?? {};
  const ppId = labels[PP_CLAIM.idLabel];
  const [ppNamespace, ppName] = PP_CLAIM.annotations.map((a) => annotations[a]);
  if (ppId && ppNamespace && ppName) return { kind: 'PropagationPolicy', namespace: ppNamespace, name: ppName, id: ppId };
  const cppId = labels[CPP_CLAIM.idLabel];
  const cppName = annotations[CPP_CLAIM.annotations[0] ?? ''];
  if (cppId && cppName) return { kind: 'ClusterPropagationPolicy', name: cppName, id: cppId };
  return undefined;
}

/** The labels and annotations that claim an object for `policy`. */
export function claimMetadata(kind: PolicyKind, policy: KubeObject): { labels: Record<string, string>; annotations: Record<string, string> } {
  const claim = claimKindOf(kind);
  const id = policy.metadata.labels?.[claim.idLabel] ?? '';
  const annotations: Record<string, string> =
    kind === 'PropagationPolicy'
      ? { [PP_CLAIM.annotations[0] ?? '']: policy.metadata.namespace ?? '', [PP_CLAIM.annotations[1] ?? '']: policy.metadata.name ?? '' }
      : { [CPP_CLAIM.annotations[0] ?? '']: policy.metadata.name ?? '' };
  return { labels: { [claim.idLabel]: id }, annotations };
}

/**
 * A merge patch of metadata that claims an object for `policy` (a PropagationPolicy claim also drops
 * a ClusterPropagationPolicy one, and the other way round), or releases every claim (`policy`
 * undefined). Null values delete keys.
 */
export function claimPatch(kind: PolicyKind | undefined, policy: KubeObject | undefined): { labels: Record<string, string | null>; annotations: Record<string, string | null> } {
  const labels: Record<string, string | null> = {};
  const annotations: Record<string, string | null> = {};
  for (const claim of CLAIM_KINDS) {
    labels[claim.idLabel] = null;
    for (const a of claim.annotations) annotations[a] = null;
  }
  if (kind && policy) {
    const wanted = claimMetadata(kind, policy);
    Object.assign(labels, wanted.labels);
    Object.assign(annotations, wanted.annotations);
  }
  return { labels, annotations };
}

/** Applies a claimPatch to a metadata map (a copy; null deletes), undefined when empty. */
export function applyClaimPatch(current: Readonly<Record<string, string>> | undefined, patch: Readonly<Record<string, string | null>>): Record<string, string> | undefined {
  const next: Record<string, string> = { ...(current ?? {}) };
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete next[key];
    else next[key] = value;
  }
  return Object.keys(next).length > 0 ? next : undefined;
}

/** True when the object already carries exactly this claim (and no other). */
export function hasClaim(object: KubeObject, kind: PolicyKind | undefined, policy: KubeObject | undefined): boolean {
  const patch = claimPatch(kind, policy);
  const labels = object.metadata.labels ?? {};
  const annotations = object.metadata.annotations ?? {};
  const same = (have: Record<string, string>, want: Record<string, string | null>) => Object.entries(want).every(([k, v]) => (v === null ? !(k in have) : have[k] === v));
  return same(labels, patch.labels) && same(annotations, patch.annotations);
}
