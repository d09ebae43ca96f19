import type { KubeObject } from '../../api/object.js';
import { isApiError } from '../../client/client.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import type { SimContext } from './controller.js';
import { Controller, pathOf } from './controller.js';
import { Expectations } from './expectations.js';
import { controllerRef, createdAt, findCondition, isPodActive, isPodAvailable, isPodReady, nextAvailableAt, ownerReference, podFromTemplate } from './pods.js';
import type { Condition, Pod, ReplicaSet } from './types.js';
import { errorMessage, now, omitEmpty, selectorOf, writeStatus } from './util.js';

/**
 * The ReplicaSet controller (kube's pkg/controller/replicaset): keeps spec.replicas active pods
 * (`<rs>-<5 random characters>`, owned with controller and blockOwnerDeletion references), creating
 * in slow-start batches and deleting the least valuable pods first (kube's ranking: unscheduled,
 * pending, not ready, lower deletion cost, doubled up on a node, ready for less time, more restarts,
 * newer). Orphans matching the selector are adopted, owned pods that stopped matching released.
 * Expectations keep it from acting twice on a stale cache. Status, written only when it changes:
 * replicas, fullyLabeledReplicas, readyReplicas, availableReplicas (minReadySeconds honoured, with a
 * requeue when the next pod turns available), observedGeneration, and the ReplicaFailure condition
 * when pods could not be created or deleted.
 */
const BURST_REPLICAS = 500;
const KIND = 'ReplicaSet';

export class ReplicaSetController extends Controller {
  private readonly expectations = new Expectations();

  constructor(ctx: SimContext) {
    super(ctx, 'replicaset', 4);
    ctx.informers.replicasets.addHandlers({
      onAdd: (rs) => this.enqueue(keyOf(rs)),
      onUpdate: (_old, rs) => this.enqueue(keyOf(rs)),
      onDelete: (rs) => {
        this.expectations.forget(keyOf(rs));
        this.enqueue(keyOf(rs));
      },
    });
    ctx.informers.pods.addHandlers({
      onAdd: (pod) => {
        const ref = controllerRef(pod);
        if (ref?.kind === KIND) {
          this.expectations.creationObserved(`${pod.metadata.namespace}/${ref.name}`);
          this.enqueueOwner(pod, KIND);
        } else if (!ref) this.enqueueMatching(pod as Pod);
      },
      onUpdate: (old, pod) => {
        if (old === pod) return;
        const ref = controllerRef(pod);
        const oldRef = controllerRef(old);
        if (oldRef?.kind === KIND && oldRef.uid !== ref?.uid) this.enqueueOwner(old, KIND);
        if (ref?.kind === KIND) this.enqueueOwner(pod, KIND);
        else if (!ref && !pod.metadata.deletionTimestamp) this.enqueueMatching(pod as Pod);
      },
      onDelete: (pod) => {
        const ref = controllerRef(pod);
        if (ref?.kind !== KIND) return;
        this.expectations.deletionObserved(`${pod.metadata.namespace}/${ref.name}`);
        this.enqueueOwner(pod, KIND);
      },
    });
  }

  /** An orphan pod: the ReplicaSets that might adopt it. */
  private enqueueMatching(pod: Pod): void {
    for (const rs of this.ctx.informers.replicasets.list() as ReplicaSet[]) {
      if (rs.metadata.namespace !== pod.metadata.namespace) continue;
      if (selectorOf(rs.spec?.selector)?.matches(pod.metadata.labels)) this.enqueue(keyOf(rs));
    }
  }

  protected override async reconcile(key: string): Promise<ReconcileResult> {
    const rs = this.ctx.informers.replicasets.get(key) as ReplicaSet | undefined;
    if (!rs) {
      this.expectations.forget(key);
      return;
    }
    const selector = selectorOf(rs.spec?.selector);
    if (!selector || selector.empty) {
      this.logger.debug({ replicaSet: key }, 'invalid or empty selector; ignored');
      return;
    }
    const needsSync = this.expectations.satisfied(key) && !rs.metadata.deletionTimestamp;
    const pods = (await this.claimPods(rs, selector, ownerReference(rs, 'apps/v1', KIND))).filter(isPodActive);
    let failure: unknown;
    if (needsSync) {
      try {
        await this.manageReplicas(rs, key, pods);
      } catch (err) {
        failure = err;
      }
    }
    const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
    const status = this.calculateStatus(rs, pods, failure);
    try {
      await writeStatus(this.ctx.client, pathOf('replicasets', rs.metadata.namespace, rs.metadata.name), rs, status, this.ctx.signal);
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
    if (failure !== undefined) throw failure;
    const next = nextAvailableAt(pods, minReadySeconds);
    if (next !== undefined) return { requeueAfterMs: next - Date.now() + 10 };
  }

  private async manageReplicas(rs: ReplicaSet, key: string, pods: Pod[]): Promise<void> {
    const namespace = rs.metadata.namespace as string;
    const diff = pods.length - (rs.spec?.replicas ?? 1);
    if (diff < 0) {
      const count = Math.min(-diff, BURST_REPLICAS);
      this.expectations.expect(key, count, 0);
      const template = podFromTemplate(rs.spec?.template, namespace, { generateName: `${rs.metadata.name}-` }, ownerReference(rs, 'apps/v1', KIND));
      const created = await slowStartBatch(count, 1, async () => {
        try {
          await this.ctx.client.create(pathOf('pods', namespace), template, { signal: this.ctx.signal });
        } catch (err) {
          this.expectations.creationObserved(key); // it will never be seen
          throw err;
        }
      }, () => this.expectations.creationObserved(key));
      this.logger.debug({ replicaSet: key, created }, 'created pods');
    } else if (diff > 0) {
      const count = Math.min(diff, BURST_REPLICAS);
      const victims = podsToDelete(pods, this.relatedPods(rs), count);
      this.expectations.expect(key, 0, victims.length);
      let failure: unknown;
      await Promise.all(
        victims.map(async (pod) => {
          try {
            await this.ctx.client.delete(pathOf('pods', namespace, pod.metadata.name), { preconditions: { uid: pod.metadata.uid as string }, signal: this.ctx.signal });
          } catch (err) {
            this.expectations.deletionObserved(key);
            if (!isApiError(err, 404) && !isApiError(err, 409)) failure ??= err;
          }
        }),
      );
      this.logger.debug({ replicaSet: key, deleted: victims.length }, 'deleted pods');
      if (failure !== undefined) throw failure;
    }
  }

  /** Active pods of every ReplicaSet under the same controller (a Deployment's), for the doubled-up rank. */
  private relatedPods(rs: ReplicaSet): Pod[] {
    const owner = controllerRef(rs);
    const sets = owner ? this.ctx.replicaSetsByOwner.get(owner.uid) : [rs];
    return sets.flatMap((s) => this.ctx.podsByOwner.get<Pod>(s.metadata.uid as string)).filter(isPodActive);
  }

  private calculateStatus(rs: ReplicaSet, pods: readonly Pod[], failure: unknown): Record<string, unknown> {
    const templateLabels = Object.entries(rs.spec?.template?.metadata?.labels ?? {});
    const minReadySeconds = rs.spec?.minReadySeconds ?? 0;
    const time = Date.now();
    let fullyLabeled = 0;
    let ready = 0;
    let available = 0;
    for (const pod of pods) {
      const labels = pod.metadata.labels ?? {};
      if (templateLabels.every(([k, v]) => labels[k] === v)) fullyLabeled++;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReadySeconds, time)) available++;
      }
    }
    const conditions: Condition[] = [...(rs.status?.conditions ?? [])];
    const existing = findCondition(conditions, 'ReplicaFailure');
    if (failure !== undefined && !existing) {
      const reason = pods.length < (rs.spec?.replicas ?? 1) ? 'FailedCreate' : 'FailedDelete';
      conditions.push({ type: 'ReplicaFailure', status: 'True', lastTransitionTime: now(), reason, message: errorMessage(failure) });
    } else if (failure === undefined && existing) {
      conditions.splice(conditions.indexOf(existing), 1);
    }
    return {
      replicas: pods.length,
      ...omitEmpty({ fullyLabeledReplicas: fullyLabeled, readyReplicas: ready, availableReplicas: available, observedGeneration: rs.metadata.generation, conditions }),
    };
  }
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

/**
 * Runs `fn` `count` times in batches of 1, 2, 4, … (controller.slowStartBatch): a failing batch
 * stops the rest (their expectations are lowered with `skipped`), so a quota error costs one call,
 * not hundreds. Returns how many succeeded; rethrows the first failure.
 */
export async function slowStartBatch(count: number, initial: number, fn: () => Promise<void>, skipped: () => void): Promise<number> {
  let remaining = count;
  let done = 0;
  for (let batch = Math.min(remaining, initial); batch > 0; batch = Math.min(2 * batch, remaining)) {
    const results = await Promise.allSettled(Array.from({ length: batch }, () => fn()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    done += results.filter((r) => r.status === 'fulfilled').length;
    remaining -= batch;
    if (failed) {
      for (let i = 0; i < remaining; i++) skipped();
      throw failed.reason;
    }
  }
  return done;
}

const PHASE_ORDER: Record<string, number> = { Pending: 0, Unknown: 1, Running: 2 };

/** The `count` pods to delete first, by kube's ActivePodsWithRanks ordering. */
export function podsToDelete(pods: readonly Pod[], related: readonly Pod[], count: number): Pod[] {
  if (count >= pods.length) return [...pods];
  const perNode = new Map<string, number>();
  for (const pod of related) {
    const node = pod.spec?.nodeName;
    if (node) perNode.set(node, (perNode.get(node) ?? 0) + 1);
  }
  const rank = (pod: Pod): number => (pod.spec?.nodeName ? (perNode.get(pod.spec.nodeName) ?? 0) : 0);
  const cost = (pod: Pod): number => {
    const value = Number(pod.metadata.annotations?.['controller.kubernetes.io/pod-deletion-cost'] ?? 0);
    return Number.isFinite(value) ? value : 0;
  };
  const readySince = (pod: Pod): number => {
    const t = findCondition(pod.status?.conditions, 'Ready')?.lastTransitionTime;
    return t ? Date.parse(t) : 0;
  };
  const restarts = (pod: Pod): number => Math.max(0, ...(pod.status?.containerStatuses ?? []).map((s) => s.restartCount ?? 0));
  const sorted = [...pods].sort((a, b) => {
    const aBound = Boolean(a.spec?.nodeName);
    const bBound = Boolean(b.spec?.nodeName);
    if (aBound !== bBound) return aBound ? 1 : -1;
    const phase = (PHASE_ORDER[a.status?.phase ?? 'Pending'] ?? 0) - (PHASE_ORDER[b.status?.phase ?? 'Pending'] ?? 0);
    if (phase !== 0) return phase;
    const aReady = isPodReady(a);
    const bReady = isPodReady(b);
    if (aReady !== bReady) return aReady ? 1 : -1;
    if (cost(a) !== cost(b)) return cost(a) - cost(b);
    if (rank(a) !== rank(b)) return rank(b) - rank(a);
    if (aReady && bReady && readySince(a) !== readySince(b)) return readySince(b) - readySince(a);
    if (restarts(a) !== restarts(b)) return restarts(b) - restarts(a);
    return createdAt(b) - createdAt(a);
  });
  return sorted.slice(0, count);
}
