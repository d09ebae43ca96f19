import { deepClone, isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { MANAGED_ANNOTATIONS_ANNOTATION, MANAGED_LABELS_ANNOTATION } from './admission/work.js';

/**
 * What an update of an object in a member cluster keeps from what is already there (Karmada's
 * objectwatcher retainClusterFields + the native retention interpreters), so Karmada never fights a
 * member's own controllers:
 *  - the member's resourceVersion (the update is a compare-and-swap), finalizers and ownerReferences;
 *  - labels and annotations someone else put there: every observed key the manifest does not set is
 *    kept, except keys Karmada managed before (recorded in `resourcetemplate.karmada.io/managed-labels`
 *    / `managed-annotations` of the observed object) and no longer wants;
 *  - kind by kind: Deployment replicas with `resourcetemplate.karmada.io/retain-replicas: "true"`,
 *    a Pod's nodeName, serviceAccountName, volumes and volumeMounts, a Service's clusterIP and
 *    healthCheckNodePort, a ServiceAccount's secrets and imagePullSecrets (merged), a PVC's volumeName,
 *    a PV's claimRef, a Job's generated selector and template labels, a service-account token
 *    Secret's data;
 *  - the status, for kinds whose status is not a subresource (a plain update would wipe it).
 */
export const RETAIN_REPLICAS_LABEL = 'resourcetemplate.karmada.io/retain-replicas';

type Obj = Record<string, unknown>;

const obj = (value: unknown): Obj | undefined => (isPlainObject(value) ? value : undefined);

function child(root: Obj, ...path: string[]): Obj | undefined {
  let current: Obj | undefined = root;
  for (const key of path) current = obj(current?.[key]);
  return current;
}

function ensureChild(root: Obj, ...path: string[]): Obj {
  let current = root;
  for (const key of path) {
    const next = obj(current[key]);
    if (next) current = next;
    else {
      const created: Obj = {};
      current[key] = created;
      current = created;
    }
  }
  return current;
}

function retainMap(desired: Record<string, string> | undefined, observed: Record<string, string> | undefined, previouslyManaged: string | undefined): Record<string, string> | undefined {
  const result: Record<string, string> = { ...(desired ?? {}) };
  const dropped = new Set((previouslyManaged ?? '').split(',').filter((k) => k !== ''));
  for (const key of Object.keys(desired ?? {})) dropped.delete(key);
  for (const [key, value] of Object.entries(observed ?? {})) {
    if (dropped.has(key) || key in result) continue;
    result[key] = value;
  }
  return Object.keys(result).length > 0 ? result : undefined;
}

function mergeNamedList(desired: unknown, observed: unknown): unknown[] | undefined {
  const merged: unknown[] = [];
  const seen = new Set<string>();
  for (const list of [desired, observed]) {
    if (!Array.isArray(list)) continue;
    for (const item of list) {
      const name = String(obj(item)?.['name'] ?? '');
      if (seen.has(name)) continue;
      seen.add(name);
      merged.push(item);
    }
  }
  return merged.length > 0 ? merged : undefined;
}

const KIND_RETAINERS: Readonly<Record<string, (desired: Obj, observed: Obj) => void>> = {
  'apps/v1/Deployment'(desired, observed) {
    if (child(desired, 'metadata', 'labels')?.[RETAIN_REPLICAS_LABEL] !== 'true') return;
    const replicas = child(observed, 'spec')?.['replicas'];
    if (typeof replicas === 'number') ensureChild(desired, 'spec')['replicas'] = replicas;
  },
  'v1/Pod'(desired, observed) {
    const want = ensureChild(desired, 'spec');
    const have = child(observed, 'spec') ?? {};
    for (const field of ['nodeName', 'serviceAccountName', 'volumes']) {
      if (have[field] === undefined) delete want[field];
      else want[field] = have[field];
    }
    for (const list of ['containers', 'initContainers']) {
      const observedContainers = Array.isArray(have[list]) ? (have[list] as unknown[]) : [];
      for (const container of Array.isArray(want[list]) ? (want[list] as unknown[]) : []) {
        const mine = obj(container);
        const theirs = obj(observedContainers.find((c) => obj(c)?.['name'] === mine?.['name']));
        if (!mine || !theirs) continue;
        if (theirs['volumeMounts'] === undefined) delete mine['volumeMounts'];
        else mine['volumeMounts'] = theirs['volumeMounts'];
      }
    }
  },
  'v1/Service'(desired, observed) {
    const have = child(observed, 'spec') ?? {};
    if (typeof have['healthCheckNodePort'] === 'number' && have['healthCheckNodePort'] > 0) ensureChild(desired, 'spec')['healthCheckNodePort'] = have['healthCheckNodePort'];
    if (typeof have['clusterIP'] === 'string' && have['clusterIP'] !== '') ensureChild(desired, 'spec')['clusterIP'] = have['clusterIP'];
  },
  'v1/ServiceAccount'(desired, observed) {
    for (const field of ['secrets', 'imagePullSecrets']) {
      const merged = mergeNamedList(desired[field], observed[field]);
      if (merged) desired[field] = merged;
    }
  },
  'v1/PersistentVolumeClaim'(desired, observed) {
    const volumeName = child(observed, 'spec')?.['volumeName'];
    if (typeof volumeName === 'string' && volumeName !== '') ensureChild(desired, 'spec')['volumeName'] = volumeName;
  },
  'v1/PersistentVolume'(desired, observed) {
    const claimRef = child(observed, 'spec')?.['claimRef'];
    if (claimRef !== undefined) ensureChild(desired, 'spec')['claimRef'] = claimRef;
  },
  'batch/v1/Job'(desired, observed) {
    const selectorLabels = child(observed, 'spec', 'selector', 'matchLabels');
    if (selectorLabels) ensureChild(desired, 'spec', 'selector')['matchLabels'] = selectorLabels;
    const templateLabels = child(observed, 'spec', 'template', 'metadata', 'labels');
    if (templateLabels) ensureChild(desired, 'spec', 'template', 'metadata')['labels'] = templateLabels;
  },
  'v1/Secret'(desired, observed) {
    if (desired['type'] !== 'kubernetes.io/service-account-token') return;
    if (observed['data'] !== undefined) desired['data'] = observed['data'];
  },
};

/**
 * The manifest to send as an update of `observed`: a copy of `desired` with what the member owns
 * retained. `statusIsSubresource` says whether the member serves the kind's status separately.
 */
export function retainMemberFields(desired: KubeObject, observed: KubeObject, statusIsSubresource = true): KubeObject {
  const result = deepClone(desired);
  const metadata = result.metadata;
  if (observed.metadata.resourceVersion !== undefined) metadata.resourceVersion = observed.metadata.resourceVersion;
  if (observed.metadata.finalizers?.length) metadata.finalizers = observed.metadata.finalizers;
  else delete metadata.finalizers;
  if (observed.metadata.ownerReferences?.length) metadata.ownerReferences = observed.metadata.ownerReferences;
  else delete metadata.ownerReferences;
  const observedAnnotations = observed.metadata.annotations ?? {};
  const labels = retainMap(metadata.labels, observed.metadata.labels, observedAnnotations[MANAGED_LABELS_ANNOTATION]);
  const annotations = retainMap(metadata.annotations, observedAnnotations, observedAnnotations[MANAGED_ANNOTATIONS_ANNOTATION]);
  if (labels) metadata.labels = labels;
  if (annotations) metadata.annotations = annotations;
  KIND_RETAINERS[`${result.apiVersion ?? ''}/${result.kind ?? ''}`]?.(result as Obj, observed as Obj);
  if (!statusIsSubresource && observed['status'] !== undefined) result['status'] = observed['status'];
  return result;
}
