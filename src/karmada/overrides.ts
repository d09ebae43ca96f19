import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { applyJsonPatch } from '../api/json-patch.js';
import { deepClone, isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { clusterMatches } from '../scheduler/affinity.js';
import type { ClusterAffinity, ClusterObject } from '../scheduler/types.js';
import { formatImage, parseImage } from './image-reference.js';
import { MATCH_ALL, MATCH_NONE, policyMatch } from './policy-selection.js';

/**
 * Karmada's override manager (karmada-api.md §4.5), as a pure function: the ClusterOverridePolicies,
 * then (for namespaced objects) the OverridePolicies of the object's namespace, that select the object
 * and whose rules target the cluster, applied to a copy of it — so an OverridePolicy wins over a
 * ClusterOverridePolicy. Within each kind, policies go in ascending implicit priority (match-all <
 * label selector < name), then by name; within a rule: image, command, args, labels, annotations,
 * field, plaintext. Policies being deleted are skipped. What was applied is returned per rule, for
 * the Work's `policy.karmada.io/applied-(cluster-)overrides` annotations.
 */
export interface AppliedOverride {
  policyName: string;
  overriders: Record<string, unknown>;
}

export class OverrideError extends Error {
  override readonly name = 'OverrideError';
}

export interface OverrideResult {
  object: KubeObject;
  appliedOverrides: AppliedOverride[];
  appliedClusterOverrides: AppliedOverride[];
}

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (isPlainObject(value) ? value : undefined);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** Implicit priority of an override policy for an object: its best selector, match-all when it has none. */
function overridePriority(policy: KubeObject, object: KubeObject): number {
  const selectors = list(obj(policy['spec'])?.['resourceSelectors']);
  if (selectors.length === 0) return MATCH_ALL;
  return policyMatch(policy, object);
}

/** The rules of a policy: overrideRules, or the deprecated targetCluster + overriders as one rule. */
function rulesOf(policy: KubeObject): { targetCluster?: ClusterAffinity; overriders: Obj }[] {
  const spec = obj(policy['spec']) ?? {};
  const rules = list(spec['overrideRules']);
  if (rules.length > 0) {
    return rules.map(obj).filter((r): r is Obj => r !== undefined).map((r) => ({ ...(obj(r['targetCluster']) ? { targetCluster: r['targetCluster'] as ClusterAffinity } : {}), overriders: obj(r['overriders']) ?? {} }));
  }
  if (obj(spec['overriders'])) return [{ ...(obj(spec['targetCluster']) ? { targetCluster: spec['targetCluster'] as ClusterAffinity } : {}), overriders: spec['overriders'] as Obj }];
  return [];
}

function sortedMatching(policies: readonly KubeObject[], object: KubeObject): KubeObject[] {
  return policies
    .filter((p) => !p.metadata.deletionTimestamp)
    .map((policy) => ({ policy, priority: overridePriority(policy, object) }))
    .filter((p) => p.priority !== MATCH_NONE)
    .sort((a, b) => a.priority - b.priority || (a.policy.metadata.name ?? '').localeCompare(b.policy.metadata.name ?? ''))
    .map((p) => p.policy);
}

export function applyOverrides(object: KubeObject, cluster: ClusterObject, policies: { readonly overridePolicies: readonly KubeObject[]; readonly clusterOverridePolicies: readonly KubeObject[] }): OverrideResult {
  const result = deepClone(object);
  const applyAll = (candidates: readonly KubeObject[]): AppliedOverride[] => {
    const applied: AppliedOverride[] = [];
    for (const policy of sortedMatching(candidates, object)) {
      for (const rule of rulesOf(policy)) {
        if (rule.targetCluster && !clusterMatches(cluster, rule.targetCluster)) continue;
        try {
          applyOverriders(result, rule.overriders);
        } catch (err) {
          throw new OverrideError(`failed to apply ${policy.kind ?? 'override policy'} ${policy.metadata.namespace ? `${policy.metadata.namespace}/` : ''}${policy.metadata.name ?? ''}: ${err instanceof Error ? err.message : String(err)}`);
        }
        applied.push({ policyName: policy.metadata.name ?? '', overriders: rule.overriders });
      }
    }
    return applied.sort((a, b) => a.policyName.localeCompare(b.policyName));
  };
  const appliedClusterOverrides = applyAll(policies.clusterOverridePolicies);
  const namespace = object.metadata.namespace;
  const appliedOverrides = namespace ? applyAll(policies.overridePolicies.filter((p) => p.metadata.namespace === namespace)) : [];
  return { object: result, appliedOverrides, appliedClusterOverrides };
}

// ---- overriders ----

const WORKLOAD_KINDS = new Set(['ReplicaSet', 'Deployment', 'DaemonSet', 'StatefulSet', 'Job']);

/** JSON pointers to every container of a Pod or a workload's pod template (`/spec/…/containers/N`). */
function containerPointers(object: KubeObject): string[] {
  const kind = object.kind ?? '';
  const spec = obj(object['spec']);
  let base: string;
  let containers: unknown[];
  if (kind === 'Pod') {
    base = '/spec/containers';
    containers = list(spec?.['containers']);
  } else if (WORKLOAD_KINDS.has(kind)) {
    base = '/spec/template/spec/containers';
    containers = list(obj(obj(spec?.['template'])?.['spec'])?.['containers']);
  } else {
    return [];
  }
  return containers.map((_, i) => `${base}/${i}`);
}

const unescapePointer = (token: string): string => token.replaceAll('~1', '/').replaceAll('~0', '~');

function getAt(root: unknown, pointer: string): unknown {
  if (pointer === '' || pointer === '/') return root;
  let current: unknown = root;
  for (const token of pointer.replace(/^\//, '').split('/').map(unescapePointer)) {
    if (Array.isArray(current)) current = current[Number(token)];
    else if (isPlainObject(current)) current = current[token];
    else return undefined;
  }
  return current;
}

function setAt(object: KubeObject, pointer: string, value: unknown): void {
  patchInPlace(object, [{ op: 'replace', path: pointer, value }]);
}

function applyOverriders(object: KubeObject, overriders: Obj): void {
  for (const o of list(overriders['imageOverrider'])) imageOverride(object, obj(o) ?? {});
  for (const o of list(overriders['commandOverrider'])) containerListOverride(object, obj(o) ?? {}, 'command');
  for (const o of list(overriders['argsOverrider'])) containerListOverride(object, obj(o) ?? {}, 'args');
  for (const o of list(overriders['labelsOverrider'])) metadataMapOverride(object, obj(o) ?? {}, 'labels');
  for (const o of list(overriders['annotationsOverrider'])) metadataMapOverride(object, obj(o) ?? {}, 'annotations');
  for (const o of list(overriders['fieldOverrider'])) fieldOverride(object, obj(o) ?? {});
  const plaintext = list(overriders['plaintext']).map((o) => {
    const op = obj(o) ?? {};
    return { op: str(op['operator']), path: str(op['path']), ...('value' in op ? { value: op['value'] } : {}) };
  });
  if (plaintext.length > 0) patchInPlace(object, plaintext);
}

/** RFC 6902 ops applied to the object in place. */
function patchInPlace(object: KubeObject, ops: unknown[]): void {
  const patched = applyJsonPatch(deepClone(object), ops) as Obj;
  for (const key of Object.keys(object)) delete (object as Obj)[key];
  Object.assign(object, patched);
}

function imageOverride(object: KubeObject, overrider: Obj): void {
  const predicate = obj(overrider['predicate']);
  const pointers = predicate ? [str(predicate['path'])] : containerPointers(object).map((p) => `${p}/image`);
  const component = str(overrider['component']);
  const operator = str(overrider['operator']);
  const value = str(overrider['value']);
  for (const pointer of pointers) {
    const image = getAt(object, pointer);
    if (typeof image !== 'string') {
      if (predicate) throw new Error(`the image at ${pointer} is not a string`);
      continue;
    }
    const ref = parseImage(image);
    const key = component === 'Registry' ? 'registry' : component === 'Repository' ? 'repository' : 'tag';
    if (operator === 'add') ref[key] = `${ref[key]}${value}`;
    else if (operator === 'replace') ref[key] = value;
    else if (operator === 'remove') ref[key] = '';
    setAt(object, pointer, formatImage(ref));
  }
}

function containerListOverride(object: KubeObject, overrider: Obj, field: 'command' | 'args'): void {
  const name = str(overrider['containerName']);
  const values = list(overrider['value']).filter((v): v is string => typeof v === 'string');
  for (const pointer of containerPointers(object)) {
    const container = obj(getAt(object, pointer));
    if (!container || container['name'] !== name) continue;
    const current = list(container[field]).filter((v): v is string => typeof v === 'string');
    if (overrider['operator'] === 'add') container[field] = [...current, ...values];
    else if (overrider['operator'] === 'remove') {
      const kept = current.filter((v) => !values.includes(v));
      if (container[field] !== undefined) container[field] = kept;
    }
  }
}

function metadataMapOverride(object: KubeObject, overrider: Obj, field: 'labels' | 'annotations'): void {
  const values = obj(overrider['value']) ?? {};
  const operator = str(overrider['operator']);
  const metadata = object.metadata as Obj;
  const current = (obj(metadata[field]) ?? {}) as Record<string, string>;
  const next = { ...current };
  for (const [key, value] of Object.entries(values)) {
    if (operator === 'add') next[key] = String(value);
    else if (operator === 'replace' && key in next) next[key] = String(value);
    else if (operator === 'remove') delete next[key];
  }
  if (Object.keys(next).length > 0 || metadata[field] !== undefined) metadata[field] = next;
}

function fieldOverride(object: KubeObject, overrider: Obj): void {
  const pointer = str(overrider['fieldPath']);
  const text = getAt(object, pointer);
  if (typeof text !== 'string') throw new Error(`the value at ${pointer} is not a string`);
  const isYaml = overrider['yaml'] !== undefined;
  const ops = list(isYaml ? overrider['yaml'] : overrider['json']).map((o) => {
    const op = obj(o) ?? {};
    return { op: str(op['operator']), path: str(op['subPath']), ...('value' in op ? { value: op['value'] } : {}) };
  });
  let parsed: unknown;
  try {
    parsed = isYaml ? parseYaml(text) : JSON.parse(text);
  } catch (err) {
    throw new Error(`the value at ${pointer} is not ${isYaml ? 'YAML' : 'JSON'}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const patched = applyJsonPatch(parsed, ops);
  setAt(object, pointer, isYaml ? stringifyYaml(sortKeys(patched)) : JSON.stringify(patched));
}

/** YAML → JSON → YAML in Go sorts map keys. */
function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.keys(value).sort().map((k) => [k, sortKeys(value[k])]));
}
