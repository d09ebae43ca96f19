import { cause } from '../../api/status.js';
import type { StatusCause } from '../../api/status.js';
import { asArray, asObject, asString, isSet, validateAnnotationMap, validateJsonPointer, validateLabelMap, validateResourceSelectors } from './common.js';
import type { KarmadaAdmissionPlugin, KarmadaAdmissionRequest } from './plugin.js';
import { validateClusterAffinity } from './placement.js';

/**
 * OverridePolicy and ClusterOverridePolicy admission (karmada-api.md §2.4, §4.5, §4.10). Only the
 * namespaced kind mutates: its selectors default to, and must stay in, the policy's namespace.
 */
const OPERATORS = ['add', 'remove', 'replace'];
const LIST_OPERATORS = ['add', 'remove'];
const IMAGE_COMPONENTS = ['Registry', 'Repository', 'Tag'];
const OVERRIDER_KINDS = ['plaintext', 'imageOverrider', 'commandOverrider', 'argsOverrider', 'labelsOverrider', 'annotationsOverrider', 'fieldOverrider'];

const policyNamespace = (request: KarmadaAdmissionRequest): string => request.namespace ?? request.object.metadata.namespace ?? '';

function mutateOverridePolicy(request: KarmadaAdmissionRequest): void {
  const namespace = policyNamespace(request);
  if (!namespace) return;
  for (const item of asArray(asObject(request.object['spec'])?.['resourceSelectors'])) {
    const selector = asObject(item);
    if (selector && !asString(selector['namespace'])) selector['namespace'] = namespace;
  }
}

function checkOperator(operator: unknown, supported: string[], field: string): StatusCause[] {
  const op = asString(operator);
  return supported.includes(op) ? [] : [cause.notSupported(field, op, supported)];
}

/** A JSON-patch style operation of a fieldOverrider: add/replace carry a value, remove does not. */
function validatePatchOperation(operation: Record<string, unknown>, path: string): StatusCause[] {
  const causes = [...validateJsonPointer(operation['subPath'], `${path}.subPath`), ...checkOperator(operation['operator'], OPERATORS, `${path}.operator`)];
  const operator = asString(operation['operator']);
  const hasValue = isSet(operation['value']);
  if ((operator === 'add' || operator === 'replace') && !hasValue) causes.push(cause.required(`${path}.value`, `a value is needed for the ${operator} operation`));
  if (operator === 'remove' && hasValue) causes.push(cause.forbidden(`${path}.value`, 'may not be set for the remove operation'));
  return causes;
}

function validateOverriders(overriders: unknown, path: string): StatusCause[] {
  const o = asObject(overriders);
  if (!o) return [];
  const causes: StatusCause[] = [];
  const each = (key: string, check: (entry: Record<string, unknown>, entryPath: string) => void): void => {
    asArray(o[key]).forEach((item, i) => {
      const entry = asObject(item);
      if (entry) check(entry, `${path}.${key}[${i}]`);
    });
  };
  each('plaintext', (entry, p) => {
    causes.push(...validateJsonPointer(entry['path'], `${p}.path`), ...checkOperator(entry['operator'], OPERATORS, `${p}.operator`));
  });
  each('imageOverrider', (entry, p) => {
    const predicate = asObject(entry['predicate']);
    if (predicate) causes.push(...validateJsonPointer(predicate['path'], `${p}.predicate.path`));
    causes.push(...checkOperator(entry['component'], IMAGE_COMPONENTS, `${p}.component`), ...checkOperator(entry['operator'], OPERATORS, `${p}.operator`));
  });
  for (const key of ['commandOverrider', 'argsOverrider']) each(key, (entry, p) => causes.push(...checkOperator(entry['operator'], LIST_OPERATORS, `${p}.operator`)));
  each('labelsOverrider', (entry, p) => {
    causes.push(...checkOperator(entry['operator'], OPERATORS, `${p}.operator`), ...validateLabelMap(entry['value'], `${p}.value`));
  });
  each('annotationsOverrider', (entry, p) => {
    causes.push(...checkOperator(entry['operator'], OPERATORS, `${p}.operator`), ...validateAnnotationMap(entry['value'], `${p}.value`));
  });
  each('fieldOverrider', (entry, p) => {
    const json = asArray(entry['json']);
    const yaml = asArray(entry['yaml']);
    if (json.length > 0 && yaml.length > 0) causes.push(cause.forbidden(p, 'json and yaml may not both be set'));
    if (json.length === 0 && yaml.length === 0) causes.push(cause.required(p, 'exactly one of json or yaml must be set'));
    causes.push(...validateJsonPointer(entry['fieldPath'], `${p}.fieldPath`));
    for (const [format, operations] of [['json', json], ['yaml', yaml]] as const) {
      operations.forEach((item, k) => {
        const operation = asObject(item);
        if (operation) causes.push(...validatePatchOperation(operation, `${p}.${format}[${k}]`));
      });
    }
  });
  return causes;
}

const hasOverriders = (overriders: unknown): boolean => {
  const o = asObject(overriders);
  return o !== undefined && OVERRIDER_KINDS.some((key) => asArray(o[key]).length > 0);
};

/** The override spec rules; `namespace` is the policy's namespace ('' for the cluster-scoped kind). */
export function validateOverrideSpec(specValue: unknown, namespace: string): StatusCause[] {
  const s = asObject(specValue);
  if (!s) return [];
  const causes: StatusCause[] = [];
  const rulesSet = isSet(s['overrideRules']);
  if (isSet(s['targetCluster'])) {
    causes.push(...validateClusterAffinity(s['targetCluster'], 'spec.targetCluster'));
    if (rulesSet) causes.push(cause.forbidden('spec.targetCluster', 'may not be set together with overrideRules'));
  }
  if (rulesSet && hasOverriders(s['overriders'])) causes.push(cause.forbidden('spec.overriders', 'may not be set together with overrideRules'));
  causes.push(...validateOverriders(s['overriders'], 'spec.overriders'));
  asArray(s['overrideRules']).forEach((item, i) => {
    const rule = asObject(item);
    if (!rule) return;
    const rulePath = `spec.overrideRules[${i}]`;
    causes.push(...validateOverriders(rule['overriders'], `${rulePath}.overriders`), ...validateClusterAffinity(rule['targetCluster'], `${rulePath}.targetCluster`));
  });
  causes.push(...validateResourceSelectors(s['resourceSelectors'], namespace, 'spec.resourceSelectors', false));
  return causes;
}

export const overridePolicyAdmission: KarmadaAdmissionPlugin = {
  mutate: mutateOverridePolicy,
  validate: (request) => validateOverrideSpec(request.object['spec'], policyNamespace(request)),
};

export const clusterOverridePolicyAdmission: KarmadaAdmissionPlugin = {
  validate: (request) => validateOverrideSpec(request.object['spec'], ''),
};
