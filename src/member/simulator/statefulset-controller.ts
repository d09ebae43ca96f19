import { deepClone } from '../../api/object.js';
import type { KubeObject } from '../../api/object.js';
import { isApiError } from '../../client/client.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import type { SimContext } from './controller.js';
import { Controller, pathOf } from './controller.js';
import { computeHash } from './hash.js';
import { controllerRef, isPodAvailable, isRunningAndReady, isTerminal, nextAvailableAt, ownerReference, podFromTemplate } from './pods.js';
import type { Pod, PodTemplate, StatefulSet } from './types.js';
import { omitEmpty, selectorOf, writeStatus } from './util.js';

/**
 * The StatefulSet controller (kube's pkg/controller/statefulset): pods `<set>-<ordinal>` (from
 * spec.ordinals.start) with stable identity — labels statefulset.kubernetes.io/pod-name,
 * apps.kubernetes.io/pod-index and controller-revision-hash (`<set>-<template hash>`), hostname and
 * subdomain, one volume per volumeClaimTemplate (the claims themselves are not simulated).
 * OrderedReady creates in ordinal order, each pod only once its predecessors are Running, Ready
 * and available, and removes from the highest ordinal down, one at a time; Parallel does both at
 * once. RollingUpdate replaces pods not at the update revision from the highest ordinal down to
 * the partition, one at a time, waiting for each to be available; OnDelete leaves them. Failed or
 * succeeded pods are deleted and recreated. Revisions are template hashes (no ControllerRevision
 * objects): currentRevision becomes updateRevision once every pod is updated and ready. Status
 * (written only on change): observedGeneration, replicas, readyReplicas, currentReplicas,
 * updatedReplicas, availableReplicas, currentRevision, updateRevision, collisionCount.
 */
const KIND = 'StatefulSet';
const REVISION_LABEL = 'controller-revision-hash';
const POD_NAME_LABEL = 'statefulset.kubernetes.io/pod-name';
const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';

export class StatefulSetController extends Controller {
  constructor(ctx: SimContext) {
    super(ctx, 'statefulset', 4);
    ctx.informers.statefulsets.addHandlers({
      onAdd: (set) => this.enqueue(keyOf(set)),
      onUpdate: (_old, set) => this.enqueue(keyOf(set)),
      onDelete: (set) => this.enqueue(keyOf(set)),
    });
    ctx.informers.pods.addHandlers({
      onAdd: (pod) => this.onPod(pod),
      onUpdate: (old, pod) => {
        if (controllerRef(old)?.uid !== controllerRef(pod)?.uid) this.enqueueOwner(old, KIND);
        this.onPod(pod);
      },
      onDelete: (pod) => this.enqueueOwner(pod, KIND),
    });
  }

  private onPod(pod: KubeObject): void {
    const ref = controllerRef(pod);
    if (ref) return this.enqueueOwner(pod, KIND);
    if (pod.metadata.deletionTimestamp) return;
    for (const set of this.ctx.informers.statefulsets.list() as StatefulSet[]) {
      if (set.metadata.namespace === pod.metadata.namespace && selectorOf(set.spec?.selector)?.matches(pod.metadata.labels)) this.enqueue(keyOf(set));
    }
  }

  protected override async reconcile(key: string): Promise<ReconcileResult> {
    const set = this.ctx.informers.statefulsets.get(key) as StatefulSet | undefined;
    if (!set) return;
    const selector = selectorOf(set.spec?.selector);
    if (!selector || selector.empty) return;
    const name = set.metadata.name as string;
    const namespace = set.metadata.namespace as string;
    const spec = set.spec ?? {};
    const minReadySeconds = spec.minReadySeconds ?? 0;
    const collisionCount = set.status?.collisionCount ?? 0;
    const updateRevision = `${name}-${computeHash(spec.template, collisionCount)}`;
    const pods = await this.claimPods(set, selector, ownerReference(set, 'apps/v1', KIND), (p) => parentOf(p) === name);
    const known = set.status?.currentRevision;
    const currentRevision = known && (known === updateRevision || pods.some((p) => revisionOf(p) === known)) ? known : updateRevision;

    const start = spec.ordinals?.start ?? 0;
    const replicaCount = spec.replicas ?? 1;
    const replicas: (Pod | undefined)[] = new Array<Pod | undefined>(replicaCount).fill(undefined);
    const condemned: Pod[] = [];
    for (const pod of pods) {
      const ordinal = ordinalOf(pod);
      if (ordinal >= start && ordinal < start + replicaCount) replicas[ordinal - start] = pod;
      else if (ordinal >= 0) condemned.push(pod);
    }
    condemned.sort((a, b) => ordinalOf(b) - ordinalOf(a));

    const monotonic = spec.podManagementPolicy !== 'Parallel';
    const unavailable = (pod: Pod | undefined) => !pod || pod.metadata.deletionTimestamp !== undefined || !isPodAvailable(pod, minReadySeconds);
    const firstUnhealthy = replicas.find(unavailable) ?? [...condemned].reverse().find(unavailable);
    let currentDeleted = 0;

    const work = async (): Promise<void> => {
      if (set.metadata.deletionTimestamp) return;
      // Replicas: recreate finished pods, create missing ones, wait for health when ordered.
      const processReplica = async (i: number): Promise<boolean> => {
        const pod = replicas[i];
        if (pod && isTerminal(pod)) {
          if (!pod.metadata.deletionTimestamp) await this.deletePod(pod);
          replicas[i] = undefined;
          return true;
        }
        if (!pod) {
          const created = await this.createPod(set, start + i, currentRevision, updateRevision, pods);
          if (created) replicas[i] = created;
          return monotonic;
        }
        if (pod.metadata.deletionTimestamp) return monotonic;
        if (monotonic && (!isRunningAndReady(pod) || !isPodAvailable(pod, minReadySeconds))) return true;
        if (!identityMatches(set, pod)) await this.fixIdentity(pod);
        return false;
      };
      if (monotonic) {
        for (let i = 0; i < replicas.length; i++) if (await processReplica(i)) return;
      } else {
        await Promise.all(replicas.map((_p, i) => processReplica(i)));
      }
      // Condemned pods: highest ordinal first.
      for (const pod of condemned) {
        if (pod.metadata.deletionTimestamp) {
          if (monotonic) return;
          continue;
        }
        if (monotonic && pod !== firstUnhealthy && (!isRunningAndReady(pod) || !isPodAvailable(pod, minReadySeconds))) return;
        await this.deletePod(pod);
        if (monotonic) return;
      }
      const strategy = spec.updateStrategy;
      if (strategy?.type === 'OnDelete') return;
      const partition = strategy?.rollingUpdate?.partition ?? 0;
      for (let target = replicas.length - 1; target >= partition; target--) {
        const pod = replicas[target];
        if (!pod) return;
        if (revisionOf(pod) !== updateRevision && !pod.metadata.deletionTimestamp) {
          await this.deletePod(pod);
          if (revisionOf(pod) === currentRevision) currentDeleted++;
          return;
        }
        if (unavailable(pod)) return;
      }
    };
    await work();

    const counted = [...replicas.filter((p): p is Pod => p !== undefined), ...condemned];
    const status = computeStatus(set, counted, minReadySeconds, currentRevision, updateRevision, collisionCount);
    status.currentReplicas = Math.max(0, status.currentReplicas - currentDeleted);
    if (spec.updateStrategy?.type !== 'OnDelete' && status.updatedReplicas === status.replicas && status.readyReplicas === status.replicas) {
      status.currentReplicas = status.updatedReplicas;
      status.currentRevision = status.updateRevision;
    }
    try {
      await writeStatus(this.ctx.client, pathOf('statefulsets', namespace, name), set, omitEmpty(status as unknown as Record<string, unknown>, ['replicas', 'availableReplicas', 'collisionCount']), this.ctx.signal);
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
    const next = nextAvailableAt(counted, minReadySeconds);
    if (next !== undefined) return { requeueAfterMs: next - Date.now() + 10 };
  }

  /** The pod for an ordinal, at the current revision (below the partition, cloned from a sibling at it) or the update revision. */
  private async createPod(set: StatefulSet, ordinal: number, currentRevision: string, updateRevision: string, pods: readonly Pod[]): Promise<Pod | undefined> {
    const spec = set.spec ?? {};
    const name = `${set.metadata.name}-${ordinal}`;
    const namespace = set.metadata.namespace as string;
    let template: PodTemplate | undefined = spec.template;
    let revision = updateRevision;
    const partition = spec.updateStrategy?.rollingUpdate?.partition ?? 0;
    if (spec.updateStrategy?.type !== 'OnDelete' && currentRevision !== updateRevision && ordinal - (spec.ordinals?.start ?? 0) < partition) {
      const sibling = pods.find((p) => revisionOf(p) === currentRevision);
      if (sibling) {
        const labels = { ...(sibling.metadata.labels ?? {}) };
        delete labels[POD_NAME_LABEL];
        delete labels[POD_INDEX_LABEL];
        const podSpec = deepClone(sibling.spec ?? {});
        delete podSpec.nodeName;
        template = { metadata: { labels, ...(sibling.metadata.annotations ? { annotations: sibling.metadata.annotations } : {}) }, spec: podSpec };
        revision = currentRevision;
      }
    }
    const pod = podFromTemplate(template, namespace, { name }, ownerReference(set, 'apps/v1', KIND), {
      [REVISION_LABEL]: revision,
      [POD_NAME_LABEL]: name,
      [POD_INDEX_LABEL]: String(ordinal),
    });
    const podSpec = (pod.spec ??= {});
    podSpec.hostname = name;
    if (spec.serviceName) podSpec.subdomain = spec.serviceName;
    const claims = (spec as { volumeClaimTemplates?: { metadata?: { name?: string } }[] }).volumeClaimTemplates ?? [];
    if (claims.length > 0) {
      const volumes = ((podSpec['volumes'] as { name: string }[] | undefined) ?? []).filter((v) => !claims.some((c) => c.metadata?.name === v.name));
      for (const claim of claims) {
        if (claim.metadata?.name) volumes.push({ name: claim.metadata.name, persistentVolumeClaim: { claimName: `${claim.metadata.name}-${set.metadata.name}-${ordinal}` } } as { name: string });
      }
      podSpec['volumes'] = volumes;
    }
    try {
      const created = (await this.ctx.client.create(pathOf('pods', namespace), pod, { signal: this.ctx.signal })) as Pod;
      this.logger.debug({ statefulSet: keyOf(set), pod: name, revision }, 'created pod');
      return created;
    } catch (err) {
      if (isApiError(err, 409)) return undefined; // the cache has not caught up with it yet
      throw err;
    }
  }

  private async deletePod(pod: Pod): Promise<void> {
    try {
      await this.ctx.client.delete(pathOf('pods', pod.metadata.namespace, pod.metadata.name), { preconditions: { uid: pod.metadata.uid as string }, signal: this.ctx.signal });
    } catch (err) {
      if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
    }
  }

  private async fixIdentity(pod: Pod): Promise<void> {
    const name = pod.metadata.name as string;
    const patch: Record<string, unknown> = {
      metadata: { resourceVersion: pod.metadata.resourceVersion, labels: { [POD_NAME_LABEL]: name, [POD_INDEX_LABEL]: String(ordinalOf(pod)) } },
    };
    try {
      await this.ctx.client.patch(pathOf('pods', pod.metadata.namespace, name), 'merge', patch, { signal: this.ctx.signal });
    } catch (err) {
      if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
    }
  }
}

interface StatefulSetStatusValues {
  observedGeneration: number;
  replicas: number;
  readyReplicas: number;
  currentReplicas: number;
  updatedReplicas: number;
  currentRevision: string;
  updateRevision: string;
  collisionCount: number;
  availableReplicas: number;
}

function computeStatus(set: StatefulSet, pods: readonly Pod[], minReadySeconds: number, currentRevision: string, updateRevision: string, collisionCount: number): StatefulSetStatusValues {
  const status: StatefulSetStatusValues = {
    observedGeneration: set.metadata.generation ?? 0,
    replicas: 0,
    readyReplicas: 0,
    currentReplicas: 0,
    updatedReplicas: 0,
    currentRevision,
    updateRevision,
    collisionCount,
    availableReplicas: 0,
  };
  const time = Date.now();
  for (const pod of pods) {
    const created = Boolean(pod.status?.phase);
    if (created) status.replicas++;
    if (isRunningAndReady(pod)) {
      status.readyReplicas++;
      if (isPodAvailable(pod, minReadySeconds, time)) status.availableReplicas++;
    }
    if (created && !pod.metadata.deletionTimestamp) {
      if (revisionOf(pod) === currentRevision) status.currentReplicas++;
      if (revisionOf(pod) === updateRevision) status.updatedReplicas++;
    }
  }
  return status;
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

function revisionOf(pod: Pod): string | undefined {
  return pod.metadata.labels?.[REVISION_LABEL];
}

const ORDINAL = /^(.*)-(\d+)$/;

function parentOf(pod: Pod): string | undefined {
  return ORDINAL.exec(pod.metadata.name ?? '')?.[1];
}

function ordinalOf(pod: Pod): number {
  const match = ORDINAL.exec(pod.metadata.name ?? '');
  return match ? Number(match[2]) : -1;
}

function identityMatches(set: StatefulSet, pod: Pod): boolean {
  const name = pod.metadata.name as string;
  return parentOf(pod) === set.metadata.name && pod.metadata.labels?.[POD_NAME_LABEL] === name && pod.metadata.labels[POD_INDEX_LABEL] === String(ordinalOf(pod));
}
