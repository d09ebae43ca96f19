import { jsonEqual } from '../api/merge-patch.js';
import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../client/client.js';
import { isApiError, resourcePath } from '../client/client.js';
import { ControllerLoop, contextOf, LoopController } from '../client/controller-loop.js';
import type { ControllerContext } from '../client/controller-loop.js';
import { CacheIndex } from '../client/cache-index.js';
import { objectKey } from '../client/informer.js';
import type { Informer } from '../client/informer.js';
import { RestMapper } from '../client/rest-mapper.js';
import { DEPENDENCIES_ANNOTATION } from '../karmada/admission/binding.js';
import { CLAIM_KINDS } from '../karmada/claims.js';
import { DEPENDED_BY_LABEL_PREFIX, DEPENDENCIES_DISTRIBUTOR_FINALIZER, attachedBinding, dependedByLabelKey, dependenciesOf, withSnapshot, withoutSnapshot } from '../karmada/dependencies.js';
import type { BindingSnapshot, DependentObjectReference } from '../karmada/dependencies.js';
import { RESOURCE_BINDINGS } from '../karmada/gvrs.js';

/**
 * Karmada's dependencies distributor (karmada-api.md §4.9): for a ResourceBinding with
 * `propagateDeps: true`, the ConfigMaps, Secrets, ServiceAccount and PVCs its template references get
 * "attached" ResourceBindings whose `spec.requiredBy` carries the parent's clusters, so the binding
 * controller sends them wherever the workload goes (and follows a reschedule or a failover). The parent
 * records its dependencies in `resourcebinding.karmada.io/dependencies` and carries the finalizer
 * `karmada.io/binding-dependencies-distributor`; when the parent goes, or turns propagateDeps off, its
 * snapshot leaves the attached bindings, and an attached binding nobody requires any more (and no
 * policy claims) is deleted. A dependency created after its workload is picked up when it appears.
 */
const DEPENDENCY_KINDS = [
  { kind: 'ConfigMap', resource: { group: '', version: 'v1', resource: 'configmaps' } },
  { kind: 'Secret', resource: { group: '', version: 'v1', resource: 'secrets' } },
  { kind: 'ServiceAccount', resource: { group: '', version: 'v1', resource: 'serviceaccounts' } },
] as const;
/** Read on demand (the control plane may not serve it): a claim created later is seen at the next resync. */
const PVCS = { group: '', version: 'v1', resource: 'persistentvolumeclaims' } as const;

export interface DependenciesDistributorOptions extends ControllerContext {
}

const specOf = (binding: KubeObject): Record<string, unknown> => (isPlainObject(binding['spec']) ? binding['spec'] : {});
const dependencyKey = (kind: string, namespace: string, name: string) => `${kind}/${namespace}/${name}`;

export class DependenciesDistributor extends LoopController {
  readonly name = 'dependencies-distributor';
  protected readonly loop: ControllerLoop<string>;
  private readonly client: ApiClient;
  private readonly mapper: RestMapper;
  private readonly bindings: Informer;
  /** Attached bindings by `<namespace>/<depended-by label key>`: what each parent is attached to. */
  private readonly attachedByParent: CacheIndex;
  /** propagateDeps bindings by the dependencies they recorded (`dependencyKey`): who waits for an object. */
  private readonly parentsByDependency: CacheIndex;
  private readonly dependencyInformers = new Map<string, Informer>();

  constructor(options: DependenciesDistributorOptions) {
    super();
    this.client = options.client;
    this.mapper = new RestMapper(options.client);
    this.loop = new ControllerLoop<string>({
      ...contextOf(options),
      name: this.name,
      workers: 2,
      queue: { qps: Infinity },
      reconcile: (key) => this.reconcile(key),
      keyField: 'binding',
    });
    const parentChanged = (binding: KubeObject) => {
      const spec = specOf(binding);
      const tracked = spec['propagateDeps'] === true || (binding.metadata.finalizers ?? []).includes(DEPENDENCIES_DISTRIBUTOR_FINALIZER);
      if (tracked) this.loop.queue.add(objectKey(binding));
    };
    this.bindings = this.loop.informer(resourcePath(RESOURCE_BINDINGS)).addHandlers({
      onAdd: parentChanged,
      onUpdate: (old, binding) => {
        if (old === binding || old.metadata.generation !== binding.metadata.generation || old.metadata.deletionTimestamp !== binding.metadata.deletionTimestamp) parentChanged(binding);
      },
    });
    this.attachedByParent = new CacheIndex(this.bindings, (binding) =>
      Object.keys(binding.metadata.labels ?? {}).filter((label) => label.startsWith(DEPENDED_BY_LABEL_PREFIX)).map((label) => `${binding.metadata.namespace ?? ''}/${label}`),
    );
    this.parentsByDependency = new CacheIndex(this.bindings, (binding) => {
      const recorded = binding.metadata.annotations?.[DEPENDENCIES_ANNOTATION];
      if (specOf(binding)['propagateDeps'] !== true || !recorded) return [];
      try {
        return (JSON.parse(recorded) as DependentObjectReference[]).filter((d) => d.namespace === binding.metadata.namespace).map((d) => dependencyKey(d.kind, d.namespace, d.name));
      } catch {
        return []; // a hand-edited annotation: the next change of the binding rewrites it
      }
    });
    for (const { kind, resource } of DEPENDENCY_KINDS) {
      const informer = this.loop.informer(resourcePath(resource), { metadataOnly: true }).addHandlers({
        onAdd: (object) => this.dependencyAppeared(kind, object),
      });
      this.dependencyInformers.set(kind, informer);
    }
  }


  /** A dependency that appears after its workload: the parents that named it look again. */
  private dependencyAppeared(kind: string, object: KubeObject): void {
    for (const binding of this.parentsByDependency.get(dependencyKey(kind, object.metadata.namespace ?? '', object.metadata.name ?? ''))) this.loop.queue.add(objectKey(binding));
  }

  private bindingPath(namespace: string | undefined, name?: string): string {
    return resourcePath(RESOURCE_BINDINGS, namespace, name);
  }

  private async reconcile(key: string): Promise<void> {
    let parent = this.bindings.get(key);
    if (!parent) return;
    const finalizers = parent.metadata.finalizers ?? [];
    if (specOf(parent)['propagateDeps'] !== true || parent.metadata.deletionTimestamp) {
      await this.detachAll(parent, []);
      if (finalizers.includes(DEPENDENCIES_DISTRIBUTOR_FINALIZER)) {
        await this.client.update(this.bindingPath(parent.metadata.namespace, parent.metadata.name), { ...parent, metadata: { ...parent.metadata, finalizers: finalizers.filter((f) => f !== DEPENDENCIES_DISTRIBUTOR_FINALIZER) } }, { signal: this.loop.signal }).catch((err: unknown) => {
          if (!isApiError(err, 404)) throw err;
        });
      }
      return;
    }
    const template = await this.template(parent);
    if (!template) return;
    const dependencies = dependenciesOf(template);
    const recorded = JSON.stringify(dependencies);
    if (!finalizers.includes(DEPENDENCIES_DISTRIBUTOR_FINALIZER) || parent.metadata.annotations?.[DEPENDENCIES_ANNOTATION] !== recorded) {
      parent = await this.client.update(this.bindingPath(parent.metadata.namespace, parent.metadata.name), {
        ...parent,
        metadata: {
          ...parent.metadata,
          annotations: { ...(parent.metadata.annotations ?? {}), [DEPENDENCIES_ANNOTATION]: recorded },
          finalizers: finalizers.includes(DEPENDENCIES_DISTRIBUTOR_FINALIZER) ? finalizers : [...finalizers, DEPENDENCIES_DISTRIBUTOR_FINALIZER],
        },
      }, { signal: this.loop.signal });
    }
    for (const dependency of dependencies) {
      const meta = await this.dependencyMetadata(dependency);
      if (!meta) continue; // not there yet: picked up when it appears
      await this.attach(parent, { apiVersion: dependency.apiVersion, kind: dependency.kind, metadata: meta.metadata });
    }
    await this.detachAll(parent, dependencies);
  }

  private async dependencyMetadata(dependency: DependentObjectReference): Promise<KubeObject | undefined> {
    const informer = this.dependencyInformers.get(dependency.kind);
    if (informer) return informer.getByName(dependency.namespace, dependency.name);
    if (dependency.kind !== 'PersistentVolumeClaim') return undefined;
    try {
      return await this.client.get(resourcePath(PVCS, dependency.namespace, dependency.name), { metadataOnly: true, signal: this.loop.signal });
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  }

  private async template(binding: KubeObject): Promise<KubeObject | undefined> {
    const resource = (specOf(binding)['resource'] ?? {}) as { apiVersion?: string; kind?: string; namespace?: string; name?: string };
    const mapping = await this.mapper.mapping(resource.apiVersion ?? '', resource.kind ?? '', this.loop.signal);
    if (!mapping) return undefined;
    try {
      return await this.client.get(resourcePath(mapping, mapping.namespaced ? resource.namespace : undefined, resource.name ?? ''), { signal: this.loop.signal });
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  }

  /** Creates the dependency's attached binding, or puts the parent's snapshot into the existing one. */
  private async attach(parent: KubeObject, dependency: KubeObject): Promise<void> {
    const wanted = attachedBinding(parent, dependency);
    const existing = this.bindings.getByName(wanted.metadata.namespace, wanted.metadata.name ?? '');
    if (!existing) {
      await this.client.create(this.bindingPath(wanted.metadata.namespace), wanted, { signal: this.loop.signal }).catch((err: unknown) => {
        if (!isApiError(err, 409)) throw err;
        throw new Error(`attached binding ${wanted.metadata.name ?? ''} appeared meanwhile; will merge`);
      });
      return;
    }
    const controller = (existing.metadata.ownerReferences ?? []).find((r) => r.controller);
    if (controller && controller.uid !== dependency.metadata.uid) return; // an older object of the same name: the garbage collector removes it
    const spec = specOf(existing);
    const wantedSpec = specOf(wanted);
    const requiredBy = withSnapshot(spec['requiredBy'] as BindingSnapshot[] | undefined, (wantedSpec['requiredBy'] as BindingSnapshot[])[0] as BindingSnapshot);
    const labels = { ...(existing.metadata.labels ?? {}), ...(wanted.metadata.labels ?? {}) };
    const nextSpec: Record<string, unknown> = { ...spec, requiredBy };
    if (!CLAIM_KINDS.some((c) => existing.metadata.labels?.[c.idLabel])) nextSpec['resource'] = wantedSpec['resource'];
    for (const field of ['conflictResolution', 'preserveResourcesOnDeletion']) if (wantedSpec[field] !== undefined && spec[field] === undefined) nextSpec[field] = wantedSpec[field];
    if (jsonEqual(nextSpec, spec) && jsonEqual(labels, existing.metadata.labels ?? {})) return;
    await this.client.update(this.bindingPath(existing.metadata.namespace, existing.metadata.name), { ...existing, metadata: { ...existing.metadata, labels }, spec: nextSpec }, { signal: this.loop.signal });
  }

  /** Takes the parent's snapshot out of every attached binding except those of `keep`; deletes bindings nobody requires. */
  private async detachAll(parent: KubeObject, keep: readonly DependentObjectReference[]): Promise<void> {
    const label = dependedByLabelKey(parent.metadata.namespace, parent.metadata.name ?? '');
    const kept = new Set(keep.map((d) => dependencyKey(d.kind, d.namespace, d.name)));
    for (const attached of this.attachedByParent.get(`${parent.metadata.namespace ?? ''}/${label}`)) {
      const resource = (specOf(attached)['resource'] ?? {}) as { kind?: string; namespace?: string; name?: string };
      if (kept.has(dependencyKey(resource.kind ?? '', resource.namespace ?? '', resource.name ?? ''))) continue;
      const requiredBy = withoutSnapshot(specOf(attached)['requiredBy'] as BindingSnapshot[] | undefined, parent.metadata.namespace, parent.metadata.name ?? '');
      const claimed = CLAIM_KINDS.some((c) => attached.metadata.labels?.[c.idLabel]);
      const path = this.bindingPath(attached.metadata.namespace, attached.metadata.name);
      if (requiredBy.length === 0 && !claimed) {
        await this.client.delete(path, { signal: this.loop.signal }).catch((err: unknown) => {
          if (!isApiError(err, 404)) throw err;
        });
        continue;
      }
      const labels = { ...(attached.metadata.labels ?? {}) };
      delete labels[label];
      const spec = { ...specOf(attached) };
      if (requiredBy.length > 0) spec['requiredBy'] = requiredBy;
      else delete spec['requiredBy'];
      await this.client.update(path, { ...attached, metadata: { ...attached.metadata, labels }, spec }, { signal: this.loop.signal });
    }
  }
}
