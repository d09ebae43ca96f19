import { ApiError, errors } from './status.js';
import { deepClone, isPlainObject, timestamp } from './object.js';
import type { KubeObject, ManagedFieldsEntry } from './object.js';
import { jsonEqual, setOwn } from './merge-patch.js';
import type { PatchMeta, PatchSchema } from './strategic-merge-patch.js';

/**
 * Server-side apply (`application/apply-patch+yaml`, kube-api-contract.md §3), as a pure function.
 *
 * Field sets are FieldsV1 trees: `f:<field>` for object fields, `k:{"key":…}` for items of keyed
 * (associative) lists, `v:<json>` for items of set lists, `i:<n>` for list indexes; a node is a member
 * of the set when it is an empty object, or carries a `".": {}` marker and has children.
 *
 * What this manager's applied configuration contains is what it owns (operation Apply). The result is
 * the live object with the configuration merged in; fields the manager applied before but no longer does
 * are removed unless another manager owns them; changing a value another manager owns is a conflict
 * (409) unless forced, in which case that manager loses the field.
 */

/** List/map semantics a schema may report; `listMapKeys`/`mapType` extend `PatchMeta` for CRD schemas. */
export interface ApplyFieldMeta extends PatchMeta {
  /** `x-kubernetes-list-map-keys`: every key field of a `listType: map` list. */
  listMapKeys?: readonly string[];
  /** `x-kubernetes-map-type` (`atomic` for atomic maps and structs). */
  mapType?: 'atomic' | 'granular';
}

export interface ApplyOptions {
  manager: string;
  force: boolean;
  /** The request's group/version, recorded in the managedFields entry. */
  apiVersion: string;
  /** List semantics: for CRs a schema whose lookup returns undefined → lists atomic unless told otherwise. */
  schema: PatchSchema;
  /** `status` applies the status only (and nothing but the status). */
  subresource?: string;
  /** Timestamp for the Apply entry (defaults to now, RFC 3339 seconds). */
  now?: string;
}

export interface ApplyResult {
  /** The resulting object, with metadata.managedFields updated. */
  object: KubeObject;
}

type JsonObject = Record<string, unknown>;
/** A field path as FieldsV1 path elements: `f:spec`, `k:{"name":"a"}`, `v:"x"`, `i:0`. */
type Path = readonly string[];

/** Metadata the server sets: never part of a field set, never merged nor removed by apply. */
const SERVER_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'managedFields', 'selfLink']);

// ---------------------------------------------------------------------------------------------------
// Schema interpretation

type ListKind = { type: 'atomic' } | { type: 'set' } | { type: 'map'; keys: readonly string[]; defaults: Readonly<Record<string, unknown>> };

/**
 * Built-in list-map keys that differ from the strategic-merge-patch merge key (the types' `+listMapKey`
 * tags): container ports are keyed by containerPort+protocol, service ports by port+protocol, protocol
 * defaulting to TCP when missing.
 */
const BUILTIN_LIST_KEYS: ReadonlyArray<{ field: string; mergeKey: string; keys: readonly string[]; defaults: Record<string, unknown> }> = [
  { field: 'ports', mergeKey: 'containerPort', keys: ['containerPort', 'protocol'], defaults: { protocol: 'TCP' } },
  { field: 'ports', mergeKey: 'port', keys: ['port', 'protocol'], defaults: { protocol: 'TCP' } },
  { field: 'topologySpreadConstraints', mergeKey: 'topologyKey', keys: ['topologyKey', 'whenUnsatisfiable'], defaults: {} },
];

/** Built-in structs/maps that apply owns whole (`+structType=atomic`, `+mapType=atomic`). */
const BUILTIN_ATOMIC_FIELDS = new Set(['nodeSelector', 'labelSelector', 'namespaceSelector', 'secretKeyRef', 'configMapKeyRef', 'fieldRef', 'resourceFieldRef', 'configMapRef', 'secretRef']);

/** Whether an apiVersion belongs to a built-in group (core, or a group without dots, or *.k8s.io). */
function isBuiltinApiVersion(apiVersion: string | undefined): boolean {
  if (apiVersion === undefined) return false;
  const slash = apiVersion.indexOf('/');
  if (slash < 0) return true;
  const group = apiVersion.slice(0, slash);
  return !group.includes('.') || group.endsWith('.k8s.io');
}

class Schema {
  constructor(
    private readonly schema: PatchSchema,
    private readonly builtin: boolean,
  ) {}

  private meta(names: readonly string[]): ApplyFieldMeta | undefined {
    return this.schema.lookup(names) as ApplyFieldMeta | undefined;
  }

  list(names: readonly string[]): ListKind {
    const meta = this.meta(names);
    if (meta === undefined) return { type: 'atomic' };
    if (meta.listMapKeys && meta.listMapKeys.length > 0) return { type: 'map', keys: [...meta.listMapKeys].sort(), defaults: {} };
    if (meta.listType === 'atomic') return { type: 'atomic' };
    if (meta.listType === 'set') return { type: 'set' };
    const merge = (meta.strategy ?? '').split(',').map((s) => s.trim()).includes('merge');
    if (meta.listType !== 'map' && !merge) return { type: 'atomic' };
    if (meta.mergeKey === undefined) return meta.listType === 'map' ? { type: 'atomic' } : { type: 'set' };
    const field = names[names.length - 1];
    const override = this.builtin ? BUILTIN_LIST_KEYS.find((o) => o.field === field && o.mergeKey === meta.mergeKey) : undefined;
    return override ? { type: 'map', keys: [...override.keys].sort(), defaults: override.defaults } : { type: 'map', keys: [meta.mergeKey], defaults: {} };
  }

  atomicMap(names: readonly string[]): boolean {
    const meta = this.meta(names);
    if (meta?.mapType !== undefined) return meta.mapType === 'atomic';
    if (!this.builtin || names.length < 2) return false;
    const field = names[names.length - 1] ?? '';
    if (BUILTIN_ATOMIC_FIELDS.has(field)) return true;
    // LabelSelector of workloads/PDBs and the selector map of Services.
    return field === 'selector' && names[names.length - 2] === 'spec';
  }
}

const invalid = (message: string) => new ApiError(422, 'Invalid', message);

// ---------------------------------------------------------------------------------------------------
// Field sets

class FieldSet {
  private readonly paths = new Map<string, Path>();

  static keyOf(path: Path): string {
    return JSON.stringify(path);
  }

  add(path: Path): void {
    this.paths.set(FieldSet.keyOf(path), path);
  }

  has(path: Path): boolean {
    return this.paths.has(FieldSet.keyOf(path));
  }

  get size(): number {
    return this.paths.size;
  }

  members(): Path[] {
    return [...this.paths.values()];
  }

  without(remove: Iterable<Path>): FieldSet {
    const drop = new Set([...remove].map(FieldSet.keyOf));
    const out = new FieldSet();
    for (const [key, path] of this.paths) if (!drop.has(key)) out.paths.set(key, path);
    return out;
  }

  /** Members that have members below them in this set (serialized with a `"."` marker). */
  parents(): Set<string> {
    const out = new Set<string>();
    for (const path of this.paths.values()) {
      for (let n = 1; n < path.length; n++) {
        const prefix = FieldSet.keyOf(path.slice(0, n));
        if (this.paths.has(prefix)) out.add(prefix);
      }
    }
    return out;
  }

  static fromFieldsV1(fields: unknown): FieldSet {
    const set = new FieldSet();
    const walk = (node: unknown, path: string[]) => {
      if (!isPlainObject(node)) return;
      for (const [pe, child] of Object.entries(node)) {
        if (pe === '.') continue;
        const childPath = [...path, pe];
        if (!isPlainObject(child) || Object.keys(child).length === 0 || Object.hasOwn(child, '.')) set.add(childPath);
        walk(child, childPath);
      }
    };
    walk(fields, []);
    return set;
  }

  toFieldsV1(): JsonObject {
    interface Node {
      member: boolean;
      children: Map<string, Node>;
    }
    const root: Node = { member: false, children: new Map() };
    for (const path of this.paths.values()) {
      let at = root;
      for (const pe of path) {
        let next = at.children.get(pe);
        if (!next) at.children.set(pe, (next = { member: false, children: new Map() }));
        at = next;
      }
      at.member = true;
    }
    const emit = (node: Node): JsonObject => {
      const out: JsonObject = {};
      if (node.member && node.children.size > 0) out['.'] = {};
      for (const pe of [...node.children.keys()].sort(comparePathElements)) setOwn(out, pe, emit(node.children.get(pe) as Node));
      return out;
    };
    return emit(root);
  }
}

const keyPathElement = (item: JsonObject, list: Extract<ListKind, { type: 'map' }>): string | undefined => {
  const key: JsonObject = {};
  for (const name of list.keys) {
    const value = Object.hasOwn(item, name) ? item[name] : list.defaults[name];
    if (value === undefined) return undefined;
    setOwn(key, name, value);
  }
  return `k:${JSON.stringify(key)}`;
};

/** Collects the field set of a value. `strict` (applied configurations) rejects malformed lists. */
class Collector {
  constructor(
    private readonly schema: Schema,
    private readonly strict: boolean,
  ) {}

  readonly set = new FieldSet();

  map(object: JsonObject, names: readonly string[], path: Path): void {
    for (const [key, value] of Object.entries(object)) this.value(value, [...names, key], [...path, `f:${key}`]);
  }

  value(value: unknown, names: readonly string[], path: Path): void {
    if (isPlainObject(value)) {
      if (Object.keys(value).length === 0 || this.schema.atomicMap(names)) this.set.add(path);
      else this.map(value, names, path);
      return;
    }
    if (!Array.isArray(value)) {
      this.set.add(path);
      return;
    }
    const kind = this.schema.list(names);
    const elements = kind.type === 'atomic' ? undefined : this.elements(value, kind, path);
    if (elements === undefined) {
      this.set.add(path);
      return;
    }
    value.forEach((item, i) => {
      const itemPath = [...path, elements[i] as string];
      this.set.add(itemPath);
      if (kind.type === 'map') this.map(item as JsonObject, names, itemPath);
    });
  }

  /** Path elements of a set/map list's items, or undefined (non-strict) when the list cannot be keyed. */
  private elements(list: unknown[], kind: ListKind, path: Path): string[] | undefined {
    const out: string[] = [];
    const seen = new Set<string>();
    for (const [i, item] of list.entries()) {
      let pe: string | undefined;
      if (kind.type === 'set') {
        if (typeof item === 'object' && item !== null) {
          if (this.strict) throw invalid(`${pathString(path)}: element ${i}: expected a scalar value in a set list, got ${JSON.stringify(item)}`);
          return undefined;
        }
        pe = `v:${JSON.stringify(item)}`;
      } else if (kind.type === 'map') {
        if (!isPlainObject(item)) {
          if (this.strict) throw invalid(`${pathString(path)}: element ${i}: expected a map in an associative list, got ${JSON.stringify(item)}`);
          return undefined;
        }
        pe = keyPathElement(item, kind);
        if (pe === undefined) {
          if (!this.strict) return undefined;
          const missing = kind.keys.find((k) => !Object.hasOwn(item, k) && kind.defaults[k] === undefined) ?? '';
          throw invalid(`${pathString(path)}: element ${i}: associative list with keys has an element that omits key field ${JSON.stringify(missing)} (and doesn't have default value)`);
        }
      }
      if (pe === undefined) return undefined;
      if (seen.has(pe)) {
        if (this.strict) throw invalid(`${pathString(path)}: duplicate entries for key ${pathElementString(pe)}`);
        return undefined;
      }
      seen.add(pe);
      out.push(pe);
    }
    return out;
  }
}

function schemaFor(schema: PatchSchema, object: KubeObject | undefined): Schema {
  return new Schema(schema, isBuiltinApiVersion(object?.apiVersion));
}

/** The object without what no field set holds: apiVersion, kind, and server-set metadata. */
function ownableContent(object: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, value] of Object.entries(object)) {
    if (key === 'apiVersion' || key === 'kind') continue;
    if (key === 'metadata' && isPlainObject(value)) {
      const meta: JsonObject = {};
      for (const [k, v] of Object.entries(value)) if (!SERVER_META.has(k)) setOwn(meta, k, v);
      if (Object.keys(meta).length > 0) setOwn(out, key, meta);
      continue;
    }
    setOwn(out, key, value);
  }
  return out;
}

function collect(content: JsonObject, schema: Schema, strict: boolean): FieldSet {
  const collector = new Collector(schema, strict);
  collector.map(content, [], []);
  return collector.set;
}

/**
 * The FieldsV1 of an object: every field it sets, lists per the schema (keyed lists by their keys, set
 * lists by value, others whole). apiVersion, kind and server-set metadata are left out; status is
 * included when present.
 */
export function fieldSetOf(object: KubeObject, schema: PatchSchema): Record<string, unknown> {
  return collect(ownableContent(object), schemaFor(schema, object), false).toFieldsV1();
}

// ---------------------------------------------------------------------------------------------------
// Paths

const PE_RANK: Readonly<Record<string, number>> = { f: 0, k: 1, v: 2, i: 3 };
const rank = (pe: string) => PE_RANK[pe.slice(0, 1)] ?? 4;

function compareValues(a: unknown, b: unknown): number {
  const typeRank = (v: unknown) => (v === null ? 0 : typeof v === 'boolean' ? 1 : typeof v === 'number' ? 2 : typeof v === 'string' ? 3 : Array.isArray(v) ? 4 : 5);
  const ra = typeRank(a);
  const rb = typeRank(b);
  if (ra !== rb) return ra - rb;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = typeof a === 'string' ? a : JSON.stringify(a);
  const sb = typeof b === 'string' ? b : JSON.stringify(b);
  return sa < sb ? -1 : sa > sb ? 1 : 0;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The order kube serializes and iterates path elements in: fields, then keys, values, indexes. */
function comparePathElements(a: string, b: string): number {
  const r = rank(a) - rank(b);
  if (r !== 0) return r;
  const ta = a.slice(2);
  const tb = b.slice(2);
  if (a.startsWith('f:')) return ta < tb ? -1 : ta > tb ? 1 : 0;
  if (a.startsWith('i:')) return Number(ta) - Number(tb);
  const va = parseJson(ta);
  const vb = parseJson(tb);
  if (a.startsWith('k:') && isPlainObject(va) && isPlainObject(vb)) {
    const ea = Object.entries(va);
    const eb = Object.entries(vb);
    for (let i = 0; i < Math.min(ea.length, eb.length); i++) {
      const [na, xa] = ea[i] as [string, unknown];
      const [nb, xb] = eb[i] as [string, unknown];
      if (na !== nb) return na < nb ? -1 : 1;
      const c = compareValues(xa, xb);
      if (c !== 0) return c;
    }
    return ea.length - eb.length;
  }
  return compareValues(va, vb);
}

/** kube's iteration order of a set: at each level the members first, then the subtrees, each sorted. */
function comparePaths(a: Path, b: Path): number {
  for (let i = 0; ; i++) {
    const aLeaf = a.length === i + 1;
    const bLeaf = b.length === i + 1;
    if (aLeaf !== bLeaf) return aLeaf ? -1 : 1;
    const c = comparePathElements(a[i] ?? '', b[i] ?? '');
    if (c !== 0 || aLeaf) return c;
  }
}

function pathElementString(pe: string): string {
  const body = pe.slice(2);
  if (pe.startsWith('f:')) return `.${body}`;
  if (pe.startsWith('i:')) return `[${body}]`;
  if (pe.startsWith('v:')) return `[=${body}]`;
  const key = parseJson(body);
  if (!isPlainObject(key)) return `[${body}]`;
  return `[${Object.entries(key)
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',')}]`;
}

/** kube's rendering of a field path: `.spec.containers[name="a"].ports[containerPort=80,protocol="TCP"]`. */
function pathString(path: Path): string {
  return path.map(pathElementString).join('');
}

interface Located {
  found: boolean;
  value?: unknown;
  /** Property names (list items transparent), for schema lookups. */
  names: string[];
  container?: JsonObject | unknown[];
  key?: string | number;
}

/** Finds the value a path points at. */
function locate(root: unknown, path: Path, schema: Schema): Located {
  let value: unknown = root;
  const names: string[] = [];
  let container: JsonObject | unknown[] | undefined;
  let key: string | number | undefined;
  for (const pe of path) {
    const body = pe.slice(2);
    if (pe.startsWith('f:')) {
      if (!isPlainObject(value) || !Object.hasOwn(value, body)) return { found: false, names };
      names.push(body);
      container = value;
      key = body;
      value = value[body];
      continue;
    }
    if (!Array.isArray(value)) return { found: false, names };
    const list: unknown[] = value;
    let index = -1;
    if (pe.startsWith('i:')) index = Number(body) < list.length ? Number(body) : -1;
    else if (pe.startsWith('v:')) {
      const wanted = parseJson(body);
      index = list.findIndex((item) => jsonEqual(item, wanted));
    } else if (pe.startsWith('k:')) {
      const wanted = parseJson(body);
      if (!isPlainObject(wanted)) return { found: false, names };
      const kind = schema.list(names);
      const defaults = kind.type === 'map' ? kind.defaults : {};
      index = list.findIndex(
        (item) => isPlainObject(item) && Object.entries(wanted).every(([k, v]) => jsonEqual(Object.hasOwn(item, k) ? item[k] : defaults[k], v)),
      );
    }
    if (index < 0) return { found: false, names };
    container = list;
    key = index;
    value = list[index];
  }
  return { found: true, value, names, ...(container ? { container } : {}), ...(key !== undefined ? { key } : {}) };
}

function remove(root: unknown, path: Path, schema: Schema): boolean {
  const at = locate(root, path, schema);
  if (!at.found || at.container === undefined || at.key === undefined) return false;
  if (Array.isArray(at.container)) at.container.splice(at.key as number, 1);
  else delete at.container[at.key as string];
  return true;
}

// ---------------------------------------------------------------------------------------------------
// Merging

class Merger {
  constructor(private readonly schema: Schema) {}

  value(live: unknown, config: unknown, names: readonly string[]): unknown {
    if (config === undefined) return live;
    if (isPlainObject(config)) {
      if (!isPlainObject(live) || this.schema.atomicMap(names)) return deepClone(config);
      return this.map(live, config, names);
    }
    if (Array.isArray(config)) {
      const kind = this.schema.list(names);
      if (kind.type === 'atomic' || !Array.isArray(live)) return deepClone(config);
      if (kind.type === 'set') return this.list(live, config, (item) => (typeof item === 'object' && item !== null ? undefined : JSON.stringify(item)), (_l, c) => c);
      return this.list(
        live,
        config,
        (item) => (isPlainObject(item) ? keyPathElement(item, kind) : undefined),
        (l, c) => this.value(l, c, names),
      );
    }
    return config;
  }

  map(live: JsonObject, config: JsonObject, names: readonly string[]): JsonObject {
    const out: JsonObject = { ...live };
    for (const [key, value] of Object.entries(config)) setOwn(out, key, this.value(Object.hasOwn(live, key) ? live[key] : undefined, value, [...names, key]));
    return out;
  }

  /**
   * Merges two lists item by item: live items the configuration does not name stay where they are, the
   * configuration's items come in its order (merged into their live counterparts), new ones placed after
   * the configuration item before them.
   */
  private list(live: unknown[], config: unknown[], id: (item: unknown) => string | undefined, merge: (live: unknown, config: unknown) => unknown): unknown[] {
    const configIds = config.map(id);
    const named = new Set(configIds.filter((x): x is string => x !== undefined));
    const liveById = new Map<string, unknown>();
    for (const item of live) {
      const key = id(item);
      if (key !== undefined && !liveById.has(key)) liveById.set(key, item);
    }
    const out: unknown[] = [];
    const emitted = new Set<string>();
    let li = 0;
    let ci = 0;
    while (li < live.length || ci < config.length) {
      if (li < live.length) {
        const key = id(live[li]);
        if (key === undefined || !named.has(key)) {
          out.push(live[li]);
          li++;
          continue;
        }
        if (emitted.has(key)) {
          li++;
          continue;
        }
      }
      if (ci < config.length) {
        const key = configIds[ci];
        out.push(merge(key === undefined ? undefined : liveById.get(key), config[ci]));
        if (key !== undefined) emitted.add(key);
        ci++;
        continue;
      }
      li++;
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------------
// Managers and conflicts

interface Manager {
  entry: ManagedFieldsEntry;
  set: FieldSet;
}

/** kube's identity of a manager (JSON of the entry without time/fields; appliers without apiVersion). */
function managerId(e: ManagedFieldsEntry): string {
  return JSON.stringify({
    ...(e.manager ? { manager: e.manager } : {}),
    ...(e.operation ? { operation: e.operation } : {}),
    ...(e.operation !== 'Apply' && e.apiVersion ? { apiVersion: e.apiVersion } : {}),
    ...(e.subresource ? { subresource: e.subresource } : {}),
  });
}

function printManager(e: ManagedFieldsEntry): string {
  let out = JSON.stringify(e.manager ?? '');
  if (e.subresource) out += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') out += ` using ${e.apiVersion ?? ''}`;
  return out;
}

function conflictError(conflicts: ReadonlyArray<{ manager: ManagedFieldsEntry; path: Path }>): ApiError {
  const sorted = [...conflicts].sort((a, b) => {
    const ia = managerId(a.manager);
    const ib = managerId(b.manager);
    return ia < ib ? -1 : ia > ib ? 1 : comparePaths(a.path, b.path);
  });
  const causes = sorted.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) }));
  let message: string;
  const first = sorted[0];
  if (sorted.length === 1 && first) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(first.manager)}: ${pathString(first.path)}`;
  } else {
    const lines: string[] = [];
    let current: string | undefined;
    for (const c of sorted) {
      const id = managerId(c.manager);
      if (id !== current) lines.push(`conflicts with ${printManager(c.manager)}:`);
      current = id;
      lines.push(`- ${pathString(c.path)}`);
    }
    message = `Apply failed with ${sorted.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError(409, 'Conflict', message, { causes });
}

/** kube's order of managedFields: Apply before Update, then by time, manager, apiVersion, subresource. */
function compareEntries(a: ManagedFieldsEntry, b: ManagedFieldsEntry): number {
  const str = (x: string | undefined, y: string | undefined) => ((x ?? '') < (y ?? '') ? -1 : (x ?? '') > (y ?? '') ? 1 : 0);
  const seconds = (t: string | undefined) => (t ? Math.floor(Date.parse(t) / 1000) || 0 : 0);
  return str(a.operation, b.operation) || seconds(a.time) - seconds(b.time) || str(a.manager, b.manager) || str(a.apiVersion, b.apiVersion) || str(a.subresource, b.subresource);
}

/** Paths apply never owns nor removes (server metadata, apiVersion/kind), and paths outside the scope. */
function inScope(path: Path, statusOnly: boolean): boolean {
  const top = path[0];
  if (top === 'f:apiVersion' || top === 'f:kind') return false;
  if (top === 'f:metadata' && path.length >= 2 && SERVER_META.has((path[1] ?? '').slice(2))) return false;
  return statusOnly ? top === 'f:status' : top !== 'f:status';
}

function stripManagedFields(object: KubeObject): KubeObject {
  const { managedFields: _ignored, ...metadata } = object.metadata;
  return { ...object, metadata };
}

// ---------------------------------------------------------------------------------------------------
// Apply

/**
 * Applies `config` for `options.manager`. `live` undefined = create. Throws ApiError 409 (Conflict, with
 * `FieldManagerConflict` causes) when the configuration changes fields other managers own and
 * `options.force` is false, 422 for configurations whose keyed/set lists are malformed (missing keys,
 * duplicates) and 400 when the configuration carries managedFields.
 */
export function serverSideApply(live: KubeObject | undefined, config: KubeObject, options: ApplyOptions): ApplyResult {
  const managedInConfig = config.metadata.managedFields;
  if (managedInConfig !== undefined && managedInConfig !== null && !(Array.isArray(managedInConfig) && managedInConfig.length === 0)) {
    throw errors.badRequest('metadata.managedFields must be nil');
  }
  const schema = schemaFor(options.schema, config.apiVersion !== undefined ? config : live);
  const statusOnly = options.subresource === 'status';
  const content = ownableContent(config);
  const applied: JsonObject = statusOnly ? (content['status'] !== undefined ? { status: content['status'] } : {}) : content;
  if (!statusOnly) delete applied['status'];
  const newSet = collect(applied, schema, true);

  const now = options.now ?? timestamp();
  const entry = (time: string): ManagedFieldsEntry => ({
    manager: options.manager,
    operation: 'Apply',
    apiVersion: options.apiVersion,
    time,
    fieldsType: 'FieldsV1',
    fieldsV1: newSet.toFieldsV1(),
    ...(options.subresource ? { subresource: options.subresource } : {}),
  });

  if (live === undefined) {
    const object = deepClone(config);
    delete object.metadata.managedFields;
    if (statusOnly) {
      for (const key of Object.keys(object)) if (!['apiVersion', 'kind', 'metadata', 'status'].includes(key)) delete object[key];
    } else delete object['status'];
    dropAppliedNulls(object, newSet, schema);
    if (newSet.size > 0) object.metadata.managedFields = [entry(now)];
    return { object };
  }

  const isSelf = (e: ManagedFieldsEntry) => e.manager === options.manager && e.operation === 'Apply' && (e.subresource ?? '') === (options.subresource ?? '');
  const managers: Manager[] = (live.metadata.managedFields ?? []).map((e) => ({ entry: e, set: FieldSet.fromFieldsV1(e.fieldsV1) }));
  const previous = managers.find((m) => isSelf(m.entry));
  const others = managers.filter((m) => !isSelf(m.entry));
  const lastSet = previous ? previous.set.members().filter((p) => inScope(p, statusOnly)) : [];

  const base = deepClone(live);
  const merged = new Merger(schema).map(base, applied, []) as KubeObject;

  prune(merged, lastSet, newSet, others, schema);

  // Compare live with the result for every other manager's fields.
  const conflicts: Array<{ manager: ManagedFieldsEntry; path: Path }> = [];
  const lost = new Map<Manager, Path[]>();
  for (const other of others) {
    const parents = other.set.parents();
    for (const path of other.set.members()) {
      const before = locate(live, path, schema);
      const after = locate(merged, path, schema);
      if (!after.found) {
        if (before.found) lost.set(other, [...(lost.get(other) ?? []), path]);
        continue;
      }
      let changed: boolean;
      if (!before.found) changed = true;
      else if (parents.has(FieldSet.keyOf(path))) changed = false;
      else if (isPlainObject(before.value) && isPlainObject(after.value) && !schema.atomicMap(after.names)) changed = false;
      else changed = !jsonEqual(before.value, after.value);
      if (changed) {
        conflicts.push({ manager: other.entry, path });
        if (options.force) lost.set(other, [...(lost.get(other) ?? []), path]);
      }
    }
  }
  if (conflicts.length > 0 && !options.force) throw conflictError(conflicts);

  dropAppliedNulls(merged, newSet, schema);

  const changed = !jsonEqual(stripManagedFields(live), stripManagedFields(merged));
  const time = !changed && previous?.entry.time ? previous.entry.time : now;
  const entries: ManagedFieldsEntry[] = [];
  for (const other of others) {
    const drop = lost.get(other);
    if (!drop) {
      entries.push(other.entry);
      continue;
    }
    const remaining = other.set.without(drop);
    if (remaining.size > 0) entries.push({ ...other.entry, fieldsV1: remaining.toFieldsV1() });
  }
  if (newSet.size > 0) entries.push(entry(time));
  entries.sort(compareEntries);
  if (entries.length > 0) merged.metadata.managedFields = entries;
  else delete merged.metadata.managedFields;
  return { object: merged };
}

/**
 * Removes what the manager applied last time and no longer applies, unless another manager owns it:
 * the fields themselves, then the objects that held them once nothing owned is left in them.
 */
function prune(merged: KubeObject, lastSet: readonly Path[], newSet: FieldSet, others: readonly Manager[], schema: Schema): void {
  if (lastSet.length === 0) return;
  const owned = [newSet, ...others.map((o) => o.set)];
  const ownedPaths = new Set<string>();
  const ownedWhole = new Set<string>();
  for (const set of owned) {
    const parents = set.parents();
    for (const path of set.members()) {
      const key = FieldSet.keyOf(path);
      if (!parents.has(key)) ownedWhole.add(key);
      for (let n = 1; n <= path.length; n++) ownedPaths.add(FieldSet.keyOf(path.slice(0, n)));
    }
  }
  const insideOwnedValue = (path: Path) => {
    for (let n = 1; n < path.length; n++) if (ownedWhole.has(FieldSet.keyOf(path.slice(0, n)))) return true;
    return false;
  };
  const isOwned = (path: Path) => owned.some((set) => set.has(path));
  /** A key field of a list item (the item goes as a whole or not at all). */
  const isKeyField = (path: Path) => {
    const item = path[path.length - 2];
    const field = path[path.length - 1];
    if (!item?.startsWith('k:') || !field?.startsWith('f:')) return false;
    const key = parseJson(item.slice(2));
    return isPlainObject(key) && Object.hasOwn(key, field.slice(2));
  };
  // Shallowest first: an item goes whole, before its fields are looked at (its keys must still match).
  const byDepth = (a: Path, b: Path) => a.length - b.length;

  for (const path of [...lastSet].sort(byDepth)) {
    if (isOwned(path) || insideOwnedValue(path) || isKeyField(path)) continue;
    remove(merged, path, schema);
  }
  const holders = new Map<string, Path>();
  for (const path of lastSet) for (let n = 1; n < path.length; n++) holders.set(FieldSet.keyOf(path.slice(0, n)), path.slice(0, n));
  for (const path of [...holders.values()].sort(byDepth)) {
    if (path.length === 1 && path[0] === 'f:metadata') continue;
    if (ownedPaths.has(FieldSet.keyOf(path)) || insideOwnedValue(path)) continue;
    remove(merged, path, schema);
  }
}

/** `field: null` in an applied configuration claims the field and leaves it unset. */
function dropAppliedNulls(object: KubeObject, newSet: FieldSet, schema: Schema): void {
  for (const path of newSet.members().sort((a, b) => b.length - a.length)) {
    const at = locate(object, path, schema);
    if (at.found && at.value === null) remove(object, path, schema);
  }
}
