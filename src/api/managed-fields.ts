import { jsonEqual } from './merge-patch.js';
import { isPlainObject, timestamp } from './object.js';
import type { KubeObject, ManagedFieldsEntry } from './object.js';

/**
 * managedFields for non-apply writes (create, update, patch): the writer's `Update` entry takes
 * ownership of the fields its write set or changed, and other managers lose those fields — as kube
 * records them. Lists of objects with a `name` are keyed `k:{"name":…}`; other lists are owned whole.
 */
const SERVER_FIELDS = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']);

type FieldSet = Record<string, unknown>;

const isNamedList = (value: unknown): value is Record<string, unknown>[] =>
  Array.isArray(value) && value.length > 0 && value.every(isNamedItem);

const isNamedItem = (item: unknown): boolean => isPlainObject(item) && typeof item['name'] === 'string';

/** Stands in for a missing previous object: lookups on it behave as on any empty object. */
const NOTHING: Readonly<Record<string, unknown>> = Object.freeze({});

/** The entries of an object that count as fields (top level: no apiVersion/kind/status; metadata without server fields). */
function entries(value: Record<string, unknown>, topLevel: boolean, subresource: string | undefined): [string, unknown][] {
  if (!topLevel) return Object.entries(value);
  if (subresource === 'status') return value['status'] === undefined ? [] : [['status', value['status']]];
  const out: [string, unknown][] = [];
  for (const key in value) {
    if (!Object.hasOwn(value, key) || key === 'apiVersion' || key === 'kind' || key === 'status') continue;
    out.push([key, key === 'metadata' ? clientMetadata(value[key]) : value[key]]);
  }
  return out;
}

/** metadata without the fields the server owns. */
function clientMetadata(metadata: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!isPlainObject(metadata)) return out;
  for (const key in metadata) {
    if (!Object.hasOwn(metadata, key) || SERVER_FIELDS.has(key)) continue;
    // A data property even for "__proto__", as Object.fromEntries would make it.
    if (key === '__proto__') Object.defineProperty(out, key, { value: metadata[key], enumerable: true, writable: true, configurable: true });
    else out[key] = metadata[key];
  }
  return out;
}

/** Fields set in `next` that differ from `prev` (all of them when `prev` is absent). */
export function changedFields(prev: unknown, next: unknown, topLevel = true, subresource?: string): FieldSet {
  const out: FieldSet = {};
  if (!isPlainObject(next)) return out;
  const before = isPlainObject(prev) ? prev : NOTHING;
  for (const [key, child] of entries(next, topLevel, subresource)) {
    const old = topLevel && key === 'metadata' ? (Object.hasOwn(before, 'metadata') ? clientMetadata(before['metadata']) : undefined) : before[key];
    // Nothing equals a missing field but another missing one: no deep comparison needed then.
    if (old === undefined ? child === undefined : jsonEqual(old, child)) continue;
    if (isNamedList(child)) {
      const oldItems = Array.isArray(old) ? new Map(old.filter(isPlainObject).map((item) => [item['name'], item])) : undefined;
      const list: FieldSet = {};
      for (const item of child) {
        const oldItem = oldItems?.get(item['name']);
        if (oldItem !== undefined && jsonEqual(oldItem, item)) continue;
        const fields = changedFields(oldItem, item, false);
        list[`k:${JSON.stringify({ name: item['name'] })}`] = oldItem ? fields : { '.': {}, ...fields };
      }
      out[`f:${key}`] = list;
    } else if (isPlainObject(child) && hasKeys(child)) {
      const fields = changedFields(old, child, false);
      out[`f:${key}`] = isPlainObject(old) ? fields : { '.': {}, ...fields };
    } else {
      out[`f:${key}`] = {};
    }
  }
  return out;
}

function hasKeys(object: Record<string, unknown>): boolean {
  for (const key in object) if (Object.hasOwn(object, key)) return true;
  return false;
}

function union(a: FieldSet, b: FieldSet): FieldSet {
  const out: FieldSet = { ...a };
  for (const [key, value] of Object.entries(b)) {
    out[key] = isPlainObject(out[key]) && isPlainObject(value) ? union(out[key] as FieldSet, value) : value;
  }
  return out;
}

/** `set` without the leaves of `taken` (a leaf of `taken` removes that whole subtree). */
function subtract(set: FieldSet, taken: FieldSet): FieldSet {
  const out: FieldSet = {};
  for (const [key, value] of Object.entries(set)) {
    const removed = taken[key];
    if (removed === undefined) out[key] = value;
    else if (isPlainObject(removed) && Object.keys(removed).some((k) => k !== '.') && isPlainObject(value)) {
      const rest = subtract(value as FieldSet, removed as FieldSet);
      if (Object.keys(rest).some((k) => k !== '.')) out[key] = rest;
    }
  }
  return out;
}

/** Records that `manager` wrote `object` (its status, for the status subresource) over `previous`. */
export function recordUpdate(object: KubeObject, previous: KubeObject | undefined, manager: string, apiVersion: string, subresource?: string): ManagedFieldsEntry[] {
  const changed = changedFields(previous, object, true, subresource);
  const entries = previous?.metadata.managedFields ?? [];
  const sameEntry = (e: ManagedFieldsEntry) => e.manager === manager && e.operation === 'Update' && (e.subresource ?? '') === (subresource ?? '') && e.apiVersion === apiVersion;
  const mine = entries.find(sameEntry);
  const others = entries.filter((e) => !sameEntry(e)).map((e) => ({ ...e, fieldsV1: subtract((e.fieldsV1 ?? {}) as FieldSet, changed) }));
  const kept = others.filter((e) => Object.keys(e.fieldsV1).length > 0);
  if (Object.keys(changed).length === 0) return mine ? [...kept, mine] : kept;
  const fields = union((mine?.fieldsV1 ?? {}) as FieldSet, changed);
  const entry: ManagedFieldsEntry = { manager, operation: 'Update', apiVersion, time: timestamp(), fieldsType: 'FieldsV1', fieldsV1: fields, ...(subresource ? { subresource } : {}) };
  return [...kept, entry];
}
