import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { isPlainObject, timestamp } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../client/client.js';
import { isApiError, resourcePath } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { WorkQueue } from '../client/work-queue.js';
import type { ReconcileResult } from '../client/work-queue.js';
import { CLUSTERS, NAMESPACES, WORKS } from '../karmada/gvrs.js';
import { executionNamespace } from '../karmada/names.js';

/**
 * Karmada's cluster controller (karmada-api.md §3.1, §4.6), for the control plane's Clusters:
 *  - a new Cluster gets its execution namespace `karmada-es-<cluster>` (labelled
 *    `karmada.io/system: "true"`) and the finalizer `karmada.io/cluster-controller`;
 *  - its NoSchedule taints follow the Ready condition: False → `cluster.karmada.io/not-ready`,
 *    Unknown → `cluster.karmada.io/unreachable`, True → neither, no Ready condition yet →
 *    `not-ready` (taints it adds carry `timeAdded`; others' taints are left alone);
 *  - a Cluster being deleted: every Work in its execution namespace is deleted and waited for, then
 *    the namespace is deleted and waited for, then the finalizer is removed and the Cluster goes.
 *
 * Not done (yet): the Pull-mode health monitor (Ready → Unknown when an agent stops reporting or its
 * lease is not renewed) — Flotilla has no Pull agents; and waiting for bindings to stop naming the
 * cluster before the finalizer goes (that comes with the scheduler).
 */
export const CLUSTER_CONTROLLER_FINALIZER = 'karmada.io/cluster-controller';
export const KARMADA_SYSTEM_LABEL = 'karmada.io/system';
export const TAINT_CLUSTER_NOT_READY = 'cluster.karmada.io/not-ready';
export const TAINT_CLUSTER_UNREACHABLE = 'cluster.karmada.io/unreachable';

export { CLUSTERS } from '../karmada/gvrs.js';


export interface Taint {
  key: string;
  value?: string;
  effect: string;
  timeAdded?: string;
}

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

/** The Cluster's condition of this type, if any. */
export function findCondition(cluster: KubeObject, type: string): Condition | undefined {
  const status = cluster['status'];
  if (!isPlainObject(status) || !Array.isArray(status['conditions'])) return undefined;
  return (status['conditions'] as unknown[]).find((c): c is Condition => isPlainObject(c) && c['type'] === type);
}

function taintsOf(cluster: KubeObject): Taint[] {
  const spec = cluster['spec'];
  return isPlainObject(spec) && Array.isArray(spec['taints']) ? (spec['taints'] as unknown[]).filter((t): t is Taint => isPlainObject(t) && typeof t['key'] === 'string') : [];
}

const sameTaint = (a: Taint, b: { key: string; effect: string }): boolean => a.key === b.key && a.effect === b.effect;

/** Karmada's taint bookkeeping: add the missing ones (stamped now), drop the unwanted ones, keep order. */
export function desiredTaints(cluster: KubeObject, failover?: { evictionTimeoutMs: number; now?: number }): Taint[] {
  const ready = findCondition(cluster, 'Ready');
  const notReady = { key: TAINT_CLUSTER_NOT_READY, effect: 'NoSchedule' };
  const unreachable = { key: TAINT_CLUSTER_UNREACHABLE, effect: 'NoSchedule' };
  let add: { key: string; effect: string }[];
  let remove: { key: string; effect: string }[];
  switch (ready?.status) {
    case undefined:
      add = [notReady];
      remove = [];
      break;
    case 'False':
      add = [notReady];
      remove = [unreachable];
      break;
    case 'Unknown':
      add = [unreachable];
      remove = [notReady];
      break;
    case 'True':
      add = [];
      remove = [notReady, unreachable];
      break;
    default:
      return taintsOf(cluster);
  }
  // Failover: a cluster unhealthy for the eviction timeout also gets the NoExecute twin of its taint.
  const noExecute = [{ key: TAINT_CLUSTER_NOT_READY, effect: 'NoExecute' }, { key: TAINT_CLUSTER_UNREACHABLE, effect: 'NoExecute' }];
  if (failover) {
    const unhealthyFor = ready?.lastTransitionTime ? (failover.now ?? Date.now()) - Date.parse(ready.lastTransitionTime) : 0;
    const wanted = ready?.status === 'False' ? noExecute[0] : ready?.status === 'Unknown' ? noExecute[1] : undefined;
    for (const taint of noExecute) if (taint !== wanted || unhealthyFor < failover.evictionTimeoutMs) remove.push(taint);
    if (wanted && unhealthyFor >= failover.evictionTimeoutMs) add.push(wanted);
  }
  const current = taintsOf(cluster);
  const toAdd = add.filter((t) => !current.some((c) => sameTaint(c, t)));
  const toRemove = remove.filter((t) => current.some((c) => sameTaint(c, t)));
  if (toAdd.length === 0 && toRemove.length === 0) return current;
  const now = timestamp();
  return [...current.filter((c) => !toRemove.some((t) => sameTaint(c, t))), ...toAdd.map((t) => ({ ...t, timeAdded: now }))];
}

export interface ClusterControllerOptions {
  readonly client: ApiClient;
  readonly logger: Logger;
  /** Concurrent clusters; default 4. */
  readonly workers?: number;
  /** How often a cluster being deleted is re-checked while its Works or namespace remain; default 1 s. */
  readonly cleanupCheckIntervalMs?: number;
  /** Informer resync; default 5 min. */
  readonly resyncPeriodMs?: number;
  /**
   * Failover (`--enable-failover`): a cluster whose Ready condition stays False (Unknown) for
   * `failoverEvictionTimeoutMs` (default 5 min, Karmada's `--failover-eviction-timeout`) gets
   * `cluster.karmada.io/not-ready:NoExecute` (`unreachable:NoExecute`), removed when it is Ready again;
   * the taint manager then evicts what does not tolerate it. Off by default, as in Karmada.
   */
  readonly enableFailover?: boolean;
  readonly failoverEvictionTimeoutMs?: number;
}

export const DEFAULT_FAILOVER_EVICTION_TIMEOUT_MS = 5 * 60_000;

export class ClusterController {
  private readonly client: ApiClient;
  private readonly logger: Logger;
  private readonly options: ClusterControllerOptions;
  private readonly queue = new WorkQueue<string>();
  private readonly abort = new AbortController();
  private readonly informer: Informer;
  private workers: Promise<void> = Promise.resolve();

  constructor(options: ClusterControllerOptions) {
    this.options = options;
    this.client = options.client;
    this.logger = options.logger;
    setMaxListeners(0, this.abort.signal);
    this.informer = new Informer(this.client, resourcePath(CLUSTERS), { resyncPeriodMs: options.resyncPeriodMs ?? 300_000, signal: this.abort.signal, logger: this.logger });
    const enqueue = (cluster: KubeObject): void => {
      if (cluster.metadata.name) this.queue.add(cluster.metadata.name);
    };
    this.informer.addHandlers({ onAdd: enqueue, onUpdate: (_old, cluster) => enqueue(cluster) });
  }

  start(): void {
    this.informer.start();
    this.workers = this.queue.run(this.options.workers ?? 4, (name) => this.reconcile(name), (name, err) => {
      this.logger.warn({ cluster: name, err: err instanceof Error ? err.message : String(err) }, 'cluster controller: reconcile failed; will retry');
    });
  }

  waitForSync(timeoutMs?: number): Promise<boolean> {
    return this.informer.waitForSync(timeoutMs);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.queue.shutDown();
    await this.informer.stop();
    await this.workers;
  }

  private get signal(): { signal: AbortSignal } {
    return { signal: this.abort.signal };
  }

  private async reconcile(name: string): Promise<ReconcileResult> {
    let cluster: KubeObject;
    try {
      cluster = await this.client.get(resourcePath(CLUSTERS, undefined, name), this.signal);
    } catch (err) {
      if (isApiError(err, 404)) return;
      throw err;
    }
    if (cluster.metadata.deletionTimestamp) return this.removeCluster(cluster);
    await this.ensureExecutionSpace(name);
    await this.syncTaintsAndFinalizer(cluster);
    return this.failoverRecheck(cluster);
  }

  private get failover(): { evictionTimeoutMs: number } | undefined {
    return this.options.enableFailover ? { evictionTimeoutMs: this.options.failoverEvictionTimeoutMs ?? DEFAULT_FAILOVER_EVICTION_TIMEOUT_MS } : undefined;
  }

  /** With failover on, an unhealthy cluster is looked at again when its eviction timeout ends. */
  private failoverRecheck(cluster: KubeObject): ReconcileResult {
    const failover = this.failover;
    const ready = findCondition(cluster, 'Ready');
    if (!failover || !ready || ready.status === 'True' || !ready.lastTransitionTime) return undefined;
    const remaining = Date.parse(ready.lastTransitionTime) + failover.evictionTimeoutMs - Date.now();
    return remaining > 0 ? { requeueAfterMs: remaining + 50 } : undefined;
  }

  private async ensureExecutionSpace(cluster: string): Promise<void> {
    const namespace = executionNamespace(cluster);
    try {
      await this.client.get(resourcePath(NAMESPACES, undefined, namespace), { ...this.signal, metadataOnly: true });
      return;
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
    try {
      await this.client.create(resourcePath(NAMESPACES), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { [KARMADA_SYSTEM_LABEL]: 'true' } } }, this.signal);
      this.logger.info({ cluster, namespace }, 'cluster controller: execution namespace created');
    } catch (err) {
      if (!isApiError(err, 409)) throw err;
    }
  }

  /** One update for both: the taints the Ready condition calls for, and the finalizer. */
  private async syncTaintsAndFinalizer(cluster: KubeObject): Promise<void> {
    const taints = desiredTaints(cluster, this.failover);
    const current = taintsOf(cluster);
    const taintsChanged = JSON.stringify(taints) !== JSON.stringify(current);
    const finalizers = cluster.metadata.finalizers ?? [];
    const needsFinalizer = !finalizers.includes(CLUSTER_CONTROLLER_FINALIZER);
    if (!taintsChanged && !needsFinalizer) return;
    const spec = isPlainObject(cluster['spec']) ? cluster['spec'] : {};
    const updated: KubeObject = {
      ...cluster,
      metadata: { ...cluster.metadata, finalizers: needsFinalizer ? [...finalizers, CLUSTER_CONTROLLER_FINALIZER] : finalizers },
      spec: { ...spec, taints },
    };
    if (taints.length === 0) delete (updated['spec'] as Record<string, unknown>)['taints'];
    // A conflict (the status controller wrote meanwhile) throws: the rate-limited retry reads it again.
    await this.client.update(resourcePath(CLUSTERS, undefined, cluster.metadata.name), updated, this.signal);
    if (taintsChanged) {
      this.logger.info({ cluster: cluster.metadata.name, taints: taints.map((t) => `${t.key}:${t.effect}`) }, 'cluster controller: taints updated');
    }
  }

  /** Works first, then the execution namespace, then the finalizer. */
  private async removeCluster(cluster: KubeObject): Promise<ReconcileResult> {
    const name = cluster.metadata.name ?? '';
    const finalizers = cluster.metadata.finalizers ?? [];
    if (!finalizers.includes(CLUSTER_CONTROLLER_FINALIZER)) return;
    const namespace = executionNamespace(name);
    const recheck = { requeueAfterMs: this.options.cleanupCheckIntervalMs ?? 1_000 };

    let works: KubeObject[] = [];
    try {
      works = (await this.client.list(resourcePath(WORKS, namespace), { ...this.signal, metadataOnly: true })).items;
    } catch (err) {
      // No Work kind served (404) or no such namespace: nothing to wait for.
      if (!isApiError(err, 404)) throw err;
    }
    if (works.length > 0) {
      for (const work of works) {
        if (work.metadata.deletionTimestamp || !work.metadata.name) continue;
        await this.client.delete(resourcePath(WORKS, namespace, work.metadata.name), { ...this.signal, ...(work.metadata.uid ? { preconditions: { uid: work.metadata.uid } } : {}) }).catch((err: unknown) => {
          if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
        });
      }
      this.logger.debug({ cluster: name, works: works.length }, 'cluster controller: waiting for the Works of a deleted cluster to go');
      return recheck;
    }

    let namespaceExists = true;
    try {
      const ns = await this.client.get(resourcePath(NAMESPACES, undefined, namespace), { ...this.signal, metadataOnly: true });
      if (!ns.metadata.deletionTimestamp) await this.client.delete(resourcePath(NAMESPACES, undefined, namespace), this.signal);
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
      namespaceExists = false;
    }
    if (namespaceExists) {
      this.logger.debug({ cluster: name, namespace }, 'cluster controller: waiting for the execution namespace of a deleted cluster to go');
      return recheck;
    }

    await this.client.patch(resourcePath(CLUSTERS, undefined, name), 'json', [
      { op: 'test', path: '/metadata/finalizers', value: finalizers },
      { op: 'replace', path: '/metadata/finalizers', value: finalizers.filter((f) => f !== CLUSTER_CONTROLLER_FINALIZER) },
    ], this.signal).catch((err: unknown) => {
      if (!isApiError(err, 404)) throw err;
    });
    this.logger.info({ cluster: name, namespace }, 'cluster controller: execution namespace removed; cluster released');
    return undefined;
  }
}
