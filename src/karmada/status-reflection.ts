import { isPlainObject, timestamp } from '../api/object.js';
import type { KubeObject } from '../api/object.js';

/**
 * What an object in a member cluster reports back to its Work (karmada-api.md §2.6, §4.4): Karmada's
 * native ReflectStatus and InterpretHealth interpreters, and the shape of one `manifestStatuses` entry.
 *
 * Reflection (Karmada's reflectstatus.go; fields in the order and with the omissions Go's JSON encoding
 * of the typed status gives):
 *  - Deployment, ReplicaSet, DaemonSet, StatefulSet: their counters and observedGeneration, wrapped with
 *    `generation` (the member object's metadata.generation) and `resourceTemplateGeneration` (the
 *    `resourcetemplate.karmada.io/generation` annotation the binding controller put on the manifest),
 *    which the aggregation needs to tell whether every member caught up with the template;
 *  - Service: `{loadBalancer}` for type LoadBalancer, nothing for other types;
 *  - Job: conditions, startTime, completionTime, active, succeeded, failed;
 *  - PodDisruptionBudget: disruptedPods, disruptionsAllowed, currentHealthy, desiredHealthy, expectedPods;
 *  - HorizontalPodAutoscaler (autoscaling/v2): currentReplicas, desiredReplicas;
 *  - Ingress and every other kind: the whole `.status`, when there is one.
 *  Nothing (undefined) when the object has no status yet, or when its status cannot be read as its kind's
 *  status type (Karmada fails the reflection then and the Work keeps what it had).
 *
 * Health (Karmada's healthy.go): native rules for Deployment, StatefulSet, ReplicaSet, DaemonSet, Service,
 * Ingress, PersistentVolumeClaim, Pod and PodDisruptionBudget; kinds without a rule are Healthy (Karmada
 * skips interpretation for them); a status that cannot be read gives Unknown.
 *
 * Where Flotilla differs on purpose:
 *  - a StatefulSet's reflection keeps its observedGeneration (Karmada drops it, so its aggregation can
 *    never mark a federated StatefulSet's observedGeneration and `kubectl rollout status sts` waits forever;
 *    Karmada's stated intent, PR #5094, is the same rule as for Deployments, which this enables);
 *  - a missing or non-integer generation annotation reads as 0 (Karmada fails the reflection); either
 *    way the template's observedGeneration does not move on that member's account;
 *  - unset condition times are left out rather than written as `null`.
 */
export type Health = 'Healthy' | 'Unhealthy' | 'Unknown';

/** Set on every propagated manifest: the template's metadata.generation it was built from. */
export const RESOURCE_TEMPLATE_GENERATION_ANNOTATION = 'resourcetemplate.karmada.io/generation';

export interface ManifestIdentifier {
  ordinal: number;
  group: string;
  version: string;
  kind: string;
  resource: string;
  namespace: string;
  name: string;
}

export interface ManifestStatus {
  identifier: ManifestIdentifier;
  status?: Record<string, unknown>;
  health?: Health;
}

type Obj = Record<string, unknown>;

/** A status field that does not decode as its Go type (Karmada's typed conversion fails on it). */
export class StatusFieldError extends Error {
  constructor(field: string, value: unknown) {
    super(`status field ${field}: unexpected ${JSON.stringify(value)}`);
    this.name = 'StatusFieldError';
  }
}

/** An int32/int64 field: absent or null is 0, anything but an integer does not decode. */
export function integerField(from: Obj | undefined, field: string): number {
  const value = from?.[field];
  if (value === undefined || value === null) return 0;
  if (typeof value === 'number' && Number.isInteger(value)) return value;
  throw new StatusFieldError(field, value);
}

/** A string field: absent or null is "". */
export function stringField(from: Obj | undefined, field: string): string {
  const value = from?.[field];
  if (value === undefined || value === null) return '';
  if (typeof value === 'string') return value;
  throw new StatusFieldError(field, value);
}

/** An object field: absent or null is undefined. */
export function objectField(from: Obj | undefined, field: string): Obj | undefined {
  const value = from?.[field];
  if (value === undefined || value === null) return undefined;
  if (isPlainObject(value)) return value;
  throw new StatusFieldError(field, value);
}

/** A list field: absent or null is empty. */
export function listField(from: Obj | undefined, field: string): unknown[] {
  const value = from?.[field];
  if (value === undefined || value === null) return [];
  if (Array.isArray(value)) return value;
  throw new StatusFieldError(field, value);
}

/** A metav1.Time field as Kubernetes writes it back (RFC 3339, UTC, seconds); absent is undefined. */
export function timeField(from: Obj | undefined, field: string): string | undefined {
  const value = from?.[field];
  if (value === undefined || value === null) return undefined;
  const parsed = typeof value === 'string' ? new Date(value) : undefined;
  if (!parsed || Number.isNaN(parsed.getTime())) throw new StatusFieldError(field, value);
  return timestamp(parsed);
}

/** Copies fields in order, leaving out Go's omitempty zero values ("", 0, false, undefined). */
export function withoutEmpty(fields: readonly (readonly [string, unknown])[]): Obj {
  const out: Obj = {};
  for (const [field, value] of fields) if (value !== undefined && value !== 0 && value !== '' && value !== false) out[field] = value;
  return out;
}

const gvk = (object: KubeObject): string => `${object.apiVersion ?? ''}/${object.kind ?? ''}`;
const asObject = (value: unknown): Obj | undefined => (isPlainObject(value) ? value : undefined);

/** The annotation as Karmada's wrapper field: an integer, 0 when missing or not one. */
function resourceTemplateGeneration(object: KubeObject): number {
  const text = object.metadata.annotations?.[RESOURCE_TEMPLATE_GENERATION_ANNOTATION];
  return text !== undefined && /^[+-]?\d+$/.test(text) ? Number(text) : 0;
}

/** The wrapper fields Karmada's FederatedGeneration adds in front of a workload's status. */
const federatedGeneration = (object: KubeObject): (readonly [string, unknown])[] => [
  ['generation', object.metadata.generation ?? 0],
  ['resourceTemplateGeneration', resourceTemplateGeneration(object)],
];

/** A LoadBalancerIngress / IngressLoadBalancerIngress as its Go type round-trips it. */
function loadBalancerIngress(entry: unknown, withIpMode: boolean): Obj {
  const ingress = asObject(entry);
  if (!ingress) throw new StatusFieldError('loadBalancer.ingress', entry);
  const ports = listField(ingress, 'ports').map((p) => {
    const port = asObject(p);
    if (!port) throw new StatusFieldError('ports', p);
    const error = port['error'];
    if (error !== undefined && error !== null && typeof error !== 'string') throw new StatusFieldError('error', error);
    return { port: integerField(port, 'port'), protocol: stringField(port, 'protocol'), ...(typeof error === 'string' ? { error } : {}) };
  });
  const ipMode = ingress['ipMode'];
  if (ipMode !== undefined && ipMode !== null && typeof ipMode !== 'string') throw new StatusFieldError('ipMode', ipMode);
  return {
    ...withoutEmpty([['ip', stringField(ingress, 'ip')], ['hostname', stringField(ingress, 'hostname')]]),
    ...(withIpMode && typeof ipMode === 'string' ? { ipMode } : {}),
    ...(ports.length > 0 ? { ports } : {}),
  };
}

/** status.loadBalancer.ingress of a Service (with ipMode) or an Ingress, as typed entries. */
export function loadBalancerIngresses(status: Obj | undefined, withIpMode: boolean): Obj[] {
  return listField(objectField(status, 'loadBalancer'), 'ingress').map((entry) => loadBalancerIngress(entry, withIpMode));
}

/** A batch/v1 JobCondition as its Go type round-trips it. */
export function jobCondition(entry: unknown): Obj {
  const condition = asObject(entry);
  if (!condition) throw new StatusFieldError('conditions', entry);
  return {
    type: stringField(condition, 'type'),
    status: stringField(condition, 'status'),
    ...withoutEmpty([
      ['lastProbeTime', timeField(condition, 'lastProbeTime')],
      ['lastTransitionTime', timeField(condition, 'lastTransitionTime')],
      ['reason', stringField(condition, 'reason')],
      ['message', stringField(condition, 'message')],
    ]),
  };
}

type Reflector = (object: KubeObject, status: Obj) => Obj | undefined;

/** Drops a reflection that came out empty ("status not collected yet", Karmada's `{}` check). */
const unlessEmpty = (reflected: Obj): Obj | undefined => (Object.keys(reflected).length > 0 ? reflected : undefined);

const REFLECTORS: Readonly<Record<string, Reflector>> = {
  'apps/v1/Deployment': (o, s) =>
    unlessEmpty(withoutEmpty([
      ...federatedGeneration(o),
      ['observedGeneration', integerField(s, 'observedGeneration')],
      ['replicas', integerField(s, 'replicas')],
      ['updatedReplicas', integerField(s, 'updatedReplicas')],
      ['readyReplicas', integerField(s, 'readyReplicas')],
      ['availableReplicas', integerField(s, 'availableReplicas')],
      ['unavailableReplicas', integerField(s, 'unavailableReplicas')],
    ])),
  'apps/v1/ReplicaSet': (o, s) => ({
    ...withoutEmpty(federatedGeneration(o)),
    replicas: integerField(s, 'replicas'),
    ...withoutEmpty([
      ['readyReplicas', integerField(s, 'readyReplicas')],
      ['availableReplicas', integerField(s, 'availableReplicas')],
      ['observedGeneration', integerField(s, 'observedGeneration')],
    ]),
  }),
  'apps/v1/DaemonSet': (o, s) => ({
    ...withoutEmpty(federatedGeneration(o)),
    currentNumberScheduled: integerField(s, 'currentNumberScheduled'),
    numberMisscheduled: integerField(s, 'numberMisscheduled'),
    desiredNumberScheduled: integerField(s, 'desiredNumberScheduled'),
    numberReady: integerField(s, 'numberReady'),
    ...withoutEmpty([
      ['observedGeneration', integerField(s, 'observedGeneration')],
      ['updatedNumberScheduled', integerField(s, 'updatedNumberScheduled')],
      ['numberAvailable', integerField(s, 'numberAvailable')],
      ['numberUnavailable', integerField(s, 'numberUnavailable')],
    ]),
  }),
  'apps/v1/StatefulSet': (o, s) => ({
    ...withoutEmpty([...federatedGeneration(o), ['observedGeneration', integerField(s, 'observedGeneration')]]),
    replicas: integerField(s, 'replicas'),
    ...withoutEmpty([
      ['readyReplicas', integerField(s, 'readyReplicas')],
      ['currentReplicas', integerField(s, 'currentReplicas')],
      ['updatedReplicas', integerField(s, 'updatedReplicas')],
    ]),
    availableReplicas: integerField(s, 'availableReplicas'),
  }),
  'v1/Service': (_o, s) => {
    const ingress = loadBalancerIngresses(s, true);
    return { loadBalancer: ingress.length > 0 ? { ingress } : {} };
  },
  'batch/v1/Job': (_o, s) => {
    const conditions = listField(s, 'conditions').map(jobCondition);
    return {
      ...(conditions.length > 0 ? { conditions } : {}),
      ...withoutEmpty([
        ['startTime', timeField(s, 'startTime')],
        ['completionTime', timeField(s, 'completionTime')],
        ['active', integerField(s, 'active')],
        ['succeeded', integerField(s, 'succeeded')],
        ['failed', integerField(s, 'failed')],
      ]),
    };
  },
  'policy/v1/PodDisruptionBudget': (_o, s) => {
    const disrupted = objectField(s, 'disruptedPods') ?? {};
    const disruptedPods: Obj = {};
    for (const pod of Object.keys(disrupted)) disruptedPods[pod] = timeField(disrupted, pod);
    return {
      ...(Object.keys(disruptedPods).length > 0 ? { disruptedPods } : {}),
      disruptionsAllowed: integerField(s, 'disruptionsAllowed'),
      currentHealthy: integerField(s, 'currentHealthy'),
      desiredHealthy: integerField(s, 'desiredHealthy'),
      expectedPods: integerField(s, 'expectedPods'),
    };
  },
  'autoscaling/v2/HorizontalPodAutoscaler': (_o, s) => ({
    ...withoutEmpty([['currentReplicas', integerField(s, 'currentReplicas')]]),
    desiredReplicas: integerField(s, 'desiredReplicas'),
  }),
};

/**
 * Karmada's ReflectStatus for a member object: what goes into `manifestStatuses[].status`; undefined
 * when there is nothing to reflect (no status yet, a Service that is not a LoadBalancer, a status that
 * does not decode).
 */
export function reflectStatus(object: KubeObject): Record<string, unknown> | undefined {
  const key = gvk(object);
  // A Service's type decides before its status is looked at; no type, nothing to reflect.
  if (key === 'v1/Service' && asObject(object['spec'])?.['type'] !== 'LoadBalancer') return undefined;
  const status = object['status'];
  if (!isPlainObject(status)) return undefined;
  const reflector = REFLECTORS[key];
  if (!reflector) return structuredClone(status);
  try {
    return reflector(object, status);
  } catch (err) {
    if (err instanceof StatusFieldError) return undefined;
    throw err;
  }
}

type HealthRule = (object: KubeObject, status: Obj | undefined, spec: Obj | undefined) => boolean;

/** Status counters every rolling workload is judged by: generation observed, updated, available. */
function rolledOut(object: KubeObject, status: Obj | undefined, spec: Obj | undefined): boolean {
  if (integerField(status, 'observedGeneration') !== (object.metadata.generation ?? 0)) return false;
  const updated = integerField(status, 'updatedReplicas');
  if (spec?.['replicas'] !== undefined && spec['replicas'] !== null && updated < integerField(spec, 'replicas')) return false;
  return integerField(status, 'availableReplicas') >= updated;
}

/** Some load balancer entry has an address (ip or hostname). */
const hasAddress = (status: Obj | undefined, withIpMode: boolean): boolean =>
  loadBalancerIngresses(status, withIpMode).some((ingress) => ingress['ip'] !== undefined || ingress['hostname'] !== undefined);

const HEALTH_RULES: Readonly<Record<string, HealthRule>> = {
  'apps/v1/Deployment': rolledOut,
  'apps/v1/StatefulSet': rolledOut,
  'apps/v1/ReplicaSet': (o, s, spec) => {
    if (integerField(s, 'observedGeneration') !== (o.metadata.generation ?? 0)) return false;
    return spec?.['replicas'] === undefined || spec['replicas'] === null || integerField(s, 'availableReplicas') >= integerField(spec, 'replicas');
  },
  'apps/v1/DaemonSet': (o, s) => {
    if (integerField(s, 'observedGeneration') !== (o.metadata.generation ?? 0)) return false;
    const updated = integerField(s, 'updatedNumberScheduled');
    return updated >= integerField(s, 'desiredNumberScheduled') && integerField(s, 'numberAvailable') >= updated;
  },
  'v1/Service': (_o, s, spec) => stringField(spec, 'type') !== 'LoadBalancer' || hasAddress(s, true),
  'networking.k8s.io/v1/Ingress': (_o, s) => hasAddress(s, false),
  'v1/PersistentVolumeClaim': (_o, s) => stringField(s, 'phase') === 'Bound',
  'v1/Pod': (_o, s) => {
    const phase = stringField(s, 'phase');
    if (phase === 'Succeeded') return true;
    const ready = listField(s, 'conditions').map(asObject).find((c) => c?.['type'] === 'Ready');
    return phase === 'Running' && ready?.['status'] === 'True';
  },
  'policy/v1/PodDisruptionBudget': (_o, s) => integerField(s, 'currentHealthy') >= integerField(s, 'desiredHealthy'),
};

/** Karmada's InterpretHealth as the work-status controller reports it. */
export function interpretHealth(object: KubeObject): Health {
  const rule = HEALTH_RULES[gvk(object)];
  if (!rule) return 'Healthy';
  try {
    const status = objectField(object, 'status');
    const spec = objectField(object, 'spec');
    return rule(object, status, spec) ? 'Healthy' : 'Unhealthy';
  } catch (err) {
    if (err instanceof StatusFieldError) return 'Unknown';
    throw err;
  }
}

/**
 * One `manifestStatuses` entry: the identifier (Go field order; empty group and namespace left out,
 * `resource` always written), the reflected status when there is one, and the health. The object's
 * kind is taken from the identifier when the object does not carry it (list items from a member
 * apiserver have no apiVersion/kind).
 */
export function manifestStatus(identifier: ManifestIdentifier, object: KubeObject): ManifestStatus {
  const id = {
    ordinal: identifier.ordinal,
    ...(identifier.group ? { group: identifier.group } : {}),
    version: identifier.version,
    kind: identifier.kind,
    resource: identifier.resource,
    ...(identifier.namespace ? { namespace: identifier.namespace } : {}),
    name: identifier.name,
  } as ManifestIdentifier;
  const typed: KubeObject =
    object.apiVersion && object.kind
      ? object
      : { ...object, apiVersion: identifier.group ? `${identifier.group}/${identifier.version}` : identifier.version, kind: identifier.kind };
  const status = reflectStatus(typed);
  return { identifier: id, ...(status ? { status } : {}), health: interpretHealth(typed) };
}
