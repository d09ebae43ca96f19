import { isPlainObject } from '../api/object.js';
import { loadSchemas, refName } from './schemas.js';
import type { SchemaObject } from './schemas.js';

/**
 * Structural-schema defaulting (CRDs, and any schema with `default:`): a missing property with a
 * default gets it, recursively, but only where its parent object exists — as kube applies CRD
 * defaults on every write.
 */
export function applyDefaults(object: unknown, schemaRef: string, extraSchemas?: ReadonlyMap<string, SchemaObject>): void {
  const builtin = loadSchemas();
  const lookup = (name: string): SchemaObject | undefined => extraSchemas?.get(name) ?? builtin.get(name);
  walk(object, lookup(schemaRef), lookup, 0);
}

type Lookup = (name: string) => SchemaObject | undefined;

function resolve(schema: SchemaObject | undefined, schemas: Lookup): SchemaObject | undefined {
  let current = schema;
  for (let hops = 0; current?.$ref && hops < 16; hops++) {
    const name = refName(current.$ref);
    current = name ? schemas(name) : undefined;
  }
  return current;
}

function walk(value: unknown, schemaIn: SchemaObject | undefined, schemas: Lookup, depth: number): void {
  const schema = resolve(schemaIn, schemas);
  if (!schema || depth > 64) return;
  for (const part of schema.allOf ?? []) walk(value, part, schemas, depth + 1);
  if (isPlainObject(value)) {
    for (const [key, propertySchema] of Object.entries(schema.properties ?? {})) {
      const property = resolve(propertySchema, schemas);
      if (value[key] === undefined && property?.default !== undefined) value[key] = structuredClone(property.default);
      if (value[key] !== undefined) walk(value[key], propertySchema, schemas, depth + 1);
    }
    if (isPlainObject(schema.additionalProperties)) {
      for (const key of Object.keys(value)) if (!schema.properties?.[key]) walk(value[key], schema.additionalProperties, schemas, depth + 1);
    }
  } else if (Array.isArray(value) && schema.items) {
    for (const item of value) walk(item, schema.items, schemas, depth + 1);
  }
}
