import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/**
 * The schema sources in openapi/*.yaml, loaded once into one map keyed by Kubernetes definition name
 * ("io.k8s.api.apps.v1.Deployment"). They are the single source of truth for validation, /openapi/v2,
 * /openapi/v3, kubectl explain, defaulting and strategic-merge keys.
 */

/** An OpenAPI 3.0 schema object with the x-kubernetes-* extensions Kubernetes publishes. Loose on purpose:
 * CRD schemas registered at runtime may use any JSON-schema keyword. */
export interface SchemaObject {
  readonly description?: string;
  readonly type?: string;
  readonly format?: string;
  readonly properties?: Readonly<Record<string, SchemaObject>>;
  readonly required?: readonly string[];
  readonly items?: SchemaObject;
  readonly additionalProperties?: SchemaObject | boolean;
  readonly allOf?: readonly SchemaObject[];
  readonly $ref?: string;
  readonly enum?: readonly unknown[];
  readonly default?: unknown;
  readonly nullable?: boolean;
  readonly 'x-kubernetes-group-version-kind'?: readonly GroupVersionKind[];
  readonly 'x-kubernetes-preserve-unknown-fields'?: boolean;
  readonly 'x-kubernetes-int-or-string'?: boolean;
  readonly 'x-kubernetes-embedded-resource'?: boolean;
  readonly 'x-kubernetes-patch-merge-key'?: string;
  readonly 'x-kubernetes-patch-strategy'?: string;
  readonly 'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  readonly 'x-kubernetes-list-map-keys'?: readonly string[];
  readonly 'x-kubernetes-map-type'?: 'atomic' | 'granular';
  readonly [keyword: string]: unknown;
}

export interface GroupVersionKind {
  readonly group: string;
  readonly version: string;
  readonly kind: string;
}

/** Prefix of every reference between schemas, OpenAPI 3 style. */
export const COMPONENT_REF_PREFIX = '#/components/schemas/';

/** The component name a `$ref` points at, or undefined for references outside components.schemas. */
export function refName(ref: string): string | undefined {
  return ref.startsWith(COMPONENT_REF_PREFIX) ? ref.slice(COMPONENT_REF_PREFIX.length) : undefined;
}

/**
 * The openapi/ folder. From src/openapi/ (tsx) it is ../../openapi; from dist/src/openapi/ (built) it is
 * ../../../openapi. The first candidate holding YAML files wins.
 */
export function openApiDirectory(): string {
  const candidates = ['../../openapi/', '../../../openapi/'].map((relative) => fileURLToPath(new URL(relative, import.meta.url)));
  const found = candidates.find((dir) => existsSync(dir) && readdirSync(dir).some((name) => name.endsWith('.yaml')));
  if (!found) throw new Error(`openapi schema folder not found (looked in ${candidates.join(', ')})`);
  return found;
}

let cache: ReadonlyMap<string, SchemaObject> | undefined;

/** Every schema of every openapi/*.yaml file; loaded on first use and cached. */
export function loadSchemas(): ReadonlyMap<string, SchemaObject> {
  if (cache) return cache;
  const dir = openApiDirectory();
  const schemas = new Map<string, SchemaObject>();
  const origin = new Map<string, string>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.yaml')).sort()) {
    const document = parseYaml(readFileSync(`${dir}${file}`, 'utf8')) as { components?: { schemas?: Record<string, SchemaObject> } } | null;
    const entries = document?.components?.schemas;
    if (!entries) throw new Error(`openapi/${file}: no components.schemas`);
    for (const [name, schema] of Object.entries(entries)) {
      const previous = origin.get(name);
      if (previous) throw new Error(`openapi/${file}: schema ${name} is already defined in openapi/${previous}`);
      origin.set(name, file);
      schemas.set(name, deepFreeze(schema));
    }
  }
  cache = schemas;
  return schemas;
}

/** One schema by definition name, e.g. schemaFor("io.k8s.api.core.v1.PodSpec"). */
export function schemaFor(name: string): SchemaObject | undefined {
  return loadSchemas().get(name);
}

/** Base schemas overlaid with runtime ones (CRDs, Karmada kinds); runtime entries win on a name clash. */
export function withExtraSchemas(extra?: ReadonlyMap<string, SchemaObject>): ReadonlyMap<string, SchemaObject> {
  if (!extra || extra.size === 0) return loadSchemas();
  const merged = new Map(loadSchemas());
  for (const [name, schema] of extra) merged.set(name, schema);
  return merged;
}

/** Every component name a schema refers to directly (through $ref anywhere inside it). */
export function directRefs(schema: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(schema)) {
    for (const item of schema) directRefs(item, into);
  } else if (typeof schema === 'object' && schema !== null) {
    for (const [key, value] of Object.entries(schema)) {
      if (key === '$ref' && typeof value === 'string') {
        const name = refName(value);
        if (name !== undefined) into.add(name);
      } else if (key !== 'enum' && key !== 'default' && key !== 'example') {
        directRefs(value, into);
      }
    }
  }
  return into;
}

/** The named schemas plus everything they reference, transitively. Unknown names are skipped. */
export function schemaClosure(roots: Iterable<string>, schemas: ReadonlyMap<string, SchemaObject>): Map<string, SchemaObject> {
  const closure = new Map<string, SchemaObject>();
  const pending = [...roots];
  while (pending.length > 0) {
    const name = pending.pop() as string;
    if (closure.has(name)) continue;
    const schema = schemas.get(name);
    if (!schema) continue;
    closure.set(name, schema);
    for (const ref of directRefs(schema)) if (!closure.has(ref)) pending.push(ref);
  }
  return new Map([...closure].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/** Follows `$ref` and the single-element `allOf: [{$ref}]` wrapper Kubernetes uses for described references. */
export function resolveSchema(schema: SchemaObject | undefined, schemas: ReadonlyMap<string, SchemaObject>): SchemaObject | undefined {
  let current = schema;
  for (let depth = 0; current && depth < 32; depth++) {
    const ref = current.$ref ?? (current.allOf?.length === 1 ? current.allOf[0]?.$ref : undefined);
    if (ref === undefined) return current;
    const name = refName(ref);
    const target = name === undefined ? undefined : schemas.get(name);
    if (!target) return current.$ref !== undefined ? undefined : withoutAllOf(current);
    current = target;
  }
  return current;
}

function withoutAllOf(schema: SchemaObject): SchemaObject {
  const { allOf: _allOf, ...rest } = schema;
  return rest;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
