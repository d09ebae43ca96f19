import type { KubeObject } from '../api/object.js';
import { errors } from '../api/status.js';
import type { StatusCause } from '../api/status.js';
import type { ResourceDefinition } from '../registry/resource.js';
import { unknownFields, validatorFor } from '../openapi/validator.js';
import { applyDefaults } from '../openapi/defaulting.js';
import type { SchemaObject } from '../openapi/schemas.js';

/**
 * The admission step of every write, after the kind's strategy and before storage, in kube's order:
 * decoding (schema defaults; unknown fields dropped always, a 400 under Strict, a `Warning` under
 * Warn), mutating plugins, schema validation (422 Invalid with one cause per field), validating
 * plugins. Plugins are in-process admission for kinds that need it (Karmada's webhooks); external
 * webhooks plug in at the same two points. Deletes pass the delete checks.
 */
export interface AdmitOptions {
  readonly fieldValidation: 'Strict' | 'Warn' | 'Ignore';
  /** Warnings for the response's Warning headers. */
  readonly warnings: string[];
}

export interface Admission {
  admit(def: ResourceDefinition, object: KubeObject, old: KubeObject | undefined, options: AdmitOptions): Promise<void>;
  /** Throws (403 Forbidden) when the object may not be deleted. */
  admitDelete(def: ResourceDefinition, current: KubeObject): Promise<void>;
  /**
   * Unknown-field handling of an object written at a non-storage version, against that version's
   * schema, before conversion (which keeps only the fields it knows): 400 under Strict, warnings under Warn.
   */
  checkFields(schemaRef: string, object: KubeObject, options: AdmitOptions): void;
}

export interface AdmissionRequest {
  readonly operation: 'CREATE' | 'UPDATE';
  readonly namespace: string | undefined;
  /** The object being written; mutating plugins change it in place. */
  readonly object: KubeObject;
  readonly old: KubeObject | undefined;
}

/** In-process admission for one kind. */
export interface AdmissionPlugin {
  mutate?(request: AdmissionRequest): void;
  /** Every problem found (empty = admitted). */
  validate?(request: AdmissionRequest): StatusCause[];
}

export interface AdmissionConfig {
  /** Runtime schemas (served CRDs); read on every call because the map is replaced when CRDs change. */
  readonly runtimeSchemas?: () => ReadonlyMap<string, SchemaObject>;
  /** Plugins by "group/Kind". */
  readonly plugins?: Readonly<Record<string, AdmissionPlugin>>;
  /** Checks every delete passes: a message denies it. */
  readonly deleteChecks?: readonly ((object: KubeObject) => string | undefined)[];
  /** Name of the plugin set, as a webhook name would appear in denials. */
  readonly name?: string;
}

export class SchemaAdmission implements Admission {
  private readonly runtimeSchemas: () => ReadonlyMap<string, SchemaObject>;
  private readonly plugins: Readonly<Record<string, AdmissionPlugin>>;
  private readonly deleteChecks: readonly ((object: KubeObject) => string | undefined)[];

  constructor(config: AdmissionConfig = {}) {
    this.runtimeSchemas = config.runtimeSchemas ?? (() => new Map());
    this.plugins = config.plugins ?? {};
    this.deleteChecks = config.deleteChecks ?? [];
  }

  async admit(def: ResourceDefinition, object: KubeObject, old: KubeObject | undefined, options: AdmitOptions): Promise<void> {
    const plugin = this.plugins[`${def.group}/${def.kind}`];
    const request: AdmissionRequest = { operation: old ? 'UPDATE' : 'CREATE', namespace: object.metadata.namespace, object, old };
    const { schemaRef } = def;
    if (schemaRef) this.decode(def, schemaRef, object, options);
    plugin?.mutate?.(request);
    if (schemaRef) this.validateSchema(def, schemaRef, object);
    const causes = plugin?.validate?.(request) ?? [];
    if (causes.length > 0) throw errors.invalid(def.kind, def.group, object.metadata.name ?? '', causes);
  }

  async admitDelete(def: ResourceDefinition, current: KubeObject): Promise<void> {
    for (const check of this.deleteChecks) {
      const denial = check(current);
      if (denial !== undefined) throw errors.forbidden(denial, { resource: def.plural, group: def.group, name: current.metadata.name ?? '' });
    }
  }

  checkFields(schemaRef: string, object: KubeObject, options: AdmitOptions): void {
    this.unknownFields(schemaRef, object, options);
  }

  /** What decoding does: schema defaults (custom and declared kinds) and unknown-field handling. */
  private decode(def: ResourceDefinition, schemaRef: string, object: KubeObject, options: AdmitOptions): void {
    // Custom and declared (Karmada) kinds get their schema's defaults; built-in kinds are defaulted by their strategies.
    if (def.fromCrd !== undefined || def.crdSemantics === true) applyDefaults(object, schemaRef, this.runtimeSchemas());
    for (const f of this.unknownFields(schemaRef, object, options)) removePath(object, f);
  }

  /** Unknown fields of the object: a 400 under Strict, warnings under Warn; returned for pruning. */
  private unknownFields(schemaRef: string, object: KubeObject, options: AdmitOptions): string[] {
    const unknown = unknownFields(object, schemaRef, this.runtimeSchemas());
    if (unknown.length > 0 && options.fieldValidation === 'Strict') {
      throw errors.badRequest(`strict decoding error: ${unknown.map((f) => `unknown field "${f}"`).join(', ')}`);
    }
    if (options.fieldValidation === 'Warn') for (const f of unknown) options.warnings.push(`unknown field "${f}"`);
    return unknown;
  }

  private validateSchema(def: ResourceDefinition, schemaRef: string, object: KubeObject): void {
    const result = validatorFor(schemaRef, { extraSchemas: this.runtimeSchemas() })(object);
    // A built-in kind's JSON that does not fit its Go types fails decoding in kube: 400, not 422.
    const typeError = def.fromCrd !== undefined || def.crdSemantics === true ? undefined : result.errors.find((e) => e.kind === 'type');
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
