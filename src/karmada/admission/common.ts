import { randomUUID } from 'node:crypto';
import { isPlainObject } from '../../api/object.js';
import type { KubeObject } from '../../api/object.js';
import { labelSelectorFromObject } from '../../api/label-selector.js';
import type { LabelSelectorObject } from '../../api/label-selector.js';
import { cause } from '../../api/status.js';
import type { StatusCause } from '../../api/status.js';

/**
 * Small helpers shared by the Karmada admission plugins. Objects arrive as plain JSON that the schema
 * may not have checked yet (mutation runs before schema validation), so every reader tolerates odd
 * shapes: a wrong type reads as "absent" and is left for the schema to report.
 */
export type Obj = Record<string, unknown>;

export const asObject = (value: unknown): Obj | undefined => (isPlainObject(value) ? value : undefined);
export const asArray = (value: unknown): readonly unknown[] => (Array.isArray(value) ? value : []);
export const asString = (value: unknown): string => (typeof value === 'string' ? value : '');
export const asNumber = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
/** Set in the JSON at all (a Go pointer or slice that is non-nil). */
export const isSet = (value: unknown): boolean => value !== undefined && value !== null;

export const spec = (object: KubeObject): Obj | undefined => asObject(object['spec']);

/** A label's value on the object; undefined when absent. */
export const labelValue = (object: KubeObject | undefined, key: string): string | undefined => {
  const labels = object?.metadata.labels;
  return isPlainObject(labels) && typeof labels[key] === 'string' ? labels[key] : undefined;
};

/** Sets a label, creating metadata.labels when needed. */
export function setLabel(object: KubeObject, key: string, value: string): void {
  if (!isPlainObject(object.metadata.labels)) object.metadata.labels = {};
  object.metadata.labels[key] = value;
}

/** Sets the label to a fresh UUID unless it already has a non-empty value. */
export function ensureIdLabel(object: KubeObject, key: string): void {
  if (!labelValue(object, key)) setLabel(object, key, randomUUID());
}

export function addFinalizer(object: KubeObject, finalizer: string): void {
  const finalizers = Array.isArray(object.metadata.finalizers) ? object.metadata.finalizers : [];
  if (!finalizers.includes(finalizer)) finalizers.push(finalizer);
  object.metadata.finalizers = finalizers;
}

// ---- label keys and values: kube's rules, as the label-selector parser enforces them ----

function selectorProblem(selector: LabelSelectorObject): string | undefined {
  try {
    labelSelectorFromObject(selector);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

const detailAfter = (message: string, prefix: string): string => (message.startsWith(prefix) ? message.slice(prefix.length) : message);

/** Why `key` is not a valid label key (a qualified name with optional DNS-subdomain prefix), or undefined. */
export function labelKeyProblem(key: string): string | undefined {
  const message = selectorProblem({ matchExpressions: [{ key, operator: 'Exists' }] });
  return message === undefined ? undefined : detailAfter(message, `key: Invalid value: ${JSON.stringify(key)}: `);
}

/** Why `value` is not a valid label value, or undefined. */
export function labelValueProblem(value: string): string | undefined {
  const message = selectorProblem({ matchLabels: { k: value } });
  return message === undefined ? undefined : detailAfter(message, `values[0][k]: Invalid value: ${JSON.stringify(value)}: `);
}

export function validateLabelKey(key: unknown, field: string): StatusCause[] {
  const text = asString(key);
  const problem = labelKeyProblem(text);
  return problem === undefined ? [] : [cause.invalid(field, text, problem)];
}

export function validateLabelValue(value: unknown, field: string): StatusCause[] {
  if (typeof value !== 'string') return [];
  const problem = labelValueProblem(value);
  return problem === undefined ? [] : [cause.invalid(field, value, problem)];
}

/** metav1 ValidateLabels: every key a qualified name, every value a label value (entries as `path[key]`). */
export function validateLabelMap(labels: unknown, field: string): StatusCause[] {
  const map = asObject(labels);
  if (!map) return [];
  const causes: StatusCause[] = [];
  for (const [key, value] of Object.entries(map)) {
    causes.push(...validateLabelKey(key, `${field}[${key}]`), ...validateLabelValue(value, `${field}[${key}]`));
  }
  return causes;
}

/** 256 KiB: kube's limit on the total size of an object's annotations. */
export const ANNOTATIONS_SIZE_LIMIT = 256 * 1024;

/** kube's ValidateAnnotations: keys are qualified names (case-insensitive), total size at most 256 KiB. */
export function validateAnnotationMap(annotations: unknown, field: string): StatusCause[] {
  const map = asObject(annotations);
  if (!map) return [];
  const causes: StatusCause[] = [];
  let size = 0;
  for (const [key, value] of Object.entries(map)) {
    size += Buffer.byteLength(key) + (typeof value === 'string' ? Buffer.byteLength(value) : 0);
    const problem = labelKeyProblem(key.toLowerCase());
    if (problem !== undefined) causes.push(cause.invalid(`${field}[${key}]`, key, problem));
  }
  if (size > ANNOTATIONS_SIZE_LIMIT) {
    causes.push({ reason: 'FieldValueTooLong', field, message: `Too long: may not be more than ${ANNOTATIONS_SIZE_LIMIT} bytes` });
  }
  return causes;
}

const SELECTOR_OPERATORS = ['DoesNotExist', 'Exists', 'In', 'NotIn'];

/** A metav1.LabelSelector that the label-selector machinery can turn into a selector. */
export function validateLabelSelector(selector: unknown, field: string): StatusCause[] {
  const sel = asObject(selector);
  if (!sel) return [];
  const causes: StatusCause[] = [];
  causes.push(...validateLabelMap(sel['matchLabels'], `${field}.matchLabels`));
  asArray(sel['matchExpressions']).forEach((item, i) => {
    const expr = asObject(item);
    if (!expr) return;
    const path = `${field}.matchExpressions[${i}]`;
    causes.push(...validateLabelKey(expr['key'], `${path}.key`));
    const operator = asString(expr['operator']);
    const values = asArray(expr['values']);
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0) causes.push(cause.required(`${path}.values`, 'must be specified when `operator` is \'In\' or \'NotIn\''));
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length > 0) causes.push(cause.forbidden(`${path}.values`, 'may not be specified when `operator` is \'Exists\' or \'DoesNotExist\''));
    } else {
      causes.push(cause.notSupported(`${path}.operator`, operator, SELECTOR_OPERATORS));
    }
    values.forEach((value, j) => causes.push(...validateLabelValue(value, `${path}.values[${j}]`)));
  });
  return causes;
}

/** What go-openapi's jsonpointer accepts: the empty pointer or one starting with "/". */
export function validateJsonPointer(pointer: unknown, field: string): StatusCause[] {
  if (typeof pointer !== 'string') return [];
  if (pointer === '' || pointer.startsWith('/')) return [];
  return [cause.invalid(field, pointer, 'must be a JSON pointer (RFC 6901): empty or starting with "/"')];
}

/** A Required cause when the field is absent or empty (other types are the schema's to report). */
export function requireString(value: unknown, field: string, detail = ''): StatusCause[] {
  return value === undefined || value === null || value === '' ? [cause.required(field, detail)] : [];
}

/**
 * resourceSelectors of a propagation or override policy: apiVersion and kind given, a well-formed
 * label selector, the policy's own namespace (namespaced policies; '' for cluster-scoped ones), and
 * with preemption Always a name on every selector.
 */
export function validateResourceSelectors(selectors: unknown, namespace: string, path: string, preemptAlways: boolean): StatusCause[] {
  const causes: StatusCause[] = [];
  asArray(selectors).forEach((item, i) => {
    const selector = asObject(item);
    if (!selector) return;
    const itemPath = `${path}[${i}]`;
    causes.push(...requireString(selector['apiVersion'], `${itemPath}.apiVersion`), ...requireString(selector['kind'], `${itemPath}.kind`));
    if (namespace) {
      const selected = asString(selector['namespace']);
      if (selected !== namespace) causes.push(cause.invalid(`${itemPath}.namespace`, selected, `must be the policy's own namespace "${namespace}"`));
    }
    if (preemptAlways && !asString(selector['name'])) {
      causes.push(cause.required(`${itemPath}.name`, 'every resource selector must name its resource when preemption is Always, or the policy could preempt resources it was not meant for'));
    }
    causes.push(...validateLabelSelector(selector['labelSelector'], `${itemPath}.labelSelector`));
  });
  return causes;
}
