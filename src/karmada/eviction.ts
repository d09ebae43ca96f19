import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { tolerates } from '../scheduler/tolerations.js';
import type { GracefulEvictionTask, Taint, TargetCluster, Toleration } from '../scheduler/types.js';

/**
 * Cluster failover as pure functions (karmada-api.md §4.6):
 *  - evictionTime: when a binding placed on a cluster must leave it because of the cluster's NoExecute
 *    taints — now when one is not tolerated, at the taint's timeAdded + the smallest tolerationSeconds
 *    when every one is tolerated for a while, never when tolerated for ever (kube's taint manager rule);
 *  - gracefulEvict: Karmada's GracefulEvictCluster — the cluster leaves spec.clusters and, unless a task
 *    for it exists, a graceful eviction task records it (replicas, reason TaintUntolerated, producer
 *    TaintManager, purgeMode from spec.failover.cluster.purgeMode or the default Gracefully);
 *  - assessEvictionTasks: the graceful eviction controller's rule — new tasks get a creationTimestamp;
 *    a task goes when suppressDeletion is false, when its timeout (gracePeriodSeconds or the default)
 *    passed, or when the binding is scheduled for its generation and every scheduled cluster reports
 *    Healthy — for workloads, with the replicas now scheduled to it available (stricter than Karmada,
 *    whose check can pass on a status reflected before the reschedule reached the member);
 *    suppressDeletion true keeps it.
 */
export const EVICTION_REASON_TAINT_UNTOLERATED = 'TaintUntolerated';
export const EVICTION_PRODUCER_TAINT_MANAGER = 'TaintManager';
export const DEFAULT_GRACEFUL_EVICTION_TIMEOUT_MS = 10 * 60_000;

type Obj = Record<string, unknown>;
const obj = (value: unknown): Obj => (isPlainObject(value) ? value : {});

/** ms since epoch when the binding must leave the cluster; undefined: never; ≤ now: at once. */
export function evictionTime(taints: readonly Taint[] | undefined, tolerations: readonly Toleration[] | undefined, now: number): number | undefined {
  let at: number | undefined;
  for (const taint of taints ?? []) {
    if (taint.effect !== 'NoExecute') continue;
    const matching = (tolerations ?? []).filter((t) => tolerates(t, taint));
    if (matching.length === 0) return now;
    const seconds = matching.map((t) => t.tolerationSeconds).filter((s): s is number => typeof s === 'number');
    if (seconds.length < matching.length) continue; // a toleration without tolerationSeconds tolerates for ever
    const added = taint.timeAdded ? Date.parse(taint.timeAdded) : now;
    const when = added + Math.max(0, Math.min(...seconds)) * 1000;
    at = at === undefined ? when : Math.min(at, when);
  }
  return at;
}

/** The binding spec after evicting `cluster` (undefined when the binding is not on it). */
export function gracefulEvict(spec: Obj, cluster: string, defaultPurgeMode = 'Gracefully'): Obj | undefined {
  const clusters = (Array.isArray(spec['clusters']) ? spec['clusters'] : []) as TargetCluster[];
  const evicted = clusters.find((c) => c.name === cluster);
  if (!evicted) return undefined;
  const tasks = (Array.isArray(spec['gracefulEvictionTasks']) ? spec['gracefulEvictionTasks'] : []) as GracefulEvictionTask[];
  const next: Obj = { ...spec, clusters: clusters.filter((c) => c.name !== cluster) };
  if (tasks.some((t) => t.fromCluster === cluster)) return next;
  const purgeMode = (obj(obj(spec['failover'])['cluster'])['purgeMode'] as string | undefined) || defaultPurgeMode;
  const task: Obj = { fromCluster: cluster, purgeMode };
  if (evicted.replicas !== undefined && evicted.replicas > 0) task['replicas'] = evicted.replicas;
  task['reason'] = EVICTION_REASON_TAINT_UNTOLERATED;
  task['producer'] = EVICTION_PRODUCER_TAINT_MANAGER;
  next['gracefulEvictionTasks'] = [...tasks, task];
  return next;
}

/**
 * A workload's reflected status shows the replicas scheduled to its cluster available (a status
 * reflected before the reschedule reached the member does not count). Kinds that report no
 * availableReplicas are judged by their health alone.
 */
function runsScheduledReplicas(status: Obj | undefined, scheduled: number | undefined): boolean {
  if (scheduled === undefined) return true;
  const available = status?.['availableReplicas'];
  if (typeof available === 'number') return available >= scheduled;
  // Replica counters without availableReplicas: none available (a zero is omitted). No counters: not a workload status.
  return status?.['replicas'] === undefined && status?.['updatedReplicas'] === undefined ? true : scheduled === 0;
}

export interface TaskAssessment {
  /** The tasks to keep (new ones stamped). */
  readonly kept: GracefulEvictionTask[];
  /** The clusters whose tasks ended. */
  readonly removed: string[];
  /** When the earliest remaining timeout ends (ms since epoch), if any. */
  readonly nextCheckAt?: number;
}

export function assessEvictionTasks(binding: KubeObject, now: number, defaultTimeoutMs = DEFAULT_GRACEFUL_EVICTION_TIMEOUT_MS): TaskAssessment {
  const spec = obj(binding['spec']);
  const status = obj(binding['status']);
  const tasks = (Array.isArray(spec['gracefulEvictionTasks']) ? spec['gracefulEvictionTasks'] : []) as GracefulEvictionTask[];
  const scheduled = status['schedulerObservedGeneration'] === binding.metadata.generation;
  const items = (Array.isArray(status['aggregatedStatus']) ? status['aggregatedStatus'] : []) as { clusterName?: string; health?: string; status?: Obj }[];
  const clusters = (Array.isArray(spec['clusters']) ? spec['clusters'] : []) as TargetCluster[];
  const allHealthy = clusters.every((c) => items.some((i) => i.clusterName === c.name && i.health === 'Healthy' && runsScheduledReplicas(i.status, c.replicas)));
  const stamp = new Date(now).toISOString().replace(/\.\d+Z$/, 'Z');
  const kept: GracefulEvictionTask[] = [];
  const removed: string[] = [];
  let nextCheckAt: number | undefined;
  for (const original of tasks) {
    const task = original.creationTimestamp ? original : { ...original, creationTimestamp: stamp };
    if (task.suppressDeletion === true) {
      kept.push(task);
      continue;
    }
    const timeoutMs = typeof task.gracePeriodSeconds === 'number' ? task.gracePeriodSeconds * 1000 : defaultTimeoutMs;
    const expiresAt = Date.parse(task.creationTimestamp ?? stamp) + timeoutMs;
    if (task.suppressDeletion === false || now > expiresAt || (scheduled && allHealthy)) {
      removed.push(task.fromCluster);
      continue;
    }
    kept.push(task);
    nextCheckAt = nextCheckAt === undefined ? expiresAt : Math.min(nextCheckAt, expiresAt);
  }
  return { kept, removed, ...(nextCheckAt !== undefined ? { nextCheckAt } : {}) };
}
