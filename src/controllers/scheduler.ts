import { isPlainObject, timestamp } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient } from '../client/client.js';
import { resourcePath } from '../client/client.js';
import { ControllerLoop, contextOf, LoopController } from '../client/controller-loop.js';
import type { ControllerContext } from '../client/controller-loop.js';
import type { Informer } from '../client/informer.js';
import type { ReconcileResult } from '../client/work-queue.js';
import { CLAIM_KINDS, MANAGED_BY_LABEL } from '../karmada/claims.js';
import { APPLIED_PLACEMENT_ANNOTATION, scheduleBinding, schedulingTrigger } from '../scheduler/index.js';
import type { BindingSpec, BindingStatus, ClusterObject, SchedulingResult } from '../scheduler/index.js';
import { CLUSTERS } from './cluster-controller.js';
import type { Condition } from './cluster-controller.js';
import { jsonEqual } from '../api/merge-patch.js';
import { bindingInformers, bindingKey, bindingPath, parseBindingKey } from './binding-kinds.js';
import type { BindingKind } from './binding-kinds.js';

/**
 * The scheduler as a controller (karmada-api.md §4.2): it watches Clusters and (Cluster)ResourceBindings
 * and, for each binding it is responsible for (schedulerName `default-scheduler` or empty, claimed by
 * a policy or labelled `binding.karmada.io/managed-by`, not `suspension.scheduling`, not being
 * deleted), asks src/scheduler whether and where to schedule, then writes the decision:
 *  - spec.clusters and the `policy.karmada.io/applied-placement` annotation (one update, only when
 *    they change; a FitError clears spec.clusters, as Karmada does);
 *  - status: the `Scheduled` condition (lastTransitionTime kept while its status holds),
 *    schedulerObservedGeneration, lastScheduledTime and schedulerObservingAffinityName (one status
 *    update, only when something changed).
 * So a decision costs at most two writes, and a decision that changes nothing costs none. A failed
 * decision is retried with back-off (5 ms doubling to 60 s); cluster changes that can make room
 * (a cluster added, its labels, taints, API enablements, readiness or resources changed) bring failed
 * bindings back at once, and changes of a cluster's spec or labels re-examine every binding
 * (Duplicated and non-workload bindings follow the clusters; Divided ones move only when their
 * placement or replicas change, as in Karmada).
 */
export const DEFAULT_SCHEDULER_NAME = 'default-scheduler';
export const SCHEDULED_CONDITION = 'Scheduled';

export interface BindingSchedulerOptions extends ControllerContext {
  readonly schedulerName?: string;
  /**
   * Bindings scheduled at once; default 16. A decision takes well under a millisecond of CPU but
   * waits on two API writes, so concurrency, not the algorithm, sets the throughput (bench scheduler).
   */
  readonly workers?: number;
  /** Informer resync; default 5 min. */
  readonly resyncPeriodMs?: number;
}


const specOf = (binding: KubeObject): BindingSpec => (isPlainObject(binding['spec']) ? binding['spec'] : {}) as unknown as BindingSpec;
const statusOf = (binding: KubeObject): BindingStatus => (isPlainObject(binding['status']) ? binding['status'] : {}) as BindingStatus;
const scheduledCondition = (binding: KubeObject): Condition | undefined =>
  ((statusOf(binding).conditions ?? []) as readonly Condition[]).find((c) => c.type === SCHEDULED_CONDITION);

export class BindingScheduler extends LoopController {
  readonly name = 'scheduler';
  private readonly client: ApiClient;
  private readonly options: BindingSchedulerOptions;
  protected readonly loop: ControllerLoop<string>;
  private readonly clusters: Informer;
  private readonly bindings: Record<BindingKind, Informer>;
  /** The generation whose status this scheduler last wrote, by binding key (the cache may lag behind it). */
  private readonly observedWritten = new Map<string, number>();
  /**
   * The resourceVersion of this scheduler's last spec write, by binding key, until the informer
   * brings it back: that event is the decision already made, not a reason to decide again.
   */
  private readonly ownSpecWrites = new Map<string, string>();
  /** Decisions made, writes done, and the last 100k decisions' algorithm times (ms), for `bench scheduler`. */
  readonly stats = { decisions: 0, specWrites: 0, statusWrites: 0, algorithmMs: [] as number[] };

  constructor(options: BindingSchedulerOptions) {
    super();
    this.options = options;
    this.client = options.client;
    this.loop = new ControllerLoop<string>({
      ...contextOf(options),
      name: this.name,
      workers: options.workers ?? 16,
      queue: { qps: Infinity },
      resyncPeriodMs: options.resyncPeriodMs ?? 300_000,
      reconcile: (key) => this.reconcile(key),
      expectedError: (err) => err instanceof SchedulingFailed,
      keyField: 'binding',
    });
    this.clusters = this.loop.informer(resourcePath(CLUSTERS)).addHandlers({
      onAdd: () => this.enqueueAll(() => true),
      onUpdate: (old, cluster) => this.clusterChanged(old, cluster),
      onDelete: () => this.enqueueAll(() => true),
    });
    this.bindings = bindingInformers(this.loop, (kind) => ({
      onAdd: (binding) => this.bindingChanged(kind, undefined, binding),
      onUpdate: (old, binding) => this.bindingChanged(kind, old, binding),
      onDelete: (binding) => {
        this.observedWritten.delete(bindingKey(kind, binding));
        this.ownSpecWrites.delete(bindingKey(kind, binding));
      },
    }));
  }

  /** Whether this scheduler decides for the binding. */
  responsibleFor(binding: KubeObject): boolean {
    if (binding.metadata.deletionTimestamp) return false;
    const spec = specOf(binding);
    const name = spec.schedulerName ?? '';
    if (name !== '' && name !== (this.options.schedulerName ?? DEFAULT_SCHEDULER_NAME)) return false;
    if (spec.suspension?.scheduling === true) return false;
    const labels = binding.metadata.labels ?? {};
    return CLAIM_KINDS.some((c) => labels[c.idLabel]) || MANAGED_BY_LABEL in labels;
  }

  // ---- events ----

  private bindingChanged(kind: BindingKind, old: KubeObject | undefined, binding: KubeObject): void {
    if (!this.responsibleFor(binding)) return;
    const key = bindingKey(kind, binding);
    // Our own status writes do not change the generation; a resync (old === binding) looks again.
    if (old && old !== binding && old.metadata.generation === binding.metadata.generation && jsonEqual(old.metadata.labels, binding.metadata.labels) && jsonEqual(old.metadata.annotations, binding.metadata.annotations)) return;
    // Our own spec write coming back: the reconcile that made it has written the status too.
    if (old && old !== binding && this.ownSpecWrites.get(key) === binding.metadata.resourceVersion) {
      this.ownSpecWrites.delete(key);
      return;
    }
    this.loop.queue.add(key);
  }

  private clusterChanged(old: KubeObject, cluster: KubeObject): void {
    if (old === cluster) return;
    const specChanged = !jsonEqual(old['spec'], cluster['spec']) || !jsonEqual(old.metadata.labels, cluster.metadata.labels) || old.metadata.deletionTimestamp !== cluster.metadata.deletionTimestamp;
    if (specChanged) {
      this.enqueueAll(() => true);
      return;
    }
    const status = (c: KubeObject) => (isPlainObject(c['status']) ? c['status'] : {});
    const before = status(old);
    const after = status(cluster);
    const mayMakeRoom = ['apiEnablements', 'conditions', 'resourceSummary'].some((field) => !jsonEqual(before[field], after[field]));
    if (mayMakeRoom) this.enqueueAll((binding) => scheduledCondition(binding)?.status === 'False');
  }

  private enqueueAll(which: (binding: KubeObject) => boolean): void {
    for (const kind of ['rb', 'crb'] as const) {
      for (const binding of this.bindings[kind].list()) {
        if (this.responsibleFor(binding) && which(binding)) this.loop.queue.add(bindingKey(kind, binding));
      }
    }
  }

  // ---- reconcile ----

  private async reconcile(key: string): Promise<ReconcileResult> {
    const { kind, name } = parseBindingKey(key);
    const binding = this.bindings[kind].get(name);
    if (!binding || !this.responsibleFor(binding)) return;
    const clusters = this.clusters.list() as unknown as ClusterObject[];
    const spec = specOf(binding);
    const status = statusOf(binding);
    const trigger = schedulingTrigger({ metadata: binding.metadata, spec, status }, clusters);
    if (trigger.kind === 'none') {
      const generation = binding.metadata.generation;
      // Our own status write may not have reached the cache yet: no second write for the same generation.
      if (status.schedulerObservedGeneration !== generation && this.observedWritten.get(key) !== generation) {
        await this.writeStatus(kind, binding, { schedulerObservedGeneration: generation });
        if (generation !== undefined) this.observedWritten.set(key, generation);
      }
      return;
    }
    this.stats.decisions++;
    const started = performance.now();
    let result = scheduleBinding({ clusters, spec, status });
    if (trigger.kind === 'always' && result.scheduled && result.clusters && !jsonEqual(result.clusters, spec.clusters ?? [])) {
      // Karmada decides a Duplicated or non-workload binding again when its own write comes back,
      // and ClusterLocality then ranks the clusters just added as already scheduled (their order
      // moves). That second decision is made here, so that one write carries where it settles.
      const settled = scheduleBinding({ clusters, spec: { ...spec, clusters: result.clusters }, status });
      if (settled.scheduled) result = settled;
    }
    if (this.stats.algorithmMs.length < 100_000) this.stats.algorithmMs.push(performance.now() - started);
    const scheduled = await this.writeDecision(kind, binding, result, trigger.kind !== 'always', key);
    if (!result.scheduled) throw new SchedulingFailed(`${result.condition.reason}: ${result.condition.message}`);
    this.options.logger.debug({ binding: key, trigger: trigger.kind, clusters: result.clusters, changed: scheduled }, 'scheduler: scheduled');
  }

  /**
   * Writes spec.clusters + the applied placement (if changed), then the status (if changed).
   * Returns whether spec.clusters changed.
   */
  private async writeDecision(kind: BindingKind, binding: KubeObject, result: SchedulingResult, scheduledAnew: boolean, key: string): Promise<boolean> {
    const spec = specOf(binding);
    const placement = JSON.stringify(spec.placement ?? {});
    let current = binding;
    const newClusters = result.clusters;
    const clustersChanged = newClusters !== undefined && !jsonEqual(newClusters, spec.clusters ?? []);
    const annotate = newClusters !== undefined && binding.metadata.annotations?.[APPLIED_PLACEMENT_ANNOTATION] !== placement;
    if (clustersChanged || annotate) {
      const updated: KubeObject = {
        ...binding,
        metadata: { ...binding.metadata, annotations: { ...(binding.metadata.annotations ?? {}), [APPLIED_PLACEMENT_ANNOTATION]: placement } },
        spec: { ...(binding['spec'] as Record<string, unknown>) },
      };
      const updatedSpec = updated['spec'] as Record<string, unknown>;
      if (newClusters && newClusters.length > 0) updatedSpec['clusters'] = newClusters;
      else delete updatedSpec['clusters'];
      current = await this.client.update(bindingPath(kind, binding), updated, { signal: this.loop.signal });
      if (current.metadata.resourceVersion !== undefined) this.ownSpecWrites.set(key, current.metadata.resourceVersion);
      this.stats.specWrites++;
    }
    const previous = scheduledCondition(binding);
    const condition: Condition = {
      type: SCHEDULED_CONDITION,
      status: result.condition.status,
      reason: result.condition.reason,
      message: result.condition.message,
      lastTransitionTime: previous && previous.status === result.condition.status ? (previous.lastTransitionTime ?? timestamp()) : timestamp(),
    };
    const changes: Record<string, unknown> = { conditions: condition, schedulerObservedGeneration: current.metadata.generation };
    if (result.scheduled && (scheduledAnew || clustersChanged || !statusOf(binding).lastScheduledTime)) changes['lastScheduledTime'] = timestamp();
    if (result.affinityName !== undefined) changes['schedulerObservingAffinityName'] = result.affinityName;
    await this.writeStatus(kind, current, changes);
    if (current.metadata.generation !== undefined) this.observedWritten.set(key, current.metadata.generation);
    return clustersChanged;
  }

  /** Updates status fields (a `conditions` entry replaces the one of its type) when they differ. */
  private async writeStatus(kind: BindingKind, binding: KubeObject, changes: Record<string, unknown>): Promise<void> {
    const status: Record<string, unknown> = { ...statusOf(binding) };
    for (const [field, value] of Object.entries(changes)) {
      if (field === 'conditions') {
        const condition = value as Condition;
        const conditions = (status['conditions'] ?? []) as Condition[];
        status['conditions'] = conditions.some((c) => c.type === condition.type) ? conditions.map((c) => (c.type === condition.type ? condition : c)) : [...conditions, condition];
      } else {
        status[field] = value;
      }
    }
    if (jsonEqual(status, statusOf(binding))) return;
    await this.client.update(bindingPath(kind, binding, 'status'), { ...binding, status }, { signal: this.loop.signal });
    this.stats.statusWrites++;
  }
}

/** A decision that did not place the binding; retried with back-off. */
class SchedulingFailed extends Error {}
