import { ApiError, errors } from './status.js';
import { deepClone, isPlainObject } from './object.js';
import { jsonEqual, setOwn } from './merge-patch.js';

/**
 * Kubernetes strategic merge patch (`application/strategic-merge-patch+json`, built-in kinds only;
 * kube-api-contract.md §3). Like a merge patch, except that lists whose field says `patchStrategy: merge`
 * are merged: lists of objects element by element on the field's merge key, lists of scalars as a set.
 *
 * Directives: `$patch: replace|delete` in an object (replace it by the rest of the patch / empty it) and
 * as a list element (`{"$patch":"replace"}` makes the list exactly the other patch elements,
 * `{"$patch":"delete", <key>: v}` removes the element(s) with that key); `$retainKeys: [...]` drops
 * the object's other fields; `$setElementOrder/<list>` orders the merged list (listed items in that order,
 * server-only items kept near their old neighbours); `$deleteFromPrimitiveList/<list>` removes scalars.
 * `$patch: merge` is refused as kube refuses it; any other `$` key is refused with 400, so no directive
 * ever reaches the stored object. Order of a merged list without `$setElementOrder`: patch items in patch
 * order, interleaved with the server-only items by their live order (new items come first).
 */
export interface PatchMeta {
  mergeKey?: string;
  /** 'merge' | 'replace' | 'retainKeys' | 'merge,retainKeys' */
  strategy?: string;
  listType?: 'atomic' | 'set' | 'map';
}

export interface PatchSchema {
  /** Patch metadata of the field at this path of property names (array elements are transparent). */
  lookup(path: readonly string[]): PatchMeta | undefined;
}

type JsonObject = Record<string, unknown>;

const PATCH = '$patch';
const RETAIN_KEYS = '$retainKeys';
const SET_ORDER = '$setElementOrder/';
const DELETE_PRIMITIVE = '$deleteFromPrimitiveList/';

const bad = (message: string) => errors.badRequest(message);
const own = (o: unknown, key: string): unknown => (isPlainObject(o) && Object.hasOwn(o, key) ? o[key] : undefined);
const kindOf = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
const noMergeKey = (item: unknown, key: string) => bad(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);

/** Merge keys match like kube's: equal scalars (or equal JSON); a missing key never matches. */
const sameKey = (a: unknown, b: unknown) => a !== undefined && (a === b || (typeof a === 'object' && jsonEqual(a, b)));

/** Applies `patch` to a copy of `original`; neither input is modified. */
export function applyStrategicMergePatch(original: unknown, patch: unknown, schema: PatchSchema): unknown {
  if (patch === null) return deepClone(original);
  if (!isPlainObject(patch)) throw bad(`json: cannot unmarshal ${kindOf(patch)} into Go value of type map[string]interface {}`);
  return new Merger(schema).map(isPlainObject(original) ? deepClone(original) : undefined, deepClone(patch), []);
}

class Merger {
  constructor(private readonly schema: PatchSchema) {}

  private fieldMeta(path: readonly string[]): { merge: boolean; replace: boolean; mergeKey: string | undefined } {
    const meta = this.schema.lookup(path);
    const strategies = (meta?.strategy ?? '').split(',').map((s) => s.trim());
    const byListType = meta?.strategy === undefined && (meta?.listType === 'set' || (meta?.listType === 'map' && meta.mergeKey !== undefined));
    return { merge: strategies.includes('merge') || byListType, replace: strategies.includes('replace'), mergeKey: meta?.mergeKey };
  }

  /** Merges patch object `patch` into `original` (mutated; undefined = nothing there yet). */
  map(original: JsonObject | undefined, patch: JsonObject, path: readonly string[]): JsonObject {
    if (Object.hasOwn(patch, PATCH)) {
      const { [PATCH]: directive, ...rest } = patch;
      if (directive === 'replace') return this.map(undefined, rest, path);
      if (directive === 'delete') return {};
      throw bad(`unknown patch type: ${JSON.stringify(directive)} in map`);
    }
    const out = original ?? {};
    for (const key of Object.keys(patch)) {
      if (key.startsWith('$') && key !== RETAIN_KEYS && !key.startsWith(SET_ORDER) && !key.startsWith(DELETE_PRIMITIVE)) {
        throw bad(`unknown patch directive ${JSON.stringify(key)}`);
      }
    }
    this.retainKeys(out, patch);
    const ordered = this.setElementOrder(out, patch, path);
    for (const [key, value] of Object.entries(patch)) {
      if (key === RETAIN_KEYS || key.startsWith(SET_ORDER) || ordered.has(key)) continue;
      if (key.startsWith(DELETE_PRIMITIVE)) {
        this.deleteFromPrimitiveList(out, key.slice(DELETE_PRIMITIVE.length), value);
        continue;
      }
      if (value === null) {
        delete out[key];
        continue;
      }
      const childPath = [...path, key];
      const current = own(out, key);
      if (current === undefined || kindOf(current) !== kindOf(value)) setOwn(out, key, this.fresh(value, childPath));
      else if (isPlainObject(value)) setOwn(out, key, this.fieldMeta(childPath).replace ? this.fresh(value, childPath) : this.map(current as JsonObject, value, childPath));
      else if (Array.isArray(value)) setOwn(out, key, this.list(current as unknown[], value, childPath));
      else setOwn(out, key, value);
    }
    return out;
  }

  /** A patch value that lands where nothing mergeable is: directives applied, nulls dropped. */
  private fresh(value: unknown, path: readonly string[]): unknown {
    if (isPlainObject(value)) return this.map(undefined, value, path);
    if (!Array.isArray(value)) return value;
    return value.filter((item) => !this.isListDirective(item)).map((item) => (isPlainObject(item) ? this.map(undefined, item, path) : item));
  }

  /** Whether a list element is a `$patch` directive element (and a valid one). */
  private isListDirective(item: unknown): boolean {
    if (!isPlainObject(item) || !Object.hasOwn(item, PATCH)) return false;
    const directive = item[PATCH];
    if (directive === 'merge') throw bad('merging lists cannot yet be specified in the patch');
    if (directive !== 'replace' && directive !== 'delete') throw bad(`unknown patch type: ${JSON.stringify(directive)} in list`);
    return true;
  }

  private retainKeys(out: JsonObject, patch: JsonObject): void {
    if (!Object.hasOwn(patch, RETAIN_KEYS)) return;
    const keep = patch[RETAIN_KEYS];
    if (!Array.isArray(keep)) throw bad('invalid patch format of retainKeys');
    for (const [key, value] of Object.entries(patch)) {
      if (value !== null && !key.startsWith('$') && !keep.includes(key)) throw bad('invalid patch format of retainKeys');
    }
    for (const key of Object.keys(out)) if (!keep.includes(key)) delete out[key];
  }

  private deleteFromPrimitiveList(out: JsonObject, field: string, values: unknown): void {
    if (!Array.isArray(values) || values.some((v) => typeof v === 'object' && v !== null)) throw bad('invalid patch format of primitive list');
    const current = own(out, field);
    if (!Array.isArray(current)) return;
    if (current.some((v) => typeof v === 'object' && v !== null)) throw bad('invalid patch format of primitive list');
    setOwn(out, field, current.filter((v) => !values.includes(v)));
  }

  /** Processes `$setElementOrder/<field>` together with `<field>`; returns the fields it handled. */
  private setElementOrder(out: JsonObject, patch: JsonObject, path: readonly string[]): Set<string> {
    const handled = new Set<string>();
    for (const [key, order] of Object.entries(patch)) {
      if (!key.startsWith(SET_ORDER)) continue;
      const field = key.slice(SET_ORDER.length);
      const childPath = [...path, field];
      const { merge, mergeKey } = this.fieldMeta(childPath);
      const incoming = own(patch, field);
      if (!Array.isArray(order) || (incoming !== undefined && !Array.isArray(incoming))) throw bad('invalid patch format of setElementOrder list');
      if (mergeKey !== undefined) for (const item of order) if (own(item, mergeKey) === undefined) throw noMergeKey(item, mergeKey);
      if (incoming !== undefined) checkRelativeOrder(incoming, order, mergeKey);
      handled.add(field);
      const current = own(out, field);
      const live = Array.isArray(current) ? current : undefined;
      let merged: unknown[];
      if (incoming !== undefined) merged = live ? this.list(live, incoming, childPath) : (this.fresh(incoming, childPath) as unknown[]);
      else if (live) merged = live;
      else continue;
      setOwn(out, field, merge ? arrange(merged, order, live ?? [], mergeKey) : merged);
    }
    return handled;
  }

  /** Merges patch list `patch` into the live list `live` per the field's strategy. */
  private list(live: unknown[], patch: unknown[], path: readonly string[]): unknown[] {
    const { merge, mergeKey } = this.fieldMeta(path);
    if (!merge) return this.fresh(patch, path) as unknown[];
    if (live.length === 0 && patch.length === 0) return live;
    const kinds = new Set([...live, ...patch].map(kindOf));
    if (kinds.has('array')) throw new ApiError(422, 'Invalid', 'the server rejected our request due to an error in our request', {});
    if (kinds.size > 1) throw bad(`list element types are not identical: ${JSON.stringify(live)}, ${JSON.stringify(patch)}`);
    if (!kinds.has('object')) {
      const merged = [...live, ...patch].filter((v, i, all) => all.indexOf(v) === i);
      return arrange(merged, patch, live, undefined);
    }
    if (mergeKey === undefined) throw bad(`cannot merge lists without merge key for ${path.join('.')}`);
    let base = live;
    let replace = false;
    const items: JsonObject[] = [];
    for (const item of patch as JsonObject[]) {
      if (!this.isListDirective(item)) items.push(item);
      else if (item[PATCH] === 'replace') replace = true;
      else if (!Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
      else base = base.filter((x) => !sameKey(own(x, mergeKey), item[mergeKey]));
    }
    if (replace) return items.map((item) => this.map(undefined, item, path));
    const merged = [...base];
    for (const item of items) {
      if (!Object.hasOwn(item, mergeKey)) throw noMergeKey(item, mergeKey);
      const at = merged.findIndex((x) => sameKey(own(x, mergeKey), item[mergeKey]));
      if (at >= 0) merged[at] = this.map(merged[at] as JsonObject, item, path);
      else merged.push(this.map(undefined, item, path));
    }
    return arrange(merged, items, base, mergeKey);
  }
}

/**
 * kube's ordering of a merged list: items named in `order` sorted by it, the others (server-only) by
 * their live order, then interleaved — a server-only item goes before a patch item only when both are in
 * the live list and it was before it there.
 */
function arrange(merged: unknown[], order: readonly unknown[], live: readonly unknown[], mergeKey: string | undefined): unknown[] {
  const id = (x: unknown) => (mergeKey === undefined ? x : own(x, mergeKey));
  const position = (list: readonly unknown[], x: unknown) => list.findIndex((y) => sameKey(id(y), id(x)));
  const sortBy = (items: unknown[], list: readonly unknown[]) => {
    const rank = (x: unknown) => {
      const p = position(list, x);
      return p < 0 ? Infinity : p;
    };
    return items.map((x, i) => [x, rank(x), i] as const).sort((a, b) => a[1] - b[1] || a[2] - b[2]).map(([x]) => x);
  };
  const inOrder = (x: unknown) => position(order, x) >= 0;
  const fromPatch = sortBy(merged.filter(inOrder), order);
  const serverOnly = sortBy(merged.filter((x) => !inOrder(x)), live);
  const out: unknown[] = [];
  let i = 0;
  let j = 0;
  while (i < serverOnly.length || j < fromPatch.length) {
    const left = serverOnly[i];
    const right = fromPatch[j];
    const li = position(live, left);
    const ri = position(live, right);
    if (j >= fromPatch.length || (i < serverOnly.length && li >= 0 && ri >= 0 && li < ri)) {
      out.push(left);
      i++;
    } else {
      out.push(right);
      j++;
    }
  }
  return out;
}

/** The (non-directive) patch items must appear in `$setElementOrder` in the same relative order. */
function checkRelativeOrder(patch: readonly unknown[], order: readonly unknown[], mergeKey: string | undefined): void {
  const id = (x: unknown) => (mergeKey === undefined ? x : own(x, mergeKey));
  const items = patch.filter((x) => !(isPlainObject(x) && Object.hasOwn(x, PATCH)));
  if (mergeKey !== undefined) for (const item of items) if (own(item, mergeKey) === undefined) throw noMergeKey(item, mergeKey);
  let p = 0;
  for (const o of order) if (p < items.length && sameKey(id(items[p]), id(o))) p++;
  if (p < items.length) throw bad(`The order in patch list: ${JSON.stringify(patch)} doesn't match $setElementOrder list: ${JSON.stringify(order)}`);
}

// ---- patch metadata of the built-in kinds (from the patchStrategy/patchMergeKey tags of the API types) ----

interface SchemaNode {
  meta?: PatchMeta;
  fields?: Readonly<Record<string, SchemaNode>>;
}

const node = (fields: Record<string, SchemaNode>): SchemaNode => ({ fields });
const keyed = (mergeKey: string, fields?: Record<string, SchemaNode>, strategy = 'merge'): SchemaNode => ({ meta: { strategy, mergeKey }, ...(fields ? { fields } : {}) });
const scalarSet: SchemaNode = { meta: { strategy: 'merge' } };
const conditions = keyed('type');

const objectMeta = node({ finalizers: scalarSet, ownerReferences: keyed('uid') });
const container = { ports: keyed('containerPort'), env: keyed('name'), volumeMounts: keyed('mountPath'), volumeDevices: keyed('devicePath') };
const podSpec = node({
  volumes: keyed('name', undefined, 'merge,retainKeys'),
  initContainers: keyed('name', container),
  containers: keyed('name', container),
  ephemeralContainers: keyed('name', container),
  imagePullSecrets: keyed('name'),
  hostAliases: keyed('ip'),
  topologySpreadConstraints: keyed('topologyKey'),
  schedulingGates: keyed('name'),
  resourceClaims: keyed('name', undefined, 'merge,retainKeys'),
});
const podStatus = node({ conditions, podIPs: keyed('ip'), hostIPs: keyed('ip'), resourceClaimStatuses: keyed('name', undefined, 'merge,retainKeys') });
const podTemplate = node({ metadata: objectMeta, spec: podSpec });

const kind = (fields: Record<string, SchemaNode> = {}) => node({ metadata: objectMeta, ...fields });
const workload = (spec: Record<string, SchemaNode> = {}) => kind({ spec: node({ template: podTemplate, ...spec }), status: node({ conditions }) });

const BUILTIN: ReadonlyMap<string, SchemaNode> = new Map([
  ['v1/Pod', kind({ spec: podSpec, status: podStatus })],
  ['v1/Service', kind({ spec: node({ ports: keyed('port') }), status: node({ conditions }) })],
  ['v1/ConfigMap', kind()],
  ['v1/Secret', kind()],
  ['v1/ServiceAccount', kind({ secrets: keyed('name') })],
  ['v1/Namespace', kind({ status: node({ conditions }) })],
  ['v1/Node', kind({ spec: node({ podCIDRs: scalarSet }), status: node({ conditions, addresses: keyed('type') }) })],
  ['v1/Endpoints', kind()],
  ['v1/Event', kind()],
  ['apps/v1/Deployment', workload({ strategy: { meta: { strategy: 'retainKeys' } } })],
  ['apps/v1/StatefulSet', workload()],
  ['apps/v1/DaemonSet', workload()],
  ['apps/v1/ReplicaSet', workload()],
  ['batch/v1/Job', workload()],
  ['batch/v1/CronJob', kind({ spec: node({ jobTemplate: node({ metadata: objectMeta, spec: node({ template: podTemplate }) }) }) })],
  ['coordination.k8s.io/v1/Lease', kind()],
  ['events.k8s.io/v1/Event', kind()],
]);

/** Patch metadata for a built-in kind; unknown kinds get only ObjectMeta's (all their lists replace). */
export function builtinPatchSchema(apiVersion: string, kindName: string): PatchSchema {
  const root = BUILTIN.get(`${apiVersion}/${kindName}`) ?? kind();
  return {
    lookup(path) {
      let at: SchemaNode | undefined = root;
      for (const name of path) at = at?.fields && Object.hasOwn(at.fields, name) ? at.fields[name] : undefined;
      return at?.meta;
    },
  };
}
