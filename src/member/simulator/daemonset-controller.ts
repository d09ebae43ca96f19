import { deepClone } from '../../api/object.js';
import type { KubeObject } from '../../api/object.js';
import { isApiError } from '../../client/client.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import type { SimContext } from './controller.js';
import { Controller, pathOf } from './controller.js';
import { Expectations } from './expectations.js';
import { computeHash } from './hash.js';
import { byCreation, controllerRef, isPodAvailable, isPodReady, nextAvailableAt, ownerReference, podFromTemplate } from './pods.js';
import { matchesNodeSelectorAndAffinity, targetNodeName, untoleratedTaint } from './predicates.js';
import type { Affinity, DaemonSet, Node, Pod, PodSpec, Toleration } from './types.js';
import { omitEmpty, scaledValue, selectorOf, writeStatus } from './util.js';

/**
 * The DaemonSet controller (kube's pkg/controller/daemon): one pod per node that should run it —
 * the node matches the template's nodeName, nodeSelector and required node affinity, and its
 * NoSchedule/NoExecute taints are tolerated (with the tolerations kube adds to daemon pods:
 * not-ready and unreachable NoExecute, the pressure and unschedulable NoSchedule taints). Pods are
 * created unbound with a required node affinity on the node's name (`metadata.name In [node]`) and
 * placed by the scheduler, as kube does; pods of nodes that should no longer run them (or that are
 * gone), surplus pods and failed pods are deleted. RollingUpdate replaces pods not at the template
 * hash (label controller-revision-hash) within maxUnavailable, or surges within maxSurge;
 * OnDelete leaves them. Status (written on change): desiredNumberScheduled,
 * currentNumberScheduled, numberMisscheduled, numberReady, numberAvailable, numberUnavailable,
 * updatedNumberScheduled, observedGeneration.
 */
const KIND = 'DaemonSet';
const HASH_LABEL = 'controller-revision-hash';
const TEMPLATE_GENERATION_LABEL = 'pod-template-generation';
const TEMPLATE_GENERATION_ANNOTATION = 'deprecated.daemonset.template.generation';

const DAEMON_TOLERATIONS: readonly Toleration[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute' },
  { key: 'node.kubernetes.io/disk-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/memory-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/pid-pressure', operator: 'Exists', effect: 'NoSchedule' },
  { key: 'node.kubernetes.io/unschedulable', operator: 'Exists', effect: 'NoSchedule' },
];
const NETWORK_TOLERATION: Toleration = { key: 'node.kubernetes.io/network-unavailable', operator: 'Exists', effect: 'NoSchedule' };

export class DaemonSetController extends Controller {
  private readonly expectations = new Expectations();

  constructor(ctx: SimContext) {
    super(ctx, 'daemonset', 4);
    ctx.informers.daemonsets.addHandlers({
      onAdd: (ds) => this.enqueue(keyOf(ds)),
      onUpdate: (_old, ds) => this.enqueue(keyOf(ds)),
      onDelete: (ds) => {
        this.expectations.forget(keyOf(ds));
        this.enqueue(keyOf(ds));
      },
    });
    ctx.informers.pods.addHandlers({
      onAdd: (pod) => {
        const ref = controllerRef(pod);
        if (ref?.kind === KIND) this.expectations.creationObserved(`${pod.metadata.namespace}/${ref.name}`);
        this.onPod(pod);
      },
      onUpdate: (old, pod) => {
        if (controllerRef(old)?.uid !== controllerRef(pod)?.uid) this.enqueueOwner(old, KIND);
        this.onPod(pod);
      },
      onDelete: (pod) => {
        const ref = controllerRef(pod);
        if (ref?.kind !== KIND) return;
        this.expectations.deletionObserved(`${pod.metadata.namespace}/${ref.name}`);
        this.enqueueOwner(pod, KIND);
      },
    });
    const all = () => {
      for (const ds of ctx.informers.daemonsets.list()) this.enqueue(keyOf(ds));
    };
    ctx.informers.nodes.addHandlers({
      onAdd: all,
      onUpdate: (old, node) => {
        const o = old as Node;
        const n = node as Node;
        if (old === node || JSON.stringify(o.metadata.labels) !== JSON.stringify(n.metadata.labels) || JSON.stringify(o.spec) !== JSON.stringify(n.spec)) all();
      },
      onDelete: all,
    });
  }

  private onPod(pod: KubeObject): void {
    const ref = controllerRef(pod);
    if (ref) return this.enqueueOwner(pod, KIND);
    if (pod.metadata.deletionTimestamp) return;
    for (const ds of this.ctx.informers.daemonsets.list() as DaemonSet[]) {
      if (ds.metadata.namespace === pod.metadata.namespace && selectorOf(ds.spec?.selector)?.matches(pod.metadata.labels)) this.enqueue(keyOf(ds));
    }
  }

  protected override async reconcile(key: string): Promise<ReconcileResult> {
    const ds = this.ctx.informers.daemonsets.get(key) as DaemonSet | undefined;
    if (!ds) {
      this.expectations.forget(key);
      return;
    }
    const selector = selectorOf(ds.spec?.selector);
    if (!selector || selector.empty) return;
    const hash = computeHash(ds.spec?.template, ds.status?.collisionCount ?? 0);
    const pods = await this.claimPods(ds, selector, ownerReference(ds, 'apps/v1', KIND));
    const nodes = (this.ctx.informers.nodes.list() as Node[]).filter((n) => !n.metadata.deletionTimestamp);
    const byNode = new Map<string, Pod[]>();
    const stray: Pod[] = [];
    const nodeNames = new Set(nodes.map((n) => n.metadata.name as string));
    for (const pod of pods) {
      if (pod.metadata.deletionTimestamp) continue;
      const target = targetNodeName(pod.spec);
      if (!target || !nodeNames.has(target)) {
        stray.push(pod);
        continue;
      }
      const list = byNode.get(target);
      if (list) list.push(pod);
      else byNode.set(target, [pod]);
    }
    for (const list of byNode.values()) list.sort(byCreation);

    if (!ds.metadata.deletionTimestamp && this.expectations.satisfied(key)) {
      const { create, remove } = this.plan(ds, nodes, byNode, hash);
      remove.push(...stray);
      if (create.length === 0 && remove.length === 0 && ds.spec?.updateStrategy?.type !== 'OnDelete') {
        const update = this.rollingUpdate(ds, nodes, byNode, hash);
        create.push(...update.create);
        remove.push(...update.remove);
      }
      await this.syncNodes(ds, key, create, remove, hash);
    }

    const status = this.status(ds, nodes, byNode, hash);
    try {
      await writeStatus(this.ctx.client, pathOf('daemonsets', ds.metadata.namespace, ds.metadata.name), ds, status, this.ctx.signal);
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
    const next = nextAvailableAt([...byNode.values()].flat(), ds.spec?.minReadySeconds ?? 0);
    if (next !== undefined) return { requeueAfterMs: next - Date.now() + 10 };
  }

  /** Nodes that need a pod, pods that must go (kube's podsShouldBeOnNode over every node). */
  private plan(ds: DaemonSet, nodes: readonly Node[], byNode: ReadonlyMap<string, Pod[]>, hash: string): { create: string[]; remove: Pod[] } {
    const create: string[] = [];
    const remove: Pod[] = [];
    const surge = this.maxSurge(ds, nodes.length) > 0;
    for (const node of nodes) {
      const name = node.metadata.name as string;
      const { shouldRun, shouldContinueRunning } = nodeShouldRunDaemonPod(node, ds);
      const daemonPods = byNode.get(name) ?? [];
      if (shouldRun && daemonPods.length === 0) {
        create.push(name);
        continue;
      }
      if (!shouldContinueRunning) {
        remove.push(...daemonPods);
        continue;
      }
      const running: Pod[] = [];
      for (const pod of daemonPods) {
        if (pod.status?.phase === 'Failed') remove.push(pod);
        else running.push(pod);
      }
      if (running.length === 0 && daemonPods.length > 0 && shouldRun) create.push(name);
      if (running.length > 1) {
        if (surge) {
          // Keep the oldest updated and the oldest old pod (a surge in progress).
          const keepNew = running.find((p) => isUpdated(p, hash));
          const keepOld = running.find((p) => !isUpdated(p, hash));
          remove.push(...running.filter((p) => p !== keepNew && p !== keepOld));
        } else {
          remove.push(...running.slice(1));
        }
      }
    }
    return { create, remove };
  }

  private maxSurge(ds: DaemonSet, desired: number): number {
    const rolling = ds.spec?.updateStrategy?.type === 'OnDelete' ? undefined : ds.spec?.updateStrategy?.rollingUpdate;
    return scaledValue(rolling?.maxSurge, desired, true, 0);
  }

  /** RollingUpdate: which old pods go and where new pods surge. */
  private rollingUpdate(ds: DaemonSet, nodes: readonly Node[], byNode: ReadonlyMap<string, Pod[]>, hash: string): { create: string[]; remove: Pod[] } {
    const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
    const wanted = nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldContinueRunning && (byNode.get(n.metadata.name as string)?.length ?? 0) > 0);
    const desired = nodes.filter((n) => nodeShouldRunDaemonPod(n, ds).shouldRun).length;
    const rolling = ds.spec?.updateStrategy?.rollingUpdate;
    const maxSurge = this.maxSurge(ds, desired);
    let maxUnavailable = scaledValue(rolling?.maxUnavailable, desired, true, 1);
    if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
    const time = Date.now();
    const create: string[] = [];
    const remove: Pod[] = [];
    if (maxSurge === 0) {
      let unavailable = 0;
      const candidates: Pod[] = [];
      for (const node of wanted) {
        const pods = byNode.get(node.metadata.name as string) ?? [];
        const fresh = pods.find((p) => isUpdated(p, hash));
        const old = pods.find((p) => !isUpdated(p, hash));
        if (!old) {
          if (!fresh || !isPodAvailable(fresh, minReadySeconds, time)) unavailable++;
        } else if (!fresh) {
          if (!isPodAvailable(old, minReadySeconds, time)) {
            remove.push(old); // not serving anyway: replaced at once
            unavailable++;
          } else candidates.push(old);
        } else if (!isPodAvailable(fresh, minReadySeconds, time)) unavailable++;
      }
      const room = Math.max(0, Math.min(maxUnavailable - unavailable, candidates.length));
      remove.push(...candidates.slice(0, room));
      return { create, remove };
    }
    let surging = 0;
    const candidates: string[] = [];
    for (const node of wanted) {
      const name = node.metadata.name as string;
      const pods = byNode.get(name) ?? [];
      const fresh = pods.find((p) => isUpdated(p, hash));
      const old = pods.find((p) => !isUpdated(p, hash));
      if (!old) continue;
      if (!fresh) {
        if (!isPodAvailable(old, minReadySeconds, time)) create.push(name);
        else candidates.push(name);
        continue;
      }
      surging++;
      if (isPodAvailable(fresh, minReadySeconds, time)) remove.push(old);
    }
    create.push(...candidates.slice(0, Math.max(0, maxSurge - surging)));
    return { create, remove };
  }

  private async syncNodes(ds: DaemonSet, key: string, create: readonly string[], remove: readonly Pod[], hash: string): Promise<void> {
    if (create.length === 0 && remove.length === 0) return;
    this.expectations.expect(key, create.length, remove.length);
    const namespace = ds.metadata.namespace as string;
    const template = ds.spec?.template;
    const labels: Record<string, string> = { [HASH_LABEL]: hash };
    const generation = ds.metadata.annotations?.[TEMPLATE_GENERATION_ANNOTATION];
    if (generation) labels[TEMPLATE_GENERATION_LABEL] = generation;
    let failure: unknown;
    await Promise.all([
      ...create.map(async (node) => {
        const pod = podFromTemplate(template, namespace, { generateName: `${ds.metadata.name}-` }, ownerReference(ds, 'apps/v1', KIND), labels);
        const spec = (pod.spec ??= {});
        spec.tolerations = daemonTolerations(spec);
        spec.affinity = pinToNode(spec.affinity, node);
        try {
          await this.ctx.client.create(pathOf('pods', namespace), pod, { signal: this.ctx.signal });
        } catch (err) {
          this.expectations.creationObserved(key);
          failure ??= err;
        }
      }),
      ...remove.map(async (pod) => {
        try {
          await this.ctx.client.delete(pathOf('pods', namespace, pod.metadata.name), { preconditions: { uid: pod.metadata.uid as string }, signal: this.ctx.signal });
        } catch (err) {
          this.expectations.deletionObserved(key);
          if (!isApiError(err, 404) && !isApiError(err, 409)) failure ??= err;
        }
      }),
    ]);
    this.logger.debug({ daemonSet: key, created: create.length, deleted: remove.length }, 'synced daemon pods');
    if (failure !== undefined) throw failure;
  }

  private status(ds: DaemonSet, nodes: readonly Node[], byNode: ReadonlyMap<string, Pod[]>, hash: string): Record<string, unknown> {
    const minReadySeconds = ds.spec?.minReadySeconds ?? 0;
    const time = Date.now();
    let desired = 0;
    let current = 0;
    let misscheduled = 0;
    let ready = 0;
    let available = 0;
    let updated = 0;
    for (const node of nodes) {
      const pods = byNode.get(node.metadata.name as string) ?? [];
      const { shouldRun } = nodeShouldRunDaemonPod(node, ds);
      if (!shouldRun) {
        if (pods.length > 0) misscheduled++;
        continue;
      }
      desired++;
      const pod = [...pods].sort((a, b) => phaseRank(a) - phaseRank(b) || byCreation(a, b))[0];
      if (!pod) continue;
      current++;
      if (isPodReady(pod)) {
        ready++;
        if (isPodAvailable(pod, minReadySeconds, time)) available++;
      }
      if (isUpdated(pod, hash)) updated++;
    }
    return {
      currentNumberScheduled: current,
      desiredNumberScheduled: desired,
      numberMisscheduled: misscheduled,
      numberReady: ready,
      ...omitEmpty({
        observedGeneration: ds.metadata.generation,
        updatedNumberScheduled: updated,
        numberAvailable: available,
        numberUnavailable: desired - available,
        collisionCount: ds.status?.collisionCount,
      }),
    };
  }
}

function keyOf(object: KubeObject): string {
  return `${object.metadata.namespace ?? ''}/${object.metadata.name ?? ''}`;
}

function isUpdated(pod: Pod, hash: string): boolean {
  return pod.metadata.labels?.[HASH_LABEL] === hash;
}

/** Running pods first, then pending, then the rest (podByCreationTimestampAndPhase keeps the oldest of equals). */
function phaseRank(pod: Pod): number {
  return pod.status?.phase === 'Running' ? 0 : pod.status?.phase === 'Pending' ? 1 : 2;
}

function daemonTolerations(spec: PodSpec): Toleration[] {
  const tolerations = [...(spec.tolerations ?? [])];
  const wanted = spec.hostNetwork ? [...DAEMON_TOLERATIONS, NETWORK_TOLERATION] : DAEMON_TOLERATIONS;
  for (const t of wanted) if (!tolerations.some((x) => x.key === t.key && x.effect === t.effect)) tolerations.push({ ...t });
  return tolerations;
}

/** kube's ReplaceDaemonSetPodNodeNameNodeAffinity: the required terms become `metadata.name In [node]`. */
function pinToNode(affinity: Affinity | undefined, node: string): Affinity {
  const copy: Affinity = deepClone(affinity ?? {});
  const nodeAffinity = (copy.nodeAffinity ??= {});
  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = { nodeSelectorTerms: [{ matchFields: [{ key: 'metadata.name', operator: 'In', values: [node] }] }] };
  return copy;
}

/** kube's NodeShouldRunDaemonPod: whether a new pod belongs on the node, and whether an existing one may stay. */
export function nodeShouldRunDaemonPod(node: Node, ds: DaemonSet): { shouldRun: boolean; shouldContinueRunning: boolean } {
  const spec = ds.spec?.template?.spec ?? {};
  if (spec.nodeName && spec.nodeName !== node.metadata.name) return { shouldRun: false, shouldContinueRunning: false };
  if (!matchesNodeSelectorAndAffinity(spec, node)) return { shouldRun: false, shouldContinueRunning: false };
  const tolerations = daemonTolerations(spec);
  if (untoleratedTaint(node.spec?.taints, tolerations)) {
    return { shouldRun: false, shouldContinueRunning: !untoleratedTaint(node.spec?.taints, tolerations, ['NoExecute']) };
  }
  return { shouldRun: true, shouldContinueRunning: true };
}
