import { createHash } from 'node:crypto';
import { isApiError } from '../../client/client.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import type { SimContext } from './controller.js';
import { Controller, pathOf } from './controller.js';
import { podCidr } from './nodes.js';
import { controllerRef, findCondition, isTerminal } from './pods.js';
import { isNodeReady } from './predicates.js';
import { qosClass } from './resources.js';
import { Timeline } from './timeline.js';
import type { Condition, Container, ContainerStatus, Node, Pod, PodStatus } from './types.js';
import { now, writeStatus } from './util.js';

/**
 * The kubelets of every node, as one controller over the pods bound to nodes:
 *  - a pod bound to a Ready node gets, at once, the status a kubelet posts when it admits a pod
 *    (phase Pending, hostIP, startTime, containers waiting in ContainerCreating, PodScheduled=True),
 *    and `podStartDelayMs` later phase Running with every condition True (PodReadyToStartContainers,
 *    Initialized, Ready, ContainersReady, PodScheduled), running container statuses (containerID,
 *    image, imageID, started, ready) and a podIP from the node's pod CIDR, unique among the pods;
 *  - a pod of a Job runs for another `podStartDelayMs`, then Succeeds (containers terminated with
 *    exit code 0, reason Completed; Ready=False reason PodCompleted);
 *  - on a node that is not Ready nothing progresses and Ready turns False on its pods (what the node
 *    lifecycle controller's MarkPodsNotReady does); back on a Ready node, Ready turns True again;
 *  - a pod being deleted is removed for good (gracePeriodSeconds 0), and a pod bound to a node that
 *    no longer exists is deleted (the pod garbage collector).
 * Start delays are kept on one shared timer (Timeline), not a timer per pod.
 */
export class Kubelet extends Controller {
  private readonly timeline: Timeline;
  /** When a pod's next step (start, or a Job pod's completion) is due, for pods this process is starting. */
  private readonly due = new Map<string, number>();
  /** Pod IPs in use per node: node → ip → pod uid; and each pod's reservation. */
  private readonly ipsByNode = new Map<string, Map<string, string>>();
  private readonly ipOfPod = new Map<string, { node: string; ip: string }>();
  private readonly cursor = new Map<string, number>();

  constructor(ctx: SimContext) {
    super(ctx, 'kubelet', 8);
    this.timeline = new Timeline((key) => this.enqueue(key));
    ctx.informers.pods.addHandlers({
      onAdd: (pod) => {
        this.trackIp(undefined, pod as Pod);
        if ((pod as Pod).spec?.nodeName) this.enqueue(keyOf(pod as Pod));
      },
      onUpdate: (old, pod) => {
        this.trackIp(old as Pod, pod as Pod);
        if ((pod as Pod).spec?.nodeName) this.enqueue(keyOf(pod as Pod));
      },
      onDelete: (pod) => {
        this.trackIp(pod as Pod, undefined);
        this.due.delete(pod.metadata.uid as string);
      },
    });
    ctx.informers.nodes.addHandlers({
      onUpdate: (old, node) => {
        if (old !== node && isNodeReady(old as Node) !== isNodeReady(node as Node)) this.enqueueNode(node.metadata.name as string);
      },
      onDelete: (node) => this.enqueueNode(node.metadata.name as string),
    });
  }

  override async stop(): Promise<void> {
    this.timeline.stop();
    await super.stop();
  }

  private enqueueNode(name: string): void {
    for (const pod of this.ctx.podsByNode.get<Pod>(name)) this.enqueue(keyOf(pod));
  }

  protected override async reconcile(key: string): Promise<ReconcileResult> {
    const pod = this.ctx.informers.pods.get(key) as Pod | undefined;
    const nodeName = pod?.spec?.nodeName;
    if (!pod || !nodeName) return;
    const path = pathOf('pods', pod.metadata.namespace, pod.metadata.name);
    const uid = pod.metadata.uid as string;
    if (pod.metadata.deletionTimestamp) {
      await this.ctx.client.delete(path, { gracePeriodSeconds: 0, preconditions: { uid }, signal: this.ctx.signal }).catch((err: unknown) => {
        if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
      });
      return;
    }
    const node = this.ctx.informers.nodes.get(nodeName) as Node | undefined;
    if (!node) return this.collectOrphan(pod, path, nodeName);
    if (isTerminal(pod)) {
      this.due.delete(uid);
      return;
    }
    const status = pod.status ?? {};
    if (!isNodeReady(node)) {
      // The kubelet is gone: nothing starts; the node lifecycle controller marks pods not ready.
      const ready = findCondition(status.conditions, 'Ready');
      if (ready?.status === 'True') {
        const conditions = (status.conditions ?? []).map((c) => (c.type === 'Ready' ? { ...c, status: 'False' as const, lastTransitionTime: now() } : c));
        await this.write(pod, path, { ...status, conditions });
      }
      return;
    }

    const delay = this.ctx.podStartDelayMs;
    const time = Date.now();
    if (!status.startTime) {
      if (delay <= 0) {
        await this.write(pod, path, this.running(pod, node, status));
        return this.afterRunning(pod, key, time);
      }
      await this.write(pod, path, this.pending(pod, node));
      this.due.set(uid, time + delay);
      this.timeline.schedule(key, time + delay);
      return;
    }
    if (status.phase === 'Pending') {
      const dueAt = this.due.get(uid) ?? Date.parse(status.startTime) + delay;
      if (time < dueAt) {
        this.timeline.schedule(key, dueAt);
        return;
      }
      await this.write(pod, path, this.running(pod, node, status));
      return this.afterRunning(pod, key, time);
    }
    if (status.phase === 'Running') {
      if (!isJobPod(pod)) {
        this.due.delete(uid);
        // Back on a Ready node (or edited by someone): the kubelet posts the ready status again.
        if (findCondition(status.conditions, 'Ready')?.status !== 'True') await this.write(pod, path, this.running(pod, node, status));
        return;
      }
      const startedAt = Date.parse(String((status.containerStatuses?.[0]?.state['running'] as { startedAt?: string } | undefined)?.startedAt ?? status.startTime));
      const dueAt = this.due.get(uid) ?? startedAt + delay;
      if (time < dueAt) {
        this.timeline.schedule(key, dueAt);
        return;
      }
      await this.write(pod, path, this.succeeded(pod, status));
      this.due.delete(uid);
    }
  }

  private afterRunning(pod: Pod, key: string, time: number): void {
    const uid = pod.metadata.uid as string;
    if (!isJobPod(pod)) {
      this.due.delete(uid);
      return;
    }
    const at = time + Math.max(0, this.ctx.podStartDelayMs);
    this.due.set(uid, at);
    this.timeline.schedule(key, at);
  }

  private async write(pod: Pod, path: string, status: PodStatus): Promise<void> {
    try {
      await writeStatus(this.ctx.client, path, pod, status as Record<string, unknown>, this.ctx.signal);
    } catch (err) {
      if (!isApiError(err, 404)) throw err; // deleted meanwhile: nothing left to run
    }
  }

  /** A pod bound to a node that is gone: deleted once the API confirms the node is gone. */
  private async collectOrphan(pod: Pod, path: string, nodeName: string): Promise<ReconcileResult> {
    if (!this.ctx.informers.nodes.hasSynced()) return { requeueAfterMs: 1000 };
    try {
      await this.ctx.client.get(pathOf('nodes', undefined, nodeName), { metadataOnly: true, signal: this.ctx.signal });
      return { requeueAfterMs: 1000 }; // the cache lags: look again shortly
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
    }
    await this.ctx.client.delete(path, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid as string }, signal: this.ctx.signal }).catch((err: unknown) => {
      if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
    });
    this.logger.debug({ pod: keyOf(pod), node: nodeName }, 'deleted pod of a node that is gone');
  }

  // ---- statuses ----

  private pending(pod: Pod, node: Node): PodStatus {
    const time = now();
    const spec = pod.spec ?? {};
    const containers = spec.containers ?? [];
    const inits = spec.initContainers ?? [];
    const unready = `containers with unready status: [${containers.map((c) => c.name).join(' ')}]`;
    const initialized: Condition = inits.length > 0
      ? { type: 'Initialized', status: 'False', reason: 'ContainersNotInitialized', message: `containers with incomplete status: [${inits.map((c) => c.name).join(' ')}]` }
      : { type: 'Initialized', status: 'True' };
    const hostIP = hostIpOf(node);
    return {
      phase: 'Pending',
      conditions: conditions(pod.status?.conditions, time, [
        { type: 'PodReadyToStartContainers', status: 'False' },
        initialized,
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady', message: unready },
        { type: 'ContainersReady', status: 'False', reason: 'ContainersNotReady', message: unready },
        { type: 'PodScheduled', status: 'True' },
      ]),
      hostIP,
      hostIPs: [{ ip: hostIP }],
      startTime: time,
      qosClass: qosClass(pod),
      ...(inits.length > 0 ? { initContainerStatuses: inits.map((c) => waiting(c, 'PodInitializing')) } : {}),
      containerStatuses: containers.map((c) => waiting(c, inits.length > 0 ? 'PodInitializing' : 'ContainerCreating')),
    };
  }

  private running(pod: Pod, node: Node, previous: PodStatus): PodStatus {
    const time = now();
    const spec = pod.spec ?? {};
    const uid = pod.metadata.uid as string;
    const hostIP = hostIpOf(node);
    const podIP = spec.hostNetwork ? hostIP : this.allocateIp(node, uid);
    const startedAt = (name: string, list: ContainerStatus[] | undefined): string => {
      const running = list?.find((s) => s.name === name)?.state['running'] as { startedAt?: string } | undefined;
      return running?.startedAt ?? time;
    };
    const inits = spec.initContainers ?? [];
    return {
      phase: 'Running',
      conditions: conditions(previous.conditions, time, [
        { type: 'PodReadyToStartContainers', status: 'True' },
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: 'True' },
        { type: 'ContainersReady', status: 'True' },
        { type: 'PodScheduled', status: 'True' },
      ]),
      hostIP,
      hostIPs: [{ ip: hostIP }],
      ...(podIP ? { podIP, podIPs: [{ ip: podIP }] } : {}),
      startTime: previous.startTime ?? time,
      qosClass: qosClass(pod),
      ...(inits.length > 0
        ? {
            initContainerStatuses: inits.map((c) =>
              c.restartPolicy === 'Always'
                ? runningStatus(c, uid, startedAt(c.name, previous.initContainerStatuses))
                : terminated(c, uid, previous.startTime ?? time, time),
            ),
          }
        : {}),
      containerStatuses: (spec.containers ?? []).map((c) => runningStatus(c, uid, startedAt(c.name, previous.containerStatuses))),
    };
  }

  private succeeded(pod: Pod, previous: PodStatus): PodStatus {
    const time = now();
    const uid = pod.metadata.uid as string;
    const started = (name: string): string => ((previous.containerStatuses?.find((s) => s.name === name)?.state['running'] as { startedAt?: string } | undefined)?.startedAt ?? previous.startTime ?? time);
    return {
      ...previous,
      phase: 'Succeeded',
      conditions: conditions(previous.conditions, time, [
        { type: 'PodReadyToStartContainers', status: 'False' },
        { type: 'Initialized', status: 'True', reason: 'PodCompleted' },
        { type: 'Ready', status: 'False', reason: 'PodCompleted' },
        { type: 'ContainersReady', status: 'False', reason: 'PodCompleted' },
        { type: 'PodScheduled', status: 'True' },
      ]),
      containerStatuses: (pod.spec?.containers ?? []).map((c) => terminated(c, uid, started(c.name), time)),
    };
  }

  // ---- pod IPs ----

  private trackIp(old: Pod | undefined, pod: Pod | undefined): void {
    const before = old?.spec?.nodeName && old.status?.podIP && !old.spec.hostNetwork ? { node: old.spec.nodeName, ip: old.status.podIP } : undefined;
    const after = pod?.spec?.nodeName && pod.status?.podIP && !pod.spec.hostNetwork ? { node: pod.spec.nodeName, ip: pod.status.podIP } : undefined;
    const uid = (pod ?? old)?.metadata.uid as string;
    if (before && (!after || before.node !== after.node || before.ip !== after.ip)) this.releaseIp(before.node, before.ip, uid);
    if (!pod) {
      const reserved = this.ipOfPod.get(uid);
      if (reserved) this.releaseIp(reserved.node, reserved.ip, uid);
      this.ipOfPod.delete(uid);
    }
    if (after) {
      let ips = this.ipsByNode.get(after.node);
      if (!ips) this.ipsByNode.set(after.node, (ips = new Map()));
      ips.set(after.ip, uid);
      this.ipOfPod.delete(uid); // the pod carries its IP now; no separate reservation needed
    }
  }

  private releaseIp(node: string, ip: string, uid: string): void {
    const ips = this.ipsByNode.get(node);
    if (ips?.get(ip) !== uid) return;
    ips.delete(ip);
    if (ips.size === 0) this.ipsByNode.delete(node);
  }

  /** The pod's IP: the one it already has or reserved, else the next free address of the node's pod CIDR. */
  private allocateIp(node: Node, uid: string): string | undefined {
    const name = node.metadata.name as string;
    const reserved = this.ipOfPod.get(uid);
    if (reserved?.node === name) return reserved.ip;
    for (const [ip, owner] of this.ipsByNode.get(name) ?? []) if (owner === uid) return ip;
    const cidr = node.spec?.podCIDR ?? podCidr(1000 + (hashNumber(name) % 10_000), 110);
    const range = parseCidr(cidr);
    if (!range) return undefined;
    let ips = this.ipsByNode.get(name);
    if (!ips) this.ipsByNode.set(name, (ips = new Map()));
    // Host-local IPAM style: hand out addresses in turn from after the last one, skipping network, gateway, broadcast.
    const usable = range.size - 3;
    if (usable <= 0) return undefined;
    let offset = this.cursor.get(name) ?? 0;
    for (let tries = 0; tries < usable; tries++) {
      const candidate = intToIp(range.base + 2 + (offset % usable));
      offset = (offset + 1) % usable;
      if (ips.has(candidate)) continue;
      this.cursor.set(name, offset);
      ips.set(candidate, uid);
      this.ipOfPod.set(uid, { node: name, ip: candidate });
      return candidate;
    }
    return undefined;
  }
}

function keyOf(pod: Pod): string {
  return `${pod.metadata.namespace ?? ''}/${pod.metadata.name ?? ''}`;
}

function isJobPod(pod: Pod): boolean {
  const ref = controllerRef(pod);
  return ref?.kind === 'Job' && ref.apiVersion.startsWith('batch/');
}

function hostIpOf(node: Node): string {
  return node.status?.addresses?.find((a) => a.type === 'InternalIP')?.address ?? '10.0.0.1';
}

/** Conditions in the kubelet's order, each keeping its lastTransitionTime while its status stays. */
function conditions(previous: readonly Condition[] | undefined, time: string, wanted: readonly Condition[]): Condition[] {
  return wanted.map((c) => {
    const old = previous?.find((p) => p.type === c.type);
    return {
      type: c.type,
      status: c.status,
      lastProbeTime: null,
      lastTransitionTime: old && old.status === c.status && old.lastTransitionTime ? old.lastTransitionTime : time,
      ...(c.reason ? { reason: c.reason } : {}),
      ...(c.message ? { message: c.message } : {}),
    };
  });
}

function waiting(container: Container, reason: string): ContainerStatus {
  return { name: container.name, ready: false, started: false, restartCount: 0, image: container.image ?? '', imageID: '', state: { waiting: { reason } }, lastState: {} };
}

function runningStatus(container: Container, uid: string, startedAt: string): ContainerStatus {
  return {
    name: container.name,
    ready: true,
    started: true,
    restartCount: 0,
    image: normalizeImage(container.image ?? ''),
    imageID: imageId(container.image ?? ''),
    containerID: containerId(uid, container.name),
    state: { running: { startedAt } },
    lastState: {},
  };
}

function terminated(container: Container, uid: string, startedAt: string, finishedAt: string): ContainerStatus {
  const id = containerId(uid, container.name);
  return {
    name: container.name,
    ready: false,
    started: false,
    restartCount: 0,
    image: normalizeImage(container.image ?? ''),
    imageID: imageId(container.image ?? ''),
    containerID: id,
    state: { terminated: { containerID: id, exitCode: 0, finishedAt, reason: 'Completed', startedAt } },
    lastState: {},
  };
}

/** docker.io/library/nginx:latest for "nginx", as containerd reports images. */
export function normalizeImage(image: string): string {
  if (!image) return image;
  const [name = '', digest] = image.split('@');
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  const hasDomain = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let repo = hasDomain ? name : `docker.io/${slash >= 0 ? name : `library/${name}`}`;
  if (digest) return `${repo}@${digest}`;
  const last = repo.slice(repo.lastIndexOf('/') + 1);
  if (!last.includes(':')) repo += ':latest';
  return repo;
}

function imageId(image: string): string {
  const normalized = normalizeImage(image);
  if (normalized.includes('@')) return normalized;
  const repo = normalized.slice(0, normalized.lastIndexOf(':'));
  return `${repo}@sha256:${sha256(normalized)}`;
}

function containerId(uid: string, name: string): string {
  return `containerd://${sha256(`${uid}/${name}`)}`;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

function hashNumber(text: string): number {
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) >>> 0;
  return h;
}

function parseCidr(cidr: string): { base: number; size: number } | undefined {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  if (!match) return undefined;
  const [, a, b, c, d, bits] = match.map(Number) as [number, number, number, number, number, number];
  const prefix = bits;
  if (prefix < 8 || prefix > 30) return undefined;
  const base = (((a << 24) >>> 0) + (b << 16) + (c << 8) + d) >>> 0;
  return { base, size: 2 ** (32 - prefix) };
}

function intToIp(n: number): string {
  return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}
