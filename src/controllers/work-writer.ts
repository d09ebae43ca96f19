import { jsonEqual } from '../api/merge-patch.js';
import { deepClone } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../client/client.js';
import { isApiError, resourcePath } from '../client/client.js';
import { WORK_ID_LABEL, prepareWorkManifests } from '../karmada/admission/work.js';
import { WORKS } from '../karmada/gvrs.js';

/**
 * Writing a Work the way the binding and namespace controllers want it (Karmada's CreateOrUpdateWork):
 * create it when missing; otherwise update it only when the part the controller owns differs from what
 * is stored — its spec, its labels and annotations (others' keys are kept; the applied-override
 * annotations go when no override applies any more), its finalizers and owner references. The wanted
 * Work goes through the same manifest preparation admission applies, so an unchanged Work is never
 * rewritten.
 */

/** Annotations the Work writers own: removed from a stored Work when the wanted one lacks them. */
const OWNED_ANNOTATIONS = ['policy.karmada.io/applied-overrides', 'policy.karmada.io/applied-cluster-overrides'];

export type WorkWriteResult = 'created' | 'updated' | 'unchanged';

export function workPath(namespace: string | undefined, name?: string): string {
  return resourcePath(WORKS, namespace, name);
}

/** The stored Work updated to carry what `wanted` says, or undefined when it already does. */
export function updatedWork(existing: KubeObject, wanted: KubeObject): KubeObject | undefined {
  const prepared = deepClone(wanted);
  const workId = existing.metadata.labels?.[WORK_ID_LABEL];
  if (workId) prepared.metadata.labels = { ...(prepared.metadata.labels ?? {}), [WORK_ID_LABEL]: workId };
  prepareWorkManifests(prepared);
  const labels = { ...(existing.metadata.labels ?? {}), ...(prepared.metadata.labels ?? {}) };
  const annotations: Record<string, string> = { ...(existing.metadata.annotations ?? {}) };
  for (const key of OWNED_ANNOTATIONS) if (!(key in (prepared.metadata.annotations ?? {}))) delete annotations[key];
  Object.assign(annotations, prepared.metadata.annotations ?? {});
  const finalizers = [...(existing.metadata.finalizers ?? [])];
  for (const finalizer of prepared.metadata.finalizers ?? []) if (!finalizers.includes(finalizer)) finalizers.push(finalizer);
  const ownerReferences = prepared.metadata.ownerReferences ?? existing.metadata.ownerReferences;
  const unchanged =
    jsonEqual(prepared['spec'], existing['spec']) &&
    jsonEqual(labels, existing.metadata.labels ?? {}) &&
    jsonEqual(annotations, existing.metadata.annotations ?? {}) &&
    jsonEqual(finalizers, existing.metadata.finalizers ?? []) &&
    jsonEqual(ownerReferences, existing.metadata.ownerReferences);
  if (unchanged) return undefined;
  const metadata = { ...existing.metadata, labels, annotations, finalizers };
  if (ownerReferences) metadata.ownerReferences = ownerReferences;
  return { ...existing, metadata, spec: prepared['spec'] };
}

/**
 * Creates `wanted`, or updates `existing` (the informer's copy) when it differs. A conflict means the
 * copy was behind (the execution and status controllers write the Work's status meanwhile): the live
 * Work is read and the update made on it, a few times, rather than failing the whole binding.
 */
export async function writeWork(client: ApiClient, wanted: KubeObject, existing: KubeObject | undefined, signal?: AbortSignal): Promise<WorkWriteResult> {
  const options = signal ? { signal } : {};
  if (!existing) {
    await client.create(workPath(wanted.metadata.namespace), wanted, options);
    return 'created';
  }
  const path = workPath(existing.metadata.namespace, existing.metadata.name);
  let current = existing;
  for (let attempt = 0; ; attempt++) {
    const updated = updatedWork(current, wanted);
    if (!updated) return 'unchanged';
    try {
      await client.update(path, updated, options);
      return 'updated';
    } catch (err) {
      if (attempt >= 2 || !isApiError(err, 409)) throw err;
    }
    current = await client.get(path, options);
  }
}

/**
 * The queue key (`rb|<namespace>/<name>` or `crb|<name>`) of the binding a Work belongs to, from the
 * back-pointer annotations Karmada puts on it; undefined for Works of no binding (e.g. namespaces).
 */
export function owningBindingKey(work: KubeObject): string | undefined {
  const annotations = work.metadata.annotations ?? {};
  const rbName = annotations['resourcebinding.karmada.io/name'];
  const rbNamespace = annotations['resourcebinding.karmada.io/namespace'];
  if (rbName && rbNamespace) return `rb|${rbNamespace}/${rbName}`;
  const crbName = annotations['clusterresourcebinding.karmada.io/name'];
  return crbName ? `crb|${crbName}` : undefined;
}
