import { jsonEqual } from '../api/merge-patch.js';
import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../client/client.js';
import { resourcePath } from '../client/client.js';
import { ControllerLoop, contextOf, LoopController } from '../client/controller-loop.js';
import type { ControllerContext } from '../client/controller-loop.js';
import { objectKey } from '../client/informer.js';
import type { Informer } from '../client/informer.js';
import { MemberConnectionError } from '../federation/member-connection.js';
import { memberResource } from '../federation/member-informers.js';
import type { MemberInformers } from '../federation/member-informers.js';
import { CLUSTERS, WORKS } from '../karmada/gvrs.js';
import { clusterOfExecutionNamespace, executionNamespace } from '../karmada/names.js';
import { manifestStatus } from '../karmada/status-reflection.js';
import type { ManifestStatus } from '../karmada/status-reflection.js';
import { findCondition } from './cluster-controller.js';

/**
 * Karmada's work status controller (karmada-api.md §4.4): what became of each Work's manifests in its
 * member cluster flows back into `Work.status.manifestStatuses` — the identifier (ordinal in the
 * manifests, group, version, kind, resource, namespace, name), the member object's reflected status and
 * its health (src/karmada/status-reflection.ts). It reads the member objects from the shared member
 * informers (one watch per member and kind) and is woken by their events, matched to Works by the
 * `work.karmada.io/namespace|name` annotations Karmada puts on every propagated object. Nothing is
 * polled; a Work is written only when its manifest statuses change.
 */
const WORK_NAME_ANNOTATION = 'work.karmada.io/name';
const WORK_NAMESPACE_ANNOTATION = 'work.karmada.io/namespace';

export interface WorkStatusControllerOptions extends ControllerContext {
  readonly memberInformers: MemberInformers;
  /** Concurrent reconciles; default 4. */
  readonly workers?: number;
}

const isReady = (cluster: KubeObject | undefined): boolean => cluster !== undefined && findCondition(cluster, 'Ready')?.status === 'True';

export class WorkStatusController extends LoopController {
  readonly name = 'work-status';
  protected readonly loop: ControllerLoop<string>;
  private readonly client: ApiClient;
  private readonly options: WorkStatusControllerOptions;
  private readonly works: Informer;
  private readonly clusters: Informer;
  private unsubscribe: (() => void) | undefined;
  /** Work status writes, for `bench propagation`. */
  readonly stats = { statusWrites: 0 };

  constructor(options: WorkStatusControllerOptions) {
    super();
    this.options = options;
    this.client = options.client;
    this.loop = new ControllerLoop<string>({
      ...contextOf(options),
      name: this.name,
      workers: options.workers ?? 4,
      queue: { qps: Infinity },
      reconcile: (key) => this.reconcile(key),
      expectedError: (err) => err instanceof MemberConnectionError,
      keyField: 'work',
    });
    this.loop.onStop(() => this.unsubscribe?.());
    this.works = this.loop.informer(resourcePath(WORKS)).addHandlers({
      onAdd: (work) => this.enqueue(work),
      onUpdate: (old, work) => {
        if (old === work || old.metadata.generation !== work.metadata.generation || !jsonEqual(findCondition(old, 'Applied'), findCondition(work, 'Applied'))) this.enqueue(work);
      },
    });
    this.clusters = this.loop.informer(resourcePath(CLUSTERS)).addHandlers({
      onUpdate: (old, cluster) => {
        if (isReady(cluster) && !isReady(old)) {
          const namespace = executionNamespace(cluster.metadata.name ?? '');
          for (const work of this.works.list()) if (work.metadata.namespace === namespace) this.enqueue(work);
        }
      },
    });
  }

  override start(): void {
    this.unsubscribe = this.options.memberInformers.onEvent((cluster, _type, object) => {
      const annotations = object.metadata.annotations ?? {};
      const name = annotations[WORK_NAME_ANNOTATION];
      const namespace = annotations[WORK_NAMESPACE_ANNOTATION];
      // A member object changes several times in a rollout: gather them into one status write.
      if (name && namespace === executionNamespace(cluster)) this.loop.queue.addAfter(`${namespace}/${name}`, 50);
    });
    super.start();
  }

  private enqueue(work: KubeObject): void {
    if (clusterOfExecutionNamespace(work.metadata.namespace) !== undefined) this.loop.queue.add(objectKey(work));
  }

  private async reconcile(key: string): Promise<{ requeueAfterMs: number } | undefined> {
    const work = this.works.get(key);
    if (!work || work.metadata.deletionTimestamp) return undefined;
    const cluster = this.clusters.get(clusterOfExecutionNamespace(work.metadata.namespace) ?? '');
    if (!cluster || !isReady(cluster)) return undefined;
    const spec = isPlainObject(work['spec']) ? work['spec'] : {};
    const workload = isPlainObject(spec['workload']) ? spec['workload'] : {};
    const manifests = Array.isArray(workload['manifests']) ? workload['manifests'] : [];
    const statuses: ManifestStatus[] = [];
    for (const [ordinal, manifest] of manifests.entries()) {
      if (!isPlainObject(manifest) || !isPlainObject(manifest['metadata'])) continue;
      const apiVersion = String(manifest['apiVersion'] ?? '');
      const kind = String(manifest['kind'] ?? '');
      const resource = memberResource(cluster, apiVersion, kind);
      if (!resource) continue;
      const informer = await this.options.memberInformers.ensure(cluster, resource);
      if (!informer.hasSynced()) return { requeueAfterMs: 200 };
      const namespace = typeof manifest['metadata']['namespace'] === 'string' ? manifest['metadata']['namespace'] : '';
      const name = String(manifest['metadata']['name'] ?? '');
      const object = informer.getByName(namespace || undefined, name);
      if (!object) continue;
      statuses.push(manifestStatus({ ordinal, group: resource.group, version: resource.version, kind, resource: resource.resource, namespace, name }, object));
    }
    const status = isPlainObject(work['status']) ? work['status'] : {};
    if (jsonEqual(status['manifestStatuses'] ?? [], statuses)) return undefined;
    const next: Record<string, unknown> = { ...status };
    if (statuses.length > 0) next['manifestStatuses'] = statuses;
    else delete next['manifestStatuses'];
    await this.client.update(`${resourcePath(WORKS, work.metadata.namespace, work.metadata.name)}/status`, { ...work, status: next }, { signal: this.loop.signal });
    this.stats.statusWrites++;
    return undefined;
  }
}
