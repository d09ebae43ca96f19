import { deepClone } from '../../api/object.js';
import type { KubeObject } from '../../api/object.js';
import type { LabelSelector } from '../../api/label-selector.js';
import { isApiError } from '../../client/client.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import type { SimContext } from './controller.js';
import { Controller, pathOf } from './controller.js';
import { canonicalJson, computeHash } from './hash.js';
import { byCreation, controllerRef, createdAt, findCondition, isTerminal, ownerReference } from './pods.js';
import type { Condition, Deployment, DeploymentStatus, Pod, PodTemplate, ReplicaSet } from './types.js';
import { now, omitEmpty, removeCondition, scaledValue, selectorOf, setCondition, writeStatus } from './util.js';

/**
 * The Deployment controller (kube's pkg/controller/deployment), level-based:
 *  - owns ReplicaSets `<deployment>-<hash>` (hash of the pod template and status.collisionCount,
 *    label `pod-template-hash` added to the ReplicaSet's selector, labels and template), adopting
 *    orphans that match the selector and releasing those that stopped matching;
 *  - RollingUpdate (maxSurge / maxUnavailable as ints or percents, kube's fenceposts): scales the new
 *    ReplicaSet up within maxSurge, cleans up unhealthy old replicas, then scales old ones down while
 *    at least replicas − maxUnavailable stay available; Recreate: old ReplicaSets to 0, wait for
 *    their pods to go, then the new one to full size;
 *  - scaling (spec.replicas changed, seen through the desired-replicas annotation) is proportional
 *    across active ReplicaSets, as kube's; paused deployments only scale;
 *  - revision annotations (`deployment.kubernetes.io/revision` on the deployment and its ReplicaSets,
 *    revision-history, desired-replicas, max-replicas), deployment annotations copied to the new
 *    ReplicaSet, revisionHistoryLimit clean-up of old, empty ReplicaSets;
 *  - status as kube computes it: observedGeneration, replicas, updatedReplicas, readyReplicas,
 *    availableReplicas, unavailableReplicas, collisionCount, conditions Available
 *    (MinimumReplicasAvailable / MinimumReplicasUnavailable) and Progressing (NewReplicaSetCreated,
 *    FoundNewReplicaSet, ReplicaSetUpdated, NewReplicaSetAvailable, ProgressDeadlineExceeded,
 *    DeploymentPaused / DeploymentResumed), written only when it changed.
 */
const KIND = 'Deployment';
const HASH_LABEL = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';
const REVISION_HISTORY = 'deployment.kubernetes.io/revision-history';
const DESIRED_REPLICAS = 'deployment.kubernetes.io/desired-replicas';
const MAX_REPLICAS = 'deployment.kubernetes.io/max-replicas';
const SKIP_COPY = new Set(['kubectl.kubernetes.io/last-applied-configuration', REVISION, REVISION_HISTORY, DESIRED_REPLICAS, MAX_REPLICAS, 'deprecated.deployment.rollback.to']);
const MAX_INT32 = 2147483647;

/** One reconcile's view: the deployment, its working status, its ReplicaSets (replaced as they are written). */
interface Sync {
  readonly d: Deployment;
  readonly replicas: number;
  status: DeploymentStatus;
  rsList: ReplicaSet[];
  /** The revision the deployment's annotation should carry. */
  revision?: string;
}

export class DeploymentController extends Controller {
  constructor(ctx: SimContext) {
    super(ctx, 'deployment', 4);
    ctx.informers.deployments.addHandlers({
      onAdd: (d) => this.enqueue(keyOf(d)),
      onUpdate: (_old, d) => this.enqueue(keyOf(d)),
      onDelete: (d) => this.enqueue(keyOf(d)),
    });
    const onReplicaSet = (rs: KubeObject) => {
      const ref = controllerRef(rs);
      if (ref) this.enqueueOwner(rs, KIND);
      else if (!rs.metadata.deletionTimestamp) this.enqueueMatching(rs);
    };
    ctx.informers.replicasets.addHandlers({
      onAdd: onReplicaSet,
      onUpdate: (old, rs) => {
        const oldRef = controllerRef(old);
        if (oldRef && oldRef.uid !== controllerRef(rs)?.uid) this.enqueueOwner(old, KIND);
        onReplicaSet(rs);
      },
      onDelete: (rs) => this.enqueueOwner(rs, KIND),
    });
    // Recreate waits for the old pods to be gone.
    ctx.informers.pods.addHandlers({
      onDelete: (pod) => {
        const ref = controllerRef(pod);
        if (ref?.kind !== 'ReplicaSet') return;
        const rs = ctx.informers.replicasets.getByName(pod.metadata.namespace, ref.name);
        if (rs) this.enqueueOwner(rs, KIND);
      },
    });
  }

  private enqueueMatching(rs: KubeObject): void {
    for (const d of this.ctx.informers.deployments.list() as Deployment[]) {
      if (d.metadata.namespace === rs.metadata.namespace && selectorOf(d.spec?.selector)?.matches(rs.metadata.labels)) this.enqueue(keyOf(d));
    }
  }

  protected override async reconcile(key: string): Promise<ReconcileResult> {
    const d = this.ctx.informers.deployments.get(key) as Deployment | undefined;
    if (!d) return;
    const path = pathOf('deployments', d.metadata.namespace, d.metadata.name);
    const rawSelector = d.spec?.selector;
    if (rawSelector && Object.keys(rawSelector.matchLabels ?? {}).length === 0 && (rawSelector.matchExpressions ?? []).length === 0) {
      // An empty selector selects everything: kube refuses to act, only observing the generation.
      if ((d.status?.observedGeneration ?? 0) < (d.metadata.generation ?? 0)) {
        await writeStatus(this.ctx.client, path, d, { ...(d.status ?? {}), observedGeneration: d.metadata.generation }, this.ctx.signal);
      }
      return;
    }
    const selector = selectorOf(rawSelector);
    if (!selector) return;

    const sync: Sync = { d, replicas: d.spec?.replicas ?? 1, status: deepClone(d.status ?? {}), rsList: await this.claimReplicaSets(d, selector) };
    if (d.metadata.deletionTimestamp) {
      const { newRS, oldRSs } = await this.getAllReplicaSets(sync, false);
      await this.finish(sync, path, this.calculateStatus(sync, allOf(oldRSs, newRS), newRS));
      return;
    }
    this.checkPausedConditions(sync);
    let { newRS, oldRSs } = await this.getAllReplicaSets(sync, false);

    if (d.spec?.paused || this.isScalingEvent(sync, allOf(oldRSs, newRS))) {
      await this.scale(sync, newRS, oldRSs);
      ({ newRS, oldRSs } = this.split(sync, newRS));
      if (d.spec?.paused) await this.cleanup(sync, oldRSs);
      await this.finish(sync, path, this.calculateStatus(sync, allOf(oldRSs, newRS), newRS));
      return;
    }

    if (d.spec?.strategy?.type === 'Recreate') {
      const scaledDown = await this.scaleDownForRecreate(sync, oldRSs.filter(isActive));
      ({ newRS, oldRSs } = this.split(sync, newRS));
      if (!scaledDown && !this.oldPodsRunning(newRS, oldRSs)) {
        if (!newRS) ({ newRS, oldRSs } = await this.getAllReplicaSets(sync, true));
        if (newRS) await this.scaleReplicaSet(sync, newRS, sync.replicas);
        ({ newRS, oldRSs } = this.split(sync, newRS));
        if (deploymentComplete(sync.d, sync.status)) await this.cleanup(sync, oldRSs);
      }
      return this.syncRolloutStatus(sync, path, allOf(oldRSs, newRS), newRS);
    }

    if (!newRS) ({ newRS, oldRSs } = await this.getAllReplicaSets(sync, true));
    if (await this.reconcileNewReplicaSet(sync, allOf(oldRSs, newRS), newRS)) {
      ({ newRS, oldRSs } = this.split(sync, newRS));
      return this.syncRolloutStatus(sync, path, allOf(oldRSs, newRS), newRS);
    }
    ({ newRS, oldRSs } = this.split(sync, newRS));
    if (await this.reconcileOldReplicaSets(sync, allOf(oldRSs, newRS), oldRSs.filter(isActive), newRS)) {
      ({ newRS, oldRSs } = this.split(sync, newRS));
      return this.syncRolloutStatus(sync, path, allOf(oldRSs, newRS), newRS);
    }
    if (deploymentComplete(sync.d, sync.status)) await this.cleanup(sync, oldRSs);
    ({ newRS, oldRSs } = this.split(sync, newRS));
    return this.syncRolloutStatus(sync, path, allOf(oldRSs, newRS), newRS);
  }

  // ---- ReplicaSets ----

  /** Owned ReplicaSets that match, plus adopted orphans; owned ones that stopped matching are released. */
  private async claimReplicaSets(d: Deployment, selector: LabelSelector): Promise<ReplicaSet[]> {
    const uid = d.metadata.uid as string;
    const namespace = d.metadata.namespace as string;
    const claimed: ReplicaSet[] = [];
    for (const rs of this.ctx.replicaSetsByOwner.get<ReplicaSet>(uid)) {
      if (rs.metadata.namespace !== namespace) continue;
      if (selector.matches(rs.metadata.labels)) claimed.push(rs);
      else if (!rs.metadata.deletionTimestamp) await this.setOwner(pathOf('replicasets', namespace, rs.metadata.name), rs, undefined, uid);
    }
    if (!d.metadata.deletionTimestamp) {
      for (const rs of this.ctx.orphanReplicaSetsByNamespace.get<ReplicaSet>(namespace)) {
        if (rs.metadata.deletionTimestamp || !selector.matches(rs.metadata.labels)) continue;
        const adopted = await this.setOwner(pathOf('replicasets', namespace, rs.metadata.name), rs, ownerReference(d, 'apps/v1', KIND), undefined);
        if (adopted) claimed.push(adopted as ReplicaSet);
      }
    }
    return claimed;
  }

  /** The new ReplicaSet (oldest whose template equals the deployment's, hash label aside) and the others. */
  private split(sync: Sync, hint?: ReplicaSet): { newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] } {
    const sorted = [...sync.rsList].sort(byCreation);
    const newRS = (hint && sorted.find((rs) => rs.metadata.uid === hint.metadata.uid && equalIgnoreHash(rs.spec?.template, sync.d.spec?.template))) ?? sorted.find((rs) => equalIgnoreHash(rs.spec?.template, sync.d.spec?.template));
    return { newRS, oldRSs: sorted.filter((rs) => rs !== newRS) };
  }

  /** kube's getAllReplicaSetsAndSyncRevision: finds (or, with `create`, creates) the new ReplicaSet and syncs revisions. */
  private async getAllReplicaSets(sync: Sync, create: boolean): Promise<{ newRS: ReplicaSet | undefined; oldRSs: ReplicaSet[] }> {
    const { newRS: existing, oldRSs } = this.split(sync);
    const d = sync.d;
    const newRevision = String(maxRevision(oldRSs) + 1);
    if (existing) {
      const copy = deepClone(existing);
      const annotationsChanged = setNewReplicaSetAnnotations(d, copy, newRevision, true, this.maxSurge(sync));
      const minReadyChanged = (copy.spec?.minReadySeconds ?? 0) !== (d.spec?.minReadySeconds ?? 0);
      let newRS = existing;
      if (annotationsChanged || minReadyChanged) {
        copy.spec = { ...(copy.spec ?? {}), minReadySeconds: d.spec?.minReadySeconds ?? 0 };
        newRS = await this.updateReplicaSet(sync, copy);
      }
      sync.revision = newRS.metadata.annotations?.[REVISION] ?? newRevision;
      if (hasProgressDeadline(d) && !findCondition(sync.status.conditions, 'Progressing')) {
        setCondition((sync.status.conditions ??= []), newCondition('Progressing', 'True', 'FoundNewReplicaSet', `Found new replica set "${newRS.metadata.name}"`));
      }
      return { newRS, oldRSs };
    }
    if (!create) return { newRS: undefined, oldRSs };

    const collisionCount = sync.status.collisionCount ?? 0;
    const hash = computeHash(d.spec?.template, collisionCount);
    const template: PodTemplate = deepClone(d.spec?.template ?? {});
    template.metadata = { ...(template.metadata ?? {}), labels: { ...(template.metadata?.labels ?? {}), [HASH_LABEL]: hash } };
    const selector = deepClone(d.spec?.selector ?? {});
    selector.matchLabels = { ...(selector.matchLabels ?? {}), [HASH_LABEL]: hash };
    const name = `${d.metadata.name}-${hash}`;
    const namespace = d.metadata.namespace as string;
    const rs: ReplicaSet = {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name, namespace, labels: { ...(template.metadata.labels ?? {}) }, ownerReferences: [ownerReference(d, 'apps/v1', KIND)] },
      spec: { replicas: 0, minReadySeconds: d.spec?.minReadySeconds ?? 0, selector, template },
    };
    setNewReplicaSetAnnotations(d, rs, newRevision, false, this.maxSurge(sync));
    (rs.spec as NonNullable<ReplicaSet['spec']>).replicas = this.newRSNewReplicas(sync, oldRSs, rs);
    let created: ReplicaSet;
    let alreadyExists = false;
    try {
      created = (await this.ctx.client.create(pathOf('replicasets', namespace), rs, { signal: this.ctx.signal })) as ReplicaSet;
      this.logger.debug({ deployment: keyOf(d), replicaSet: name, replicas: rs.spec?.replicas }, 'created new replica set');
    } catch (err) {
      if (!isApiError(err, 409)) throw err;
      const live = (await this.ctx.client.get(pathOf('replicasets', namespace, name), { signal: this.ctx.signal })) as ReplicaSet;
      if (controllerRef(live)?.uid === d.metadata.uid && equalIgnoreHash(live.spec?.template, d.spec?.template)) {
        created = live;
        alreadyExists = true;
      } else {
        // A foreign object has our name: take the next hash (status.collisionCount), as kube does.
        sync.status.collisionCount = collisionCount + 1;
        await writeStatus(this.ctx.client, pathOf('deployments', namespace, d.metadata.name), d, omitEmpty({ ...sync.status } as Record<string, unknown>), this.ctx.signal);
        throw new Error(`replica set ${name} exists and is not ours; collisionCount is now ${collisionCount + 1}`);
      }
    }
    sync.rsList = [...sync.rsList.filter((r) => r.metadata.name !== name), created];
    sync.revision = newRevision;
    if (!alreadyExists && hasProgressDeadline(d)) {
      setCondition((sync.status.conditions ??= []), newCondition('Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${name}"`));
    }
    return { newRS: created, oldRSs };
  }

  private async updateReplicaSet(sync: Sync, rs: ReplicaSet): Promise<ReplicaSet> {
    const updated = (await this.ctx.client.update(pathOf('replicasets', rs.metadata.namespace, rs.metadata.name), rs, { signal: this.ctx.signal })) as ReplicaSet;
    sync.rsList = sync.rsList.map((r) => (r.metadata.uid === updated.metadata.uid ? updated : r));
    return updated;
  }

  /** Sets a ReplicaSet's size (and its replicas annotations); true if the size changed. */
  private async scaleReplicaSet(sync: Sync, rs: ReplicaSet, replicas: number): Promise<boolean> {
    const current = sync.rsList.find((r) => r.metadata.uid === rs.metadata.uid) ?? rs;
    const sizeChanged = (current.spec?.replicas ?? 0) !== replicas;
    const copy = deepClone(current);
    const annotationsChanged = setReplicasAnnotations(copy, sync.replicas, sync.replicas + this.maxSurge(sync));
    if (!sizeChanged && !annotationsChanged) return false;
    copy.spec = { ...(copy.spec ?? {}), replicas };
    await this.updateReplicaSet(sync, copy);
    if (sizeChanged) this.logger.debug({ deployment: keyOf(sync.d), replicaSet: rs.metadata.name, from: current.spec?.replicas ?? 0, to: replicas }, 'scaled replica set');
    return sizeChanged;
  }

  private current(sync: Sync, rs: ReplicaSet): ReplicaSet {
    return sync.rsList.find((r) => r.metadata.uid === rs.metadata.uid) ?? rs;
  }

  // ---- rolling update ----

  private maxSurge(sync: Sync): number {
    if (sync.d.spec?.strategy?.type === 'Recreate') return 0;
    return fenceposts(sync.d, sync.replicas).surge;
  }

  private maxUnavailable(sync: Sync): number {
    if (sync.d.spec?.strategy?.type === 'Recreate' || sync.replicas === 0) return 0;
    return Math.min(fenceposts(sync.d, sync.replicas).unavailable, sync.replicas);
  }

  private newRSNewReplicas(sync: Sync, allRSs: readonly ReplicaSet[], newRS: ReplicaSet): number {
    if (sync.d.spec?.strategy?.type === 'Recreate') return sync.replicas;
    const current = newRS.spec?.replicas ?? 0;
    const maxTotal = sync.replicas + this.maxSurge(sync);
    const podCount = sumSpec(allRSs.filter((rs) => rs.metadata.uid !== newRS.metadata.uid)) + current;
    if (podCount >= maxTotal) return current;
    return current + Math.max(0, Math.min(maxTotal - podCount, sync.replicas - current));
  }

  private async reconcileNewReplicaSet(sync: Sync, allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<boolean> {
    if (!newRS) return false;
    const current = newRS.spec?.replicas ?? 0;
    if (current === sync.replicas) return false;
    if (current > sync.replicas) return this.scaleReplicaSet(sync, newRS, sync.replicas);
    return this.scaleReplicaSet(sync, newRS, this.newRSNewReplicas(sync, allRSs, newRS));
  }

  private async reconcileOldReplicaSets(sync: Sync, allRSs: ReplicaSet[], oldRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<boolean> {
    if (sumSpec(oldRSs) === 0) return false;
    const minAvailable = sync.replicas - this.maxUnavailable(sync);
    const newUnavailable = newRS ? (newRS.spec?.replicas ?? 0) - (newRS.status?.availableReplicas ?? 0) : 0;
    const maxScaledDown = sumSpec(allRSs) - minAvailable - newUnavailable;
    if (maxScaledDown <= 0) return false;
    // Unhealthy old replicas go first: they cost no availability.
    let cleaned = 0;
    for (const rs of [...oldRSs].sort(byCreation)) {
      if (cleaned >= maxScaledDown) break;
      const spec = this.current(sync, rs).spec?.replicas ?? 0;
      const available = rs.status?.availableReplicas ?? 0;
      if (spec === 0 || spec === available) continue;
      const down = Math.min(maxScaledDown - cleaned, spec - available);
      await this.scaleReplicaSet(sync, rs, spec - down);
      cleaned += down;
    }
    // Then healthy ones, as far as availability allows.
    const all = allRSs.map((rs) => this.current(sync, rs));
    const availableCount = all.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
    let scaledDown = 0;
    if (availableCount > minAvailable) {
      const total = availableCount - minAvailable;
      for (const rs of [...oldRSs].sort(byCreation)) {
        if (scaledDown >= total) break;
        const spec = this.current(sync, rs).spec?.replicas ?? 0;
        if (spec === 0) continue;
        const down = Math.min(spec, total - scaledDown);
        await this.scaleReplicaSet(sync, rs, spec - down);
        scaledDown += down;
      }
    }
    return cleaned + scaledDown > 0;
  }

  // ---- recreate ----

  private async scaleDownForRecreate(sync: Sync, oldRSs: ReplicaSet[]): Promise<boolean> {
    let scaled = false;
    for (const rs of oldRSs) {
      if ((rs.spec?.replicas ?? 0) === 0) continue;
      if (await this.scaleReplicaSet(sync, rs, 0)) scaled = true;
    }
    return scaled;
  }

  private oldPodsRunning(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): boolean {
    if (oldRSs.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0) > 0) return true;
    for (const rs of oldRSs) {
      if (newRS && rs.metadata.uid === newRS.metadata.uid) continue;
      if (this.ctx.podsByOwner.get<Pod>(rs.metadata.uid as string).some((p) => !isTerminal(p))) return true;
    }
    return false;
  }

  // ---- scaling ----

  private isScalingEvent(sync: Sync, allRSs: readonly ReplicaSet[]): boolean {
    for (const rs of allRSs.filter(isActive)) {
      const desired = rs.metadata.annotations?.[DESIRED_REPLICAS];
      if (desired === undefined || !/^\d+$/.test(desired)) continue;
      if (Number(desired) !== sync.replicas) return true;
    }
    return false;
  }

  /** kube's scale(): the active (or latest) ReplicaSet takes the new size; several active ones share it proportionally. */
  private async scale(sync: Sync, newRS: ReplicaSet | undefined, oldRSs: ReplicaSet[]): Promise<void> {
    const activeOrLatest = findActiveOrLatest(newRS, oldRSs);
    if (activeOrLatest) {
      if ((activeOrLatest.spec?.replicas ?? 0) !== sync.replicas) await this.scaleReplicaSet(sync, activeOrLatest, sync.replicas);
      return;
    }
    if (newRS && isSaturated(sync, newRS)) {
      for (const rs of oldRSs.filter(isActive)) await this.scaleReplicaSet(sync, rs, 0);
      return;
    }
    if (sync.d.spec?.strategy?.type === 'Recreate') return;
    const all = allOf(oldRSs, newRS).filter(isActive);
    const allowed = sync.replicas > 0 ? sync.replicas + this.maxSurge(sync) : 0;
    const toAdd = allowed - sumSpec(all);
    // Growing: larger first, newer on ties; shrinking: larger first, older on ties.
    all.sort((a, b) => (b.spec?.replicas ?? 0) - (a.spec?.replicas ?? 0) || (toAdd > 0 ? createdAt(b) - createdAt(a) : createdAt(a) - createdAt(b)));
    const sizes = new Map<string, number>();
    let added = 0;
    for (const rs of all) {
      const size = rs.spec?.replicas ?? 0;
      if (toAdd === 0) {
        sizes.set(rs.metadata.uid as string, size);
        continue;
      }
      const proportion = this.proportion(sync, rs, toAdd, added);
      sizes.set(rs.metadata.uid as string, size + proportion);
      added += proportion;
    }
    for (const [i, rs] of all.entries()) {
      let size = sizes.get(rs.metadata.uid as string) ?? 0;
      if (i === 0 && toAdd !== 0) size = Math.max(0, size + (toAdd - added));
      await this.scaleReplicaSet(sync, rs, size);
    }
  }

  private proportion(sync: Sync, rs: ReplicaSet, toAdd: number, added: number): number {
    const size = rs.spec?.replicas ?? 0;
    if (size === 0 || toAdd === 0 || toAdd === added) return 0;
    let fraction: number;
    if (sync.replicas === 0) fraction = -size;
    else {
      const annotated = Number(rs.metadata.annotations?.[MAX_REPLICAS] ?? sync.status.replicas ?? 0);
      fraction = annotated > 0 ? Math.round((size * (sync.replicas + this.maxSurge(sync))) / annotated) - size : 0;
    }
    const allowed = toAdd - added;
    return toAdd > 0 ? Math.min(fraction, allowed) : Math.max(fraction, allowed);
  }

  // ---- clean-up ----

  private async cleanup(sync: Sync, oldRSs: readonly ReplicaSet[]): Promise<void> {
    const limit = sync.d.spec?.revisionHistoryLimit;
    if (limit === undefined || limit === null) return;
    const cleanable = oldRSs.filter((rs) => !rs.metadata.deletionTimestamp);
    const diff = cleanable.length - limit;
    if (diff <= 0) return;
    cleanable.sort((a, b) => revisionOf(a) - revisionOf(b) || byCreation(a, b));
    for (const rs of cleanable.slice(0, diff)) {
      if ((rs.status?.replicas ?? 0) !== 0 || (rs.spec?.replicas ?? 0) !== 0 || (rs.metadata.generation ?? 0) > (rs.status?.observedGeneration ?? 0)) continue;
      try {
        await this.ctx.client.delete(pathOf('replicasets', rs.metadata.namespace, rs.metadata.name), { preconditions: { uid: rs.metadata.uid as string }, signal: this.ctx.signal });
        sync.rsList = sync.rsList.filter((r) => r.metadata.uid !== rs.metadata.uid);
      } catch (err) {
        if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
      }
    }
  }

  // ---- status ----

  private checkPausedConditions(sync: Sync): void {
    if (!hasProgressDeadline(sync.d)) return;
    const conditions = (sync.status.conditions ??= []);
    const cond = findCondition(conditions, 'Progressing');
    if (cond?.reason === 'ProgressDeadlineExceeded') return;
    const pausedExists = cond?.reason === 'DeploymentPaused';
    if (sync.d.spec?.paused && !pausedExists) setCondition(conditions, newCondition('Progressing', 'Unknown', 'DeploymentPaused', 'Deployment is paused'));
    else if (!sync.d.spec?.paused && pausedExists) setCondition(conditions, newCondition('Progressing', 'Unknown', 'DeploymentResumed', 'Deployment is resumed'));
  }

  private calculateStatus(sync: Sync, allRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined): DeploymentStatus {
    const available = allRSs.reduce((n, rs) => n + (rs.status?.availableReplicas ?? 0), 0);
    const total = sumSpec(allRSs);
    const status: DeploymentStatus = {
      observedGeneration: sync.d.metadata.generation ?? 0,
      replicas: allRSs.reduce((n, rs) => n + (rs.status?.replicas ?? 0), 0),
      updatedReplicas: newRS ? (this.current(sync, newRS).status?.replicas ?? 0) : 0,
      readyReplicas: allRSs.reduce((n, rs) => n + (rs.status?.readyReplicas ?? 0), 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, total - available),
      conditions: deepClone(sync.status.conditions ?? []),
    };
    if (sync.status.collisionCount !== undefined) status.collisionCount = sync.status.collisionCount;
    const conditions = status.conditions as Condition[];
    if (available >= sync.replicas - this.maxUnavailable(sync)) setCondition(conditions, newCondition('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.'));
    else setCondition(conditions, newCondition('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'));
    return status;
  }

  private async syncRolloutStatus(sync: Sync, path: string, allRSs: ReplicaSet[], newRS: ReplicaSet | undefined): Promise<ReconcileResult> {
    const d = sync.d;
    const status = this.calculateStatus(sync, allRSs.map((rs) => this.current(sync, rs)), newRS);
    const conditions = status.conditions as Condition[];
    if (!hasProgressDeadline(d)) removeCondition(conditions, 'Progressing');
    const currentCond = findCondition(sync.status.conditions, 'Progressing');
    const isComplete = status.replicas === status.updatedReplicas && currentCond?.reason === 'NewReplicaSetAvailable';
    if (hasProgressDeadline(d) && !isComplete) {
      const subject = newRS ? `ReplicaSet "${newRS.metadata.name}"` : `Deployment "${d.metadata.name}"`;
      if (deploymentComplete(d, status)) {
        setCondition(conditions, newCondition('Progressing', 'True', 'NewReplicaSetAvailable', `${subject} has successfully progressed.`));
      } else if (deploymentProgressing(sync.status, status)) {
        const condition = newCondition('Progressing', 'True', 'ReplicaSetUpdated', `${subject} is progressing.`);
        if (currentCond) {
          if (currentCond.status === 'True' && currentCond.lastTransitionTime) condition.lastTransitionTime = currentCond.lastTransitionTime;
          removeCondition(conditions, 'Progressing');
        }
        setCondition(conditions, condition);
      } else if (timedOut(d, status)) {
        setCondition(conditions, newCondition('Progressing', 'False', 'ProgressDeadlineExceeded', `${subject} has timed out progressing.`));
      }
    }
    const failure = allRSs.map((rs) => findCondition(this.current(sync, rs).status?.conditions, 'ReplicaFailure')).find((c) => c?.status === 'True');
    if (failure) setCondition(conditions, { type: 'ReplicaFailure', status: failure.status, lastUpdateTime: now(), lastTransitionTime: failure.lastTransitionTime ?? now(), ...(failure.reason ? { reason: failure.reason } : {}), ...(failure.message ? { message: failure.message } : {}) });
    else removeCondition(conditions, 'ReplicaFailure');
    await this.finish(sync, path, status);
    return requeueStuck(d, status);
  }

  /**
   * Writes the status, with the revision annotation when it moved: one update of the status
   * subresource, which takes a Deployment's metadata too (kube's deployment controller does the same).
   */
  private async finish(sync: Sync, path: string, status: DeploymentStatus): Promise<void> {
    const revision = sync.revision !== undefined && sync.d.metadata.annotations?.[REVISION] !== sync.revision ? { [REVISION]: sync.revision } : undefined;
    try {
      await writeStatus(this.ctx.client, path, sync.d, omitEmpty(status as Record<string, unknown>, ['collisionCount']), this.ctx.signal, revision);
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
  }

}

// ---- helpers (kube's deployment util) ----

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

function allOf(oldRSs: readonly ReplicaSet[], newRS: ReplicaSet | undefined): ReplicaSet[] {
  return newRS ? [...oldRSs, newRS] : [...oldRSs];
}

function isActive(rs: ReplicaSet): boolean {
  return (rs.spec?.replicas ?? 0) > 0;
}

function sumSpec(rsList: readonly ReplicaSet[]): number {
  return rsList.reduce((n, rs) => n + (rs.spec?.replicas ?? 0), 0);
}

function revisionOf(rs: KubeObject): number {
  const value = rs.metadata.annotations?.[REVISION];
  return value && /^\d+$/.test(value) ? Number(value) : 0;
}

function maxRevision(rsList: readonly ReplicaSet[]): number {
  return rsList.reduce((max, rs) => Math.max(max, revisionOf(rs)), 0);
}

function withoutHash(template: PodTemplate | undefined): PodTemplate {
  const copy = deepClone(template ?? {});
  if (copy.metadata?.labels) {
    delete copy.metadata.labels[HASH_LABEL];
    if (Object.keys(copy.metadata.labels).length === 0) delete copy.metadata.labels;
  }
  return copy;
}

/** A template's canonical JSON without the hash label, cached per object (informers hand out a new object on every change). */
const canonicalTemplates = new WeakMap<object, string>();
function canonicalWithoutHash(template: PodTemplate | undefined): string {
  if (template === undefined) return canonicalJson(withoutHash(undefined));
  let text = canonicalTemplates.get(template);
  if (text === undefined) {
    text = canonicalJson(withoutHash(template));
    canonicalTemplates.set(template, text);
  }
  return text;
}

/** Equal templates apart from the pod-template-hash label, as kube's EqualIgnoreHash (semantic equality). */
export function equalIgnoreHash(a: PodTemplate | undefined, b: PodTemplate | undefined): boolean {
  return canonicalWithoutHash(a) === canonicalWithoutHash(b);
}

function fenceposts(d: Deployment, replicas: number): { surge: number; unavailable: number } {
  const rolling = d.spec?.strategy?.rollingUpdate;
  const surge = scaledValue(rolling?.maxSurge, replicas, true, '25%');
  let unavailable = scaledValue(rolling?.maxUnavailable, replicas, false, '25%');
  if (surge === 0 && unavailable === 0) unavailable = 1;
  return { surge, unavailable };
}

function hasProgressDeadline(d: Deployment): boolean {
  const deadline = d.spec?.progressDeadlineSeconds;
  return deadline !== undefined && deadline !== null && deadline !== MAX_INT32;
}

function newCondition(type: string, status: Condition['status'], reason: string, message: string): Condition {
  const time = now();
  return { type, status, lastUpdateTime: time, lastTransitionTime: time, reason, message };
}

function deploymentComplete(d: Deployment, status: DeploymentStatus): boolean {
  const replicas = d.spec?.replicas ?? 1;
  return (status.updatedReplicas ?? 0) === replicas && (status.replicas ?? 0) === replicas && (status.availableReplicas ?? 0) === replicas && (status.observedGeneration ?? 0) >= (d.metadata.generation ?? 0);
}

function deploymentProgressing(old: DeploymentStatus, status: DeploymentStatus): boolean {
  const oldOld = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
  const newOld = (status.replicas ?? 0) - (status.updatedReplicas ?? 0);
  return (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || newOld < oldOld || (status.readyReplicas ?? 0) > (old.readyReplicas ?? 0) || (status.availableReplicas ?? 0) > (old.availableReplicas ?? 0);
}

function timedOut(d: Deployment, status: DeploymentStatus): boolean {
  if (!hasProgressDeadline(d)) return false;
  const condition = findCondition(status.conditions, 'Progressing');
  if (!condition || condition.reason === 'NewReplicaSetAvailable') return false;
  if (condition.reason === 'ProgressDeadlineExceeded') return true;
  const from = Date.parse(condition.lastUpdateTime ?? '');
  return !Number.isNaN(from) && from + (d.spec?.progressDeadlineSeconds ?? 600) * 1000 < Date.now();
}

/** A deployment still progressing is looked at again when its deadline passes (requeueStuckDeployment). */
function requeueStuck(d: Deployment, status: DeploymentStatus): ReconcileResult {
  if (!hasProgressDeadline(d)) return;
  const condition = findCondition(status.conditions, 'Progressing');
  if (!condition || condition.reason === 'NewReplicaSetAvailable' || condition.reason === 'ProgressDeadlineExceeded' || deploymentComplete(d, status)) return;
  const from = Date.parse(condition.lastUpdateTime ?? '');
  if (Number.isNaN(from)) return;
  const after = from + (d.spec?.progressDeadlineSeconds ?? 600) * 1000 - Date.now() + 1000;
  return { requeueAfterMs: Math.max(1000, after) };
}

function findActiveOrLatest(newRS: ReplicaSet | undefined, oldRSs: readonly ReplicaSet[]): ReplicaSet | undefined {
  if (!newRS && oldRSs.length === 0) return undefined;
  const newestFirst = [...oldRSs].sort((a, b) => createdAt(b) - createdAt(a));
  const active = allOf(newestFirst, newRS).filter(isActive);
  if (active.length === 0) return newRS ?? newestFirst[0];
  if (active.length === 1) return active[0];
  return undefined;
}

function isSaturated(sync: Sync, rs: ReplicaSet): boolean {
  const desired = rs.metadata.annotations?.[DESIRED_REPLICAS];
  return desired !== undefined && Number(desired) === sync.replicas && (rs.spec?.replicas ?? 0) === sync.replicas && (rs.status?.availableReplicas ?? 0) === sync.replicas;
}

/** desired-replicas and max-replicas annotations; true if they changed. */
function setReplicasAnnotations(rs: ReplicaSet, desired: number, max: number): boolean {
  const annotations = (rs.metadata.annotations ??= {});
  let changed = false;
  if (annotations[DESIRED_REPLICAS] !== String(desired)) {
    annotations[DESIRED_REPLICAS] = String(desired);
    changed = true;
  }
  if (annotations[MAX_REPLICAS] !== String(max)) {
    annotations[MAX_REPLICAS] = String(max);
    changed = true;
  }
  return changed;
}

/** kube's SetNewReplicaSetAnnotations: deployment annotations copied, revision (and its history) advanced. */
function setNewReplicaSetAnnotations(d: Deployment, rs: ReplicaSet, newRevision: string, exists: boolean, maxSurge: number): boolean {
  const annotations = (rs.metadata.annotations ??= {});
  let changed = false;
  for (const [key, value] of Object.entries(d.metadata.annotations ?? {})) {
    if (SKIP_COPY.has(key) || annotations[key] === value) continue;
    annotations[key] = value;
    changed = true;
  }
  const oldRevision = annotations[REVISION];
  const oldNumber = oldRevision && /^\d+$/.test(oldRevision) ? Number(oldRevision) : 0;
  if (oldNumber < Number(newRevision)) {
    annotations[REVISION] = newRevision;
    changed = true;
    if (oldRevision) {
      const history = annotations[REVISION_HISTORY];
      annotations[REVISION_HISTORY] = history ? `${history},${oldRevision}` : oldRevision;
    }
  }
  const replicas = d.spec?.replicas ?? 1;
  if (!exists && setReplicasAnnotations(rs, replicas, replicas + maxSurge)) changed = true;
  return changed;
}
