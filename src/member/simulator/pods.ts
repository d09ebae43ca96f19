import { deepClone } from '../../api/object.js';
import type { KubeObject, OwnerReference } from '../../api/object.js';
import type { Condition, Pod, PodTemplate } from './types.js';

/** Pod predicates and pod construction shared by the controllers (kube's podutil / controller_utils). */

export function isTerminal(pod: Pod): boolean {
  const phase = pod.status?.phase;
  return phase === 'Succeeded' || phase === 'Failed';
}

/** Not finished and not being deleted (controller.IsPodActive). */
export function isPodActive(pod: Pod): boolean {
  return !isTerminal(pod) && !pod.metadata.deletionTimestamp;
}

export function findCondition(conditions: readonly Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find((c) => c.type === type);
}

export function isPodReady(pod: Pod): boolean {
  return findCondition(pod.status?.conditions, 'Ready')?.status === 'True';
}

/** Running and Ready (the StatefulSet controller's notion of healthy). */
export function isRunningAndReady(pod: Pod): boolean {
  return pod.status?.phase === 'Running' && isPodReady(pod);
}

/**
 * When a ready pod is (or becomes) available: its Ready transition plus minReadySeconds. undefined
 * for a pod that is not ready. With minReadySeconds 0 a ready pod is available at once.
 */
export function availableAt(pod: Pod, minReadySeconds: number | undefined): number | undefined {
  const ready = findCondition(pod.status?.conditions, 'Ready');
  if (ready?.status !== 'True') return undefined;
  if (!minReadySeconds) return 0;
  const since = ready.lastTransitionTime ? Date.parse(ready.lastTransitionTime) : NaN;
  // kube: LastTransitionTime + minReadySeconds strictly before now.
  return Number.isNaN(since) ? 0 : since + minReadySeconds * 1000 + 1;
}

export function isPodAvailable(pod: Pod, minReadySeconds: number | undefined, now = Date.now()): boolean {
  const at = availableAt(pod, minReadySeconds);
  return at !== undefined && at <= now;
}

/** The earliest time one of these ready-but-not-yet-available pods turns available (for a requeue). */
export function nextAvailableAt(pods: readonly Pod[], minReadySeconds: number | undefined, now = Date.now()): number | undefined {
  if (!minReadySeconds) return undefined;
  let next: number | undefined;
  for (const pod of pods) {
    const at = availableAt(pod, minReadySeconds);
    if (at !== undefined && at > now && (next === undefined || at < next)) next = at;
  }
  return next;
}

export function controllerRef(object: KubeObject): OwnerReference | undefined {
  return object.metadata.ownerReferences?.find((r) => r.controller === true);
}

export function ownerReference(owner: KubeObject, apiVersion: string, kind: string): OwnerReference {
  return { apiVersion, kind, name: owner.metadata.name as string, uid: owner.metadata.uid as string, controller: true, blockOwnerDeletion: true };
}

/** A pod from a template (controller.GetPodFromTemplate): labels, annotations, finalizers and spec copied. */
export function podFromTemplate(
  template: PodTemplate | undefined,
  namespace: string,
  naming: { name: string } | { generateName: string },
  owner: OwnerReference,
  extraLabels: Record<string, string> = {},
  extraAnnotations: Record<string, string> = {},
): Pod {
  const labels = { ...(template?.metadata?.labels ?? {}), ...extraLabels };
  const annotations = { ...(template?.metadata?.annotations ?? {}), ...extraAnnotations };
  const metadata: Pod['metadata'] = { ...naming, namespace, ownerReferences: [owner] };
  if (Object.keys(labels).length > 0) metadata.labels = labels;
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  if (template?.metadata?.finalizers?.length) metadata.finalizers = [...template.metadata.finalizers];
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: deepClone(template?.spec ?? {}) };
}

/** Creation time in ms (0 when unknown). */
export function createdAt(object: KubeObject): number {
  const t = object.metadata.creationTimestamp ? Date.parse(object.metadata.creationTimestamp) : NaN;
  return Number.isNaN(t) ? 0 : t;
}

/** Oldest first, then by name (kube's ...ByCreationTimestamp). */
export function byCreation(a: KubeObject, b: KubeObject): number {
  return createdAt(a) - createdAt(b) || (a.metadata.name ?? '').localeCompare(b.metadata.name ?? '');
}
