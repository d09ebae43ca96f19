import { jsonEqual } from '../../api/merge-patch.js';
import { isApiError } from '../../client/client.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import type { SimContext } from './controller.js';
import { Controller, pathOf } from './controller.js';
import { compareNodeNames } from './nodes.js';
import { byCreation, findCondition, isTerminal } from './pods.js';
import { isNodeReady, matchesNodeSelectorAndAffinity, toleratesTaint, untoleratedTaint } from './predicates.js';
import { addInto, nonZeroRequests, podRequests, resourceList } from './resources.js';
import type { ResourceList } from './resources.js';
import type { Condition, Node, Pod } from './types.js';
import { errorMessage, mapLimit, now, writeStatus } from './util.js';

/**
 * The scheduler (kube-scheduler's default profile, reduced): pods without spec.nodeName whose
 * schedulerName is default-scheduler (or unset) are bound to a node that passes the filters, in
 * kube's plugin order — NodeUnschedulable, TaintToleration (NoSchedule/NoExecute), NodeAffinity
 * (nodeSelector + required node affinity, matchFields included), NodeResourcesFit (allocatable
 * minus what the node's pods request; pods count as 1 each) — and a Ready node; among the nodes that
 * fit, the least allocated one (kube's LeastAllocated over cpu and memory, pods without requests
 * counted with kube's non-zero defaults) wins, ties by node name. Binding is an update of the pod's
 * spec.nodeName (guarded by its resourceVersion). A pod that fits nowhere keeps phase Pending with
 * PodScheduled=False, reason Unschedulable and kube's FitError message
 * ("0/3 nodes are available: 3 Insufficient cpu."); it is retried whenever nodes or pods change.
 *
 * Scheduling runs in cycles (one work key): a cycle takes the node usage from the pod cache once,
 * places every pending pod in priority then age order while accounting for its own placements, and
 * binds in parallel. Pods bound but not yet seen bound in the cache are "assumed", as in kube.
 */
const CYCLE = 'cycle';
const DEFAULT_SCHEDULER = 'default-scheduler';
/** Pods stuck unschedulable are retried at least this often even without events. */
const UNSCHEDULABLE_RETRY_MS = 30_000;
const UNSCHEDULABLE_TAINT = { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' } as const;

interface NodeInfo {
  readonly node: Node;
  readonly name: string;
  readonly allocatable: ResourceList;
  readonly requested: ResourceList;
  pods: number;
  /** Non-zero cpu/memory requested, for scoring. */
  scoreCpu: number;
  scoreMemory: number;
}

export class Scheduler extends Controller {
  /** Pods bound by this scheduler that the cache does not show bound yet: uid → pod and node. */
  private readonly assumed = new Map<string, { pod: Pod; node: string }>();
  private unschedulable = 0;

  constructor(ctx: SimContext) {
    super(ctx, 'scheduler', 1);
    ctx.informers.pods.addHandlers({
      onAdd: (pod) => {
        if (this.needsScheduling(pod as Pod)) this.enqueue(CYCLE);
      },
      onUpdate: (old, pod) => {
        const p = pod as Pod;
        const o = old as Pod;
        if (p.spec?.nodeName) this.assumed.delete(p.metadata.uid as string);
        // A pending pod changed, or a bound pod freed its resources (finished, being deleted).
        if (this.needsScheduling(p) && (old === pod || !jsonEqual(o.spec, p.spec) || !jsonEqual(o.metadata.labels, p.metadata.labels))) this.enqueue(CYCLE);
        else if (p.spec?.nodeName && (isTerminal(p) !== isTerminal(o) || Boolean(p.metadata.deletionTimestamp) !== Boolean(o.metadata.deletionTimestamp))) this.enqueueIfWaiting();
      },
      onDelete: (pod) => {
        this.assumed.delete(pod.metadata.uid as string);
        if ((pod as Pod).spec?.nodeName) this.enqueueIfWaiting();
      },
    });
    ctx.informers.nodes.addHandlers({
      onAdd: () => this.enqueue(CYCLE),
      onUpdate: (old, node) => {
        if (old === node) return this.enqueueIfWaiting();
        const o = old as Node;
        const n = node as Node;
        if (!jsonEqual(o.spec, n.spec) || !jsonEqual(o.metadata.labels, n.metadata.labels) || !jsonEqual(o.status?.allocatable, n.status?.allocatable) || isNodeReady(o) !== isNodeReady(n)) this.enqueue(CYCLE);
      },
      onDelete: () => this.enqueueIfWaiting(),
    });
  }

  private enqueueIfWaiting(): void {
    if (this.unschedulable > 0) this.enqueue(CYCLE);
  }

  private needsScheduling(pod: Pod): boolean {
    const spec = pod.spec ?? {};
    return !spec.nodeName && !pod.metadata.deletionTimestamp && !isTerminal(pod) && (spec.schedulerName ?? DEFAULT_SCHEDULER) === DEFAULT_SCHEDULER;
  }

  protected override async reconcile(): Promise<ReconcileResult> {
    const pending = (this.ctx.informers.pods.list() as Pod[]).filter((p) => this.needsScheduling(p) && !this.assumed.has(p.metadata.uid as string));
    if (pending.length === 0) {
      this.unschedulable = 0;
      return;
    }
    const nodes = this.snapshot();
    pending.sort((a, b) => (b.spec?.priority ?? 0) - (a.spec?.priority ?? 0) || byCreation(a, b));

    const binds: { pod: Pod; node: string }[] = [];
    const failures: { pod: Pod; condition: Condition }[] = [];
    for (const pod of pending) {
      if ((pod.spec?.schedulingGates ?? []).length > 0) {
        failures.push({ pod, condition: { type: 'PodScheduled', status: 'False', reason: 'SchedulingGated', message: 'Scheduling is blocked due to non-empty scheduling gates' } });
        continue;
      }
      const result = this.place(pod, nodes);
      if (typeof result === 'string') {
        failures.push({ pod, condition: { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: result } });
        continue;
      }
      this.account(result, pod);
      this.assumed.set(pod.metadata.uid as string, { pod, node: result.name });
      binds.push({ pod, node: result.name });
    }

    let retry = false;
    await mapLimit(binds, 16, async ({ pod, node }) => {
      try {
        await this.ctx.client.patch(pathOf('pods', pod.metadata.namespace, pod.metadata.name), 'merge', { metadata: { resourceVersion: pod.metadata.resourceVersion }, spec: { nodeName: node } }, { signal: this.ctx.signal });
        this.logger.debug({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, node }, 'bound');
      } catch (err) {
        this.assumed.delete(pod.metadata.uid as string);
        if (isApiError(err, 404)) return;
        retry = true;
        if (!isApiError(err, 409)) this.logger.warn({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, err: errorMessage(err) }, 'binding failed');
      }
    });
    this.unschedulable = failures.length;
    await mapLimit(failures, 8, async ({ pod, condition }) => {
      try {
        await this.reportUnschedulable(pod, condition);
      } catch (err) {
        if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
      }
    });
    if (retry) return { requeue: true };
    if (failures.length > 0) return { requeueAfterMs: UNSCHEDULABLE_RETRY_MS };
  }

  /** The nodes with what their pods (bound in the cache, or assumed) already request. */
  private snapshot(): NodeInfo[] {
    const infos = new Map<string, NodeInfo>();
    for (const node of this.ctx.informers.nodes.list() as Node[]) {
      if (node.metadata.deletionTimestamp) continue;
      const name = node.metadata.name as string;
      infos.set(name, { node, name, allocatable: resourceList(node.status?.allocatable), requested: new Map(), pods: 0, scoreCpu: 0, scoreMemory: 0 });
    }
    for (const info of infos.values()) {
      for (const pod of this.ctx.podsByNode.get<Pod>(info.name)) {
        if (isTerminal(pod)) continue;
        this.assumed.delete(pod.metadata.uid as string);
        this.account(info, pod);
      }
    }
    for (const { pod, node } of this.assumed.values()) {
      const info = infos.get(node);
      if (info) this.account(info, pod);
    }
    return [...infos.values()].sort((a, b) => compareNodeNames(a.name, b.name));
  }

  private account(info: NodeInfo, pod: Pod): void {
    addInto(info.requested, podRequests(pod));
    info.pods++;
    const nonZero = nonZeroRequests(pod);
    info.scoreCpu += nonZero.cpu;
    info.scoreMemory += nonZero.memory;
  }

  /** The best node for `pod`, or kube's FitError message when none fits. */
  private place(pod: Pod, nodes: readonly NodeInfo[]): NodeInfo | string {
    if (nodes.length === 0) return 'no nodes available to schedule pods';
    const spec = pod.spec ?? {};
    const requests = podRequests(pod);
    const reasons = new Map<string, number>();
    const count = (reason: string) => reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    let best: NodeInfo | undefined;
    let bestScore = -1;
    for (const info of nodes) {
      const failed = this.filter(info, spec, requests);
      if (failed.length > 0) {
        for (const reason of failed) count(reason);
        continue;
      }
      const score = this.score(info, pod);
      if (score > bestScore) {
        best = info;
        bestScore = score;
      }
    }
    if (best) return best;
    const histogram = [...reasons].map(([reason, n]) => `${n} ${reason}`).sort();
    return `0/${nodes.length} nodes are available: ${histogram.join(', ')}.`;
  }

  /** The reasons a node is filtered out (empty: it fits), from the first failing plugin as kube does. */
  private filter(info: NodeInfo, spec: NonNullable<Pod['spec']>, requests: ResourceList): string[] {
    const node = info.node;
    const tolerations = spec.tolerations ?? [];
    if (node.spec?.unschedulable && !tolerations.some((t) => toleratesTaint(t, UNSCHEDULABLE_TAINT))) {
      return ['node(s) were unschedulable'];
    }
    const taint = untoleratedTaint(node.spec?.taints, tolerations);
    if (taint) return [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`];
    if (!matchesNodeSelectorAndAffinity(spec, node)) return ["node(s) didn't match Pod's node affinity/selector"];
    const insufficient: string[] = [];
    const allowedPods = info.allocatable.get('pods') ?? 0;
    if (info.pods + 1 > allowedPods) insufficient.push('Too many pods');
    for (const [resource, amount] of requests) {
      if (amount <= 0 || resource === 'pods') continue;
      const free = (info.allocatable.get(resource) ?? 0) - (info.requested.get(resource) ?? 0);
      if (amount > free) insufficient.push(`Insufficient ${resource}`);
    }
    if (insufficient.length > 0) return insufficient;
    // Not a kube filter (the not-ready taint covers it there), but a node without a kubelet runs nothing.
    if (!isNodeReady(node)) return ['node(s) were not ready'];
    return [];
  }

  /** LeastAllocated: the mean free fraction of cpu and memory after placing the pod (0–100). */
  private score(info: NodeInfo, pod: Pod): number {
    const nonZero = nonZeroRequests(pod);
    const part = (allocatable: number, requested: number): number => (allocatable <= 0 || requested > allocatable ? 0 : ((allocatable - requested) * 100) / allocatable);
    return (part(info.allocatable.get('cpu') ?? 0, info.scoreCpu + nonZero.cpu) + part(info.allocatable.get('memory') ?? 0, info.scoreMemory + nonZero.memory)) / 2;
  }

  /** PodScheduled=False on a pending pod, written only when it changes (lastTransitionTime kept while False). */
  private async reportUnschedulable(pod: Pod, wanted: Condition): Promise<void> {
    const conditions = pod.status?.conditions ?? [];
    const current = findCondition(conditions, 'PodScheduled');
    if (current && current.status === wanted.status && current.reason === wanted.reason && current.message === wanted.message && pod.status?.phase === 'Pending') return;
    const condition: Condition = {
      type: 'PodScheduled',
      status: wanted.status,
      lastProbeTime: null,
      lastTransitionTime: current?.status === wanted.status ? (current.lastTransitionTime ?? now()) : now(),
      ...(wanted.reason ? { reason: wanted.reason } : {}),
      ...(wanted.message ? { message: wanted.message } : {}),
    };
    const others = conditions.filter((c) => c.type !== 'PodScheduled');
    await writeStatus(this.ctx.client, pathOf('pods', pod.metadata.namespace, pod.metadata.name), pod, { ...(pod.status ?? {}), phase: 'Pending', conditions: [...others, condition] }, this.ctx.signal);
    this.logger.debug({ pod: `${pod.metadata.namespace}/${pod.metadata.name}`, message: wanted.message }, 'pod unschedulable');
  }
}
