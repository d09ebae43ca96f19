import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';

/**
 * What a member object reports back to its Work (karmada-api.md §2.6, §4.4): Karmada's native
 * ReflectStatus and InterpretHealth.
 *  - Reflection: Deployment, ReplicaSet, DaemonSet and StatefulSet keep their replica counters and
 *    observedGeneration plus the wrapper fields `generation` (the member object's) and
 *    `resourceTemplateGeneration` (from `resourcetemplate.karmada.io/generation`), which the
 *    aggregation uses to tell whether every member caught up with the template; a Service keeps its
 *    load balancer (LoadBalancer type only); a Job its conditions, counters and times; any other kind
 *    its whole status. Nothing when the object has no status yet.
 *  - Health: native rules for Deployment, StatefulSet, ReplicaSet, DaemonSet, Service, Ingress,
 *    PersistentVolumeClaim, Pod and PodDisruptionBudget; other kinds are Healthy.
 */
export type Health = 'Healthy' | 'Unhealthy' | 'Unknown';
export const RESOURCE_TEMPLATE_GENERATION_ANNOTATION = 'resourcetemplate.karmada.io/generation';

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (isPlainObject(value) ? value : undefined);
const num = (value: unknown): number => (typeof value === 'number' ? value : 0);

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

const pick = (status: Obj, fields: readonly string[]): Obj => {
  const out: Obj = {};
  for (const field of fields) if (status[field] !== undefined && status[field] !== 0) out[field] = status[field];
  return out;
};

function withGenerations(object: KubeObject, status: Obj, fields: readonly string[]): Obj {
  const templateGeneration = Number(object.metadata.annotations?.[RESOURCE_TEMPLATE_GENERATION_ANNOTATION] ?? 0);
  const out: Obj = {};
  if (object.metadata.generation) out['generation'] = object.metadata.generation;
  if (templateGeneration) out['resourceTemplateGeneration'] = templateGeneration;
  return { ...out, ...pick(status, fields) };
}

const REFLECTORS: Readonly<Record<string, (object: KubeObject, status: Obj) => Obj | undefined>> = {
  'apps/v1/Deployment': (o, s) => withGenerations(o, s, ['replicas', 'updatedReplicas', 'readyReplicas', 'availableReplicas', 'unavailableReplicas', 'observedGeneration']),
  'apps/v1/ReplicaSet': (o, s) => withGenerations(o, s, ['replicas', 'readyReplicas', 'availableReplicas', 'observedGeneration']),
  'apps/v1/DaemonSet': (o, s) => withGenerations(o, s, ['currentNumberScheduled', 'desiredNumberScheduled', 'numberAvailable', 'numberMisscheduled', 'numberReady', 'updatedNumberScheduled', 'numberUnavailable', 'observedGeneration']),
  'apps/v1/StatefulSet': (o, s) => withGenerations(o, s, ['availableReplicas', 'currentReplicas', 'readyReplicas', 'replicas', 'updatedReplicas', 'observedGeneration']),
  'batch/v1/Job': (_o, s) => pick(s, ['active', 'succeeded', 'failed', 'startTime', 'completionTime', 'conditions']),
  'v1/Service': (o, s) => (obj(o['spec'])?.['type'] === 'LoadBalancer' ? pick(s, ['loadBalancer']) : undefined),
};

export function reflectStatus(object: KubeObject): Record<string, unknown> | undefined {
  const status = obj(object['status']);
  if (!status) return undefined;
  const reflector = REFLECTORS[`${object.apiVersion ?? ''}/${object.kind ?? ''}`];
  const reflected = reflector ? reflector(object, status) : status;
  return reflected && Object.keys(reflected).length > 0 ? reflected : undefined;
}

const conditionTrue = (status: Obj | undefined, type: string): boolean =>
  (Array.isArray(status?.['conditions']) ? (status['conditions'] as unknown[]) : []).some((c) => obj(c)?.['type'] === type && obj(c)?.['status'] === 'True');

const HEALTH: Readonly<Record<string, (object: KubeObject) => boolean>> = {
  'apps/v1/Deployment': (o) => {
    const s = obj(o['status']) ?? {};
    const replicas = obj(o['spec'])?.['replicas'];
    return num(s['observedGeneration']) === num(o.metadata.generation) && num(s['updatedReplicas']) >= (typeof replicas === 'number' ? replicas : 1) && num(s['availableReplicas']) >= num(s['updatedReplicas']);
  },
  'apps/v1/StatefulSet': (o) => {
    const s = obj(o['status']) ?? {};
    const replicas = obj(o['spec'])?.['replicas'];
    return num(s['observedGeneration']) === num(o.metadata.generation) && num(s['updatedReplicas']) >= (typeof replicas === 'number' ? replicas : 1) && num(s['availableReplicas']) >= num(s['updatedReplicas']);
  },
  'apps/v1/ReplicaSet': (o) => {
    const s = obj(o['status']) ?? {};
    const replicas = obj(o['spec'])?.['replicas'];
    return num(s['observedGeneration']) === num(o.metadata.generation) && num(s['availableReplicas']) >= (typeof replicas === 'number' ? replicas : 1);
  },
  'apps/v1/DaemonSet': (o) => {
    const s = obj(o['status']) ?? {};
    return num(s['observedGeneration']) === num(o.metadata.generation) && num(s['updatedNumberScheduled']) >= num(s['desiredNumberScheduled']) && num(s['numberAvailable']) >= num(s['updatedNumberScheduled']);
  },
  'v1/Service': (o) => {
    if (obj(o['spec'])?.['type'] !== 'LoadBalancer') return true;
    const ingress = obj(obj(o['status'])?.['loadBalancer'])?.['ingress'];
    return Array.isArray(ingress) && ingress.some((i) => obj(i)?.['ip'] || obj(i)?.['hostname']);
  },
  'networking.k8s.io/v1/Ingress': (o) => {
    const ingress = obj(obj(o['status'])?.['loadBalancer'])?.['ingress'];
    return Array.isArray(ingress) && ingress.some((i) => obj(i)?.['ip'] || obj(i)?.['hostname']);
  },
  'v1/PersistentVolumeClaim': (o) => obj(o['status'])?.['phase'] === 'Bound',
  'v1/Pod': (o) => {
    const s = obj(o['status']);
    return s?.['phase'] === 'Succeeded' || (s?.['phase'] === 'Running' && conditionTrue(s, 'Ready'));
  },
  'policy/v1/PodDisruptionBudget': (o) => {
    const s = obj(o['status']) ?? {};
    return num(s['currentHealthy']) >= num(s['desiredHealthy']);
  },
};

export function interpretHealth(object: KubeObject): Health {
  const rule = HEALTH[`${object.apiVersion ?? ''}/${object.kind ?? ''}`];
  if (!rule) return 'Healthy';
  try {
    return rule(object) ? 'Healthy' : 'Unhealthy';
  } catch {
    return 'Unknown';
  }
}

export function manifestStatus(identifier: ManifestIdentifier, object: KubeObject): ManifestStatus {
  const id: ManifestIdentifier = { ...identifier };
  if (!id.namespace) delete (id as Partial<ManifestIdentifier>).namespace;
  if (!id.group) delete (id as Partial<ManifestIdentifier>).group;
  const status = reflectStatus(object);
  return { identifier: id, ...(status ? { status } : {}), health: interpretHealth(object) };
}
