import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';

/**
 * Conversion of (Cluster)ResourceBindings between work.karmada.io/v1alpha2 (stored) and v1alpha1 (still served),
 * field for field as Karmada's conversion webhook maps them (pkg/apis/work/v1alpha1/binding_types_conversion.go):
 *
 *   v1alpha1 spec.resource.{apiVersion,kind,namespace,name,resourceVersion} ↔ v1alpha2 spec.resource.<same>
 *   v1alpha1 spec.resource.resourcePerReplicas                              ↔ v1alpha2 spec.replicaRequirements.resourceRequest
 *   v1alpha1 spec.resource.replicas                                         ↔ v1alpha2 spec.replicas
 *   v1alpha1 spec.clusters[].{name,replicas}                                ↔ v1alpha2 spec.clusters[].{name,replicas}
 *   v1alpha1 status.conditions                                              ↔ v1alpha2 status.conditions
 *   v1alpha1 status.aggregatedStatus[].{clusterName,status,applied,appliedMessage} ↔ v1alpha2 the same
 *
 * Everything else exists only in v1alpha2 and is dropped on the way out. Unlike Karmada's webhook (which rebuilds the
 * v1alpha2 object from the v1alpha1 one alone), a write through v1alpha1 keeps the v1alpha2-only fields of the stored
 * object, so an old client's update does not wipe placement, scheduling state or health.
 */

const V1ALPHA1 = 'work.karmada.io/v1alpha1';
const V1ALPHA2 = 'work.karmada.io/v1alpha2';

type Json = Record<string, unknown>;

/** The fields of v1alpha2 `spec.resource` that v1alpha1's ObjectReference shares. */
const SHARED_RESOURCE_FIELDS = ['apiVersion', 'kind', 'namespace', 'name', 'resourceVersion'] as const;
/** The parts of an aggregatedStatus item both versions have. */
const SHARED_STATUS_ITEM_FIELDS = ['clusterName', 'status', 'applied', 'appliedMessage'] as const;

/** A stored work.karmada.io/v1alpha2 (Cluster)ResourceBinding as v1alpha1 (apiVersion work.karmada.io/v1alpha1). Pure: does not modify its input. */
export function bindingToV1alpha1(object: KubeObject): KubeObject {
  const out: KubeObject = { apiVersion: V1ALPHA1, ...(object.kind !== undefined ? { kind: object.kind } : {}), metadata: clone(object.metadata) };
  const spec = record(object['spec']);
  if (spec) out['spec'] = specToV1alpha1(spec);
  const status = record(object['status']);
  if (status) out['status'] = statusToV1alpha1(status);
  return out;
}

/** A v1alpha1 (Cluster)ResourceBinding as v1alpha2 for storage. `current` (the stored v1alpha2 object on updates) supplies the v1alpha2-only fields v1alpha1 cannot express, so a v1alpha1 client's update does not wipe them; fields v1alpha1 can express are taken from `object` (absent there = removed). Pure. */
export function bindingFromV1alpha1(object: KubeObject, current: KubeObject | undefined): KubeObject {
  const out: KubeObject = { apiVersion: V1ALPHA2, ...(object.kind !== undefined ? { kind: object.kind } : {}), metadata: clone(object.metadata) };
  const spec = specFromV1alpha1(record(object['spec']), record(current?.['spec']));
  if (spec) out['spec'] = spec;
  const status = statusFromV1alpha1(record(object['status']), record(current?.['status']));
  if (status) out['status'] = status;
  return out;
}

// ----------------------------------------------------------------------------------------------------------------
// v1alpha2 → v1alpha1

function specToV1alpha1(spec: Json): Json {
  const out: Json = {};
  const resource = record(spec['resource']);
  const requests = record(spec['replicaRequirements'])?.['resourceRequest'];
  if (resource || requests !== undefined || spec['replicas'] !== undefined) {
    const reference: Json = {};
    if (resource) copyFields(resource, reference, SHARED_RESOURCE_FIELDS);
    if (requests !== undefined) reference['resourcePerReplicas'] = clone(requests);
    if (spec['replicas'] !== undefined) reference['replicas'] = clone(spec['replicas']);
    out['resource'] = reference;
  }
  const clusters = spec['clusters'];
  if (Array.isArray(clusters)) out['clusters'] = clusters.map((cluster) => pick(cluster, ['name', 'replicas']));
  return out;
}

function statusToV1alpha1(status: Json): Json {
  const out: Json = {};
  if (status['conditions'] !== undefined) out['conditions'] = clone(status['conditions']);
  const items = status['aggregatedStatus'];
  if (Array.isArray(items)) out['aggregatedStatus'] = items.map((item) => pick(item, SHARED_STATUS_ITEM_FIELDS));
  return out;
}

// ----------------------------------------------------------------------------------------------------------------
// v1alpha1 → v1alpha2

function specFromV1alpha1(spec: Json | undefined, currentSpec: Json | undefined): Json | undefined {
  // Start from the stored v1alpha2 spec without the fields v1alpha1 expresses; what remains is v1alpha2-only.
  const out: Json = {};
  const reference = record(spec?.['resource']);
  const currentResource = record(currentSpec?.['resource']);
  for (const [key, value] of Object.entries(currentSpec ?? {})) {
    if (key === 'resource' || key === 'replicas' || key === 'clusters' || key === 'replicaRequirements') continue;
    out[key] = clone(value);
  }

  if (reference) {
    const resource: Json = {};
    copyFields(reference, resource, SHARED_RESOURCE_FIELDS);
    // v1alpha1 has no uid: keep the stored one while the reference still names the same object.
    const uid = currentResource?.['uid'];
    if (uid !== undefined && currentResource && sameObject(reference, currentResource)) resource['uid'] = clone(uid);
    out['resource'] = resource;
  }

  const requirements: Json = {};
  for (const [key, value] of Object.entries(record(currentSpec?.['replicaRequirements']) ?? {})) {
    if (key !== 'resourceRequest') requirements[key] = clone(value);
  }
  if (reference?.['resourcePerReplicas'] !== undefined) requirements['resourceRequest'] = clone(reference['resourcePerReplicas']);
  if (Object.keys(requirements).length > 0) out['replicaRequirements'] = requirements;

  if (reference?.['replicas'] !== undefined) out['replicas'] = clone(reference['replicas']);

  const clusters = spec?.['clusters'];
  if (Array.isArray(clusters)) {
    const stored = byKey(currentSpec?.['clusters'], 'name');
    out['clusters'] = clusters.map((cluster) => {
      const converted = pick(cluster, ['name', 'replicas']);
      // Per-component replicas exist only in v1alpha2; keep them for a cluster that is still targeted.
      const components = stored.get(converted['name'])?.['components'];
      if (components !== undefined) converted['components'] = clone(components);
      return converted;
    });
  }

  if (!spec && Object.keys(out).length === 0) return undefined;
  return orderLike(out, currentSpec);
}

function statusFromV1alpha1(status: Json | undefined, currentStatus: Json | undefined): Json | undefined {
  const out: Json = {};
  for (const [key, value] of Object.entries(currentStatus ?? {})) {
    if (key === 'conditions' || key === 'aggregatedStatus') continue;
    out[key] = clone(value);
  }
  if (status?.['conditions'] !== undefined) out['conditions'] = clone(status['conditions']);
  const items = status?.['aggregatedStatus'];
  if (Array.isArray(items)) {
    const stored = byKey(currentStatus?.['aggregatedStatus'], 'clusterName');
    out['aggregatedStatus'] = items.map((item) => {
      const converted = pick(item, SHARED_STATUS_ITEM_FIELDS);
      // health (and any other v1alpha2-only part) comes from the stored entry of the same cluster.
      for (const [key, value] of Object.entries(stored.get(converted['clusterName']) ?? {})) {
        if (!(SHARED_STATUS_ITEM_FIELDS as readonly string[]).includes(key)) converted[key] = clone(value);
      }
      return converted;
    });
  }
  if (!status && Object.keys(out).length === 0) return undefined;
  return orderLike(out, currentStatus);
}

// ----------------------------------------------------------------------------------------------------------------
// Helpers

function record(value: unknown): Json | undefined {
  return isPlainObject(value) ? value : undefined;
}

function clone<T>(value: T): T {
  return structuredClone(value);
}

function copyFields(from: Json, to: Json, fields: readonly string[]): void {
  for (const field of fields) if (from[field] !== undefined) to[field] = clone(from[field]);
}

/** Only the named fields of a list item (a copy); anything that is not an object becomes an empty item. */
function pick(item: unknown, fields: readonly string[]): Json {
  const out: Json = {};
  const source = record(item);
  if (source) copyFields(source, out, fields);
  return out;
}

/** List items by a string key (first one wins), for matching v1alpha1 entries to stored v1alpha2 ones. */
function byKey(list: unknown, key: string): Map<unknown, Json> {
  const map = new Map<unknown, Json>();
  if (Array.isArray(list)) {
    for (const item of list) {
      const entry = record(item);
      const id = entry?.[key];
      if (entry && typeof id === 'string' && !map.has(id)) map.set(id, entry);
    }
  }
  return map;
}

function sameObject(a: Json, b: Json): boolean {
  return a['apiVersion'] === b['apiVersion'] && a['kind'] === b['kind'] && (a['namespace'] ?? '') === (b['namespace'] ?? '') && a['name'] === b['name'];
}

/** The object with its keys in the order `template` has them (new keys last), so updates do not reshuffle fields. */
function orderLike(object: Json, template: Json | undefined): Json {
  if (!template) return object;
  const out: Json = {};
  for (const key of Object.keys(template)) if (key in object) out[key] = object[key];
  for (const [key, value] of Object.entries(object)) if (!(key in out)) out[key] = value;
  return out;
}
