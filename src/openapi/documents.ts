import { createHash } from 'node:crypto';
import type { ResourceDefinition, Verb } from '../registry/resource.js';
import { COMPONENT_REF_PREFIX, schemaClosure, withExtraSchemas } from './schemas.js';
import type { SchemaObject } from './schemas.js';

/**
 * The OpenAPI documents served at /openapi/v3 (index + one document per group-version) and /openapi/v2
 * (Swagger 2.0, JSON only), built from ResourceDefinitions and the schemas in openapi/. Paths, operation IDs,
 * x-kubernetes-action and x-kubernetes-group-version-kind follow kube-apiserver's conventions, because kubectl
 * reads them: the PATCH operation lists `fieldValidation` (kubectl's server-side field validation probe) and its
 * request content types include strategic merge patch only for kinds that really support it.
 */

const META = 'io.k8s.apimachinery.pkg.apis.meta.v1.';
const STATUS = `${META}Status`;
const DELETE_OPTIONS = `${META}DeleteOptions`;
const PATCH = `${META}Patch`;
const LIST_META = `${META}ListMeta`;
const OBJECT_META = `${META}ObjectMeta`;
const API_RESOURCE_LIST = `${META}APIResourceList`;
const SCALE = 'io.k8s.api.autoscaling.v1.Scale';

export const PATCH_CONTENT_TYPES = ['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json', 'application/apply-patch+yaml'] as const;

// ----------------------------------------------------------------------------------------------------------------
// Document shapes (the parts we produce)

export interface ParameterObject {
  name: string;
  in: 'path' | 'query';
  description: string;
  required?: boolean;
  schema: { type: 'string' | 'integer' | 'boolean'; uniqueItems?: boolean };
}

export interface MediaTypeObject { schema: SchemaObject }

export interface OperationObject {
  description: string;
  operationId: string;
  tags: string[];
  parameters?: ParameterObject[];
  requestBody?: { content: Record<string, MediaTypeObject>; required: boolean };
  responses: Record<string, { description: string; content?: Record<string, MediaTypeObject> }>;
  /** Absent only on the group-version's API-resources operation, as in kube. */
  'x-kubernetes-action'?: KubeAction;
  'x-kubernetes-group-version-kind'?: { group: string; kind: string; version: string };
}

export type HttpMethod = 'get' | 'put' | 'post' | 'delete' | 'options' | 'head' | 'patch';
export type PathItemObject = Partial<Record<HttpMethod, OperationObject>> & { parameters?: ParameterObject[] };
export type KubeAction = 'get' | 'list' | 'post' | 'put' | 'patch' | 'delete' | 'deletecollection' | 'connect';

export interface OpenApiV3Document {
  openapi: '3.0.0';
  info: { title: string; version: string };
  paths: Record<string, PathItemObject>;
  components: {
    schemas: Record<string, SchemaObject>;
    securitySchemes: Record<string, { type: 'apiKey'; name: string; in: 'header'; description: string }>;
  };
  security: Record<string, string[]>[];
}

export interface OpenApiV3Index {
  paths: Record<string, { serverRelativeURL: string }>;
}

export interface SwaggerDocument {
  swagger: '2.0';
  info: { title: string; version: string };
  paths: Record<string, Record<string, unknown>>;
  definitions: Record<string, unknown>;
  securityDefinitions: Record<string, { type: 'apiKey'; name: string; in: 'header'; description: string }>;
  security: Record<string, string[]>[];
}

const INFO = { title: 'Kubernetes', version: 'unversioned' } as const;
const SECURITY_SCHEMES = { BearerToken: { type: 'apiKey', name: 'authorization', in: 'header', description: 'Bearer token: "Bearer <token>".' } } as const;

// ----------------------------------------------------------------------------------------------------------------
// Public API

/** `GET /openapi/v3`: one entry per served group-version, each URL carrying the hash of its document. */
export function openApiV3Index(defs: readonly ResourceDefinition[], extraSchemas?: ReadonlyMap<string, SchemaObject>): OpenApiV3Index {
  const paths: Record<string, { serverRelativeURL: string }> = {};
  for (const { group, version } of groupVersions(defs)) {
    const key = gvPathKey(group, version);
    const hash = documentHash(openApiV3Document(group, version, defs, extraSchemas));
    paths[key] = { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` };
  }
  return { paths };
}

/** `GET /openapi/v3/apis/<group>/<version>` (or `api/v1`): a complete OpenAPI 3.0 document for one group-version.
 * Results are memoised and shared: treat them as read-only. */
export function openApiV3Document(group: string, version: string, defs: readonly ResourceDefinition[], extraSchemas?: ReadonlyMap<string, SchemaObject>): OpenApiV3Document {
  return memo(`v3|${group}|${version}`, defs, extraSchemas, () => buildV3(group, version, defs, withExtraSchemas(extraSchemas)));
}

/** `GET /openapi/v2` with `Accept: application/json`: every group-version in one Swagger 2.0 document. */
export function openApiV2Document(defs: readonly ResourceDefinition[], extraSchemas?: ReadonlyMap<string, SchemaObject>): SwaggerDocument {
  return memo('v2', defs, extraSchemas, () => buildV2(defs, withExtraSchemas(extraSchemas)));
}

/** The `hash` query value kube-apiserver puts in the v3 index: SHA-512 of the JSON document, upper-case hex. */
export function documentHash(document: unknown): string {
  return createHash('sha512').update(JSON.stringify(document)).digest('hex').toUpperCase();
}

/** Group-versions served by these definitions, core first, in a stable order. */
export function groupVersions(defs: readonly ResourceDefinition[]): { group: string; version: string }[] {
  const seen = new Map<string, { group: string; version: string }>();
  for (const def of defs) for (const version of def.versions) seen.set(gvPathKey(def.group, version), { group: def.group, version });
  return [...seen.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, gv]) => gv);
}

/** "api/v1" or "apis/<group>/<version>": the key of a group-version in the v3 index. */
export function gvPathKey(group: string, version: string): string {
  return group ? `apis/${group}/${version}` : `api/${version}`;
}

// ----------------------------------------------------------------------------------------------------------------
// Memoisation: documents are pure functions of (definitions, schemas); callers may ask on every request.

const memoCache = new Map<string, unknown>();
const MEMO_LIMIT = 64;

function memo<T>(what: string, defs: readonly ResourceDefinition[], extra: ReadonlyMap<string, SchemaObject> | undefined, build: () => T): T {
  const key = `${what}|${fingerprint(defs)}|${extra && extra.size > 0 ? JSON.stringify([...extra]) : ''}`;
  const hit = memoCache.get(key);
  if (hit !== undefined) return hit as T;
  const value = build();
  if (memoCache.size >= MEMO_LIMIT) memoCache.delete(memoCache.keys().next().value as string);
  memoCache.set(key, value);
  return value;
}

function fingerprint(defs: readonly ResourceDefinition[]): string {
  return JSON.stringify(defs.map((d) => [d.group, d.versions, d.kind, d.plural, d.namespaced, d.verbs, d.statusSubresource ?? false, d.scaleSubresource ? 1 : 0, d.otherSubresources ?? [], d.strategicMerge, d.schemaRef ?? '', d.fromCrd ?? '']));
}

// ----------------------------------------------------------------------------------------------------------------
// Names

/** kube's operation-ID group prefix: "" → Core, "apps" → Apps, "apiextensions.k8s.io" → Apiextensions,
 * "rbac.authorization.k8s.io" → RbacAuthorization; other groups (CRDs) keep every segment: "policy.karmada.io" → PolicyKarmadaIo. */
export function operationGroupName(group: string): string {
  if (!group) return 'Core';
  const trimmed = group.endsWith('.k8s.io') ? group.slice(0, -'.k8s.io'.length) : group;
  return trimmed.split(/[.-]/).filter(Boolean).map((part) => part[0]?.toUpperCase() + part.slice(1)).join('');
}

function tagFor(group: string, version: string): string {
  const name = operationGroupName(group);
  return `${name[0]?.toLowerCase()}${name.slice(1)}_${version}`;
}

/** Schema name of a definition's kind at one version: its schemaRef, with the version segment swapped when the
 * schemas hold a per-version variant, or a conventional name ("<reversed group>.<version>.<Kind>") without one. */
function kindSchemaName(def: ResourceDefinition, version: string, schemas: ReadonlyMap<string, SchemaObject>): string {
  const preferred = def.versions[0];
  const declared = def.alternateVersions?.[version]?.schemaRef;
  if (declared && version !== preferred) return declared;
  if (def.schemaRef) {
    if (preferred && version !== preferred) {
      const swapped = def.schemaRef.replace(`.${preferred}.`, `.${version}.`);
      if (swapped !== def.schemaRef && schemas.has(swapped)) return swapped;
    }
    return def.schemaRef;
  }
  const reversed = (def.group || 'core').split('.').reverse().join('.');
  return `${reversed}.${version}.${def.kind}`;
}

// ----------------------------------------------------------------------------------------------------------------
// Parameters (our own descriptions; names, places and types are kube-apiserver's)

const param = (name: string, description: string, type: 'string' | 'integer' | 'boolean', where: 'query' | 'path' = 'query'): ParameterObject =>
  where === 'path' ? { name, in: 'path', description, required: true, schema: { type, uniqueItems: true } } : { name, in: 'query', description, schema: { type, uniqueItems: true } };

const P = {
  name: (kind: string) => param('name', `Name of the ${kind}.`, 'string', 'path'),
  namespace: param('namespace', 'Namespace of the object; also the scope of the request.', 'string', 'path'),
  path: param('path', 'Path to pass through to the target.', 'string', 'path'),
  pretty: param('pretty', 'If "true", indent the output.', 'string'),
  allowWatchBookmarks: param('allowWatchBookmarks', 'Ask for BOOKMARK events on a watch; the server may ignore it.', 'boolean'),
  continue: param('continue', 'Token from a previous paginated list, to fetch the next page.', 'string'),
  fieldSelector: param('fieldSelector', 'Only return objects whose fields match, e.g. metadata.name=foo.', 'string'),
  labelSelector: param('labelSelector', 'Only return objects whose labels match.', 'string'),
  limit: param('limit', 'Maximum number of items to return; use continue for the rest.', 'integer'),
  resourceVersion: param('resourceVersion', 'Freshness constraint for the read; see resourceVersionMatch.', 'string'),
  resourceVersionMatch: param('resourceVersionMatch', 'How resourceVersion applies: NotOlderThan or Exact.', 'string'),
  sendInitialEvents: param('sendInitialEvents', 'Start a watch with synthetic events for the current state, then a bookmark.', 'boolean'),
  timeoutSeconds: param('timeoutSeconds', 'End the list or watch call after this many seconds.', 'integer'),
  watch: param('watch', 'Stream changes (ADDED, MODIFIED, DELETED) instead of returning a list.', 'boolean'),
  dryRun: param('dryRun', 'When "All", run every stage of the request but persist nothing.', 'string'),
  fieldManager: param('fieldManager', 'Name of the actor making the change, recorded in managedFields.', 'string'),
  fieldValidation: param('fieldValidation', 'What to do with unknown or duplicate fields: Ignore, Warn or Strict.', 'string'),
  force: param('force', 'For apply requests: take over fields owned by other managers.', 'boolean'),
  gracePeriodSeconds: param('gracePeriodSeconds', 'Seconds to wait before deletion; 0 means immediately.', 'integer'),
  ignoreStoreReadError: param('ignoreStoreReadErrorWithClusterBreakingPotential', 'Delete objects that cannot be read from storage; dangerous.', 'boolean'),
  orphanDependents: param('orphanDependents', 'Deprecated: orphan dependents; use propagationPolicy.', 'boolean'),
  propagationPolicy: param('propagationPolicy', 'Garbage collection of dependents: Orphan, Background or Foreground.', 'string'),
};

const LIST_PARAMS = [P.allowWatchBookmarks, P.continue, P.fieldSelector, P.labelSelector, P.limit, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds, P.watch];
const WRITE_PARAMS = [P.dryRun, P.fieldManager, P.fieldValidation];
const PATCH_PARAMS = [...WRITE_PARAMS, P.force];
const DELETE_PARAMS = [P.dryRun, P.gracePeriodSeconds, P.ignoreStoreReadError, P.orphanDependents, P.propagationPolicy];
const DELETE_COLLECTION_PARAMS = [P.continue, P.dryRun, P.fieldSelector, P.gracePeriodSeconds, P.ignoreStoreReadError, P.labelSelector, P.limit, P.orphanDependents, P.propagationPolicy, P.resourceVersion, P.resourceVersionMatch, P.sendInitialEvents, P.timeoutSeconds];

// ----------------------------------------------------------------------------------------------------------------
// v3 paths

const ref = (name: string): SchemaObject => ({ $ref: `${COMPONENT_REF_PREFIX}${name}` });
const jsonYaml = (name: string): Record<string, MediaTypeObject> => ({ 'application/json': { schema: ref(name) }, 'application/yaml': { schema: ref(name) } });
const listContent = (name: string): Record<string, MediaTypeObject> => ({ ...jsonYaml(name), 'application/json;stream=watch': { schema: ref(name) } });
const UNAUTHORIZED = { description: 'Unauthorized' };

interface PathContext {
  readonly def: ResourceDefinition;
  readonly group: string;
  readonly version: string;
  readonly kindSchema: string;
  readonly listSchema: string;
  readonly gvk: { group: string; kind: string; version: string };
  readonly tag: string;
  /** "CoreV1", "AppsV1", … */
  readonly gv: string;
}

function op(ctx: PathContext, action: KubeAction, operationId: string, description: string, rest: Partial<OperationObject> & Pick<OperationObject, 'responses'>, gvk = ctx.gvk): OperationObject {
  return { description, operationId, tags: [ctx.tag], ...rest, 'x-kubernetes-action': action, 'x-kubernetes-group-version-kind': gvk };
}

function has(def: ResourceDefinition, verb: Verb): boolean {
  return def.verbs.includes(verb);
}

function resourcePaths(ctx: PathContext, paths: Record<string, PathItemObject>): void {
  const { def, kindSchema, listSchema, gv } = ctx;
  const prefix = ctx.group ? `/apis/${ctx.group}/${ctx.version}` : `/api/${ctx.version}`;
  const scope = def.namespaced ? 'Namespaced' : '';
  const collection = def.namespaced ? `${prefix}/namespaces/{namespace}/${def.plural}` : `${prefix}/${def.plural}`;
  const item = `${collection}/{name}`;
  const kind = def.kind;
  const lower = kind.toLowerCase();
  const ns = def.namespaced ? [P.namespace] : [];

  const collectionItem: PathItemObject = { parameters: [...ns, P.pretty] };
  if (has(def, 'list')) {
    collectionItem.get = op(ctx, 'list', `list${gv}${scope}${kind}`, `List or watch objects of kind ${kind}.`, { parameters: LIST_PARAMS, responses: { '200': { description: 'OK', content: listContent(listSchema) }, '401': UNAUTHORIZED } });
  }
  if (has(def, 'create')) {
    collectionItem.post = op(ctx, 'post', `create${gv}${scope}${kind}`, `Create a ${kind}.`, {
      parameters: WRITE_PARAMS,
      requestBody: { content: { '*/*': { schema: ref(kindSchema) } }, required: true },
      responses: { '200': { description: 'OK', content: jsonYaml(kindSchema) }, '201': { description: 'Created', content: jsonYaml(kindSchema) }, '202': { description: 'Accepted', content: jsonYaml(kindSchema) }, '401': UNAUTHORIZED },
    });
  }
  if (has(def, 'deletecollection')) {
    collectionItem.delete = op(ctx, 'deletecollection', `delete${gv}Collection${scope}${kind}`, `Delete a collection of ${kind} objects.`, {
      parameters: DELETE_COLLECTION_PARAMS,
      requestBody: { content: { '*/*': { schema: ref(DELETE_OPTIONS) } }, required: false },
      responses: { '200': { description: 'OK', content: jsonYaml(STATUS) }, '401': UNAUTHORIZED },
    });
  }
  if (collectionItem.get || collectionItem.post || collectionItem.delete) paths[collection] = collectionItem;

  const itemPath: PathItemObject = { parameters: [P.name(lower), ...ns, P.pretty] };
  if (has(def, 'get')) {
    itemPath.get = op(ctx, 'get', `read${gv}${scope}${kind}`, `Read the specified ${kind}.`, { responses: { '200': { description: 'OK', content: jsonYaml(kindSchema) }, '401': UNAUTHORIZED } });
  }
  if (has(def, 'update')) itemPath.put = replaceOp(ctx, `replace${gv}${scope}${kind}`, `Replace the specified ${kind}.`, kindSchema);
  if (has(def, 'patch')) itemPath.patch = patchOp(ctx, `patch${gv}${scope}${kind}`, `Partially update the specified ${kind}.`, kindSchema);
  if (has(def, 'delete')) {
    itemPath.delete = op(ctx, 'delete', `delete${gv}${scope}${kind}`, `Delete a ${kind}.`, {
      parameters: DELETE_PARAMS,
      requestBody: { content: { '*/*': { schema: ref(DELETE_OPTIONS) } }, required: false },
      responses: { '200': { description: 'OK', content: jsonYaml(STATUS) }, '202': { description: 'Accepted', content: jsonYaml(STATUS) }, '401': UNAUTHORIZED },
    });
  }
  if (itemPath.get || itemPath.put || itemPath.patch || itemPath.delete) paths[item] = itemPath;

  if (def.namespaced && has(def, 'list')) {
    paths[`${prefix}/${def.plural}`] = {
      parameters: [P.pretty],
      get: op(ctx, 'list', `list${gv}${kind}ForAllNamespaces`, `List or watch objects of kind ${kind} in every namespace.`, { parameters: LIST_PARAMS, responses: { '200': { description: 'OK', content: listContent(listSchema) }, '401': UNAUTHORIZED } }),
    };
  }

  const subParams = [P.name(lower), ...ns, P.pretty];
  if (def.statusSubresource) {
    const status: PathItemObject = { parameters: subParams };
    status.get = op(ctx, 'get', `read${gv}${scope}${kind}Status`, `Read status of the specified ${kind}.`, { responses: { '200': { description: 'OK', content: jsonYaml(kindSchema) }, '401': UNAUTHORIZED } });
    if (has(def, 'update')) status.put = replaceOp(ctx, `replace${gv}${scope}${kind}Status`, `Replace status of the specified ${kind}.`, kindSchema);
    if (has(def, 'patch')) status.patch = patchOp(ctx, `patch${gv}${scope}${kind}Status`, `Partially update status of the specified ${kind}.`, kindSchema);
    paths[`${item}/status`] = status;
  }
  if (def.scaleSubresource) {
    const gvk = { group: 'autoscaling', kind: 'Scale', version: 'v1' };
    const scale: PathItemObject = { parameters: subParams };
    scale.get = op(ctx, 'get', `read${gv}${scope}${kind}Scale`, `Read scale of the specified ${kind}.`, { responses: { '200': { description: 'OK', content: jsonYaml(SCALE) }, '401': UNAUTHORIZED } }, gvk);
    scale.put = replaceOp(ctx, `replace${gv}${scope}${kind}Scale`, `Replace scale of the specified ${kind}.`, SCALE, gvk);
    scale.patch = patchOp(ctx, `patch${gv}${scope}${kind}Scale`, `Partially update scale of the specified ${kind}.`, SCALE, gvk);
    paths[`${item}/scale`] = scale;
  }
  for (const sub of def.otherSubresources ?? []) {
    if (sub === 'finalize') {
      paths[`${item}/finalize`] = { parameters: subParams, put: replaceOp(ctx, `replace${gv}${scope}${kind}Finalize`, `Replace finalize of the specified ${kind}.`, kindSchema) };
    } else if (sub === 'proxy') {
      // Connect operations name their options kind (PodProxyOptions, ClusterProxyOptions), not the
      // parent's: kubectl looks for the parent kind's PATCH to learn whether fieldValidation works.
      const proxyGvk = { ...ctx.gvk, kind: `${kind}ProxyOptions` };
      for (const withPath of [false, true]) {
        const pathItem: PathItemObject = { parameters: withPath ? [P.name(lower), ...ns, P.path] : [P.name(lower), ...ns] };
        for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const) {
          const verbName = method[0]?.toUpperCase() + method.slice(1);
          pathItem[method] = op(ctx, 'connect', `connect${gv}${verbName}${scope}${kind}Proxy${withPath ? 'WithPath' : ''}`, `Connect ${method.toUpperCase()} requests to the proxy of ${kind}.`, {
            responses: { '200': { description: 'OK', content: { '*/*': { schema: { type: 'string' } } } }, '401': UNAUTHORIZED },
          }, proxyGvk);
        }
        paths[`${item}/proxy${withPath ? '/{path}' : ''}`] = pathItem;
      }
    }
  }
}

function replaceOp(ctx: PathContext, operationId: string, description: string, schema: string, gvk = ctx.gvk): OperationObject {
  return op(ctx, 'put', operationId, description, {
    parameters: WRITE_PARAMS,
    requestBody: { content: { '*/*': { schema: ref(schema) } }, required: true },
    responses: { '200': { description: 'OK', content: jsonYaml(schema) }, '201': { description: 'Created', content: jsonYaml(schema) }, '401': UNAUTHORIZED },
  }, gvk);
}

function patchOp(ctx: PathContext, operationId: string, description: string, schema: string, gvk = ctx.gvk): OperationObject {
  const content: Record<string, MediaTypeObject> = {};
  for (const type of PATCH_CONTENT_TYPES) {
    if (type === 'application/strategic-merge-patch+json' && !ctx.def.strategicMerge) continue;
    content[type] = { schema: ref(PATCH) };
  }
  return op(ctx, 'patch', operationId, description, {
    parameters: PATCH_PARAMS,
    requestBody: { content, required: true },
    responses: { '200': { description: 'OK', content: jsonYaml(schema) }, '201': { description: 'Created', content: jsonYaml(schema) }, '401': UNAUTHORIZED },
  }, gvk);
}

function apiResourcesPath(group: string, version: string, paths: Record<string, PathItemObject>): void {
  const prefix = group ? `/apis/${group}/${version}/` : `/api/${version}/`;
  const gv = `${operationGroupName(group)}${version[0]?.toUpperCase()}${version.slice(1)}`;
  paths[prefix] = {
    get: {
      description: 'Get the resources available in this group version.',
      operationId: `get${gv}APIResources`,
      tags: [tagFor(group, version)],
      responses: { '200': { description: 'OK', content: jsonYaml(API_RESOURCE_LIST) }, '401': UNAUTHORIZED },
    },
  };
}

/** Schemas for kinds that registered none (e.g. CRDs without a schema): any object, plus its List. */
function fallbackKindSchema(def: ResourceDefinition, version: string): SchemaObject {
  return {
    description: `${def.kind} (no schema registered; any fields are accepted).`,
    type: 'object',
    properties: {
      apiVersion: { description: 'Versioned schema of this object.', type: 'string' },
      kind: { description: 'Kind of this object.', type: 'string' },
      metadata: { description: 'Standard object metadata.', allOf: [ref(OBJECT_META)] },
    },
    'x-kubernetes-preserve-unknown-fields': true,
    'x-kubernetes-group-version-kind': [{ group: def.group, kind: def.kind, version }],
  };
}

function fallbackListSchema(def: ResourceDefinition, version: string, kindSchema: string): SchemaObject {
  return {
    description: `A list of ${def.kind} objects.`,
    type: 'object',
    properties: {
      apiVersion: { description: 'Versioned schema of this object.', type: 'string' },
      items: { description: 'The listed objects.', type: 'array', items: ref(kindSchema) },
      kind: { description: 'Kind of this object.', type: 'string' },
      metadata: { description: 'Standard list metadata.', allOf: [ref(LIST_META)] },
    },
    required: ['items'],
    'x-kubernetes-group-version-kind': [{ group: def.group, kind: `${def.kind}List`, version }],
  };
}

interface Built {
  paths: Record<string, PathItemObject>;
  schemas: Map<string, SchemaObject>;
}

/** Paths and (closed) schemas for the given group-versions. */
function buildPathsAndSchemas(gvs: readonly { group: string; version: string }[], defs: readonly ResourceDefinition[], base: ReadonlyMap<string, SchemaObject>): Built {
  const schemas = new Map(base);
  const roots = new Set<string>([STATUS, DELETE_OPTIONS, PATCH, API_RESOURCE_LIST]);
  const paths: Record<string, PathItemObject> = {};
  for (const { group, version } of gvs) {
    apiResourcesPath(group, version, paths);
    const gv = `${operationGroupName(group)}${version[0]?.toUpperCase()}${version.slice(1)}`;
    for (const def of defs) {
      if (def.group !== group || !def.versions.includes(version)) continue;
      const kindSchema = kindSchemaName(def, version, schemas);
      if (!schemas.has(kindSchema)) schemas.set(kindSchema, fallbackKindSchema(def, version));
      const listSchema = `${kindSchema}List`;
      if (!schemas.has(listSchema)) schemas.set(listSchema, fallbackListSchema(def, version, kindSchema));
      roots.add(kindSchema);
      roots.add(listSchema);
      if (def.scaleSubresource) roots.add(SCALE);
      resourcePaths({ def, group, version, kindSchema, listSchema, gvk: { group, kind: def.kind, version }, tag: tagFor(group, version), gv }, paths);
    }
  }
  return { paths: sortKeys(paths), schemas: schemaClosure(roots, schemas) };
}

function buildV3(group: string, version: string, defs: readonly ResourceDefinition[], base: ReadonlyMap<string, SchemaObject>): OpenApiV3Document {
  const { paths, schemas } = buildPathsAndSchemas([{ group, version }], defs, base);
  return {
    openapi: '3.0.0',
    info: { ...INFO },
    paths,
    components: { schemas: Object.fromEntries(schemas), securitySchemes: SECURITY_SCHEMES },
    security: [{ BearerToken: [] }],
  };
}

// ----------------------------------------------------------------------------------------------------------------
// v2 (Swagger 2.0): same paths and schemas, converted

function buildV2(defs: readonly ResourceDefinition[], base: ReadonlyMap<string, SchemaObject>): SwaggerDocument {
  const { paths, schemas } = buildPathsAndSchemas(groupVersions(defs), defs, base);
  const definitions: Record<string, unknown> = {};
  for (const [name, schema] of schemas) definitions[name] = toV2Schema(schema);
  const v2Paths: Record<string, Record<string, unknown>> = {};
  for (const [path, item] of Object.entries(paths)) {
    const out: Record<string, unknown> = {};
    if (item.parameters) out['parameters'] = item.parameters.map(toV2Parameter);
    for (const method of ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const) {
      const operation = item[method];
      if (operation) out[method] = toV2Operation(operation);
    }
    v2Paths[path] = out;
  }
  return { swagger: '2.0', info: { ...INFO }, paths: v2Paths, definitions, securityDefinitions: SECURITY_SCHEMES, security: [{ BearerToken: [] }] };
}

function toV2Parameter(p: ParameterObject): Record<string, unknown> {
  const out: Record<string, unknown> = { name: p.name, in: p.in, description: p.description, type: p.schema.type };
  if (p.required) out['required'] = true;
  if (p.schema.uniqueItems) out['uniqueItems'] = true;
  return out;
}

function toV2Operation(operation: OperationObject): Record<string, unknown> {
  const parameters: Record<string, unknown>[] = (operation.parameters ?? []).map(toV2Parameter);
  const out: Record<string, unknown> = { description: operation.description, operationId: operation.operationId };
  if (operation.requestBody) {
    const content = operation.requestBody.content;
    const first = Object.values(content)[0];
    if (first) parameters.unshift({ name: 'body', in: 'body', required: operation.requestBody.required, schema: toV2Schema(first.schema) });
    out['consumes'] = Object.keys(content);
  } else {
    out['consumes'] = ['*/*'];
  }
  const produces = new Set<string>();
  const responses: Record<string, unknown> = {};
  for (const [code, response] of Object.entries(operation.responses)) {
    const media = response.content ? Object.values(response.content)[0] : undefined;
    for (const type of Object.keys(response.content ?? {})) produces.add(type);
    responses[code] = media ? { description: response.description, schema: toV2Schema(media.schema) } : { description: response.description };
  }
  out['produces'] = [...produces];
  out['schemes'] = ['https'];
  out['tags'] = operation.tags;
  if (parameters.length > 0) out['parameters'] = parameters;
  out['responses'] = responses;
  if (operation['x-kubernetes-action']) out['x-kubernetes-action'] = operation['x-kubernetes-action'];
  if (operation['x-kubernetes-group-version-kind']) out['x-kubernetes-group-version-kind'] = operation['x-kubernetes-group-version-kind'];
  return out;
}

const V2_DROP = new Set(['anyOf', 'oneOf', 'not', 'nullable', 'writeOnly', 'deprecated']);

/** OpenAPI 3 schema → Swagger 2.0 schema: `#/components/schemas/X` → `#/definitions/X`, the described-reference
 * wrapper `allOf: [{$ref}]` → `$ref` with siblings (as kube's v2 does), `nullable` → `x-nullable`, and keywords
 * Swagger 2.0 lacks dropped. Values of enum/default/example are copied untouched. */
export function toV2Schema(schema: SchemaObject): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const only = schema.allOf?.length === 1 ? schema.allOf[0] : undefined;
  const unwrap = only !== undefined && typeof only.$ref === 'string' && Object.keys(only).length === 1;
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' && typeof value === 'string') out[key] = v2Ref(value);
    else if (key === 'allOf' && unwrap) out['$ref'] = v2Ref(only.$ref as string);
    else if (key === 'nullable') { if (value === true) out['x-nullable'] = true; }
    else if (V2_DROP.has(key)) continue;
    else if ((key === 'properties' || key === 'definitions' || key === 'patternProperties') && isRecord(value)) out[key] = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, isRecord(v) ? toV2Schema(v as SchemaObject) : v]));
    else if ((key === 'items' || key === 'additionalProperties' || key === 'additionalItems') && isRecord(value)) out[key] = toV2Schema(value as SchemaObject);
    else if (key === 'items' && Array.isArray(value)) out[key] = value.map((v) => (isRecord(v) ? toV2Schema(v as SchemaObject) : v));
    else if (key === 'allOf' && Array.isArray(value)) out[key] = value.map((v) => (isRecord(v) ? toV2Schema(v as SchemaObject) : v));
    else out[key] = value;
  }
  return out;
}

function v2Ref(ref: string): string {
  return ref.startsWith(COMPONENT_REF_PREFIX) ? `#/definitions/${ref.slice(COMPONENT_REF_PREFIX.length)}` : ref;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function sortKeys<T>(record: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
