import type { KubeObject } from '../../api/object.js';
import { isApiError } from '../../client/client.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import type { SimContext } from './controller.js';
import { Controller, pathOf } from './controller.js';
import { Expectations } from './expectations.js';
import { byCreation, controllerRef, findCondition, isPodActive, isPodReady, ownerReference, podFromTemplate } from './pods.js';
import type { Condition, Job, Pod } from './types.js';
import { now, omitEmpty, selectorOf, writeStatus } from './util.js';

/**
 * The Job controller (kube's pkg/controller/job, as of 1.31): runs up to spec.parallelism pods
 * (generateName `<job>-`, labels batch.kubernetes.io/controller-uid, batch.kubernetes.io/job-name,
 * controller-uid, job-name; Indexed jobs also the completion index as label, annotation, hostname
 * and JOB_COMPLETION_INDEX) until spec.completions have succeeded (or, without completions, until one
 * has and the rest are done). Success adds SuccessCriteriaMet and then Complete (reason
 * CompletionsReached) with completionTime; more failures than backoffLimit, or running past
 * activeDeadlineSeconds, add FailureTarget and Failed. Suspended jobs delete their active pods.
 * Status (written on change): active, ready, succeeded, failed, terminating, startTime,
 * completionTime, completedIndexes, conditions, uncountedTerminatedPods {}.
 * Terminated pods are counted while they exist; the counts never go down (no tracking finalizers).
 */
const KIND = 'Job';
const INDEX_ANNOTATION = 'batch.kubernetes.io/job-completion-index';

export class JobController extends Controller {
  private readonly expectations = new Expectations();

  constructor(ctx: SimContext) {
    super(ctx, 'job', 4);
    ctx.informers.jobs.addHandlers({
      onAdd: (job) => this.enqueue(keyOf(job)),
      onUpdate: (_old, job) => this.enqueue(keyOf(job)),
      onDelete: (job) => {
        this.expectations.forget(keyOf(job));
      },
    });
    ctx.informers.pods.addHandlers({
      onAdd: (pod) => {
        const ref = controllerRef(pod);
        if (ref?.kind === KIND) this.expectations.creationObserved(`${pod.metadata.namespace}/${ref.name}`);
        this.enqueueOwner(pod, KIND);
      },
      onUpdate: (_old, pod) => this.enqueueOwner(pod, KIND),
      onDelete: (pod) => {
        const ref = controllerRef(pod);
        if (ref?.kind !== KIND) return;
        this.expectations.deletionObserved(`${pod.metadata.namespace}/${ref.name}`);
        this.enqueueOwner(pod, KIND);
      },
    });
  }

  protected override async reconcile(key: string): Promise<ReconcileResult> {
    const job = this.ctx.informers.jobs.get(key) as Job | undefined;
    if (!job) return;
    if (job.metadata.deletionTimestamp) return;
    const spec = job.spec ?? {};
    const uid = job.metadata.uid as string;
    const selector = selectorOf(spec.selector);
    const pods = selector && !selector.empty ? await this.claimPods(job, selector, ownerReference(job, 'batch/v1', KIND)) : this.ctx.podsByOwner.get<Pod>(uid);
    const conditions: Condition[] = structuredClone(job.status?.conditions ?? []);
    const finished = isTrue(conditions, 'Complete') || isTrue(conditions, 'Failed');
    const active = pods.filter(isPodActive).sort(byCreation);
    const succeededPods = pods.filter((p) => p.status?.phase === 'Succeeded');
    const failedPods = pods.filter((p) => p.status?.phase === 'Failed');
    const terminating = pods.filter((p) => p.metadata.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed').length;
    const indexed = spec.completionMode === 'Indexed';
    const completions = spec.completions ?? undefined;
    const completedIndexes = indexed ? new Set(succeededPods.map(indexOf).filter((i): i is number => i !== undefined && (completions === undefined || i < completions))) : undefined;
    const succeeded = Math.max(job.status?.succeeded ?? 0, indexed ? (completedIndexes?.size ?? 0) : succeededPods.length);
    const failed = Math.max(job.status?.failed ?? 0, failedPods.length);
    let startTime = job.status?.startTime;
    let completionTime = job.status?.completionTime;
    const time = now();
    let requeueAfterMs: number | undefined;

    if (!finished) {
      const suspended = spec.suspend === true;
      if (!suspended && !startTime) startTime = time;
      const deadline = spec.activeDeadlineSeconds;
      const backoffLimit = spec.backoffLimit ?? 6;
      let failure: { reason: string; message: string } | undefined;
      if (isTrue(conditions, 'FailureTarget')) {
        const target = findCondition(conditions, 'FailureTarget');
        failure = { reason: target?.reason ?? 'BackoffLimitExceeded', message: target?.message ?? '' };
      } else if (failed > backoffLimit) failure = { reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' };
      else if (!suspended && deadline !== undefined && startTime && Date.parse(startTime) + deadline * 1000 <= Date.now()) failure = { reason: 'DeadlineExceeded', message: 'Job was active longer than specified deadline' };
      else if (!suspended && deadline !== undefined && startTime) requeueAfterMs = Date.parse(startTime) + deadline * 1000 - Date.now() + 10;

      const complete = completions !== undefined && completions !== null ? succeeded >= completions : succeeded > 0 && active.length === 0;
      const successMet = complete || isTrue(conditions, 'SuccessCriteriaMet') || (completions === undefined && succeeded > 0);
      if (failure) {
        ensureCondition(conditions, 'FailureTarget', failure.reason, failure.message, time);
        await this.deletePods(key, active);
        if (active.length === 0) {
          ensureCondition(conditions, 'Failed', failure.reason, failure.message, time);
        }
      } else if (successMet) {
        if (complete || active.length === 0) ensureCondition(conditions, 'SuccessCriteriaMet', 'CompletionsReached', 'Reached expected number of succeeded pods', time);
        if (completions !== undefined && completions !== null) await this.deletePods(key, active);
        if (isTrue(conditions, 'SuccessCriteriaMet') && active.length === 0) {
          ensureCondition(conditions, 'Complete', 'CompletionsReached', 'Reached expected number of succeeded pods', time);
          completionTime ??= time;
        }
      } else if (suspended) {
        await this.deletePods(key, active);
        ensureCondition(conditions, 'Suspended', 'JobSuspended', 'Job suspended', time);
        startTime = undefined;
      } else {
        if (isTrue(conditions, 'Suspended')) ensureCondition(conditions, 'Suspended', 'JobResumed', 'Job resumed', time, 'False');
        if (this.expectations.satisfied(key)) await this.manage(job, key, active, succeeded, completedIndexes);
      }
    }

    const status: Record<string, unknown> = {
      ...omitEmpty({
        conditions,
        startTime,
        completionTime,
        active: active.length,
        succeeded,
        failed,
        completedIndexes: completedIndexes ? formatIndexes(completedIndexes) : undefined,
      }),
      terminating,
      uncountedTerminatedPods: {},
      ready: active.filter(isPodReady).length,
    };
    for (const [field, value] of Object.entries(job.status ?? {})) if (!(field in status) && !['active', 'succeeded', 'failed', 'startTime', 'completionTime', 'completedIndexes', 'conditions'].includes(field)) status[field] = value;
    try {
      await writeStatus(this.ctx.client, pathOf('jobs', job.metadata.namespace, job.metadata.name), job, status, this.ctx.signal);
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
    if (requeueAfterMs !== undefined) return { requeueAfterMs: Math.max(10, requeueAfterMs) };
  }

  /** Creates or deletes pods toward the wanted number of active pods. */
  private async manage(job: Job, key: string, active: Pod[], succeeded: number, completedIndexes: Set<number> | undefined): Promise<void> {
    const spec = job.spec ?? {};
    const parallelism = spec.parallelism ?? 1;
    const completions = spec.completions ?? undefined;
    let wantActive: number;
    if (completions === undefined || completions === null) wantActive = succeeded > 0 ? active.length : parallelism;
    else wantActive = Math.max(0, Math.min(parallelism, completions - succeeded));
    const namespace = job.metadata.namespace as string;
    if (active.length > wantActive) {
      // Not ready and newest first.
      const victims = [...active].sort((a, b) => Number(isPodReady(a)) - Number(isPodReady(b)) || byCreation(b, a)).slice(0, active.length - wantActive);
      await this.deletePods(key, victims);
      return;
    }
    if (active.length === wantActive) return;
    const indexes: (number | undefined)[] = [];
    if (completedIndexes && completions !== undefined && completions !== null) {
      const running = new Set(active.map(indexOf));
      for (let i = 0; i < completions && indexes.length < wantActive - active.length; i++) if (!completedIndexes.has(i) && !running.has(i)) indexes.push(i);
    } else {
      for (let i = active.length; i < wantActive; i++) indexes.push(undefined);
    }
    if (indexes.length === 0) return;
    this.expectations.expect(key, indexes.length, 0);
    const uid = job.metadata.uid as string;
    const labels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': job.metadata.name as string, 'controller-uid': uid, 'job-name': job.metadata.name as string };
    let failure: unknown;
    await Promise.all(
      indexes.map(async (index) => {
        const extraLabels = index === undefined ? labels : { ...labels, [INDEX_ANNOTATION]: String(index) };
        const annotations = index === undefined ? {} : { [INDEX_ANNOTATION]: String(index) };
        const pod = podFromTemplate(job.spec?.template, namespace, { generateName: index === undefined ? `${job.metadata.name}-` : `${job.metadata.name}-${index}-` }, ownerReference(job, 'batch/v1', KIND), extraLabels, annotations);
        if (index !== undefined && pod.spec) {
          pod.spec.hostname = `${job.metadata.name}-${index}`;
          for (const container of [...(pod.spec.containers ?? []), ...(pod.spec.initContainers ?? [])]) {
            const env = (container.env ?? []).filter((e) => e.name !== 'JOB_COMPLETION_INDEX');
            env.push({ name: 'JOB_COMPLETION_INDEX', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: `metadata.labels['${INDEX_ANNOTATION}']` } } });
            container.env = env;
          }
        }
        try {
          await this.ctx.client.create(pathOf('pods', namespace), pod, { signal: this.ctx.signal });
        } catch (err) {
          this.expectations.creationObserved(key);
          failure ??= err;
        }
      }),
    );
    this.logger.debug({ job: key, created: indexes.length }, 'created pods');
    if (failure !== undefined) throw failure;
  }

  private async deletePods(key: string, pods: readonly Pod[]): Promise<void> {
    if (pods.length === 0) return;
    this.expectations.expect(key, 0, pods.length);
    await Promise.all(
      pods.map(async (pod) => {
        try {
          await this.ctx.client.delete(pathOf('pods', pod.metadata.namespace, pod.metadata.name), { preconditions: { uid: pod.metadata.uid as string }, signal: this.ctx.signal });
        } catch (err) {
          this.expectations.deletionObserved(key);
          if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
        }
      }),
    );
  }
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

function isTrue(conditions: readonly Condition[], type: string): boolean {
  return findCondition(conditions, type)?.status === 'True';
}

/** Job conditions: updated in place when status/reason/message change (lastTransitionTime only when the status does). */
function ensureCondition(conditions: Condition[], type: string, reason: string, message: string, time: string, status: Condition['status'] = 'True'): void {
  const existing = findCondition(conditions, type);
  if (existing) {
    if (existing.status === status && existing.reason === reason && existing.message === message) return;
    if (existing.status !== status) existing.lastTransitionTime = time;
    existing.status = status;
    existing.reason = reason;
    existing.message = message;
    existing.lastProbeTime = time;
    return;
  }
  if (status !== 'True') return; // nothing → False is meaningless
  conditions.push({ type, status, lastProbeTime: time, lastTransitionTime: time, reason, message });
}

function indexOf(pod: Pod): number | undefined {
  const value = pod.metadata.annotations?.[INDEX_ANNOTATION] ?? pod.metadata.labels?.[INDEX_ANNOTATION];
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : undefined;
}

/** "0-2,4,6-7" as kube writes completedIndexes. */
function formatIndexes(indexes: ReadonlySet<number>): string {
  const sorted = [...indexes].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && (sorted[j + 1] as number) === (sorted[j] as number) + 1) j++;
    parts.push(i === j ? String(sorted[i]) : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(',');
}
