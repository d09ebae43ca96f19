import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { ApiError, errors } from '../api/status.js';
import type { Status } from '../api/status.js';
import { parseLabelSelector } from '../api/label-selector.js';
import type { LabelSelector } from '../api/label-selector.js';
import { parseFieldSelector } from '../api/field-selector.js';
import type { FieldSelector } from '../api/field-selector.js';
import { applyJsonPatch } from '../api/json-patch.js';
import { applyMergePatch } from '../api/merge-patch.js';
import { applyStrategicMergePatch, builtinPatchSchema } from '../api/strategic-merge-patch.js';
import { serverSideApply } from '../api/server-side-apply.js';
import { formatLabelSelector, labelSelectorFromObject } from '../api/label-selector.js';
import type { ObjectStore, WriteOptions } from '../registry/object-store.js';
import { createdJson, mapStorageError } from '../registry/object-store.js';
import { isStorageError } from '../../storage/errors.js';
import type { ResourceRegistry } from '../registry/registry.js';
import { groupVersion, keyPrefix } from '../registry/resource.js';
import type { ResourceDefinition } from '../registry/resource.js';
import { versionView } from '../registry/versions.js';
import type { VersionView } from '../registry/versions.js';
import { printerFor } from './table/printers.js';
import { buildTable } from './table/table.js';
import type { ResourceRequestInfo } from './request-info.js';
import { negotiate } from './negotiation.js';
import type { ResponseForm } from './negotiation.js';
import { readDeleteOptions, readObject, readPatch } from './body.js';
import { subresourcesOf } from './discovery.js';
import type { Admission } from './admission.js';

/** The answer to a resource request: a status code, a body, and optional headers/warnings. */
export interface ApiResponse {
  readonly code: number;
  readonly body: unknown;
  readonly contentType?: string;
  readonly warnings?: readonly string[];
  /** The body was made for this answer alone (a write's result): nothing else holds any part of it. */
  readonly fresh?: boolean;
}

export interface ResourceRequest {
  readonly info: ResourceRequestInfo;
  readonly query: URLSearchParams;
  readonly body: unknown;
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly userAgent: string | undefined;
}

export interface ResourceContext {
  readonly registry: ResourceRegistry;
  readonly objects: ObjectStore;
  readonly admission: Admission;
  /** Connect subresources (a cluster's proxy) by "group/plural/subresource". */
  readonly connect?: Readonly<Record<string, ConnectHandler>>;
  /** Create-only kinds answered without storing anything (like kube's TokenReview), by "group/plural". */
  readonly reviews?: Readonly<Record<string, ReviewHandler>>;
}

/** A review kind: the posted object in, the object with its status out (201, nothing stored). */
export type ReviewHandler = (object: KubeObject, ctx: ResourceContext) => Promise<KubeObject>;

/** A connect subresource: gets the parent object and the request (any method, any rest of path). */
export type ConnectHandler = (object: KubeObject, req: ResourceRequest) => Promise<ApiResponse>;

const notFoundResource = (): ApiError => new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});

/** Resolves the definition and checks the request's shape (scope, subresource, verb). */
export function resolve(ctx: ResourceContext, info: ResourceRequestInfo): ResourceDefinition {
  const def = ctx.registry.find(info.group, info.version, info.resource);
  if (!def) throw notFoundResource();
  if (info.subresource !== undefined && !subresourcesOf(def).includes(info.subresource)) throw notFoundResource();
  if (!def.namespaced && info.namespace !== undefined && def.plural !== 'namespaces') throw notFoundResource();
  // A namespaced resource is reached across all namespaces only to list or watch it.
  if (def.namespaced && info.namespace === undefined && info.verb !== 'list' && info.verb !== 'watch') throw notFoundResource();
  // POST names no object; PUT and PATCH name one (kube answers 405 for the other shapes).
  if ((info.verb === 'create' && info.name !== undefined && info.subresource === undefined) || ((info.verb === 'update' || info.verb === 'patch') && info.name === undefined)) {
    throw errors.methodNotAllowed('the server does not allow this method on the requested resource');
  }
  if (info.subresource === undefined && !def.verbs.includes(info.verb)) {
    throw errors.methodNotAllowed(`the server does not allow this method on the requested resource`);
  }
  return def;
}

const namespaceOf = (def: ResourceDefinition, info: ResourceRequestInfo): string | undefined => (def.namespaced ? info.namespace : undefined);

/** The write's field manager: ?fieldManager=, else the client's user agent name (as kube does). */
function fieldManagerOf(req: ResourceRequest): string {
  const fieldManager = req.query.get('fieldManager') ?? (req.userAgent ?? 'unknown').split('/')[0] ?? 'unknown';
  if (fieldManager.length > 128) throw errors.badRequest('fieldManager must not be longer than 128 characters');
  return fieldManager;
}

type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

/** Query parameters every write shares. */
function writeOptions(ctx: ResourceContext, def: ResourceDefinition, req: ResourceRequest, warnings: string[]): WriteOptions & { fieldValidation: FieldValidation } {
  const dryRun = req.query.getAll('dryRun');
  for (const value of dryRun) if (value !== 'All') throw errors.badRequest(`unsupported dry run value "${value}": only "All" is supported`);
  const fieldValidation = req.query.get('fieldValidation') ?? 'Warn';
  if (!['Strict', 'Warn', 'Ignore'].includes(fieldValidation)) {
    throw errors.badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got "${fieldValidation}"`);
  }
  const fieldManager = fieldManagerOf(req);
  return {
    dryRun: dryRun.length > 0,
    fieldManager,
    fieldValidation: fieldValidation as FieldValidation,
    admit: (object, old) => ctx.admission.admit(def, object, old, { fieldValidation: fieldValidation as FieldValidation, warnings }),
  };
}

/**
 * An object written at a non-storage version, converted for storage. Unknown fields are judged
 * against that version's schema first (conversion keeps only the fields it knows).
 */
function intoStorage(ctx: ResourceContext, view: VersionView, object: KubeObject, current: KubeObject | undefined, fieldValidation: FieldValidation, warnings: string[]): KubeObject {
  if (view.isStorage) return object;
  if (view.schemaRef !== undefined) ctx.admission.checkFields(view.schemaRef, object, { fieldValidation, warnings });
  return view.in(object, current);
}

export async function handleResource(ctx: ResourceContext, req: ResourceRequest): Promise<ApiResponse> {
  const { info } = req;
  const def = resolve(ctx, info);
  const namespace = namespaceOf(def, info);
  const view = versionView(def, info.version);
  const warnings: string[] = [];
  try {
    const connect = info.subresource !== undefined ? ctx.connect?.[`${def.group}/${def.plural}/${info.subresource}`] : undefined;
    if (connect) return await connect(await ctx.objects.get(def, namespace, info.name as string), req);
    switch (info.verb) {
      case 'get':
        return await getOne(ctx, def, view, req, namespace);
      case 'list':
        return await list(ctx, def, view, req, namespace);
      case 'create': {
        const body = readObject(req.body, req.contentType);
        checkKind(def, body);
        const review = ctx.reviews?.[`${def.group}/${def.plural}`];
        if (review) return { code: 201, body: await review(body, ctx), warnings };
        const options = writeOptions(ctx, def, req, warnings);
        const object = await ctx.objects.create(def, namespace, intoStorage(ctx, view, body, undefined, options.fieldValidation, warnings), options);
        // At the storage version the answer is the stored JSON plus its resourceVersion, not a second serialization.
        return { code: 201, body: (view.isStorage ? createdJson(object) : undefined) ?? view.out(object), warnings };
      }
      case 'update':
        return { code: 200, body: await update(ctx, def, view, req, namespace, warnings), warnings, fresh: true };
      case 'patch': {
        const { object, created } = await patch(ctx, def, view, req, namespace, warnings);
        return { code: created ? 201 : 200, body: object, warnings, fresh: true };
      }
      case 'delete':
        return await deleteOne(ctx, def, view, req, namespace, warnings);
      case 'deletecollection':
        return await deleteCollection(ctx, def, view, req, namespace, warnings);
      case 'watch':
        throw new Error('watch is served by the watch endpoint');
    }
  } catch (err) {
    throw mapStorageError(err, def, info.name);
  }
}

async function getOne(ctx: ResourceContext, def: ResourceDefinition, view: VersionView, req: ResourceRequest, namespace: string | undefined): Promise<ApiResponse> {
  const object = await ctx.objects.get(def, namespace, req.info.name as string);
  if (req.info.subresource === 'scale') return { code: 200, body: toScale(def, object) };
  return render(def, view, negotiate(req.accept, false), [view.out(object)], object.metadata.resourceVersion ?? '', undefined, req.query, false);
}

export interface Selection {
  readonly labels: LabelSelector;
  readonly fields: FieldSelector;
}

/** label + field selectors of a list or watch (400 on syntax errors or unknown fields). */
export function selection(def: ResourceDefinition, query: URLSearchParams): Selection {
  const known = new Set(['metadata.name', 'metadata.namespace', ...Object.keys(def.fieldSelectors ?? {})]);
  return { labels: parseLabelSelector(query.get('labelSelector') ?? ''), fields: parseFieldSelector(query.get('fieldSelector') ?? '', known) };
}

export function selects(def: ResourceDefinition, sel: Selection, object: KubeObject): boolean {
  if (!sel.labels.matches(object.metadata.labels)) return false;
  return sel.fields.matches((field) => {
    if (field === 'metadata.name') return object.metadata.name;
    if (field === 'metadata.namespace') return object.metadata.namespace ?? '';
    return def.fieldSelectors?.[field]?.(object);
  });
}

async function list(ctx: ResourceContext, def: ResourceDefinition, view: VersionView, req: ResourceRequest, namespace: string | undefined): Promise<ApiResponse> {
  const q = req.query;
  const sel = selection(def, q);
  const resourceVersion = q.get('resourceVersion') ?? undefined;
  const match = q.get('resourceVersionMatch') ?? undefined;
  const token = q.get('continue') ?? undefined;
  const rawLimit = q.has('limit') ? Number(q.get('limit')) : 0;
  if (!Number.isSafeInteger(rawLimit)) throw errors.badRequest(`invalid limit "${q.get('limit') ?? ''}"`);
  const limit = Math.max(0, rawLimit); // kube pages only when limit > 0
  if (q.get('sendInitialEvents') !== null) throw invalidListParam('sendInitialEvents', 'sendInitialEvents is forbidden for list');
  if (match !== undefined) {
    if (resourceVersion === undefined) throw invalidListParam('resourceVersionMatch', 'resourceVersionMatch is forbidden unless resourceVersion is provided');
    if (token !== undefined) throw invalidListParam('resourceVersionMatch', 'resourceVersionMatch is forbidden when continue is provided');
    if (match !== 'Exact' && match !== 'NotOlderThan') throw invalidListParam('resourceVersionMatch', `"${match}": supported values: "Exact", "NotOlderThan"`);
    if (match === 'Exact' && resourceVersion === '0') throw invalidListParam('resourceVersionMatch', 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"');
  }
  const rv = parseResourceVersion(resourceVersion);
  const prefix = namespace !== undefined ? `${keyPrefix(def)}${namespace}/` : keyPrefix(def);
  const form = negotiate(req.accept, true);

  // Paginated and exact reads come from the store at a pinned revision; everything else from the cache.
  if (token !== undefined || match === 'Exact' || (limit > 0 && resourceVersion !== '0')) {
    const page = await ctx.objects.page(prefix, {
      limit,
      ...(token !== undefined ? { continue: token } : {}),
      ...(match === 'Exact' && rv !== undefined ? { revision: rv } : {}),
      select: (object) => selects(def, sel, object),
    }).catch((err: unknown) => {
      throw continueError(err, token);
    });
    return render(def, view, form, page.objects.map(view.out), String(page.revision), page.continue, req.query, true);
  }
  // resourceVersion "0": any cached state; N: not older than N; unset: a consistent (current) read.
  const snapshot = await ctx.objects.snapshot(def, prefix, resourceVersion === '0' ? 0 : rv);
  const items = snapshot.objects.filter((object) => selects(def, sel, object));
  if (form.as === 'Object' && snapshot.json && view.isStorage) {
    // From the cache: each object's JSON is made once, so the list is concatenated, not re-serialized.
    const head = JSON.stringify({ kind: `${def.kind}List`, apiVersion: view.apiVersion, metadata: { resourceVersion: String(snapshot.revision) } });
    return { code: 200, body: `${head.slice(0, -1)},"items":[${items.map(snapshot.json).join(',')}]}` };
  }
  return render(def, view, form, items.map(view.out), String(snapshot.revision), undefined, req.query, true);
}

function invalidListParam(field: string, message: string): ApiError {
  return errors.invalid('ListOptions', 'meta.k8s.io', '', [{ reason: 'FieldValueForbidden', field, message: `Forbidden: ${message}` }]);
}

export function parseResourceVersion(value: string | undefined): number | undefined {
  if (value === undefined || value === '') return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0 || !/^\d+$/.test(value)) throw errors.badRequest(`invalid resource version "${value}"`);
  return n;
}

/** Storage failures of a paged list, worded as kube words them for continue tokens. */
function continueError(err: unknown, token: string | undefined): unknown {
  if (!isStorageError(err)) return err;
  if (err.code === 'Gone' && token !== undefined) {
    return errors.expired('The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.');
  }
  if (err.code === 'InvalidArgument' && token !== undefined) return errors.badRequest(`continue key is not valid: ${err.message}`);
  if (err.code === 'Gone') return errors.expired(`too old resource version: ${err.message}`);
  return err;
}

/** Shapes objects as the client asked: the object/List, a Table, or PartialObjectMetadata[List]. */
function render(def: ResourceDefinition, view: VersionView, form: ResponseForm, objects: KubeObject[], resourceVersion: string, continueToken: string | undefined, query: URLSearchParams, isList: boolean): ApiResponse {
  const apiVersion = view.apiVersion;
  if (form.as === 'Table') {
    const includeObject = (query.get('includeObject') ?? 'Metadata') as 'None' | 'Object' | 'Metadata';
    if (!['None', 'Object', 'Metadata'].includes(includeObject)) throw errors.badRequest(`includeObject must be None, Object or Metadata`);
    const table = buildTable(printerFor(def), objects, { includeObject, resourceVersion, ...(continueToken !== undefined ? { continue: continueToken } : {}) });
    return { code: 200, body: table, contentType: form.contentType };
  }
  if (form.as === 'PartialObjectMetadata' || form.as === 'PartialObjectMetadataList') {
    const partial = (o: KubeObject) => ({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata });
    const body = isList
      ? { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: { resourceVersion, ...(continueToken ? { continue: continueToken } : {}) }, items: objects.map(partial) }
      : partial(objects[0] as KubeObject);
    return { code: 200, body, contentType: form.contentType };
  }
  if (!isList) return { code: 200, body: objects[0] };
  return { code: 200, body: { kind: `${def.kind}List`, apiVersion, metadata: { resourceVersion, ...(continueToken ? { continue: continueToken } : {}) }, items: objects } };
}

async function update(ctx: ResourceContext, def: ResourceDefinition, view: VersionView, req: ResourceRequest, namespace: string | undefined, warnings: string[]): Promise<KubeObject> {
  const name = req.info.name as string;
  const options = writeOptions(ctx, def, req, warnings);
  const body = readObject(req.body, req.contentType);
  if (!view.isStorage && req.info.subresource !== 'scale' && req.info.subresource !== 'finalize') {
    // The stored object completes what this version cannot express, so convert against it.
    checkKind(def, body);
    const expected = isPlainObject(body.metadata) ? body.metadata.resourceVersion : undefined;
    const updated = await ctx.objects.guaranteedUpdate(def, namespace, name, (current) => {
      if (expected && expected !== current.metadata.resourceVersion) throw errors.conflict({ resource: def.plural, group: def.group, name });
      const converted = intoStorage(ctx, view, body, current, options.fieldValidation, warnings);
      if (converted.metadata.name !== undefined && converted.metadata.name !== name) {
        throw errors.badRequest(`the name of the object (${String(converted.metadata.name)}) does not match the name on the URL (${name})`);
      }
      return converted;
    }, { ...options, ...(req.info.subresource ? { subresource: req.info.subresource } : {}) });
    return view.out(updated);
  }
  if (req.info.subresource === 'scale') return toScale(def, await updateScale(ctx, def, namespace, name, () => body, options));
  if (req.info.subresource === 'finalize') {
    return ctx.objects.guaranteedUpdate(def, namespace, name, (current) => withFinalizers(current, body), { ...options, subresource: 'finalize' });
  }
  checkKind(def, body);
  return ctx.objects.update(def, namespace, name, body, { ...options, ...(req.info.subresource ? { subresource: req.info.subresource } : {}) });
}

function withFinalizers(current: KubeObject, body: KubeObject): KubeObject {
  const spec = isPlainObject(body['spec']) ? body['spec'] : {};
  return { ...current, spec: { ...(isPlainObject(current['spec']) ? current['spec'] : {}), finalizers: spec['finalizers'] ?? [] } };
}

/** The body's apiVersion/kind, when given, must be this resource's. */
function checkKind(def: ResourceDefinition, body: KubeObject): void {
  if (body.kind !== undefined && body.kind !== def.kind) {
    throw errors.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (${def.kind})`);
  }
  if (body.apiVersion !== undefined && !def.versions.some((v) => groupVersion(def.group, v) === body.apiVersion)) {
    throw errors.badRequest(`the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${groupVersion(def.group, def.versions[0] as string)})`);
  }
}

async function patch(ctx: ResourceContext, def: ResourceDefinition, view: VersionView, req: ResourceRequest, namespace: string | undefined, warnings: string[]): Promise<{ object: KubeObject; created: boolean }> {
  const name = req.info.name as string;
  const { type, patch: document } = readPatch(req.body, req.contentType);
  if (type === 'application/apply-patch+yaml') return apply(ctx, def, view, req, namespace, document, warnings);
  if (type === 'application/strategic-merge-patch+json' && !def.strategicMerge) {
    throw errors.unsupportedMediaType(type, ['application/json-patch+json', 'application/merge-patch+json', 'application/apply-patch+yaml']);
  }
  if (type !== 'application/json-patch+json' && !isPlainObject(document)) throw errors.badRequest('a merge patch must be a JSON object');
  const applyPatch = (current: unknown): KubeObject => {
    const patched =
      type === 'application/json-patch+json'
        ? applyJsonPatch(current, document)
        : type === 'application/merge-patch+json'
          ? applyMergePatch(current, document)
          : applyStrategicMergePatch(current, document, builtinPatchSchema(groupVersion(def.group, def.versions[0] as string), def.kind));
    if (!isPlainObject(patched) || !isPlainObject(patched['metadata'])) throw errors.badRequest('the patch removed the object\'s metadata');
    return patched as KubeObject;
  };
  const options = writeOptions(ctx, def, req, warnings);
  if (req.info.subresource === 'scale') {
    return { object: toScale(def, await updateScale(ctx, def, namespace, name, (scale) => applyPatch(scale), options)), created: false };
  }
  const object = await ctx.objects.guaranteedUpdate(def, namespace, name, (current) => {
    // A patch applies to the object as the client's version shows it.
    const patched = applyPatch(req.info.subresource === undefined || req.info.subresource === 'status' ? view.out(current) : current);
    // A resourceVersion inside the patch is a precondition (kubectl label --resource-version, …).
    if (patched.metadata.resourceVersion !== current.metadata.resourceVersion) throw errors.conflict({ resource: def.plural, group: def.group, name });
    if (patched.metadata.name !== name) throw errors.badRequest(`the name of the object (${String(patched.metadata.name)}) does not match the name on the URL (${name})`);
    if (def.namespaced && patched.metadata.namespace !== namespace) throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    if (req.info.subresource === undefined) checkKind(def, patched);
    return req.info.subresource === undefined || req.info.subresource === 'status' ? intoStorage(ctx, view, patched, current, options.fieldValidation, warnings) : patched;
  }, { ...options, ...(req.info.subresource ? { subresource: req.info.subresource } : {}) });
  return { object: view.out(object), created: false };
}

/**
 * Server-side apply: the manifest is this field manager's intent; fields others own and set
 * differently conflict (409) unless forced; fields it no longer sends are removed. Creates the
 * object when it does not exist (201).
 */
async function apply(ctx: ResourceContext, def: ResourceDefinition, view: VersionView, req: ResourceRequest, namespace: string | undefined, document: unknown, warnings: string[]): Promise<{ object: KubeObject; created: boolean }> {
  const name = req.info.name as string;
  const manager = req.query.get('fieldManager');
  if (!manager) {
    throw errors.invalid('PatchOptions', 'meta.k8s.io', '', [{ reason: 'FieldValueRequired', field: 'fieldManager', message: 'Required value: is required for apply patch' }]);
  }
  const force = req.query.get('force');
  if (force !== null && force !== 'true' && force !== 'false') throw errors.badRequest(`invalid force value "${force}"`);
  if (!isPlainObject(document)) throw errors.badRequest('an apply patch must be an object');
  const config = document as KubeObject;
  if (!isPlainObject(config.metadata)) config.metadata = {};
  if (config.metadata.name !== undefined && config.metadata.name !== name) {
    throw errors.badRequest(`the name of the object (${String(config.metadata.name)}) does not match the name on the URL (${name})`);
  }
  if (req.info.subresource === undefined) checkKind(def, config);
  const apiVersion = view.apiVersion;
  const ssa = {
    manager,
    force: force === 'true',
    apiVersion,
    schema: def.strategicMerge ? builtinPatchSchema(apiVersion, def.kind) : { lookup: () => undefined },
    ...(req.info.subresource ? { subresource: req.info.subresource } : {}),
  };
  const options = { ...writeOptions(ctx, def, req, warnings), fieldManager: manager, keepManagedFields: true };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const object = await ctx.objects.guaranteedUpdate(def, namespace, name, (current) => intoStorage(ctx, view, serverSideApply(view.out(current), config, ssa).object, current, options.fieldValidation, warnings), {
        ...options,
        ...(req.info.subresource ? { subresource: req.info.subresource } : {}),
      });
      return { object: view.out(object), created: false };
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404 && err.reason === 'NotFound') || req.info.subresource !== undefined) throw err;
    }
    try {
      const created = serverSideApply(undefined, { ...config, metadata: { ...config.metadata, name } }, ssa).object;
      return { object: view.out(await ctx.objects.create(def, namespace, intoStorage(ctx, view, created, undefined, options.fieldValidation, warnings), options)), created: true };
    } catch (err) {
      if (!(err instanceof ApiError && err.reason === 'AlreadyExists')) throw err; // created meanwhile: apply again
    }
  }
  throw errors.conflict({ resource: def.plural, group: def.group, name }, 'the object changed too often while applying; please try again');
}

/** autoscaling/v1 Scale of a resource with a scale subresource. */
function toScale(def: ResourceDefinition, object: KubeObject): KubeObject {
  const scale = def.scaleSubresource;
  if (!scale) throw notFoundResource();
  const specReplicas = readPath(object, scale.specReplicasPath);
  const statusReplicas = readPath(object, scale.statusReplicasPath);
  let selector = scale.labelSelectorPath ? readPath(object, scale.labelSelectorPath) : undefined;
  if (selector === undefined && def.group === 'apps' && isPlainObject(object['spec']) && isPlainObject(object['spec']['selector'])) {
    selector = formatLabelSelector(labelSelectorFromObject(object['spec']['selector'] as never));
  }
  const { name, namespace, uid, resourceVersion, creationTimestamp } = object.metadata;
  const metadata = Object.fromEntries(Object.entries({ name, namespace, uid, resourceVersion, creationTimestamp }).filter(([, v]) => v !== undefined));
  return {
    kind: 'Scale',
    apiVersion: 'autoscaling/v1',
    metadata,
    spec: { replicas: typeof specReplicas === 'number' ? specReplicas : 0 },
    status: { replicas: typeof statusReplicas === 'number' ? statusReplicas : 0, ...(typeof selector === 'string' && selector ? { selector } : {}) },
  };
}

async function updateScale(ctx: ResourceContext, def: ResourceDefinition, namespace: string | undefined, name: string, desiredScale: (scale: KubeObject) => KubeObject, options: WriteOptions): Promise<KubeObject> {
  const scale = def.scaleSubresource;
  if (!scale) throw notFoundResource();
  return ctx.objects.guaranteedUpdate(def, namespace, name, (current) => {
    const before = toScale(def, current);
    const wanted = desiredScale(before);
    const rv = wanted.metadata?.resourceVersion;
    if (rv && rv !== current.metadata.resourceVersion) throw errors.conflict({ resource: def.plural, group: def.group, name });
    const replicas = isPlainObject(wanted['spec']) ? wanted['spec']['replicas'] : undefined;
    if (typeof replicas !== 'number' || !Number.isInteger(replicas) || replicas < 0) {
      throw errors.invalid('Scale', 'autoscaling', name, [{ reason: 'FieldValueInvalid', field: 'spec.replicas', message: `Invalid value: ${JSON.stringify(replicas)}: must be greater than or equal to 0` }]);
    }
    writePath(current, scale.specReplicasPath, replicas);
    return current;
  }, options);
}

function readPath(object: unknown, path: string): unknown {
  let value = object;
  for (const segment of path.split('.').filter(Boolean)) value = isPlainObject(value) ? value[segment] : undefined;
  return value;
}

function writePath(object: Record<string, unknown>, path: string, value: unknown): void {
  const segments = path.split('.').filter(Boolean);
  let target = object;
  for (const segment of segments.slice(0, -1)) {
    if (!isPlainObject(target[segment])) target[segment] = {};
    target = target[segment] as Record<string, unknown>;
  }
  target[segments[segments.length - 1] as string] = value;
}

function deleteOptionsOf(req: ResourceRequest): { propagationPolicy?: 'Background' | 'Foreground' | 'Orphan'; preconditions?: { uid?: string; resourceVersion?: string }; dryRun: boolean } {
  const body = readDeleteOptions(req.body, req.contentType);
  let policy = (body['propagationPolicy'] ?? req.query.get('propagationPolicy') ?? undefined) as string | undefined;
  const orphan = body['orphanDependents'] ?? (req.query.has('orphanDependents') ? req.query.get('orphanDependents') === 'true' : undefined);
  if (policy === undefined && orphan !== undefined) policy = orphan === true ? 'Orphan' : 'Background';
  if (policy !== undefined && !['Background', 'Foreground', 'Orphan'].includes(policy)) {
    throw errors.invalid('DeleteOptions', 'meta.k8s.io', '', [{ reason: 'FieldValueNotSupported', field: 'propagationPolicy', message: `Unsupported value: "${policy}": supported values: "Foreground", "Background", "Orphan"` }]);
  }
  const dryRunValues = [...(Array.isArray(body['dryRun']) ? (body['dryRun'] as string[]) : []), ...req.query.getAll('dryRun')];
  for (const value of dryRunValues) if (value !== 'All') throw errors.badRequest(`unsupported dry run value "${value}": only "All" is supported`);
  const preconditions = isPlainObject(body['preconditions']) ? (body['preconditions'] as { uid?: string; resourceVersion?: string }) : undefined;
  return { ...(policy ? { propagationPolicy: policy as 'Background' } : {}), ...(preconditions ? { preconditions } : {}), dryRun: dryRunValues.length > 0 };
}

async function deleteOne(ctx: ResourceContext, def: ResourceDefinition, view: VersionView, req: ResourceRequest, namespace: string | undefined, warnings: string[]): Promise<ApiResponse> {
  const name = req.info.name as string;
  const outcome = await ctx.objects.delete(def, namespace, name, { ...deleteOptionsOf(req), fieldManager: fieldManagerOf(req), admitDelete: (current) => ctx.admission.admitDelete(def, current) });
  if (!outcome.deleted) return { code: 200, body: view.out(outcome.object), warnings };
  const status: Status = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name, group: def.group, kind: def.plural, uid: outcome.object.metadata.uid ?? '' },
    code: 200,
  };
  return { code: 200, body: status, warnings };
}

async function deleteCollection(ctx: ResourceContext, def: ResourceDefinition, view: VersionView, req: ResourceRequest, namespace: string | undefined, warnings: string[]): Promise<ApiResponse> {
  const sel = selection(def, req.query);
  const options = deleteOptionsOf(req);
  const prefix = namespace !== undefined ? `${keyPrefix(def)}${namespace}/` : keyPrefix(def);
  const deleted: KubeObject[] = [];
  for (const object of (await ctx.objects.snapshot(def, prefix)).objects) {
    if (!selects(def, sel, object)) continue;
    try {
      const outcome = await ctx.objects.delete(def, object.metadata.namespace, object.metadata.name as string, { ...options, admitDelete: (current) => ctx.admission.admitDelete(def, current) });
      deleted.push(view.out(outcome.object));
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }
  const apiVersion = view.apiVersion;
  return { code: 200, body: { kind: `${def.kind}List`, apiVersion, metadata: { resourceVersion: String(await ctx.objects.revision()) }, items: deleted }, warnings };
}
