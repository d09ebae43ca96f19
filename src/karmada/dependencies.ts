import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { TargetCluster } from '../scheduler/types.js';
import { RESOURCE_BINDING_ID_LABEL } from './admission/binding.js';
import { BINDING_API_VERSION, BINDING_CONTROLLER_FINALIZER, bindingName } from './binding-builder.js';
import { safeHash } from './work-builder.js';

/**
 * propagateDeps as pure functions (karmada-api.md §4.9):
 *  - dependenciesOf: the ConfigMaps, Secrets, ServiceAccount and PersistentVolumeClaims a workload's pod
 *    spec references (volumes, projected sources, env and envFrom, imagePullSecrets, a
 *    serviceAccountName other than `default`), as Karmada's native dependency interpreter lists them for
 *    Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, CronJob and Pod;
 *  - attachedBinding: the ResourceBinding `<name>-<kind>` a dependency gets — controlled by the
 *    dependency, labelled `resourcebinding.karmada.io/depended-by-<hash(parent ns/name)>` = the parent's
 *    permanent id, `spec.requiredBy` holding a snapshot {namespace, name, clusters} of the parent, the
 *    parent's conflictResolution and preserveResourcesOnDeletion;
 *  - withSnapshot / withoutSnapshot: requiredBy merged or reduced for one parent.
 */
export const DEPENDED_BY_LABEL_PREFIX = 'resourcebinding.karmada.io/depended-by-';
export const DEPENDENCIES_DISTRIBUTOR_FINALIZER = 'karmada.io/binding-dependencies-distributor';

export interface DependentObjectReference {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
}

export interface BindingSnapshot {
  namespace?: string;
  name: string;
  clusters?: TargetCluster[];
}

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj | undefined => (isPlainObject(value) ? value : undefined);
const list = (value: unknown): Obj[] => (Array.isArray(value) ? value.filter(isPlainObject) : []);
const str = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The pod spec of a workload template, or undefined for other kinds. */
function podSpecOf(template: KubeObject): Obj | undefined {
  const spec = obj(template['spec']);
  switch (`${template.apiVersion ?? ''}/${template.kind ?? ''}`) {
    case 'v1/Pod':
      return spec;
    case 'apps/v1/Deployment':
    case 'apps/v1/ReplicaSet':
    case 'apps/v1/DaemonSet':
    case 'apps/v1/StatefulSet':
    case 'batch/v1/Job':
      return obj(obj(spec?.['template'])?.['spec']);
    case 'batch/v1/CronJob':
      return obj(obj(obj(obj(spec?.['jobTemplate'])?.['spec'])?.['template'])?.['spec']);
    default:
      return undefined;
  }
}

export function dependenciesOf(template: KubeObject): DependentObjectReference[] {
  const podSpec = podSpecOf(template);
  if (!podSpec) return [];
  const namespace = template.metadata.namespace ?? '';
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const claims = new Set<string>();
  const add = (set: Set<string>, name: unknown) => {
    if (typeof name === 'string' && name !== '') set.add(name);
  };
  for (const volume of list(podSpec['volumes'])) {
    add(configMaps, obj(volume['configMap'])?.['name']);
    add(secrets, obj(volume['secret'])?.['secretName']);
    add(claims, obj(volume['persistentVolumeClaim'])?.['claimName']);
    for (const source of list(obj(volume['projected'])?.['sources'])) {
      add(configMaps, obj(source['configMap'])?.['name']);
      add(secrets, obj(source['secret'])?.['name']);
    }
  }
  for (const container of [...list(podSpec['initContainers']), ...list(podSpec['containers']), ...list(podSpec['ephemeralContainers'])]) {
    for (const from of list(container['envFrom'])) {
      add(configMaps, obj(from['configMapRef'])?.['name']);
      add(secrets, obj(from['secretRef'])?.['name']);
    }
    for (const env of list(container['env'])) {
      add(configMaps, obj(obj(env['valueFrom'])?.['configMapKeyRef'])?.['name']);
      add(secrets, obj(obj(env['valueFrom'])?.['secretKeyRef'])?.['name']);
    }
  }
  for (const ref of list(podSpec['imagePullSecrets'])) add(secrets, ref['name']);
  const serviceAccount = str(podSpec['serviceAccountName']);
  const refs = (kind: string, names: Iterable<string>) => [...names].sort().map((name) => ({ apiVersion: 'v1', kind, namespace, name }));
  return [
    ...refs('ConfigMap', configMaps),
    ...refs('Secret', secrets),
    ...(serviceAccount && serviceAccount !== 'default' ? refs('ServiceAccount', [serviceAccount]) : []),
    ...refs('PersistentVolumeClaim', claims),
  ];
}

/** `resourcebinding.karmada.io/depended-by-<hash>` for a parent binding. */
export function dependedByLabelKey(namespace: string | undefined, name: string): string {
  return `${DEPENDED_BY_LABEL_PREFIX}${safeHash(namespace ? `${namespace}/${name}` : name)}`;
}

function snapshotOf(parent: KubeObject): BindingSnapshot {
  const clusters = (obj(parent['spec'])?.['clusters'] ?? []) as TargetCluster[];
  return { namespace: parent.metadata.namespace ?? '', name: parent.metadata.name ?? '', ...(clusters.length > 0 ? { clusters } : {}) };
}

const sameParent = (a: BindingSnapshot, b: BindingSnapshot) => (a.namespace ?? '') === (b.namespace ?? '') && a.name === b.name;

export function withSnapshot(requiredBy: readonly BindingSnapshot[] | undefined, snapshot: BindingSnapshot): BindingSnapshot[] {
  const existing = [...(requiredBy ?? [])];
  const i = existing.findIndex((s) => sameParent(s, snapshot));
  if (i >= 0) existing[i] = snapshot;
  else existing.push(snapshot);
  return existing;
}

export function withoutSnapshot(requiredBy: readonly BindingSnapshot[] | undefined, namespace: string | undefined, name: string): BindingSnapshot[] {
  return (requiredBy ?? []).filter((s) => !sameParent(s, { namespace: namespace ?? '', name }));
}

/** The attached binding a dependency object gets from `parent` (to create, or to merge into an existing one). */
export function attachedBinding(parent: KubeObject, dependency: KubeObject): KubeObject {
  const parentSpec = obj(parent['spec']) ?? {};
  const spec: Obj = {
    resource: { apiVersion: dependency.apiVersion, kind: dependency.kind, namespace: dependency.metadata.namespace, name: dependency.metadata.name, uid: dependency.metadata.uid, resourceVersion: dependency.metadata.resourceVersion },
    requiredBy: [snapshotOf(parent)],
  };
  if (parentSpec['conflictResolution'] !== undefined) spec['conflictResolution'] = parentSpec['conflictResolution'];
  if (parentSpec['preserveResourcesOnDeletion'] !== undefined) spec['preserveResourcesOnDeletion'] = parentSpec['preserveResourcesOnDeletion'];
  return {
    apiVersion: BINDING_API_VERSION,
    kind: 'ResourceBinding',
    metadata: {
      name: bindingName(dependency.kind ?? '', dependency.metadata.name ?? ''),
      namespace: parent.metadata.namespace ?? '',
      labels: { [dependedByLabelKey(parent.metadata.namespace, parent.metadata.name ?? '')]: parent.metadata.labels?.[RESOURCE_BINDING_ID_LABEL] ?? '' },
      ownerReferences: [{ apiVersion: dependency.apiVersion ?? '', kind: dependency.kind ?? '', name: dependency.metadata.name ?? '', uid: dependency.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }],
      finalizers: [BINDING_CONTROLLER_FINALIZER],
    },
    spec,
  };
}
