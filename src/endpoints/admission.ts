import type { KubeObject } from '../api/object.js';
import { errors } from '../api/status.js';
import type { StatusCause } from '../api/status.js';
import type { ResourceDefinition } from '../registry/resource.js';
import { unknownFields, validatorFor } from '../openapi/validator.js';
import { applyDefaults } from '../openapi/defaulting.js';
import type { SchemaObject } from '../openapi/schemas.js';

/**
 * The admission step of every write, after defaulting and before storage: schema validation against
 * the kind's OpenAPI schema (422 Invalid with one cause per field) and field validation of unknown
 * fields — dropped (pruned) always, a 400 under Strict, a `Warning` under Warn.
 * Webhooks and Karmada's built-in admission plug in here.
 */
export interface AdmitOptions {
  readonly fieldValidation: 'Strict' | 'Warn' | 'Ignore';
  /** Warnings for the response's Warning headers. */
  readonly warnings: string[];
}

export interface Admission {
  admit(def: ResourceDefinition, object: KubeObject, old: KubeObject | undefined, options: AdmitOptions): Promise<void>;
}

export class SchemaAdmission implements Admission {
  /** Runtime schemas (served CRDs); read on every call because the map is replaced when CRDs change. */
  private readonly runtimeSchemas: () => ReadonlyMap<string, SchemaObject>;

  constructor(runtimeSchemas: () => ReadonlyMap<string, SchemaObject> = () => new Map()) {
    this.runtimeSchemas = runtimeSchemas;
  }

  async admit(def: ResourceDefinition, object: KubeObject, _old: KubeObject | undefined, options: AdmitOptions): Promise<void> {
    if (!def.schemaRef) return;
    const extraSchemas = this.runtimeSchemas();
    // Custom resources get their schema's defaults (built-in kinds are defaulted by their strategies).
    if (def.fromCrd) applyDefaults(object, def.schemaRef, extraSchemas);
    const unknown = unknownFields(object, def.schemaRef, extraSchemas);
    if (unknown.length > 0) {
      if (options.fieldValidation === 'Strict') {
        throw errors.badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
      }
      if (options.fieldValidation === 'Warn') for (const f of unknown) options.warnings.push(`unknown field "${f}"`);
      for (const f of unknown) removePath(object, f);
    }
    const result = validatorFor(def.schemaRef, { extraSchemas })(object);
    // A built-in kind's JSON that does not fit its Go types fails decoding in kube: 400, not 422.
    const typeError = def.fromCrd ? undefined : result.errors.find((e) => e.kind === 'type');
    if (typeError) {
      const version = def.versions[0] as string;
      throw errors.badRequest(`${def.kind} in version "${version}" cannot be handled as a ${def.kind}: ${typeError.path}: ${typeError.message}`);
    }
    if (result.errors.length > 0) {
      const causes: StatusCause[] = result.errors.map((e) => ({
        reason: e.kind === 'required' ? 'FieldValueRequired' : e.kind === 'enum' ? 'FieldValueNotSupported' : 'FieldValueTypeInvalid',
        field: e.path,
        message: e.message,
      }));
      throw errors.invalid(def.kind, def.group, object.metadata.name ?? '', causes);
    }
  }
}

/** Removes the field at a kube field path like `spec.template.spec.containers[0].foo`. */
function removePath(object: Record<string, unknown>, path: string): void {
  const segments = path.match(/[^.[\]]+|\[\d+\]/g) ?? [];
  let target: unknown = object;
  for (const segment of segments.slice(0, -1)) {
    const index = /^\[(\d+)\]$/.exec(segment);
    target = index ? (Array.isArray(target) ? target[Number(index[1])] : undefined) : (target as Record<string, unknown> | undefined)?.[segment];
    if (typeof target !== 'object' || target === null) return;
  }
  const last = segments[segments.length - 1];
  if (last !== undefined && !Array.isArray(target)) delete (target as Record<string, unknown>)[last];
}
