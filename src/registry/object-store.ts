import { randomUUID } from 'node:crypto';
import type { KeyValue, Store } from '../../storage/types.js';
import { ConflictError, isStorageError } from '../../storage/errors.js';
import { deepClone, isPlainObject, timestamp } from '../api/object.js';
import { jsonEqual } from '../api/merge-patch.js';
import type { KubeObject } from '../api/object.js';
import { ApiError, cause, errors } from '../api/status.js';
import type { StatusCause, Target } from '../api/status.js';
import { generateName, validateName } from '../api/names.js';
import { recordUpdate } from '../api/managed-fields.js';
import { CacheHub } from '../watchcache/cache-hub.js';
import type { WatchCache } from '../watchcache/watch-cache.js';
import { EncodedNewObject, decodeObject, encodeObject, readAll } from './codec.js';
import { groupVersion, keyPrefix, objectKey } from './resource.js';
import type { ResourceDefinition } from './resource.js';
import { strategyFor } from './strategies/index.js';
import type { Strategy } from './strategies/index.js';

/** Who is writing, and how: what every mutating request carries down to the store. */
export interface WriteOptions {
  readonly dryRun?: boolean;
  /** managedFields manager; defaults to the client's user agent name. */
  readonly fieldManager?: string;
  /** Extra validation the caller runs on the final object (schema, admission); throws ApiError. */
  readonly admit?: (object: KubeObject, old: KubeObject | undefined) => void | Promise<void>;
  /** The object's managedFields were computed by the caller (server-side apply): keep them as given. */
  readonly keepManagedFields?: boolean;
}

export interface DeleteOptions extends WriteOptions {
  readonly propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  readonly preconditions?: { uid?: string; resourceVersion?: string };
  /** Admission of the delete itself (e.g. deletion protection); throws to deny. */
  readonly admitDelete?: (current: KubeObject) => void | Promise<void>;
}

export type DeleteOutcome = { readonly deleted: true; readonly object: KubeObject } | { readonly deleted: false; readonly object: KubeObject };

export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

const MAX_UPDATE_ATTEMPTS = 32;

/** Objects create() returned, with their JSON made from the stored text (see createdJson). */
const createdJsonOf = new WeakMap<KubeObject, string>();

/**
 * The JSON of an object ObjectStore.create just returned, as JSON.stringify would write it but made
 * from the stored encoding, so answering a create serializes the object once; undefined for any
 * other object. Ask before changing the object: the text is not updated.
 */
export function createdJson(object: KubeObject): string | undefined {
  return createdJsonOf.get(object);
}

/** What a write decides after reading the current object; `result` shapes what was stored. */
type Step<T> =
  | { readonly done: T }
  | { readonly put: KubeObject; readonly result: (stored: KubeObject) => T }
  | { readonly remove: KubeObject; readonly result: (stored: KubeObject) => T };
const GENERATE_NAME_ATTEMPTS = 8;

/**
 * Kubernetes object semantics over the Store, for any resource definition: server-filled metadata,
 * generateName, optimistic concurrency on resourceVersion, generation on spec changes, the status
 * subresource split, finalizers and deletionTimestamp, no-op writes that change nothing, dry run.
 * Reads that may be served from memory go through one WatchCache per resource.
 */
export class ObjectStore {
  readonly store: Store;
  private readonly hub: CacheHub;

  /** The namespaces' watch cache, once `watchNamespaces` has been called. */
  private namespaces: WatchCache | undefined;

  constructor(store: Store) {
    this.store = store;
    this.hub = new CacheHub(store);
  }

  /** Resolves once the caches follow the store (call before serving). */
  get ready(): Promise<void> {
    return this.hub.ready;
  }

  /** Lets creates check their namespace against the namespaces' watch cache instead of the store. */
  watchNamespaces(def: ResourceDefinition): void {
    this.namespaces = this.cache(def);
  }

  /** The store's current revision. */
  revision(): Promise<number> {
    return this.store.revision();
  }

  /**
   * Waits (at most `timeoutMs`) until every write committed so far has reached the watch caches —
   * e.g. so a CRD just written is served. With etcd shared under other key prefixes the store's
   * revision can move on keys this server never sees; then this simply times out.
   */
  async caughtUp(timeoutMs: number): Promise<void> {
    await this.hub.caughtUp(await this.store.revision(), timeoutMs);
  }

  /**
   * One page of a paginated or exact-revision list, read from the store at a pinned revision and
   * filled up to `limit` objects that pass `select`. Storage errors keep their codes.
   */
  async page(prefix: string, options: { limit: number; continue?: string; revision?: number; select: (object: KubeObject) => boolean }): Promise<{ objects: KubeObject[]; revision: number; continue?: string }> {
    const objects: KubeObject[] = [];
    let next = options.continue;
    let revision = 0;
    let first = true;
    do {
      const page = await this.store.list(prefix, {
        ...(options.limit > 0 ? { limit: options.limit - objects.length } : {}),
        ...(next !== undefined ? { continue: next } : {}),
        ...(first && options.revision !== undefined ? { revision: options.revision } : {}),
      });
      first = false;
      revision = page.revision;
      for (const kv of page.items) {
        const object = decodeObject(kv);
        if (options.select(object)) objects.push(object);
      }
      next = page.continue;
    } while (next !== undefined && options.limit > 0 && objects.length < options.limit);
    return next !== undefined ? { objects, revision, continue: next } : { objects, revision };
  }

  /** The watch cache of a resource (started on first use). */
  cache(def: ResourceDefinition): WatchCache {
    return this.hub.cache(keyPrefix(def));
  }

  /** Stops every cache and the storage watch behind them (shutdown). */
  stopCaches(): void {
    this.hub.stop();
  }

  /** Stops and forgets a resource's cache (when a CRD goes away). */
  dropCache(def: ResourceDefinition): void {
    this.hub.drop(keyPrefix(def));
  }

  /**
   * The objects under `prefix` as of at least `minRevision` (absent: the store's current revision,
   * a consistent read; 0: whatever the cache has). Served from the watch cache when it is provably
   * that fresh, else by one consistent read of the store.
   */
  async snapshot(def: ResourceDefinition, prefix: string, minRevision?: number): Promise<{ objects: KubeObject[]; revision: number; json?: (object: KubeObject) => string }> {
    const cache = this.cache(def);
    await cache.ready;
    const target = minRevision ?? (await this.store.revision());
    // The hub delivers changes moments after they commit; wait briefly rather than read the store.
    if (cache.revision >= target || (await this.hub.caughtUp(target, 25))) return { ...cache.snapshot(prefix), json: (object) => cache.json(object) };
    const { entries, revision } = await readAll(this.store, prefix);
    if (revision < target) throw errors.timeout(`Too large resource version: ${target}, current: ${revision}`, 1);
    return { objects: entries.map(([, object]) => object), revision };
  }

  async get(def: ResourceDefinition, namespace: string | undefined, name: string): Promise<KubeObject> {
    const kv = await this.store.get(objectKey(def, namespace, name));
    if (!kv) throw errors.notFound(target(def, name));
    return decodeObject(kv);
  }

  /** Creates an object; takes ownership of `object` (callers pass a freshly decoded body). */
  async create(def: ResourceDefinition, namespace: string | undefined, object: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    const strategy = strategyFor(def.group, def.kind);
    object.apiVersion = groupVersion(def.group, def.versions[0] as string);
    object.kind = def.kind;
    object.metadata = isPlainObject(object.metadata) ? object.metadata : {};
    const meta = object.metadata;
    if (def.namespaced) {
      if (meta.namespace && namespace && meta.namespace !== namespace) {
        throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      const resolved = namespace ?? meta.namespace;
      if (!resolved) throw errors.badRequest('a namespace must be specified for a namespaced resource');
      meta.namespace = resolved;
      const reading = this.checkNamespaceAcceptsContent(resolved, def, meta.name);
      if (reading) await reading;
    } else {
      delete meta.namespace;
    }
    if (!meta.name && !meta.generateName) {
      throw errors.invalid(def.kind, def.group, '', [cause.required('metadata.name', 'name or generateName is required')]);
    }
    meta.uid = randomUUID();
    meta.creationTimestamp = timestamp();
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta['selfLink'];
    if (def.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (def.statusSubresource && !strategy.prepareForCreate) delete object['status'];
    strategy.prepareForCreate?.(object);

    const explicitName = meta.name;
    for (let attempt = 0; ; attempt++) {
      if (!explicitName) meta.name = generateName(meta.generateName as string);
      strategy.defaults?.(object);
      const failures = [...validateName(meta.name as string, strategy.nameRule ?? 'subdomain'), ...validateMeta(object), ...(strategy.validate?.(object, undefined) ?? [])];
      if (failures.length > 0) throw errors.invalid(def.kind, def.group, meta.name ?? '', failures);
      await options.admit?.(object, undefined);
      if (!options.keepManagedFields) meta.managedFields = recordUpdate(object, undefined, options.fieldManager ?? 'unknown', object.apiVersion);
      if (options.dryRun) {
        // Nothing is stored: the would-be object, without a resourceVersion.
        return object;
      }
      try {
        const encoded = new EncodedNewObject(object);
        const { revision } = await this.store.create(objectKey(def, meta.namespace, meta.name as string), encoded.bytes);
        const stored: KubeObject = { ...object, metadata: { ...meta, resourceVersion: String(revision) } };
        createdJsonOf.set(stored, encoded.withResourceVersion(String(revision)));
        return stored;
      } catch (err) {
        if (!isStorageError(err, 'AlreadyExists')) throw mapStorageError(err, def, meta.name);
        if (explicitName || attempt + 1 >= GENERATE_NAME_ATTEMPTS) throw errors.alreadyExists(target(def, meta.name));
      }
    }
  }

  /**
   * PUT: replaces the object (or, for `subresource: "status"`, only its status). A resourceVersion in
   * the body must match (409 otherwise); none means "whatever is current".
   */
  async update(def: ResourceDefinition, namespace: string | undefined, name: string, body: KubeObject, options: WriteOptions & { subresource?: string } = {}): Promise<KubeObject> {
    if (!isPlainObject(body.metadata)) body.metadata = {};
    if (body.metadata.name !== undefined && body.metadata.name !== name) {
      throw errors.badRequest(`the name of the object (${body.metadata.name}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced && body.metadata.namespace && body.metadata.namespace !== namespace) {
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const expected = body.metadata.resourceVersion;
    // The body replaces the object: `current` is only compared, so it needs no copy of its own; the
    // body is the request's own (nothing else holds it), so it needs none either — on a lost race
    // the merge simply runs over it again, every server-owned field taken afresh from the winner.
    return this.updateFrom(def, namespace, name, (current) => {
      if (expected && expected !== current.metadata.resourceVersion) throw errors.conflict(target(def, name));
      return body;
    }, options, false);
  }

  /**
   * Read-modify-write with optimistic concurrency: `mutate` gets the current object and returns the
   * desired one; on a lost race it runs again against the newer object.
   */
  async guaranteedUpdate(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    mutate: (current: KubeObject) => KubeObject | Promise<KubeObject>,
    options: WriteOptions & { subresource?: string } = {},
  ): Promise<KubeObject> {
    return this.updateFrom(def, namespace, name, (current) => mutate(deepClone(current)), options);
  }

  /**
   * guaranteedUpdate for a `desiredOf` that leaves `current` as it is (it only reads it). What it
   * returns is copied (it may share parts with `current`), unless `copyDesired` is false: the
   * caller's object is then merged into in place.
   */
  private async updateFrom(
    def: ResourceDefinition,
    namespace: string | undefined,
    name: string,
    desiredOf: (current: KubeObject) => KubeObject | Promise<KubeObject>,
    options: WriteOptions & { subresource?: string },
    copyDesired = true,
  ): Promise<KubeObject> {
    const strategy = strategyFor(def.group, def.kind);
    return this.compareAndSwap(def, namespace, name, async (current): Promise<Step<KubeObject>> => {
      const wanted = await desiredOf(current);
      const desired = copyDesired ? deepClone(wanted) : wanted;
      const next = this.merge(def, strategy, current, desired, options.subresource);
      if (options.keepManagedFields) next.metadata.managedFields = desired.metadata.managedFields ?? [];
      const failures = [...validateMeta(next), ...(strategy.validate?.(next, current) ?? [])];
      if (current.metadata.deletionTimestamp) {
        const added = (next.metadata.finalizers ?? []).filter((f) => !(current.metadata.finalizers ?? []).includes(f));
        if (added.length > 0) failures.push(cause.forbidden('metadata.finalizers', `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`));
      }
      if (failures.length > 0) throw errors.invalid(def.kind, def.group, name, failures);
      await options.admit?.(next, current);
      // After admission, which may default the spec back to what is stored: only real spec changes count.
      if (def.tracksGeneration && !jsonEqual(desiredState(def, next), desiredState(def, current))) next.metadata.generation = (current.metadata.generation ?? 1) + 1;

      if (unchanged(current, next)) return { done: current }; // a no-op write: same resourceVersion, no event
      if (!options.keepManagedFields) {
        next.metadata.managedFields = recordUpdate(next, current, options.fieldManager ?? 'unknown', next.apiVersion as string, options.subresource);
      }
      if (options.dryRun) return { done: next };
      // The last finalizer of an object being deleted is gone: the object goes with it.
      if (next.metadata.deletionTimestamp && blockers(strategy, next).length === 0) return { remove: next, result: (stored) => stored };
      return { put: next, result: (stored) => stored };
    });
  }

  async delete(def: ResourceDefinition, namespace: string | undefined, name: string, options: DeleteOptions = {}): Promise<DeleteOutcome> {
    const strategy = strategyFor(def.group, def.kind);
    return this.compareAndSwap(def, namespace, name, async (current): Promise<Step<DeleteOutcome>> => {
      const { uid, resourceVersion } = options.preconditions ?? {};
      if (uid && uid !== current.metadata.uid) {
        throw errors.conflict(target(def, name), `Precondition failed: UID in precondition: ${uid}, UID in object meta: ${current.metadata.uid ?? ''}`);
      }
      if (resourceVersion && resourceVersion !== current.metadata.resourceVersion) {
        throw errors.conflict(target(def, name), `Precondition failed: ResourceVersion in precondition: ${resourceVersion}, ResourceVersion in object meta: ${current.metadata.resourceVersion ?? ''}`);
      }
      await options.admitDelete?.(current);
      const next = deepClone(current);
      const finalizers = new Set(next.metadata.finalizers ?? []);
      if (options.propagationPolicy === 'Orphan') finalizers.add(ORPHAN_FINALIZER);
      if (options.propagationPolicy === 'Foreground') finalizers.add(FOREGROUND_FINALIZER);
      if (finalizers.size > 0) next.metadata.finalizers = [...finalizers];

      if (blockers(strategy, next).length === 0) {
        if (options.dryRun) return { done: { deleted: true, object: current } };
        return { remove: current, result: (stored) => ({ deleted: true, object: stored }) };
      }
      // Graceful: mark it; whoever owns the finalizers finishes the job.
      if (!next.metadata.deletionTimestamp) {
        next.metadata.deletionTimestamp = timestamp();
        next.metadata.deletionGracePeriodSeconds = 0;
        if (def.tracksGeneration) next.metadata.generation = (next.metadata.generation ?? 0) + 1;
        strategy.beginDeletion?.(next);
      }
      if (jsonEqual(next, current)) return { done: { deleted: false, object: current } };
      if (options.dryRun) return { done: { deleted: false, object: next } };
      return { put: next, result: (stored) => ({ deleted: false, object: stored }) };
    });
  }

  /**
   * Optimistic concurrency for every write to an existing object: read it, let `step` decide
   * (nothing to write, an update, or a delete), write it only if the object has not moved since —
   * and on a lost race run `step` again against the object that won.
   */
  private async compareAndSwap<T>(def: ResourceDefinition, namespace: string | undefined, name: string, step: (current: KubeObject) => Promise<Step<T>>): Promise<T> {
    const key = objectKey(def, namespace, name);
    let kv = await this.store.get(key);
    for (let attempt = 0; attempt < MAX_UPDATE_ATTEMPTS; attempt++) {
      if (!kv) throw errors.notFound(target(def, name));
      const decision = await step(this.currentOf(def, key, kv));
      if ('done' in decision) return decision.done;
      const object = 'put' in decision ? decision.put : decision.remove;
      try {
        const { revision } = 'put' in decision ? await this.store.update(key, encodeObject(decision.put), kv.modRevision) : await this.store.delete(key, kv.modRevision);
        return decision.result({ ...object, metadata: { ...object.metadata, resourceVersion: String(revision) } });
      } catch (err) {
        kv = this.retryAfter(err, def, name);
      }
    }
    throw errors.conflict(target(def, name), 'too many concurrent updates; please try again');
  }

  /**
   * The stored object `kv` holds, decoded — or copied from the watch cache when the cache holds that
   * very revision (a copy costs a fraction of parsing the JSON again).
   */
  private currentOf(def: ResourceDefinition, key: string, kv: KeyValue): KubeObject {
    const cached = this.hub.existing(keyPrefix(def))?.get(key);
    if (cached !== undefined && cached.metadata.resourceVersion === String(kv.modRevision)) return deepClone(cached);
    return decodeObject(kv);
  }

  /** Combines the stored object with the client's desired one the way kube's update strategies do. */
  private merge(def: ResourceDefinition, strategy: Strategy, current: KubeObject, desired: KubeObject, subresource?: string): KubeObject {
    let next: KubeObject;
    if (subresource === 'status') {
      // /status writes change only .status — and, for kinds that say so, the metadata (but labels).
      next = { ...deepClone(current), status: desired['status'] };
      if (strategy.statusWriteAlsoSets !== undefined && isPlainObject(desired.metadata)) {
        next.metadata = { ...desired.metadata };
        if (strategy.statusWriteAlsoSets === 'metadata-but-labels') {
          if (current.metadata.labels === undefined) delete next.metadata.labels;
          else next.metadata.labels = current.metadata.labels;
        }
      }
    } else if (subresource === 'finalize') {
      // /finalize (namespaces) writes change only spec.finalizers.
      const spec = isPlainObject(desired['spec']) ? desired['spec'] : {};
      next = { ...deepClone(current), spec: { ...(isPlainObject(current['spec']) ? current['spec'] : {}), finalizers: spec['finalizers'] ?? [] } };
    } else {
      next = desired;
      if (!isPlainObject(next.metadata)) next.metadata = {};
      if (def.statusSubresource) {
        if (current['status'] === undefined) delete next['status'];
        else next['status'] = current['status'];
      }
      strategy.prepareForUpdate?.(next, current);
      strategy.defaults?.(next);
    }
    next.apiVersion = current.apiVersion as string;
    next.kind = current.kind as string;
    const meta = next.metadata;
    // Fields the server owns.
    meta.name = current.metadata.name as string;
    if (def.namespaced) meta.namespace = current.metadata.namespace as string;
    else delete meta.namespace;
    meta.uid = current.metadata.uid as string;
    meta.creationTimestamp = current.metadata.creationTimestamp as string;
    meta.resourceVersion = current.metadata.resourceVersion as string;
    if (current.metadata.deletionTimestamp) {
      meta.deletionTimestamp = current.metadata.deletionTimestamp;
      meta.deletionGracePeriodSeconds = current.metadata.deletionGracePeriodSeconds ?? 0;
    } else {
      delete meta.deletionTimestamp;
      delete meta.deletionGracePeriodSeconds;
    }
    delete meta.generateName;
    if (current.metadata.generateName) meta.generateName = current.metadata.generateName;
    meta.managedFields = current.metadata.managedFields ?? [];
    if (def.tracksGeneration) meta.generation = current.metadata.generation ?? 1;
    return next;
  }

  /** After a lost compare-and-swap: the value that won (retry against it), or undefined if the object is gone. */
  private retryAfter(err: unknown, def: ResourceDefinition, name: string) {
    if (err instanceof ConflictError) return err.current;
    if (isStorageError(err, 'NotFound')) return undefined;
    throw mapStorageError(err, def, name);
  }

  /**
   * Namespaced objects need their namespace, and a terminating namespace takes nothing new. The
   * namespaces cache answers almost always, synchronously; a namespace it has not seen yet (created
   * a moment ago) is read from the store, and then the check is the promise returned.
   */
  private checkNamespaceAcceptsContent(namespace: string, def: ResourceDefinition, name: string | undefined): Promise<void> | undefined {
    const key = `/registry/core/namespaces/${namespace}`;
    const cached = this.namespaces?.get(key);
    if (cached) {
      acceptsContent(cached, namespace, def, name);
      return undefined;
    }
    return this.store.get(key).then((kv) => {
      if (!kv) throw errors.notFound({ resource: 'namespaces', group: '', name: namespace });
      acceptsContent(decodeObject(kv), namespace, def, name);
    });
  }
}

/** Throws when the namespace is terminating: it takes no new content. */
function acceptsContent(ns: KubeObject, namespace: string, def: ResourceDefinition, name: string | undefined): void {
  if (ns.metadata.deletionTimestamp) {
    throw errors.forbidden(`${def.plural}${def.group ? `.${def.group}` : ''} "${name ?? ''}" is forbidden: unable to create new content in namespace ${namespace} because it is being terminated`, target(def, name));
  }
}

function target(def: ResourceDefinition, name: string | undefined): Target {
  return { resource: def.plural, group: def.group, ...(name !== undefined ? { name } : {}) };
}

/** What blocks deletion: metadata.finalizers plus a kind's own (a Namespace's spec.finalizers). */
function blockers(strategy: Strategy, object: KubeObject): string[] {
  return [...(object.metadata.finalizers ?? []), ...(strategy.extraFinalizers?.(object) ?? [])];
}

/** The part of an object whose change bumps generation: everything but metadata and status. */
function desiredState(def: ResourceDefinition, object: KubeObject): unknown {
  const { metadata: _m, status, apiVersion: _a, kind: _k, ...rest } = object;
  return def.statusSubresource ? rest : { ...rest, status };
}

/** A write that would change nothing but bookkeeping is skipped. */
function unchanged(current: KubeObject, next: KubeObject): boolean {
  const strip = (o: KubeObject) => ({ ...o, metadata: { ...o.metadata, managedFields: undefined, resourceVersion: undefined } });
  return jsonEqual(strip(current), strip(next));
}

function validateMeta(object: KubeObject): StatusCause[] {
  const failures: StatusCause[] = [];
  const meta = object.metadata;
  for (const field of ['labels', 'annotations'] as const) {
    const map = meta[field];
    if (map === undefined) continue;
    if (!isPlainObject(map)) {
      failures.push(cause.typeInvalid(`metadata.${field}`, map, 'must be a map of string keys to string values'));
      continue;
    }
    for (const [key, value] of Object.entries(map)) {
      if (typeof value !== 'string') failures.push(cause.typeInvalid(`metadata.${field}.${key}`, value, 'must be a string'));
    }
  }
  if (meta.finalizers !== undefined && (!Array.isArray(meta.finalizers) || meta.finalizers.some((f) => typeof f !== 'string'))) {
    failures.push(cause.typeInvalid('metadata.finalizers', meta.finalizers, 'must be a list of strings'));
  }
  return failures;
}

/** Storage failures that reach a request become the matching Status. */
export function mapStorageError(err: unknown, def: ResourceDefinition, name: string | undefined): Error {
  if (err instanceof ApiError) return err;
  if (isStorageError(err)) {
    switch (err.code) {
      case 'NotFound':
        return errors.notFound(target(def, name));
      case 'AlreadyExists':
        return errors.alreadyExists(target(def, name));
      case 'Conflict':
        return errors.conflict(target(def, name));
      case 'Gone':
        return errors.expired(err.message);
      case 'FutureRevision':
        return errors.timeout(`Too large resource version: ${err.message}`, 1);
      case 'InvalidArgument':
        return errors.badRequest(err.message);
      case 'Unavailable':
        return errors.unavailable(`storage is unavailable: ${err.message}`);
    }
  }
  return err instanceof Error ? err : new Error(String(err));
}
