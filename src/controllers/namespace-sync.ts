import { jsonEqual } from '../api/merge-patch.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../client/client.js';
import { resourcePath } from '../client/client.js';
import { ControllerLoop, contextOf, LoopController } from '../client/controller-loop.js';
import type { ControllerContext } from '../client/controller-loop.js';
import type { Informer } from '../client/informer.js';
import { CLUSTER_OVERRIDE_POLICIES, CLUSTERS, NAMESPACES, WORKS } from '../karmada/gvrs.js';
import { EXECUTION_NAMESPACE_PREFIX } from '../karmada/names.js';
import { OverrideError } from '../karmada/overrides.js';
import { buildNamespaceWork } from '../karmada/work-builder.js';
import type { ClusterObject } from '../scheduler/types.js';
import { writeWork } from './work-writer.js';

/**
 * Karmada's namespace sync controller (karmada-api.md §4.8): every Namespace of the control plane is
 * created in every member cluster, without a policy, as a Work `<namespace>-<hash>` in each
 * `karmada-es-<cluster>` (owned by the Namespace, so deleting the Namespace deletes its Works and the
 * member namespaces), with ClusterOverridePolicies applied. Not propagated: `default`, `kube-*`,
 * `karmada-system`, `karmada-cluster`, `karmada-es-*`, namespaces being deleted, and namespaces
 * labelled `namespace.karmada.io/skip-auto-propagation: "true"` (member namespaces made earlier stay).
 * A cluster that joins gets every namespace.
 */
export const SKIP_AUTO_PROPAGATION_LABEL = 'namespace.karmada.io/skip-auto-propagation';
const RESERVED_NAMESPACES = new Set(['default', 'karmada-system', 'karmada-cluster']);

/** Whether a control-plane namespace is propagated to members. */
export function propagatesNamespace(namespace: KubeObject): boolean {
  const name = namespace.metadata.name ?? '';
  if (RESERVED_NAMESPACES.has(name) || name.startsWith(EXECUTION_NAMESPACE_PREFIX) || /^kube-.*$/.test(name)) return false;
  if (namespace.metadata.deletionTimestamp) return false;
  return namespace.metadata.labels?.[SKIP_AUTO_PROPAGATION_LABEL] !== 'true';
}

export interface NamespaceSyncControllerOptions extends ControllerContext {
}

export class NamespaceSyncController extends LoopController {
  readonly name = 'namespace-sync';
  protected readonly loop: ControllerLoop<string>;
  private readonly client: ApiClient;
  private readonly namespaces: Informer;
  private readonly clusters: Informer;
  private readonly works: Informer;
  private readonly clusterOverridePolicies: Informer;

  constructor(options: NamespaceSyncControllerOptions) {
    super();
    this.client = options.client;
    this.loop = new ControllerLoop<string>({
      ...contextOf(options),
      name: this.name,
      workers: 2,
      queue: { qps: Infinity },
      reconcile: (key) => this.reconcile(key),
      expectedError: (err) => err instanceof OverrideError,
      keyField: 'namespace',
    });
    const enqueue = (namespace: KubeObject) => this.loop.queue.add(namespace.metadata.name ?? '');
    this.namespaces = this.loop.informer(resourcePath(NAMESPACES)).addHandlers({
      onAdd: enqueue,
      onUpdate: (old, namespace) => {
        if (old === namespace || !jsonEqual(old.metadata.labels, namespace.metadata.labels) || !jsonEqual(old.metadata.annotations, namespace.metadata.annotations) || old.metadata.deletionTimestamp !== namespace.metadata.deletionTimestamp) enqueue(namespace);
      },
    });
    const enqueueAll = () => {
      for (const namespace of this.namespaces.list()) enqueue(namespace);
    };
    this.clusters = this.loop.informer(resourcePath(CLUSTERS)).addHandlers({
      onAdd: enqueueAll,
      onUpdate: (old, cluster) => {
        if (old !== cluster && (!jsonEqual(old.metadata.labels, cluster.metadata.labels) || !jsonEqual(old['spec'], cluster['spec']))) enqueueAll();
      },
    });
    this.clusterOverridePolicies = this.loop.informer(resourcePath(CLUSTER_OVERRIDE_POLICIES)).addHandlers({
      onAdd: enqueueAll,
      onUpdate: (old, policy) => old !== policy && enqueueAll(),
      onDelete: enqueueAll,
    });
    const ownerNamespace = (work: KubeObject) => (work.metadata.ownerReferences ?? []).find((r) => r.kind === 'Namespace' && r.apiVersion === 'v1')?.name;
    this.works = this.loop.informer(resourcePath(WORKS)).addHandlers({
      onUpdate: (old, work) => {
        const owner = ownerNamespace(work);
        if (owner && old !== work && !jsonEqual(old['spec'], work['spec'])) this.loop.queue.add(owner);
      },
      onDelete: (work) => {
        const owner = ownerNamespace(work);
        if (owner) this.loop.queue.add(owner);
      },
    });
  }


  private async reconcile(name: string): Promise<void> {
    const namespace = this.namespaces.get(name);
    if (!namespace || !propagatesNamespace(namespace)) return;
    const errors: string[] = [];
    for (const cluster of this.clusters.list()) {
      if (cluster.metadata.deletionTimestamp) continue;
      try {
        const wanted = buildNamespaceWork(namespace, cluster as unknown as ClusterObject, this.clusterOverridePolicies.list());
        const existing = this.works.getByName(wanted.metadata.namespace, wanted.metadata.name ?? '');
        await writeWork(this.client, wanted, existing?.metadata.deletionTimestamp ? undefined : existing, this.loop.signal);
      } catch (err) {
        if (this.loop.stopped) throw err;
        errors.push(`${cluster.metadata.name ?? ''}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    if (errors.length > 0) throw new Error(`failed to propagate namespace ${name}: ${errors.join('; ')}`);
  }
}
