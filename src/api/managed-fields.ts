import { isPlainObject, timestamp } from './object.js';
import type { KubeObject, ManagedFieldsEntry } from './object.js';

/**
 * managedFields for non-apply writes: one `Update` entry per (manager, subresource) whose FieldsV1
 * set lists the fields the object has. Lists of objects with a `name` are keyed `k:{"name":…}`,
 * other lists are owned whole.
 */
const SERVER_FIELDS = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']);

export function fieldSet(value: unknown, topLevel = true): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isPlainObject(value)) return out;
  for (const [key, child] of Object.entries(value)) {
    if (topLevel && (key === 'apiVersion' || key === 'kind' || key === 'status')) continue;
    if (topLevel && key === 'metadata') {
      const meta = Object.fromEntries(Object.entries(isPlainObject(child) ? child : {}).filter(([k]) => !SERVER_FIELDS.has(k)));
      if (Object.keys(meta).length > 0) out['f:metadata'] = fieldSet(meta, false);
      continue;
    }
    if (Array.isArray(child) && child.every((item) => isPlainObject(item) && typeof item['name'] === 'string')) {
      const list: Record<string, unknown> = {};
      for (const item of child as Record<string, unknown>[]) list[`k:${JSON.stringify({ name: item['name'] })}`] = { '.': {}, ...fieldSet(item, false) };
      out[`f:${key}`] = list;
    } else {
      out[`f:${key}`] = isPlainObject(child) ? fieldSet(child, false) : {};
    }
  }
  return out;
}

/** Records that `manager` wrote `object` (or its status), replacing that manager's previous entry. */
export function recordUpdate(object: KubeObject, previous: readonly ManagedFieldsEntry[] | undefined, manager: string, apiVersion: string, subresource?: string): ManagedFieldsEntry[] {
  const fields = subresource === 'status' ? { 'f:status': fieldSet(object['status'], false) } : fieldSet(object);
  const entry: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion, time: timestamp(), fieldsType: 'FieldsV1', fieldsV1: fields, ...(subresource ? { subresource } : {}) };
  const others = (previous ?? []).filter((e) => !(e.manager === manager && e.operation === 'Update' && (e.subresource ?? '') === (subresource ?? '')));
  return [...others, entry];
}
