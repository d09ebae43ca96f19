import { isPlainObject } from '../../api/object.js';
import type { KubeObject } from '../../api/object.js';
import type { DiscoveredResource } from '../../client/client.js';
import { CLAIM_KINDS, CLAIMED_BY_LABEL } from '../../karmada/claims.js';
import { jsonEqual } from '../../api/merge-patch.js';

/**
 * What the resource detector treats as a resource template (karmada-api.md §1.10), and which changes
 * of a template matter to it.
 */

/** Groups whose kinds are never templates: Karmada's own APIs, events, leases. */
const SKIPPED_GROUPS = new Set([
  'cluster.karmada.io',
  'policy.karmada.io',
  'work.karmada.io',
  'config.karmada.io',
  'networking.karmada.io',
  'autoscaling.karmada.io',
  'remedy.karmada.io',
  'apps.karmada.io',
  'search.karmada.io',
  'events.k8s.io',
  'coordination.k8s.io',
]);

/** Resources discovery lists that can be templates. */
export function isTemplateResource(resource: DiscoveredResource): boolean {
  if (SKIPPED_GROUPS.has(resource.group)) return false;
  if (resource.group === '' && resource.resource === 'events') return false;
  return resource.verbs.includes('get') && resource.verbs.includes('update');
}

/** Karmada's reserved namespaces: its own, the member credentials', and the execution spaces. */
export function isReservedNamespace(namespace: string): boolean {
  return namespace === 'karmada-system' || namespace === 'karmada-cluster' || namespace.startsWith('karmada-es-');
}

/** `--skipped-propagating-namespaces` default: `kube-.*`, anchored as Karmada anchors it. */
export const DEFAULT_SKIPPED_NAMESPACES: readonly RegExp[] = [/^kube-.*$/];

/** Whether the detector looks at this template at all. */
export function isCandidateTemplate(template: KubeObject, skippedNamespaces: readonly RegExp[]): boolean {
  const namespace = template.metadata.namespace ?? '';
  if (namespace !== '') {
    if (isReservedNamespace(namespace)) return false;
    if (skippedNamespaces.some((re) => re.test(namespace))) return false;
  }
  // Generated and managed by kube-apiserver itself.
  if (namespace === 'kube-system' && template.kind === 'ConfigMap' && template.metadata.name === 'extension-apiserver-authentication') return false;
  return !template.metadata.labels?.[CLAIMED_BY_LABEL];
}

/** The object without what changes on its own: status, managedFields, resourceVersion. */
function specification(object: KubeObject, withoutClaims: boolean): unknown {
  const { status: _status, ...rest } = object;
  const { managedFields: _managed, resourceVersion: _rv, ...metadata } = object.metadata;
  if (withoutClaims) {
    const labels = { ...(metadata.labels ?? {}) };
    const annotations = { ...(metadata.annotations ?? {}) };
    for (const claim of CLAIM_KINDS) {
      delete labels[claim.idLabel];
      for (const a of claim.annotations) delete annotations[a];
    }
    metadata.labels = labels;
    metadata.annotations = annotations;
  }
  return { ...rest, metadata };
}

/** Karmada's "specification changed": anything but status, managedFields and resourceVersion. */
export function specificationChanged(before: KubeObject, after: KubeObject): boolean {
  return !jsonEqual(specification(before, false), specification(after, false));
}

/** True when the only change is to Karmada's claim labels and annotations (the detector's own write). */
export function changedOnlyByKarmada(before: KubeObject, after: KubeObject): boolean {
  return jsonEqual(specification(before, true), specification(after, true));
}

/** spec.dependentOverrides of a policy. */
export function dependentOverrides(policy: KubeObject): string[] {
  const spec = isPlainObject(policy['spec']) ? policy['spec'] : {};
  const names = spec['dependentOverrides'];
  return Array.isArray(names) ? names.filter((n): n is string => typeof n === 'string') : [];
}
