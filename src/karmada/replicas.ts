import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { podSpecRequest } from '../api/resource-list.js';

/**
 * How many replicas a resource template asks for and what each needs (Karmada's default resource
 * interpreter, karmada-api.md §4.1 "Binding build"):
 *  - apps/v1 Deployment, ReplicaSet, StatefulSet: spec.replicas (absent = 0) and the pod template;
 *  - batch/v1 Job: spec.parallelism, but no more than spec.completions;
 *  - v1 Pod: 1 and its own spec;
 *  - a custom resource whose CRD declares a scale subresource: the value at its specReplicasPath
 *    (no per-replica requirements: nothing says where its pod template is);
 *  - anything else is not a workload (undefined).
 * Per-replica requirements are the pod's effective request (containers' limits stand in for missing
 * requests) and its node claim (nodeSelector, tolerations, required node affinity).
 */
export interface ReplicaRequirements {
  nodeClaim?: { hardNodeAffinity?: unknown; nodeSelector?: Record<string, string>; tolerations?: unknown[] };
  resourceRequest?: Record<string, string>;
}

export interface ReplicaInfo {
  readonly replicas: number;
  readonly replicaRequirements?: ReplicaRequirements;
}

const asObject = (value: unknown): Record<string, unknown> => (isPlainObject(value) ? value : {});
const asCount = (value: unknown): number | undefined => (typeof value === 'number' && Number.isInteger(value) && value >= 0 ? value : undefined);

const POD_TEMPLATE_KINDS = new Set(['apps/v1/Deployment', 'apps/v1/ReplicaSet', 'apps/v1/StatefulSet']);

export function interpretReplicas(template: KubeObject, specReplicasPath?: string): ReplicaInfo | undefined {
  const id = `${template.apiVersion ?? ''}/${template.kind ?? ''}`;
  const spec = asObject(template['spec']);
  if (POD_TEMPLATE_KINDS.has(id)) return withRequirements(asCount(spec['replicas']) ?? 0, asObject(asObject(spec['template'])['spec']));
  if (id === 'batch/v1/Job') {
    const parallelism = asCount(spec['parallelism']) ?? 0;
    const completions = asCount(spec['completions']) ?? parallelism;
    return withRequirements(Math.min(parallelism, completions), asObject(asObject(spec['template'])['spec']));
  }
  if (id === 'v1/Pod') return withRequirements(1, spec);
  if (specReplicasPath) {
    const replicas = asCount(valueAt(template, specReplicasPath));
    return { replicas: replicas ?? 0 };
  }
  return undefined;
}

function withRequirements(replicas: number, podSpec: Record<string, unknown>): ReplicaInfo {
  const requirements = replicaRequirements(podSpec);
  return requirements ? { replicas, replicaRequirements: requirements } : { replicas };
}

/** Karmada's requirements of one replica of a pod spec; undefined when it claims nothing. */
export function replicaRequirements(podSpec: Record<string, unknown>): ReplicaRequirements | undefined {
  const nodeClaim: NonNullable<ReplicaRequirements['nodeClaim']> = {};
  const required = asObject(asObject(podSpec['affinity'])['nodeAffinity'])['requiredDuringSchedulingIgnoredDuringExecution'];
  if (isPlainObject(required)) nodeClaim.hardNodeAffinity = required;
  if (isPlainObject(podSpec['nodeSelector'])) nodeClaim.nodeSelector = podSpec['nodeSelector'] as Record<string, string>;
  if (Array.isArray(podSpec['tolerations']) && podSpec['tolerations'].length > 0) nodeClaim.tolerations = podSpec['tolerations'];
  const resourceRequest = podSpecRequest(podSpec, { limitsAsRequests: true }).toList({ dropZero: true });
  const result: ReplicaRequirements = {};
  if (Object.keys(nodeClaim).length > 0) result.nodeClaim = nodeClaim;
  if (resourceRequest) result.resourceRequest = resourceRequest;
  return Object.keys(result).length > 0 ? result : undefined;
}

/** The value at a CRD scale path such as `.spec.replicas` (simple dotted field paths only). */
function valueAt(object: unknown, path: string): unknown {
  let value = object;
  for (const field of path.replace(/^\./, '').split('.')) {
    if (!isPlainObject(value)) return undefined;
    value = value[field];
  }
  return value;
}

/**
 * `group/version/kind` → the spec replicas path (`.spec.size`) of every custom resource version whose
 * CRD declares a scale subresource: how replicas are read from and written to those templates.
 */
export function crdReplicaPaths(crds: readonly KubeObject[]): Map<string, string> {
  const paths = new Map<string, string>();
  for (const crd of crds) {
    const spec = isPlainObject(crd['spec']) ? crd['spec'] : {};
    const group = String(spec['group'] ?? '');
    const kind = isPlainObject(spec['names']) ? String(spec['names']['kind'] ?? '') : '';
    for (const version of Array.isArray(spec['versions']) ? spec['versions'] : []) {
      if (!isPlainObject(version) || !isPlainObject(version['subresources']) || !isPlainObject(version['subresources']['scale'])) continue;
      const path = version['subresources']['scale']['specReplicasPath'];
      if (typeof path === 'string') paths.set(`${group}/${String(version['name'])}/${kind}`, path);
    }
  }
  return paths;
}
