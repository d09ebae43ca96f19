import { deepClone, isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { fnv32a, webster } from '../scheduler/division.js';
import type { ClusterObject, TargetCluster } from '../scheduler/types.js';
import { CLUSTER_RESOURCE_BINDING_ID_LABEL, RESOURCE_BINDING_ID_LABEL } from './admission/binding.js';
import { pruneManifest } from './admission/work.js';
import { applyOverrides } from './overrides.js';
import type { AppliedOverride } from './overrides.js';
import { executionNamespace } from './names.js';

/**
 * The Work a binding controller writes for one target cluster (karmada-api.md §3.1, §3.2, §4.3), as a
 * pure function of the template, the binding, the cluster and the override policies:
 *  1. a copy of the template, its replicas revised to the cluster's scheduled share (Deployment,
 *     ReplicaSet, StatefulSet, Job parallelism, CRs through their scale path) whenever the binding is
 *     a workload (spec.replicas > 0) — Duplicated too; a Divided Job's completions are split over the
 *     clusters in proportion to their replicas (Webster, as Karmada spreads them);
 *  2. ClusterOverridePolicies then OverridePolicies (src/karmada/overrides.ts);
 *  3. Karmada's labels and annotations on the manifest: the binding's permanent id and name, the
 *     template's uid and generation, the Work's name and namespace, `karmada.io/managed`, and the
 *     conflict resolution (a valid template annotation wins, else the binding's Overwrite, else abort);
 *  4. pruned of what only the control plane's API server owns (as Work admission prunes it).
 * The Work is `<name>-<hash>` in `karmada-es-<cluster>`, with the execution controller's finalizer,
 * the binding's id label, back-pointer and applied-override annotations, suspendDispatching and
 * preserveResourcesOnDeletion.
 */
export const EXECUTION_CONTROLLER_FINALIZER = 'karmada.io/execution-controller';
export const MANAGED_LABEL = 'karmada.io/managed';
export const CONFLICT_RESOLUTION_ANNOTATION = 'work.karmada.io/conflict-resolution';
export const APPLIED_OVERRIDES_ANNOTATION = 'policy.karmada.io/applied-overrides';
export const APPLIED_CLUSTER_OVERRIDES_ANNOTATION = 'policy.karmada.io/applied-cluster-overrides';
const WORK_API_VERSION = 'work.karmada.io/v1alpha1';

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (isPlainObject(value) ? value : undefined);

const SAFE_ENCODE = 'bcdfghjklmnpqrstvwxz2456789';

/** Karmada's hash for names and label keys: SafeEncode(decimal(fnv32a(text))) (apimachinery's rand.SafeEncodeString). */
export function safeHash(text: string): string {
  return [...String(fnv32a(text))].map((c) => SAFE_ENCODE[c.charCodeAt(0) % SAFE_ENCODE.length]).join('');
}

/** Karmada's GenerateWorkName: `<lower(name)>-<safeHash(lower([ns-]name-kind))>`. */
export function workName(kind: string, name: string, namespace?: string): string {
  return `${name.toLowerCase()}-${safeHash((namespace ? `${namespace}-${name}-${kind}` : `${name}-${kind}`).toLowerCase())}`;
}

const REPLICA_KINDS = new Set(['apps/v1/Deployment', 'apps/v1/ReplicaSet', 'apps/v1/StatefulSet']);

/** Sets the value at a `.a.b` path (a CRD's specReplicasPath), creating objects on the way. */
function setPath(root: Obj, path: string, value: unknown): void {
  const keys = path.replace(/^\./, '').split('.').filter(Boolean);
  let current = root;
  for (const key of keys.slice(0, -1)) {
    const next = obj(current[key]);
    if (next) current = next;
    else current = current[key] = {} as Obj;
  }
  const last = keys[keys.length - 1];
  if (last !== undefined) current[last] = value;
}

/** A copy of the workload with its replicas set for one cluster (Karmada's ReviseReplica). */
export function reviseReplicas(object: KubeObject, replicas: number, options: { specReplicasPath?: string } = {}): KubeObject {
  const copy = deepClone(object);
  const id = `${copy.apiVersion ?? ''}/${copy.kind ?? ''}`;
  const spec = obj(copy['spec']) ?? ((copy as Obj)['spec'] = {} as Obj);
  if (REPLICA_KINDS.has(id)) spec['replicas'] = replicas;
  else if (id === 'batch/v1/Job') spec['parallelism'] = replicas;
  else if (options.specReplicasPath) setPath(copy as Obj, options.specReplicasPath, replicas);
  return copy;
}

export interface WorkBuildInput {
  readonly template: KubeObject;
  readonly binding: KubeObject;
  readonly cluster: ClusterObject;
  readonly replicas?: number;
  readonly specReplicasPath?: string;
  readonly overridePolicies: readonly KubeObject[];
  readonly clusterOverridePolicies: readonly KubeObject[];
}

interface BindingView {
  replicas?: number;
  clusters?: TargetCluster[];
  placement?: { replicaScheduling?: { replicaSchedulingType?: string } };
  conflictResolution?: string;
  preserveResourcesOnDeletion?: boolean;
  suspension?: { dispatching?: boolean; dispatchingOnClusters?: { clusterNames?: string[] } };
}

/** Karmada splits a Divided Job's completions over its clusters by their replicas. */
function jobCompletions(template: KubeObject, binding: BindingView, cluster: string): number | undefined {
  const completions = obj(template['spec'])?.['completions'];
  if (typeof completions !== 'number' || !(binding.replicas && binding.replicas > 0)) return undefined;
  const type = binding.placement?.replicaScheduling?.replicaSchedulingType ?? (binding.placement?.replicaScheduling ? 'Divided' : 'Duplicated');
  if (type !== 'Divided') return undefined;
  const parties = (binding.clusters ?? []).map((c) => ({ name: c.name, weight: c.replicas ?? 0 }));
  return webster(completions, parties, template.metadata.uid).find((c) => c.name === cluster)?.replicas ?? 0;
}

function suspendedFor(binding: BindingView, cluster: string): boolean {
  const suspension = binding.suspension;
  if (!suspension) return false;
  if (suspension.dispatching === true) return true;
  return (suspension.dispatchingOnClusters?.clusterNames ?? []).includes(cluster);
}

function conflictResolution(template: KubeObject, binding: BindingView): string {
  const fromTemplate = template.metadata.annotations?.[CONFLICT_RESOLUTION_ANNOTATION];
  if (fromTemplate === 'overwrite' || fromTemplate === 'abort') return fromTemplate;
  return binding.conflictResolution === 'Overwrite' ? 'overwrite' : 'abort';
}

function mergeInto(metadata: Obj, field: 'labels' | 'annotations', values: Record<string, string>): void {
  metadata[field] = { ...((obj(metadata[field]) ?? {}) as Record<string, string>), ...values };
}

function overridesAnnotations(applied: AppliedOverride[], clusterApplied: AppliedOverride[]): Record<string, string> {
  const out: Record<string, string> = {};
  if (clusterApplied.length > 0) out[APPLIED_CLUSTER_OVERRIDES_ANNOTATION] = JSON.stringify(clusterApplied);
  if (applied.length > 0) out[APPLIED_OVERRIDES_ANNOTATION] = JSON.stringify(applied);
  return out;
}

function workObject(name: string, cluster: string, labels: Record<string, string>, annotations: Record<string, string>, manifest: KubeObject, extra: { suspend?: boolean; preserve?: boolean; ownerReferences?: KubeObject['metadata']['ownerReferences'] } = {}): KubeObject {
  const spec: Obj = { workload: { manifests: [manifest] } };
  if (extra.suspend) spec['suspendDispatching'] = true;
  if (extra.preserve) spec['preserveResourcesOnDeletion'] = true;
  return {
    apiVersion: WORK_API_VERSION,
    kind: 'Work',
    metadata: {
      name,
      namespace: executionNamespace(cluster),
      ...(Object.keys(labels).length > 0 ? { labels } : {}),
      ...(Object.keys(annotations).length > 0 ? { annotations } : {}),
      ...(extra.ownerReferences ? { ownerReferences: extra.ownerReferences } : {}),
      finalizers: [EXECUTION_CONTROLLER_FINALIZER],
    },
    spec,
  };
}

/** The Work of one binding for one target cluster; throws OverrideError when an override fails. */
export function buildWork(input: WorkBuildInput): KubeObject {
  const { template, binding } = input;
  const clusterName = input.cluster.metadata.name ?? '';
  const spec = (obj(binding['spec']) ?? {}) as BindingView;
  let manifest = deepClone(template);
  if (spec.replicas !== undefined && spec.replicas > 0 && input.replicas !== undefined) {
    manifest = reviseReplicas(manifest, input.replicas, input.specReplicasPath !== undefined ? { specReplicasPath: input.specReplicasPath } : {});
  }
  const completions = template.kind === 'Job' ? jobCompletions(template, spec, clusterName) : undefined;
  if (completions !== undefined) (obj(manifest['spec']) as Obj)['completions'] = completions;
  const overridden = applyOverrides(manifest, input.cluster, { overridePolicies: input.overridePolicies, clusterOverridePolicies: input.clusterOverridePolicies });
  manifest = overridden.object;

  const namespaced = binding.kind !== 'ClusterResourceBinding';
  const idLabel = namespaced ? RESOURCE_BINDING_ID_LABEL : CLUSTER_RESOURCE_BINDING_ID_LABEL;
  const bindingId = binding.metadata.labels?.[idLabel] ?? '';
  const workLabels = { [idLabel]: bindingId };
  const backPointer: Record<string, string> = namespaced
    ? { 'resourcebinding.karmada.io/namespace': binding.metadata.namespace ?? '', 'resourcebinding.karmada.io/name': binding.metadata.name ?? '' }
    : { 'clusterresourcebinding.karmada.io/name': binding.metadata.name ?? '' };
  const resolution = conflictResolution(template, spec);
  const name = workName(template.kind ?? '', template.metadata.name ?? '', template.metadata.namespace);
  const metadata = manifest.metadata as Obj;
  mergeInto(metadata, 'labels', { ...workLabels, [MANAGED_LABEL]: 'true' });
  mergeInto(metadata, 'annotations', {
    'resourcetemplate.karmada.io/generation': String(template.metadata.generation ?? 0),
    ...backPointer,
    'resourcetemplate.karmada.io/uid': template.metadata.uid ?? '',
    'work.karmada.io/name': name,
    'work.karmada.io/namespace': executionNamespace(clusterName),
    [CONFLICT_RESOLUTION_ANNOTATION]: resolution,
  });
  pruneManifest(manifest as Obj);
  const annotations = { ...backPointer, [CONFLICT_RESOLUTION_ANNOTATION]: resolution, ...overridesAnnotations(overridden.appliedOverrides, overridden.appliedClusterOverrides) };
  return workObject(name, clusterName, workLabels, annotations, manifest, { suspend: suspendedFor(spec, clusterName), preserve: spec.preserveResourcesOnDeletion === true });
}

/** The Work the namespace controller writes for a Namespace in one cluster: ClusterOverridePolicies only, owned by the Namespace. */
export function buildNamespaceWork(namespace: KubeObject, cluster: ClusterObject, clusterOverridePolicies: readonly KubeObject[]): KubeObject {
  const clusterName = cluster.metadata.name ?? '';
  const overridden = applyOverrides(deepClone(namespace), cluster, { overridePolicies: [], clusterOverridePolicies });
  const manifest = overridden.object;
  const name = workName('Namespace', namespace.metadata.name ?? '');
  mergeInto(manifest.metadata as Obj, 'labels', { [MANAGED_LABEL]: 'true' });
  mergeInto(manifest.metadata as Obj, 'annotations', {
    'resourcetemplate.karmada.io/uid': namespace.metadata.uid ?? '',
    'work.karmada.io/name': name,
    'work.karmada.io/namespace': executionNamespace(clusterName),
  });
  pruneManifest(manifest as Obj);
  // The API server's finalizer (spec.finalizers: kubernetes) belongs to each cluster's own namespace controller.
  delete (manifest as Obj)['spec'];
  const ownerReferences = [{ apiVersion: 'v1', kind: 'Namespace', name: namespace.metadata.name ?? '', uid: namespace.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }];
  return workObject(name, clusterName, {}, overridesAnnotations([], overridden.appliedClusterOverrides), manifest, { ownerReferences });
}
