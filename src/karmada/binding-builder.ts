import { jsonEqual } from '../api/merge-patch.js';
import { isPlainObject } from '../api/object.js';
import type { KubeObject, OwnerReference } from '../api/object.js';
import { applyClaimPatch, claimPatch } from './claims.js';
import type { PolicyKind } from './claims.js';
import type { ReplicaInfo } from './replicas.js';

/**
 * The ResourceBinding (namespaced template) or ClusterResourceBinding (cluster-scoped template) a
 * claimed template gets (karmada-api.md §3.1, §4.1 "Binding build"), as pure functions:
 *  - name `lower(<name>-<kind>)` (':' in the name becomes '.'), in the template's namespace;
 *  - a controller ownerReference to the template (deleting the template collects the binding);
 *  - the policy's claim label and annotations;
 *  - spec: the resource reference (with uid and resourceVersion), replicas and per-replica
 *    requirements, and the policy's propagateDeps, schedulerName, placement, failover,
 *    conflictResolution, preserveResourcesOnDeletion and suspension.
 * An existing binding is refreshed field by field; spec.clusters (the scheduler's), status and
 * anything else on it are kept.
 *
 * New bindings carry the binding controller's finalizer, as Karmada's detector gives them: deleting a
 * template (the garbage collector deletes its binding) then removes its Works before the binding goes.
 */
export const BINDING_API_VERSION = 'work.karmada.io/v1alpha2';
export { CLUSTER_RESOURCE_BINDINGS, RESOURCE_BINDINGS } from './gvrs.js';
export const BINDING_CONTROLLER_FINALIZER = 'karmada.io/binding-controller';
export const CLUSTER_RESOURCE_BINDING_CONTROLLER_FINALIZER = 'karmada.io/cluster-resource-binding-controller';

/** Karmada's binding name for a template. */
export function bindingName(kind: string, name: string): string {
  return `${name.replaceAll(':', '.')}-${kind}`.toLowerCase();
}

/** Where a template's binding lives. */
export function bindingLocation(template: KubeObject): { kind: 'ResourceBinding' | 'ClusterResourceBinding'; namespace: string | undefined; name: string } {
  const namespace = template.metadata.namespace || undefined;
  return { kind: namespace ? 'ResourceBinding' : 'ClusterResourceBinding', namespace, name: bindingName(template.kind ?? '', template.metadata.name ?? '') };
}

/** The fields of a policy's spec a binding copies (when set). */
const COPIED_FROM_POLICY = ['propagateDeps', 'schedulerName', 'placement', 'failover', 'conflictResolution', 'preserveResourcesOnDeletion'] as const;

/** The fields of a binding's spec the detector owns (everything else, e.g. clusters, is left alone). */
const OWNED_SPEC_FIELDS = ['resource', 'replicas', 'replicaRequirements', ...COPIED_FROM_POLICY, 'suspension'] as const;

function ownerReference(template: KubeObject): OwnerReference {
  return { apiVersion: template.apiVersion ?? '', kind: template.kind ?? '', name: template.metadata.name ?? '', uid: template.metadata.uid ?? '', controller: true, blockOwnerDeletion: true };
}

/** The spec fields the detector owns, as they should be now (absent ones are to be removed). */
function ownedSpec(template: KubeObject, policy: KubeObject, replicas: ReplicaInfo | undefined, current: Record<string, unknown>): Record<string, unknown> {
  const policySpec = isPlainObject(policy['spec']) ? policy['spec'] : {};
  const resource: Record<string, unknown> = { apiVersion: template.apiVersion, kind: template.kind };
  if (template.metadata.namespace) resource['namespace'] = template.metadata.namespace;
  Object.assign(resource, { name: template.metadata.name, uid: template.metadata.uid, resourceVersion: template.metadata.resourceVersion });
  const spec: Record<string, unknown> = { resource };
  for (const field of COPIED_FROM_POLICY) {
    const value = policySpec[field];
    // Go's omitempty: false and "" are not written (placement is always written, as a pointer).
    if (value === undefined || value === null || value === false || value === '') continue;
    spec[field] = value;
  }
  spec['placement'] ??= isPlainObject(policySpec['placement']) ? policySpec['placement'] : {};
  if (replicas && replicas.replicas > 0) spec['replicas'] = replicas.replicas;
  if (replicas?.replicaRequirements) spec['replicaRequirements'] = replicas.replicaRequirements;
  // The policy's suspension, keeping the binding's own `scheduling` switch.
  const scheduling = isPlainObject(current['suspension']) ? current['suspension']['scheduling'] : undefined;
  const policySuspension = isPlainObject(policySpec['suspension']) ? policySpec['suspension'] : undefined;
  if (policySuspension || scheduling !== undefined) spec['suspension'] = { ...(policySuspension ?? {}), ...(scheduling !== undefined ? { scheduling } : {}) };
  return spec;
}

/** A new binding for a template claimed by `policy`. */
export function newBinding(template: KubeObject, policyKind: PolicyKind, policy: KubeObject, replicas: ReplicaInfo | undefined): KubeObject {
  const where = bindingLocation(template);
  const claim = claimPatch(policyKind, policy);
  const labels = applyClaimPatch(undefined, claim.labels);
  const annotations = applyClaimPatch(undefined, claim.annotations);
  return {
    apiVersion: BINDING_API_VERSION,
    kind: where.kind,
    metadata: {
      name: where.name,
      ...(where.namespace ? { namespace: where.namespace } : {}),
      ...(labels ? { labels } : {}),
      ...(annotations ? { annotations } : {}),
      ownerReferences: [ownerReference(template)],
      finalizers: [where.kind === 'ResourceBinding' ? BINDING_CONTROLLER_FINALIZER : CLUSTER_RESOURCE_BINDING_CONTROLLER_FINALIZER],
    },
    spec: ownedSpec(template, policy, replicas, {}),
  };
}

/**
 * The existing binding refreshed for `template` and `policy`, or undefined when it is already up to
 * date. Throws when the binding belongs to another object of the same name (an earlier incarnation of
 * the template: the garbage collector removes it, and the next attempt creates the new one).
 */
export function refreshedBinding(existing: KubeObject, template: KubeObject, policyKind: PolicyKind, policy: KubeObject, replicas: ReplicaInfo | undefined): KubeObject | undefined {
  const controller = (existing.metadata.ownerReferences ?? []).find((r) => r.controller);
  if (controller && controller.uid !== template.metadata.uid) {
    throw new Error(`binding ${existing.metadata.name ?? ''} is controlled by another object (uid ${controller.uid}); waiting for it to be garbage collected`);
  }
  const claim = claimPatch(policyKind, policy);
  const currentSpec = isPlainObject(existing['spec']) ? existing['spec'] : {};
  const wanted = ownedSpec(template, policy, replicas, currentSpec);
  const spec: Record<string, unknown> = { ...currentSpec };
  for (const field of OWNED_SPEC_FIELDS) {
    if (field in wanted) spec[field] = wanted[field];
    else delete spec[field];
  }
  const labels = applyClaimPatch(existing.metadata.labels, claim.labels);
  const annotations = applyClaimPatch(existing.metadata.annotations, claim.annotations);
  const ownerReferences = [ownerReference(template), ...(existing.metadata.ownerReferences ?? []).filter((r) => !r.controller && r.uid !== template.metadata.uid)];
  const metadata = { ...existing.metadata, ownerReferences };
  if (labels) metadata.labels = labels;
  else delete metadata.labels;
  if (annotations) metadata.annotations = annotations;
  else delete metadata.annotations;
  const refreshed: KubeObject = { ...existing, metadata, spec };
  const unchanged =
    jsonEqual(existing.metadata.labels ?? {}, labels ?? {}) &&
    jsonEqual(existing.metadata.annotations ?? {}, annotations ?? {}) &&
    jsonEqual(existing.metadata.ownerReferences ?? [], ownerReferences) &&
    OWNED_SPEC_FIELDS.every((field) => jsonEqual(currentSpec[field], spec[field]));
  return unchanged ? undefined : refreshed;
}
