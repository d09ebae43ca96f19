import { isPlainObject, timestamp } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../client/client.js';
import { isApiError, resourcePath } from '../client/client.js';
import { ControllerLoop, contextOf, LoopController } from '../client/controller-loop.js';
import type { ControllerContext } from '../client/controller-loop.js';
import { objectKey } from '../client/informer.js';
import type { Informer } from '../client/informer.js';
import { MemberConnectionError } from '../federation/member-connection.js';
import type { MemberConnections } from '../federation/member-connection.js';
import { memberResource } from '../federation/member-informers.js';
import type { MemberEventType, MemberInformers, MemberResource } from '../federation/member-informers.js';
import { CLUSTERS, WORKS } from '../karmada/gvrs.js';
import { clusterOfExecutionNamespace, executionNamespace } from '../karmada/names.js';
import { retainMemberFields } from '../karmada/retain.js';
import { EXECUTION_CONTROLLER_FINALIZER, MANAGED_LABEL } from '../karmada/work-builder.js';
import { findCondition } from './cluster-controller.js';
import { COMPLETE_API_ENABLEMENTS } from './cluster-status.js';
import type { Condition } from './cluster-controller.js';
import { upsertCondition } from './conditions.js';

/**
 * Karmada's execution controller (karmada-api.md §4.4), push mode: each Work in `karmada-es-<cluster>`
 * is applied to that member's API server with the Cluster's credentials.
 *  - A manifest missing in the member is created. One that exists is updated only when Karmada manages
 *    it (`karmada.io/managed: "true"`) or the manifest says `work.karmada.io/conflict-resolution:
 *    overwrite`; otherwise the Work fails with Karmada's "already exists … Karmada will not manage this
 *    resource". Updates keep what the member owns (src/karmada/retain.ts) and are skipped when neither
 *    the manifest nor the member object's generation changed since this controller last wrote it.
 *  - The Work's status gets `Applied` (True AppliedSuccessful / False AppliedFailed with the errors)
 *    and `Dispatching` (True, or False SuspendDispatching while `spec.suspendDispatching`).
 *  - A member that is not Ready makes its Works wait: they are tried again when the cluster turns Ready
 *    (and with back-off meanwhile), never dropped.
 *  - A Work being deleted (finalizer `karmada.io/execution-controller`) has its objects deleted in the
 *    member — only objects Karmada manages, with background propagation — unless it preserves resources
 *    on deletion; then the finalizer goes. A member that is down keeps the finalizer until it is back;
 *    a Cluster that is gone or being unjoined while unreachable releases it.
 *  - An object deleted or edited in the member (its generation moved) is put back.
 */
export const APPLIED_CONDITION = 'Applied';
export const DISPATCHING_CONDITION = 'Dispatching';
const CONFLICT_RESOLUTION_ANNOTATION = 'work.karmada.io/conflict-resolution';
const WORK_NAME_ANNOTATION = 'work.karmada.io/name';
const WORK_NAMESPACE_ANNOTATION = 'work.karmada.io/namespace';

export interface ExecutionControllerOptions extends ControllerContext {
  readonly connections: MemberConnections;
  readonly memberInformers: MemberInformers;
  /** Concurrent reconciles; default 8. */
  readonly workers?: number;
  /** How often a Work waiting for a member that is not Ready looks again; default 5 s. */
  readonly notReadyRetryMs?: number;
}

/** Why a Work could not be applied (the message goes into its Applied condition). */
class ApplyError extends Error {}

const manifestsOf = (work: KubeObject): KubeObject[] => {
  const spec = isPlainObject(work['spec']) ? work['spec'] : {};
  const workload = isPlainObject(spec['workload']) ? spec['workload'] : {};
  return (Array.isArray(workload['manifests']) ? workload['manifests'] : []).filter((m): m is KubeObject => isPlainObject(m) && isPlainObject(m['metadata']));
};

/** The Work generation a condition speaks for. */
const observed = (work: KubeObject): { observedGeneration?: number } => (work.metadata.generation !== undefined ? { observedGeneration: work.metadata.generation } : {});

const isReady = (cluster: KubeObject): boolean => findCondition(cluster, 'Ready')?.status === 'True';

/** The member object's version as far as its desired state goes: generation when it has one. */
const versionOf = (object: KubeObject): string => (object.metadata.generation !== undefined ? `g${object.metadata.generation}` : `r${object.metadata.resourceVersion ?? ''}`);

export class ExecutionController extends LoopController {
  readonly name = 'execution';
  protected readonly loop: ControllerLoop<string>;
  private readonly client: ApiClient;
  private readonly options: ExecutionControllerOptions;
  private readonly works: Informer;
  private readonly clusters: Informer;
  /** What this controller last wrote per member object: the manifest and the object's version after the write. */
  private readonly written = new Map<string, { manifest: string; version: string }>();
  private unsubscribe: (() => void) | undefined;
  /** Manifests created/updated in members, for `bench propagation`. */
  readonly stats = { applies: 0, creates: 0, updates: 0, skipped: 0, deletes: 0 };

  constructor(options: ExecutionControllerOptions) {
    super();
    this.options = options;
    this.client = options.client;
    this.loop = new ControllerLoop<string>({
      ...contextOf(options),
      name: this.name,
      workers: options.workers ?? 8,
      queue: { qps: Infinity },
      reconcile: (key) => this.reconcile(key),
      expectedError: (err) => err instanceof ApplyError || err instanceof MemberConnectionError,
      keyField: 'work',
    });
    this.loop.onStop(() => this.unsubscribe?.());
    this.works = this.loop.informer(resourcePath(WORKS)).addHandlers({
      onAdd: (work) => this.enqueue(work),
      onUpdate: (old, work) => {
        // Status writes (ours and the status controller's) do not change the generation.
        if (old === work || old.metadata.generation !== work.metadata.generation || old.metadata.deletionTimestamp !== work.metadata.deletionTimestamp) this.enqueue(work);
      },
    });
    this.clusters = this.loop.informer(resourcePath(CLUSTERS)).addHandlers({
      onUpdate: (old, cluster) => {
        const became = isReady(cluster) && !isReady(old);
        const enablementsChanged = JSON.stringify((old['status'] as Record<string, unknown> | undefined)?.['apiEnablements']) !== JSON.stringify((cluster['status'] as Record<string, unknown> | undefined)?.['apiEnablements']);
        if (became || enablementsChanged || old.metadata.deletionTimestamp !== cluster.metadata.deletionTimestamp) this.enqueueCluster(cluster.metadata.name ?? '');
      },
      onDelete: (cluster) => {
        this.enqueueCluster(cluster.metadata.name ?? '');
        void this.options.memberInformers.stopCluster(cluster.metadata.name ?? '');
      },
    });
  }

  override start(): void {
    this.unsubscribe = this.options.memberInformers.onEvent((cluster, type, object, old) => this.memberChanged(cluster, type, object, old));
    super.start();
  }

  private enqueue(work: KubeObject): void {
    if (clusterOfExecutionNamespace(work.metadata.namespace) !== undefined) this.loop.queue.add(objectKey(work));
  }

  private enqueueCluster(cluster: string): void {
    const namespace = executionNamespace(cluster);
    for (const work of this.works.list()) if (work.metadata.namespace === namespace) this.loop.queue.add(objectKey(work));
  }

  /** A member object deleted, or changed by someone else (its generation moved): its Work puts it back. */
  private memberChanged(cluster: string, type: MemberEventType, object: KubeObject, old?: KubeObject): void {
    if (type === 'ADDED') return;
    if (type === 'MODIFIED' && old && versionOf(old) === versionOf(object)) return;
    const annotations = object.metadata.annotations ?? {};
    const name = annotations[WORK_NAME_ANNOTATION];
    const namespace = annotations[WORK_NAMESPACE_ANNOTATION];
    if (!name || namespace !== executionNamespace(cluster)) return;
    const written = this.written.get(this.memberKey(cluster, object));
    if (type === 'MODIFIED' && written?.version === versionOf(object)) return;
    this.loop.queue.add(`${namespace}/${name}`);
  }

  private memberKey(cluster: string, object: KubeObject): string {
    return `${cluster}|${object.apiVersion ?? ''}|${object.kind ?? ''}|${object.metadata.namespace ?? ''}|${object.metadata.name ?? ''}`;
  }

  // ---- reconcile ----

  private async reconcile(key: string): Promise<{ requeueAfterMs: number } | undefined> {
    const work = this.works.get(key);
    if (!work) return undefined;
    const clusterName = clusterOfExecutionNamespace(work.metadata.namespace);
    if (clusterName === undefined) return undefined;
    const cluster = this.clusters.get(clusterName);
    if (work.metadata.deletionTimestamp) return this.deleteWork(work, cluster);
    if (!(work.metadata.finalizers ?? []).includes(EXECUTION_CONTROLLER_FINALIZER)) {
      await this.client.update(this.workPath(work), { ...work, metadata: { ...work.metadata, finalizers: [...(work.metadata.finalizers ?? []), EXECUTION_CONTROLLER_FINALIZER] } }, { signal: this.loop.signal });
      return undefined; // the update brings the Work back with the finalizer
    }
    const suspended = isPlainObject(work['spec']) && work['spec']['suspendDispatching'] === true;
    const dispatching: Condition = suspended
      ? { type: DISPATCHING_CONDITION, status: 'False', reason: 'SuspendDispatching', message: 'Work dispatching is in a suspended state.' }
      : { type: DISPATCHING_CONDITION, status: 'True', reason: 'Dispatching', message: 'Work is being dispatched to member clusters.' };
    if (suspended) {
      await this.writeConditions(work, [dispatching]);
      return undefined;
    }
    if (!cluster || !isReady(cluster)) {
      await this.writeConditions(work, [dispatching]);
      return { requeueAfterMs: this.options.notReadyRetryMs ?? 5_000 };
    }
    const manifests = manifestsOf(work);
    const errors: string[] = [];
    let changed = false;
    for (const manifest of manifests) {
      try {
        if (await this.apply(cluster, manifest)) changed = true;
      } catch (err) {
        if (this.loop.stopped) throw err;
        errors.push(err instanceof Error ? err.message : String(err));
      }
    }
    const applied: Condition =
      errors.length === 0
        ? { type: APPLIED_CONDITION, status: 'True', reason: 'AppliedSuccessful', message: 'Manifest has been successfully applied', ...observed(work) }
        : { type: APPLIED_CONDITION, status: 'False', reason: 'AppliedFailed', ...observed(work), message: `Failed to apply all manifests (${manifests.length - errors.length}/${manifests.length}): ${errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`}` };
    // What the status controller reflected is stale once a member object changed: it reports anew.
    await this.writeConditions(work, [dispatching, applied], changed);
    if (errors.length > 0) throw new ApplyError(applied.message);
    return undefined;
  }

  private resourceFor(cluster: KubeObject, manifest: KubeObject): MemberResource {
    const resource = memberResource(cluster, manifest.apiVersion ?? '', manifest.kind ?? '');
    if (!resource) throw new ApplyError(`no matches for kind "${manifest.kind ?? ''}" in version "${manifest.apiVersion ?? ''}" in cluster ${cluster.metadata.name ?? ''}`);
    return resource;
  }

  /** The member's copy of the manifest's object (from the member informer once it has listed). */
  private async observed(cluster: KubeObject, resource: MemberResource, manifest: KubeObject): Promise<{ object: KubeObject | undefined; path: string; client: ApiClient }> {
    const client = await this.options.connections.clientFor(cluster, this.loop.signal);
    const namespace = manifest.metadata.namespace || undefined;
    const name = manifest.metadata.name ?? '';
    const path = resourcePath(resource, namespace, name);
    const informer = await this.options.memberInformers.ensure(cluster, resource);
    if (informer.hasSynced()) return { object: informer.getByName(namespace, name), path, client };
    try {
      return { object: await client.get(path, { signal: this.loop.signal }), path, client };
    } catch (err) {
      if (isApiError(err, 404)) return { object: undefined, path, client };
      throw err;
    }
  }

  /** Creates or updates the manifest's object in the member; true when it wrote. */
  private async apply(cluster: KubeObject, manifest: KubeObject): Promise<boolean> {
    const clusterName = cluster.metadata.name ?? '';
    const resource = this.resourceFor(cluster, manifest);
    const { object: observed, path, client } = await this.observed(cluster, resource, manifest);
    const key = this.memberKey(clusterName, manifest);
    const desired = JSON.stringify(manifest);
    this.stats.applies++;
    if (!observed) {
      const namespace = manifest.metadata.namespace || undefined;
      const created = await client.create(resourcePath(resource, namespace), manifest, { signal: this.loop.signal });
      this.written.set(key, { manifest: desired, version: versionOf(created) });
      this.stats.creates++;
      return true;
    }
    const written = this.written.get(key);
    if (written && written.manifest === desired && written.version === versionOf(observed)) {
      this.stats.skipped++;
      return false;
    }
    const managed = observed.metadata.labels?.[MANAGED_LABEL] === 'true';
    if (!managed && manifest.metadata.annotations?.[CONFLICT_RESOLUTION_ANNOTATION] !== 'overwrite') {
      throw new ApplyError(
        `resource(kind=${manifest.kind ?? ''}, ${manifest.metadata.namespace ?? ''}/${manifest.metadata.name ?? ''}) already exists in the cluster ${clusterName} and the ${CONFLICT_RESOLUTION_ANNOTATION} strategy value is empty, Karmada will not manage this resource`,
      );
    }
    let updated: KubeObject;
    try {
      updated = await client.update(path, retainMemberFields(manifest, observed), { signal: this.loop.signal });
    } catch (err) {
      if (!isApiError(err, 409)) throw err;
      // The member informer was behind (the member's own controllers write the object too): once more on the live object.
      const live = await client.get(path, { signal: this.loop.signal });
      updated = await client.update(path, retainMemberFields(manifest, live), { signal: this.loop.signal });
    }
    this.written.set(key, { manifest: desired, version: versionOf(updated) });
    this.stats.updates++;
    return true;
  }

  private async deleteWork(work: KubeObject, cluster: KubeObject | undefined): Promise<{ requeueAfterMs: number } | undefined> {
    if (!(work.metadata.finalizers ?? []).includes(EXECUTION_CONTROLLER_FINALIZER)) return undefined;
    const preserve = isPlainObject(work['spec']) && work['spec']['preserveResourcesOnDeletion'] === true;
    if (cluster && !preserve) {
      if (!isReady(cluster)) {
        // Unjoining a cluster that cannot be reached: nothing can be cleaned up there.
        if (!cluster.metadata.deletionTimestamp) return { requeueAfterMs: this.options.notReadyRetryMs ?? 5_000 };
      } else {
        try {
          for (const manifest of manifestsOf(work)) await this.deleteInMember(cluster, manifest);
        } catch (err) {
          // Unjoining a cluster whose credentials are already gone: nothing more can be done there.
          if (!(err instanceof MemberConnectionError && cluster.metadata.deletionTimestamp)) throw err;
        }
      }
    }
    await this.client.update(this.workPath(work), { ...work, metadata: { ...work.metadata, finalizers: (work.metadata.finalizers ?? []).filter((f) => f !== EXECUTION_CONTROLLER_FINALIZER) } }, { signal: this.loop.signal });
    return undefined;
  }

  private async deleteInMember(cluster: KubeObject, manifest: KubeObject): Promise<void> {
    const resource = memberResource(cluster, manifest.apiVersion ?? '', manifest.kind ?? '');
    if (!resource) {
      // Not in the cluster's API enablements. When they were collected completely the member does not
      // serve the kind and nothing of it can be there; otherwise (a discovery that failed, e.g. the
      // member went away between its health probe and discovery) it cannot be told: try again later
      // rather than release the Work and leave its object behind.
      if (findCondition(cluster, COMPLETE_API_ENABLEMENTS)?.status === 'True') return;
      throw new MemberConnectionError(`cannot delete ${manifest.kind ?? ''} ${manifest.metadata.namespace ? `${manifest.metadata.namespace}/` : ''}${manifest.metadata.name ?? ''} in cluster ${cluster.metadata.name ?? ''}: its API enablements are not completely collected`);
    }
    const { object: observed, path, client } = await this.observed(cluster, resource, manifest);
    if (!observed) return;
    // Never delete what Karmada does not manage (e.g. an object that was there before and conflicted).
    if (observed.metadata.labels?.[MANAGED_LABEL] !== 'true') return;
    try {
      await client.delete(path, { propagationPolicy: 'Background', preconditions: { uid: observed.metadata.uid ?? '' }, signal: this.loop.signal });
      this.stats.deletes++;
    } catch (err) {
      if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
    }
    this.written.delete(this.memberKey(cluster.metadata.name ?? '', manifest));
  }

  /** Writes the conditions onto the Work's status when any differs (a transition time kept while its status holds). */
  private async writeConditions(work: KubeObject, conditions: Condition[], dropManifestStatuses = false): Promise<void> {
    const status = isPlainObject(work['status']) ? work['status'] : {};
    let current = (Array.isArray(status['conditions']) ? status['conditions'] : []) as readonly Condition[];
    let changed = dropManifestStatuses && status['manifestStatuses'] !== undefined;
    for (const condition of conditions) {
      const next = upsertCondition(current, condition, timestamp());
      if (next !== current) changed = true;
      current = next;
    }
    if (!changed) return;
    const next: Record<string, unknown> = { ...status, conditions: current };
    if (dropManifestStatuses) delete next['manifestStatuses'];
    await this.client.update(`${this.workPath(work)}/status`, { ...work, status: next }, { signal: this.loop.signal });
  }

  private workPath(work: KubeObject): string {
    return resourcePath(WORKS, work.metadata.namespace, work.metadata.name);
  }
}
