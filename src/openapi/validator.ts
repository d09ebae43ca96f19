import { Ajv } from 'ajv';
import type { ErrorObject, ValidateFunction } from 'ajv';
import { refName, resolveSchema, withExtraSchemas } from './schemas.js';
import type { SchemaObject } from './schemas.js';

/**
 * Structural validation of objects against their kind's schema in openapi/, the way kube-apiserver's decoding
 * and CRD structural validation see them: types (with x-kubernetes-int-or-string and Quantity accepting numbers),
 * required fields, enums and the formats int32 / int64 / byte / date-time. Unknown fields are not errors here;
 * `unknownFields` lists them for fieldValidation (Strict → 400, Warn → warning, always pruned). Value constraints
 * (pattern, minimum, …) and CEL rules are not structural and are left to kind-specific validation.
 *
 * Field paths are kube's: `spec.template.spec.containers[0].image`, map entries as `metadata.labels[app]`.
 * `null` fields count as absent, as Go's JSON decoding treats them.
 */

export type FieldErrorKind = 'type' | 'required' | 'enum' | 'unknown';

export interface FieldError {
  /** Kube field path, e.g. "spec.replicas" or "spec.template.spec.containers[0].image". */
  readonly path: string;
  /** The detail after the field path, as kube words it, e.g. `Required value`. */
  readonly message: string;
  readonly kind: FieldErrorKind;
}

export interface ValidationResult {
  readonly errors: FieldError[];
}

export interface ValidatorOptions {
  /** Runtime schemas (CRDs, Karmada kinds) on top of openapi/; pass the same Map instance to reuse compiled code. */
  readonly extraSchemas?: ReadonlyMap<string, SchemaObject>;
  /** Also report unknown fields, as errors of kind "unknown" (default false). */
  readonly reportUnknown?: boolean;
}

export type Validator = (object: unknown) => ValidationResult;

const QUANTITY = 'io.k8s.apimachinery.pkg.api.resource.Quantity';
const ROOT_ID = 'kube';
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

/** The validator of one kind's schema, e.g. validatorFor("io.k8s.api.apps.v1.Deployment"). Compiled once and cached. */
export function validatorFor(schemaRef: string, options: ValidatorOptions = {}): Validator {
  const env = environment(options.extraSchemas);
  let compiled = env.compiled.get(schemaRef);
  if (!compiled) {
    // An unknown schemaRef validates nothing: the kind simply has no schema to check against.
    compiled = env.ajv.compile(env.schemas.has(schemaRef) ? { $ref: `${ROOT_ID}#/definitions/${pointerEscape(schemaRef)}` } : {});
    env.compiled.set(schemaRef, compiled);
  }
  const validate = compiled;
  return (object: unknown): ValidationResult => {
    const cleaned = withoutNulls(object);
    const errors: FieldError[] = [];
    if (!validate(cleaned)) {
      const seen = new Set<string>();
      for (const error of validate.errors ?? []) {
        const mapped = mapError(error, cleaned, schemaRef, env.schemas);
        if (!mapped) continue;
        const key = `${mapped.kind}|${mapped.path}|${mapped.message}`;
        if (seen.has(key)) continue;
        seen.add(key);
        errors.push(mapped);
      }
    }
    if (options.reportUnknown) {
      for (const path of unknownFieldsIn(cleaned, schemaRef, env.schemas)) errors.push({ path, message: `unknown field "${path}"`, kind: 'unknown' });
    }
    return { errors };
  };
}

/**
 * Fields of the object that its schema does not declare, as kube field paths ("spec.replica",
 * "spec.template.spec.containers[0].imagePullPolicyy"). `apiVersion` and `kind` are always known; metadata is
 * checked against ObjectMeta; subtrees marked x-kubernetes-preserve-unknown-fields, free-form objects and maps
 * accept anything. Kube's strict decoding error names each one as `unknown field "<path>"`.
 */
export function unknownFields(object: unknown, schemaRef: string, extraSchemas?: ReadonlyMap<string, SchemaObject>): string[] {
  const env = environment(extraSchemas);
  return unknownFieldsIn(withoutNulls(object), schemaRef, env.schemas);
}

// ----------------------------------------------------------------------------------------------------------------
// Ajv environments: one for openapi/ alone, one per extra-schema map

interface Environment {
  readonly ajv: Ajv;
  readonly schemas: ReadonlyMap<string, SchemaObject>;
  readonly compiled: Map<string, ValidateFunction>;
}

let baseEnvironment: Environment | undefined;
const extraEnvironments = new WeakMap<ReadonlyMap<string, SchemaObject>, Environment>();

function environment(extra: ReadonlyMap<string, SchemaObject> | undefined): Environment {
  if (!extra || extra.size === 0) return (baseEnvironment ??= createEnvironment(withExtraSchemas(undefined)));
  let env = extraEnvironments.get(extra);
  if (!env) {
    env = createEnvironment(withExtraSchemas(extra));
    extraEnvironments.set(extra, env);
  }
  return env;
}

function createEnvironment(schemas: ReadonlyMap<string, SchemaObject>): Environment {
  const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: true, validateSchema: false, inlineRefs: false });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= INT32_MIN && n <= INT32_MAX });
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('byte', { type: 'string', validate: isBase64 });
  ajv.addFormat('date-time', { type: 'string', validate: isRfc3339 });
  const definitions: Record<string, unknown> = {};
  for (const [name, schema] of schemas) definitions[name] = name === QUANTITY ? { type: ['string', 'number'] } : toAjv(schema, schemas);
  ajv.addSchema({ $id: ROOT_ID, definitions });
  return { ajv, schemas, compiled: new Map() };
}

const STRUCTURAL_FORMATS = new Set(['int32', 'int64', 'byte', 'date-time']);

/** Our OpenAPI schema → the structural part ajv checks. */
function toAjv(schema: SchemaObject, schemas: ReadonlyMap<string, SchemaObject>): Record<string, unknown> {
  const ref = schema.$ref ?? (schema.allOf?.length === 1 ? schema.allOf[0]?.$ref : undefined);
  if (ref !== undefined) {
    const name = refName(ref);
    return name !== undefined && schemas.has(name) ? { $ref: `${ROOT_ID}#/definitions/${pointerEscape(name)}` } : {};
  }
  const out: Record<string, unknown> = {};
  const nullable = schema.nullable === true;
  if (schema['x-kubernetes-int-or-string'] === true) {
    out['type'] = nullable ? ['integer', 'string', 'null'] : ['integer', 'string'];
  } else if (typeof schema.type === 'string') {
    out['type'] = nullable ? [schema.type, 'null'] : schema.type;
    if (schema.format !== undefined && STRUCTURAL_FORMATS.has(schema.format)) out['format'] = schema.format;
  }
  if (Array.isArray(schema.enum)) out['enum'] = nullable ? [...schema.enum, null] : schema.enum;
  if (schema.properties) {
    out['properties'] = Object.fromEntries(Object.entries(schema.properties).map(([key, value]) => [key, toAjv(value, schemas)]));
  }
  if (schema.required && schema.required.length > 0) out['required'] = schema.required;
  if (schema.items && typeof schema.items === 'object' && !Array.isArray(schema.items)) out['items'] = toAjv(schema.items, schemas);
  if (typeof schema.additionalProperties === 'object') out['additionalProperties'] = toAjv(schema.additionalProperties, schemas);
  return out;
}

// ----------------------------------------------------------------------------------------------------------------
// Error mapping

function mapError(error: ErrorObject, object: unknown, schemaRef: string, schemas: ReadonlyMap<string, SchemaObject>): FieldError | undefined {
  const segments = pointerSegments(error.instancePath);
  const path = kubePath(object, segments, schemaRef, schemas);
  const value = valueAt(object, segments);
  switch (error.keyword) {
    case 'required': {
      const missing = (error.params as { missingProperty: string }).missingProperty;
      return { path: path ? `${path}.${missing}` : missing, message: 'Required value', kind: 'required' };
    }
    case 'type': {
      const expected = String((error.params as { type: string | string[] }).type).split(',').join(' or ');
      const got = jsonType(value);
      return { path, message: `Invalid value: "${got}": ${path || '<root>'} in body must be of type ${expected}: "${got}"`, kind: 'type' };
    }
    case 'format': {
      const format = (error.params as { format: string }).format;
      return { path, message: `Invalid value: ${JSON.stringify(value)}: ${path || '<root>'} in body must be of type ${format}: ${JSON.stringify(String(value))}`, kind: 'type' };
    }
    case 'enum': {
      const allowed = (error.params as { allowedValues: unknown[] }).allowedValues.filter((v) => v !== null);
      return { path, message: `Unsupported value: ${JSON.stringify(value)}: supported values: ${allowed.map((v) => JSON.stringify(v)).join(', ')}`, kind: 'enum' };
    }
    default:
      return undefined;
  }
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function pointerSegments(pointer: string): string[] {
  if (!pointer) return [];
  return pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function pointerEscape(name: string): string {
  return name.replace(/~/g, '~0').replace(/\//g, '~1');
}

function valueAt(object: unknown, segments: readonly string[]): unknown {
  let current = object;
  for (const segment of segments) {
    if (Array.isArray(current)) current = current[Number(segment)];
    else if (isRecord(current)) current = current[segment];
    else return undefined;
  }
  return current;
}

/** JSON-pointer segments → kube field path, walking schema and value together to tell struct fields from map keys. */
function kubePath(object: unknown, segments: readonly string[], schemaRef: string, schemas: ReadonlyMap<string, SchemaObject>): string {
  let path = '';
  let value = object;
  let schema = resolveSchema(schemas.get(schemaRef), schemas);
  for (const segment of segments) {
    if (Array.isArray(value)) {
      path += `[${segment}]`;
      value = value[Number(segment)];
      schema = resolveSchema(schema?.items, schemas);
      continue;
    }
    const property = schema?.properties?.[segment];
    const additional = typeof schema?.additionalProperties === 'object' ? schema.additionalProperties : undefined;
    if (!property && additional) {
      path += `[${segment}]`;
      schema = resolveSchema(additional, schemas);
    } else {
      path += path ? `.${segment}` : segment;
      schema = resolveSchema(property, schemas);
    }
    value = isRecord(value) ? value[segment] : undefined;
  }
  return path;
}

// ----------------------------------------------------------------------------------------------------------------
// Unknown fields

const ALWAYS_KNOWN_AT_ROOT = new Set(['apiVersion', 'kind']);
const EMBEDDED_KNOWN = new Set(['apiVersion', 'kind', 'metadata']);

function unknownFieldsIn(object: unknown, schemaRef: string, schemas: ReadonlyMap<string, SchemaObject>): string[] {
  const found: string[] = [];
  const root = schemas.get(schemaRef);
  if (root) walkUnknown(object, resolveSchema(root, schemas), '', true, schemas, found);
  return found;
}

function walkUnknown(value: unknown, schema: SchemaObject | undefined, path: string, atRoot: boolean, schemas: ReadonlyMap<string, SchemaObject>, found: string[]): void {
  if (!schema || value === null || value === undefined) return;
  if (Array.isArray(value)) {
    const items = resolveSchema(schema.items, schemas);
    if (!items) return;
    value.forEach((item, index) => {
      if (typeof item === 'object' && item !== null) walkUnknown(item, items, `${path}[${index}]`, false, schemas, found);
    });
    return;
  }
  if (!isRecord(value)) return;
  const properties = schema.properties;
  const additional = typeof schema.additionalProperties === 'object' ? resolveSchema(schema.additionalProperties, schemas) : undefined;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true || schema.additionalProperties === true;
  const embedded = schema['x-kubernetes-embedded-resource'] === true;
  for (const [key, child] of Object.entries(value)) {
    const property = properties?.[key];
    if (property) {
      // Only objects and arrays can hold unknown fields: a scalar's path is never needed.
      if (typeof child === 'object' && child !== null) walkUnknown(child, resolveSchema(property, schemas), path ? `${path}.${key}` : key, false, schemas, found);
    } else if (additional) {
      if (typeof child === 'object' && child !== null) walkUnknown(child, additional, `${path}[${key}]`, false, schemas, found);
    } else if (preserve || !properties || (atRoot && ALWAYS_KNOWN_AT_ROOT.has(key)) || (embedded && EMBEDDED_KNOWN.has(key))) {
      continue; // free-form object, preserved subtree, or always-known field
    } else {
      found.push(path ? `${path}.${key}` : key);
    }
  }
}

// ----------------------------------------------------------------------------------------------------------------
// Helpers

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The value without null-valued object fields (Go's decoder treats them as absent); array items are
 * kept. Most objects have none: then the value itself, uncopied (validation only reads it).
 */
function withoutNulls(value: unknown): unknown {
  return needsCleaning(value) ? copyWithoutNulls(value) : value;
}

/** Whether copyWithoutNulls would make something different: a null field, or a "__proto__" key (which it drops). */
function needsCleaning(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(needsCleaning);
  if (!isRecord(value)) return false;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) continue;
    const child = value[key];
    if (child === null || key === '__proto__' || needsCleaning(child)) return true;
  }
  return false;
}

/** A copy without null-valued object fields; array items are kept. */
function copyWithoutNulls(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(copyWithoutNulls);
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) if (child !== null) out[key] = copyWithoutNulls(child);
  return out;
}

function isBase64(text: string): boolean {
  const compact = text.replace(/[\r\n]/g, '');
  return compact.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(compact);
}

/** RFC 3339 date-time as Go's time.RFC3339 parser accepts it (seconds required, optional fraction, Z or offset). */
function isRfc3339(text: string): boolean {
  const match = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/.exec(text);
  if (!match) return false;
  const [month, day, hour, minute, second] = [match[2], match[3], match[4], match[5], match[6]].map(Number) as [number, number, number, number, number];
  return month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour <= 23 && minute <= 59 && second <= 60;
}
