import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { scheduleBinding, schedulingTrigger } from '../scheduler/index.js';
import type { BindingSpec, BindingStatus, ClusterExplanation, ClusterObject } from '../scheduler/index.js';
import { bindingLocation, newBinding, refreshedBinding } from './binding-builder.js';
import { claimOf } from './claims.js';
import type { PolicyKind } from './claims.js';
import { bestPolicy, policyMatch } from './policy-selection.js';
import { interpretReplicas } from './replicas.js';

/**
 * Placement explain (no other federation tool has it): what would happen to a resource template —
 * which policy claims it, the binding the detector would write, and where the scheduler would put
 * it, cluster by cluster with the reason — computed from the live clusters, policies and the
 * template's current binding (its previous result counts, as it does for the scheduler), without
 * storing anything. Served as the create-only kind `PlacementReview`
 * (scheduling.flotilla.io/v1alpha1, like kube's TokenReview) and used by
 * `flotilla explain placement`.
 */
export const PLACEMENT_REVIEW_GROUP = 'scheduling.flotilla.io';
export const PLACEMENT_REVIEW_VERSION = 'v1alpha1';
export const PLACEMENT_REVIEW_KIND = 'PlacementReview';

export interface PlacementReviewInput {
  /** The resource template (stored or not). */
  readonly template: KubeObject;
  /** A policy to try instead of the stored ones (already admitted: defaulted and valid). */
  readonly policy?: { readonly kind: PolicyKind; readonly object: KubeObject };
  /** Stored policies: PropagationPolicies of the template's namespace and ClusterPropagationPolicies. */
  readonly propagationPolicies: readonly KubeObject[];
  readonly clusterPropagationPolicies: readonly KubeObject[];
  readonly clusters: readonly KubeObject[];
  /** The template's binding as stored, if any. */
  readonly binding?: KubeObject;
  /** specReplicasPath of the template's kind, for custom resources with a scale subresource. */
  readonly specReplicasPath?: string;
}

export interface PlacementReviewStatus {
  /** The policy that claims (or would claim) the template; absent when none selects it. */
  policy?: { kind: PolicyKind; namespace?: string; name: string; selectsTemplate: boolean };
  binding?: { kind: string; namespace?: string; name: string; exists: boolean; replicas?: number; replicaRequirements?: unknown };
  /** Whether the scheduler would act on the binding now, and why (schedulingTrigger). */
  trigger?: { kind: string; reason?: string };
  scheduled: boolean;
  clusters?: { name: string; replicas?: number }[];
  affinityName?: string;
  condition?: { status: string; reason: string; message: string };
  /** One entry per cluster, sorted by name. */
  decisions: ClusterExplanation[];
  /** When nothing could be decided: why. */
  message?: string;
}

export function reviewPlacement(input: PlacementReviewInput): PlacementReviewStatus {
  const { template } = input;
  const chosen = input.policy ?? choosePolicy(input);
  if (!chosen) {
    return { scheduled: false, decisions: [], message: `no PropagationPolicy or ClusterPropagationPolicy selects ${template.kind ?? ''} ${describe(template)}` };
  }
  const replicas = interpretReplicas(template, input.specReplicasPath);
  const existing = input.binding && !input.binding.metadata.deletionTimestamp ? input.binding : undefined;
  let binding: KubeObject;
  try {
    binding = existing ? (refreshedBinding(existing, withUid(template, existing), chosen.kind, chosen.object, replicas) ?? existing) : newBinding(template, chosen.kind, chosen.object, replicas);
  } catch (err) {
    return { scheduled: false, decisions: [], message: err instanceof Error ? err.message : String(err) };
  }
  const where = bindingLocation(template);
  const spec = binding['spec'] as unknown as BindingSpec;
  const status = (isPlainObject(binding['status']) ? binding['status'] : {}) as BindingStatus;
  const clusters = input.clusters as unknown as ClusterObject[];
  const trigger = schedulingTrigger({ metadata: binding.metadata, spec, status }, clusters);
  const result = scheduleBinding({ clusters, spec, status });
  return {
    policy: {
      kind: chosen.kind,
      ...(chosen.object.metadata.namespace ? { namespace: chosen.object.metadata.namespace } : {}),
      name: chosen.object.metadata.name ?? '',
      selectsTemplate: policyMatch(chosen.object, template) > 0,
    },
    binding: {
      kind: where.kind,
      ...(where.namespace ? { namespace: where.namespace } : {}),
      name: where.name,
      exists: existing !== undefined,
      ...(spec.replicas !== undefined ? { replicas: spec.replicas } : {}),
      ...(spec.replicaRequirements ? { replicaRequirements: spec.replicaRequirements } : {}),
    },
    trigger: trigger.kind === 'none' ? { kind: 'none' } : { kind: trigger.kind, reason: trigger.reason },
    scheduled: result.scheduled,
    ...(result.clusters !== undefined ? { clusters: result.clusters.map((c) => ({ ...c })) } : {}),
    ...(result.affinityName !== undefined ? { affinityName: result.affinityName } : {}),
    condition: { ...result.condition },
    decisions: [...result.explanation],
  };
}

/** As the detector chooses: the claiming policy while it exists and selects; else the best PP, else the best CPP. */
function choosePolicy(input: PlacementReviewInput): { kind: PolicyKind; object: KubeObject } | undefined {
  const { template } = input;
  const claim = claimOf(template);
  if (claim) {
    const pool = claim.kind === 'PropagationPolicy' ? input.propagationPolicies : input.clusterPropagationPolicies;
    const claimed = pool.find((p) => p.metadata.name === claim.name && (claim.kind === 'ClusterPropagationPolicy' || p.metadata.namespace === claim.namespace));
    if (claimed && !claimed.metadata.deletionTimestamp && policyMatch(claimed, template) > 0) return { kind: claim.kind, object: claimed };
  }
  const namespace = template.metadata.namespace;
  const pp = namespace ? bestPolicy(input.propagationPolicies.filter((p) => p.metadata.namespace === namespace), template) : undefined;
  if (pp) return { kind: 'PropagationPolicy', object: pp };
  const cpp = bestPolicy(input.clusterPropagationPolicies, template);
  return cpp ? { kind: 'ClusterPropagationPolicy', object: cpp } : undefined;
}

/** A template not stored yet has no uid; against an existing binding it stands in for the stored one. */
function withUid(template: KubeObject, binding: KubeObject): KubeObject {
  if (template.metadata.uid) return template;
  const owner = (binding.metadata.ownerReferences ?? []).find((r) => r.controller);
  return owner ? { ...template, metadata: { ...template.metadata, uid: owner.uid } } : template;
}

const describe = (object: KubeObject): string => (object.metadata.namespace ? `${object.metadata.namespace}/${object.metadata.name ?? ''}` : (object.metadata.name ?? ''));
