import { jsonEqual } from '../api/merge-patch.js';
import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../client/client.js';
import { isApiError, resourcePath } from '../client/client.js';
import { ControllerLoop, contextOf, LoopController } from '../client/controller-loop.js';
import type { ControllerContext } from '../client/controller-loop.js';
import type { Informer } from '../client/informer.js';
import { LabelIndex } from '../client/label-index.js';
import { RestMapper } from '../client/rest-mapper.js';
import type { ReconcileResult } from '../client/work-queue.js';
import { CLUSTER_RESOURCE_BINDING_ID_LABEL, RESOURCE_BINDING_ID_LABEL } from '../karmada/admission/binding.js';
import { CLUSTER_OVERRIDE_POLICIES, CLUSTERS, CRDS, OVERRIDE_POLICIES, WORKS } from '../karmada/gvrs.js';
import { clusterOfExecutionNamespace } from '../karmada/names.js';
import { OverrideError } from '../karmada/overrides.js';
import { BINDING_CONTROLLER_FINALIZER, CLUSTER_RESOURCE_BINDING_CONTROLLER_FINALIZER } from '../karmada/binding-builder.js';
import { crdReplicaPaths } from '../karmada/replicas.js';
import { buildWork } from '../karmada/work-builder.js';
import type { ClusterObject, GracefulEvictionTask, TargetCluster } from '../scheduler/types.js';
import { owningBindingKey, workPath, writeWork } from './work-writer.js';
import { bindingInformers, bindingKey, bindingPath, parseBindingKey } from './binding-kinds.js';
import type { BindingKind } from './binding-kinds.js';

/**
 * Karmada's binding controllers (karmada-api.md §4.3), for ResourceBindings and ClusterResourceBindings:
 * for every cluster a binding targets — its scheduled `spec.clusters` and the clusters of the bindings
 * that require it (`spec.requiredBy`, propagateDeps) — the template is turned into one Work in
 * `karmada-es-<cluster>` (src/karmada/work-builder.ts: replicas revised to the cluster's share,
 * ClusterOverridePolicies then OverridePolicies applied, Karmada's labels and annotations), created or
 * updated only when it differs; Works of clusters no longer targeted are deleted, except while a
 * graceful eviction task for the cluster keeps the old placement alive (not with purgeMode Directly).
 *
 * Bindings carry the finalizer `karmada.io/binding-controller` (`karmada.io/cluster-resource-binding-controller`
 * for ClusterResourceBindings): a binding being deleted first has all its Works deleted, then the
 * finalizer removed. (Each Work has its own finalizer, so the objects in member clusters go with it
 * even when a member is down at the time.)
 *
 * Triggers: the binding's spec or metadata changing (not its status), a Work of it being changed or
 * deleted by someone else, override policies changing, and a target cluster's labels or spec changing
 * (override rules select clusters).
 */
const FINALIZERS = { rb: BINDING_CONTROLLER_FINALIZER, crb: CLUSTER_RESOURCE_BINDING_CONTROLLER_FINALIZER } as const;
const ID_LABELS = { rb: RESOURCE_BINDING_ID_LABEL, crb: CLUSTER_RESOURCE_BINDING_ID_LABEL } as const;

export interface BindingControllerOptions extends ControllerContext {
  /** Concurrent reconciles; default 4. */
  readonly workers?: number;
}

interface BindingSpecView {
  resource?: { apiVersion?: string; kind?: string; namespace?: string; name?: string; uid?: string };
  clusters?: TargetCluster[];
  replicas?: number;
  requiredBy?: { namespace?: string; name?: string; clusters?: TargetCluster[] }[];
  gracefulEvictionTasks?: GracefulEvictionTask[];
}

const specOf = (binding: KubeObject): BindingSpecView => (isPlainObject(binding['spec']) ? binding['spec'] : {}) as BindingSpecView;

/** The clusters a binding wants Works in, with the replicas of each (undefined for requiredBy-only clusters). */
export function bindingTargets(binding: KubeObject): Map<string, number | undefined> {
  const spec = specOf(binding);
  const targets = new Map<string, number | undefined>();
  for (const target of spec.clusters ?? []) if (target.name) targets.set(target.name, target.replicas);
  for (const snapshot of spec.requiredBy ?? []) {
    for (const target of snapshot.clusters ?? []) if (target.name && !targets.has(target.name)) targets.set(target.name, undefined);
  }
  return targets;
}

/** Clusters whose old Work stays while a graceful eviction task runs (all purge modes but Directly). */
export function clustersKeptByEviction(binding: KubeObject): Set<string> {
  return new Set((specOf(binding).gracefulEvictionTasks ?? []).filter((task) => task.purgeMode !== 'Directly').map((task) => task.fromCluster));
}

export class BindingController extends LoopController {
  readonly name = 'binding';
  protected readonly loop: ControllerLoop<string>;
  private readonly client: ApiClient;
  private readonly mapper: RestMapper;
  private readonly bindings: Record<BindingKind, Informer>;
  private readonly works: Informer;
  private readonly worksByBinding: LabelIndex;
  private readonly clusters: Informer;
  private readonly overridePolicies: Informer;
  private readonly clusterOverridePolicies: Informer;
  private readonly crds: Informer;
  private replicaPaths = new Map<string, string>();
  /** Works written, for `bench propagation`. */
  readonly stats = { reconciles: 0, worksCreated: 0, worksUpdated: 0, worksDeleted: 0 };

  constructor(options: BindingControllerOptions) {
    super();
    this.client = options.client;
    this.mapper = new RestMapper(options.client);
    this.loop = new ControllerLoop<string>({
      ...contextOf(options),
      name: this.name,
      workers: options.workers ?? 4,
      queue: { qps: Infinity },
      reconcile: (key) => this.reconcile(key),
      expectedError: (err) => err instanceof OverrideError || isApiError(err, 404),
      keyField: 'binding',
    });
    this.bindings = bindingInformers(this.loop, (kind) => ({
      onAdd: (binding) => this.enqueue(kind, binding),
      onUpdate: (old, binding) => {
        if (old === binding || specOrMetadataChanged(old, binding)) this.enqueue(kind, binding);
      },
    }));
    this.works = this.loop.informer(resourcePath(WORKS));
    this.worksByBinding = new LabelIndex(this.works, [RESOURCE_BINDING_ID_LABEL, CLUSTER_RESOURCE_BINDING_ID_LABEL]);
    this.works.addHandlers({
      onUpdate: (old, work) => {
        if (old !== work && specOrMetadataChanged(old, work)) this.enqueueOwnerOf(work);
      },
      onDelete: (work) => this.enqueueOwnerOf(work),
    });
    this.clusters = this.loop.informer(resourcePath(CLUSTERS)).addHandlers({
      onUpdate: (old, cluster) => {
        if (old !== cluster && (!jsonEqual(old.metadata.labels, cluster.metadata.labels) || !jsonEqual(old['spec'], cluster['spec']))) this.enqueueTargeting(cluster.metadata.name ?? '');
      },
    });
    const overridesChanged = (policy: KubeObject) => this.enqueueAll(policy.metadata.namespace);
    const overrideHandlers = { onAdd: overridesChanged, onUpdate: (old: KubeObject, policy: KubeObject) => old !== policy && overridesChanged(policy), onDelete: overridesChanged };
    this.overridePolicies = this.loop.informer(resourcePath(OVERRIDE_POLICIES)).addHandlers(overrideHandlers);
    this.clusterOverridePolicies = this.loop.informer(resourcePath(CLUSTER_OVERRIDE_POLICIES)).addHandlers(overrideHandlers);
    this.crds = this.loop.informer(resourcePath(CRDS)).addHandlers({
      onAdd: () => this.crdsChanged(),
      onUpdate: (old, crd) => old !== crd && this.crdsChanged(),
      onDelete: () => this.crdsChanged(),
    });
  }


  // ---- events ----

  private enqueue(kind: BindingKind, binding: KubeObject): void {
    this.loop.queue.add(bindingKey(kind, binding));
  }

  private enqueueOwnerOf(work: KubeObject): void {
    const key = owningBindingKey(work);
    if (key) this.loop.queue.add(key);
  }

  private enqueueTargeting(cluster: string): void {
    for (const kind of ['rb', 'crb'] as const) {
      for (const binding of this.bindings[kind].list()) if (bindingTargets(binding).has(cluster)) this.enqueue(kind, binding);
    }
  }

  /** Every binding (of templates in `namespace`, when given: an OverridePolicy only acts there). */
  private enqueueAll(namespace?: string): void {
    for (const kind of ['rb', 'crb'] as const) {
      for (const binding of this.bindings[kind].list()) {
        if (namespace === undefined || specOf(binding).resource?.namespace === namespace) this.enqueue(kind, binding);
      }
    }
  }

  private crdsChanged(): void {
    this.replicaPaths = crdReplicaPaths(this.crds.list());
  }

  // ---- reconcile ----

  private async reconcile(key: string): Promise<ReconcileResult> {
    const { kind, name } = parseBindingKey(key);
    let binding = this.bindings[kind].get(name);
    if (!binding) return;
    this.stats.reconciles++;
    const id = binding.metadata.labels?.[ID_LABELS[kind]];
    const works = id ? this.worksByBinding.get(id) : [];
    if (binding.metadata.deletionTimestamp) {
      await this.deleteWorks(works);
      await this.removeFinalizer(kind, binding);
      return;
    }
    if (!id) return; // admission gives every binding its id; a binding without one cannot own Works
    const targets = bindingTargets(binding);
    if (targets.size > 0 && !(binding.metadata.finalizers ?? []).includes(FINALIZERS[kind])) {
      binding = await this.client.update(bindingPath(kind, binding), { ...binding, metadata: { ...binding.metadata, finalizers: [...(binding.metadata.finalizers ?? []), FINALIZERS[kind]] } }, { signal: this.loop.signal });
    }
    const kept = clustersKeptByEviction(binding);
    await this.deleteWorks(works.filter((work) => {
      const cluster = clusterOfExecutionNamespace(work.metadata.namespace);
      return cluster !== undefined && !targets.has(cluster) && !kept.has(cluster);
    }));
    if (targets.size === 0) return;
    const template = await this.template(binding);
    if (!template) return;
    const errors: string[] = [];
    for (const [clusterName, replicas] of targets) {
      const cluster = this.clusters.get(clusterName);
      // A target without a Cluster (or one being unjoined) has no execution namespace to write into.
      if (!cluster || cluster.metadata.deletionTimestamp) continue;
      try {
        await this.ensureWork(binding, template, cluster, replicas);
      } catch (err) {
        if (this.loop.stopped) throw err;
        errors.push(`${clusterName}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (errors.length > 0) throw new Error(`failed to sync works: ${errors.join('; ')}`);
  }

  private async ensureWork(binding: KubeObject, template: KubeObject, cluster: KubeObject, replicas: number | undefined): Promise<void> {
    const specReplicasPath = this.replicaPaths.get(`${template.apiVersion ?? ''}/${template.kind ?? ''}`);
    const namespace = template.metadata.namespace;
    const wanted = buildWork({
      template,
      binding,
      cluster: cluster as unknown as ClusterObject,
      ...(replicas !== undefined ? { replicas } : {}),
      ...(specReplicasPath !== undefined ? { specReplicasPath } : {}),
      overridePolicies: namespace ? this.overridePolicies.list().filter((p) => p.metadata.namespace === namespace) : [],
      clusterOverridePolicies: this.clusterOverridePolicies.list(),
    });
    const existing = this.works.getByName(wanted.metadata.namespace, wanted.metadata.name ?? '');
    const result = await writeWork(this.client, wanted, existing?.metadata.deletionTimestamp ? undefined : existing, this.loop.signal);
    if (result === 'created') this.stats.worksCreated++;
    else if (result === 'updated') this.stats.worksUpdated++;
  }

  /** The binding's resource template, or undefined when it is gone (the garbage collector then removes the binding). */
  private async template(binding: KubeObject): Promise<KubeObject | undefined> {
    const resource = specOf(binding).resource ?? {};
    const mapping = await this.mapper.mapping(resource.apiVersion ?? '', resource.kind ?? '', this.loop.signal);
    if (!mapping) throw new Error(`the server does not serve ${resource.apiVersion ?? ''} ${resource.kind ?? ''}`);
    try {
      const template = await this.client.get(resourcePath(mapping, mapping.namespaced ? resource.namespace : undefined, resource.name ?? ''), { signal: this.loop.signal });
      if (resource.uid && template.metadata.uid !== resource.uid) return undefined; // an older template of the same name
      return template;
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  }

  private async deleteWorks(works: readonly KubeObject[]): Promise<void> {
    for (const work of works) {
      if (work.metadata.deletionTimestamp) continue;
      try {
        await this.client.delete(workPath(work.metadata.namespace, work.metadata.name), { signal: this.loop.signal });
        this.stats.worksDeleted++;
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
      }
    }
  }

  private async removeFinalizer(kind: BindingKind, binding: KubeObject): Promise<void> {
    const finalizers = binding.metadata.finalizers ?? [];
    if (!finalizers.includes(FINALIZERS[kind])) return;
    try {
      await this.client.update(bindingPath(kind, binding), { ...binding, metadata: { ...binding.metadata, finalizers: finalizers.filter((f) => f !== FINALIZERS[kind]) } }, { signal: this.loop.signal });
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
  }

}

/** Whether anything but the status (and the resourceVersion that comes with it) changed. */
function specOrMetadataChanged(old: KubeObject, current: KubeObject): boolean {
  return (
    old.metadata.generation !== current.metadata.generation ||
    old.metadata.deletionTimestamp !== current.metadata.deletionTimestamp ||
    !jsonEqual(old['spec'], current['spec']) ||
    !jsonEqual(old.metadata.labels, current.metadata.labels) ||
    !jsonEqual(old.metadata.annotations, current.metadata.annotations) ||
    !jsonEqual(old.metadata.finalizers, current.metadata.finalizers)
  );
}
