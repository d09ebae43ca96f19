import { jsonEqual } from '../../api/merge-patch.js';
import { deepClone, isPlainObject } from '../../api/object.js';
import type { KubeObject } from '../../api/object.js';
import { isApiError } from '../../client/client.js';
import type { SimContext } from './controller.js';
import { pathOf } from './controller.js';
import { computeHash } from './hash.js';
import type { Condition, Node, Taint } from './types.js';
import { ignoreNotFound, mapLimit, now } from './util.js';

/**
 * The simulated nodes: `count` Node objects `<prefix><i>` registered (or adopted, when they exist
 * from a previous run) the way a kubelet registers its node — labels, capacity and allocatable,
 * conditions, addresses, nodeInfo, a pod CIDR — and kept that way. Readiness is what a stopped
 * kubelet would look like after the node lifecycle controller noticed: every condition Unknown
 * (NodeStatusUnknown, "Kubelet stopped posting node status.") and the node.kubernetes.io/unreachable
 * taints (NoSchedule and NoExecute), removed again when the node is Ready.
 */
export interface NodeOptions {
  readonly count: number;
  readonly cpu: string;
  readonly memory: string;
  readonly pods: number;
  readonly namePrefix?: string;
}

const KUBELET_VERSION = 'v1.31.0';
const EPHEMERAL_STORAGE = '100Gi';
const UNREACHABLE_TAINT = 'node.kubernetes.io/unreachable';
const NOT_READY_TAINT = 'node.kubernetes.io/not-ready';

const READY_CONDITIONS: readonly Omit<Condition, 'lastTransitionTime' | 'lastHeartbeatTime'>[] = [
  { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
  { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
  { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
  { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
];

/** Natural order of node names: node-2 before node-10. */
export function compareNodeNames(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

export class NodeManager {
  private readonly ctx: SimContext;
  private readonly options: NodeOptions;
  private readonly prefix: string;
  private readonly managed = new Set<string>();
  private ready = true;

  constructor(ctx: SimContext, options: NodeOptions) {
    this.ctx = ctx;
    this.options = options;
    this.prefix = options.namePrefix ?? 'node-';
    for (let i = 1; i <= options.count; i++) this.managed.add(`${this.prefix}${i}`);
  }

  get names(): string[] {
    return [...this.managed].sort(compareNodeNames);
  }

  /** Registers (or adopts) every node and brings it to the desired state. */
  async ensure(): Promise<void> {
    await mapLimit(this.names, 8, (name) => this.sync(name, true));
  }

  async setReady(ready: boolean): Promise<void> {
    this.ready = ready;
    await mapLimit(this.names, 8, (name) => this.sync(name, false));
  }

  /** Deletes the `count` highest-named nodes and the pods bound to them. */
  async remove(count: number): Promise<string[]> {
    const existing = this.ctx.informers.nodes.list().map((n) => n.metadata.name as string);
    const names = [...new Set([...existing, ...this.managed])].sort(compareNodeNames).reverse().slice(0, Math.max(0, count));
    for (const name of names) this.managed.delete(name);
    await mapLimit(names, 8, async (name) => {
      await this.ctx.client.delete(pathOf('nodes', undefined, name), { signal: this.ctx.signal }).catch(ignoreNotFound);
      // What the pod garbage collector does for pods of a node that is gone.
      const pods = await this.ctx.client.list(pathOf('pods', undefined), { fieldSelector: `spec.nodeName=${name}`, signal: this.ctx.signal });
      await mapLimit(pods.items, 16, async (pod) => {
        await this.ctx.client
          .delete(pathOf('pods', pod.metadata.namespace, pod.metadata.name), { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid as string }, signal: this.ctx.signal })
          .catch((err: unknown) => {
            if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
          });
      });
    });
    this.ctx.logger.info({ nodes: names }, 'nodes removed');
    return names;
  }

  /** Reads the live node (creating it if `create`), then writes spec/metadata and status where they differ. */
  async sync(name: string, create: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await this.syncOnce(name, create);
        return;
      } catch (err) {
        if (this.ctx.signal.aborted) return;
        if (!isApiError(err, 409) || attempt >= 5) throw err;
      }
    }
  }

  private async syncOnce(name: string, create: boolean): Promise<void> {
    const path = pathOf('nodes', undefined, name);
    const signal = this.ctx.signal;
    let node: Node;
    try {
      node = (await this.ctx.client.get(path, { signal })) as Node;
    } catch (err) {
      if (!isApiError(err, 404)) throw err;
      if (!create) {
        this.managed.delete(name);
        return;
      }
      node = (await this.ctx.client.create(pathOf('nodes', undefined), this.desiredObject(name, { metadata: { name } }), { signal })) as Node;
      this.ctx.logger.info({ node: name }, 'node registered');
    }
    if (!this.managed.has(name)) return;
    const desired = this.desiredObject(name, node);
    if (!jsonEqual(desired.metadata.labels, node.metadata.labels) || !jsonEqual(desired.metadata.annotations, node.metadata.annotations) || !jsonEqual(desired['spec'], node['spec'])) {
      node = (await this.ctx.client.update(path, { ...node, metadata: desired.metadata, spec: desired['spec'] }, { signal })) as Node;
    }
    const status = this.desiredStatus(name, node);
    if (!jsonEqual(status, node.status)) {
      await this.ctx.client.update(`${path}/status`, { ...node, status }, { signal });
    }
  }

  private index(name: string): number {
    const suffix = name.startsWith(this.prefix) ? Number(name.slice(this.prefix.length)) : NaN;
    if (Number.isInteger(suffix) && suffix >= 0) return suffix;
    // A name outside the numbering: a stable number past the usual range.
    let h = 0;
    for (let i = 0; i < name.length; i++) h = (h * 31 + name.charCodeAt(i)) % 10_000;
    return 1000 + h;
  }

  private desiredObject(name: string, current: KubeObject): Node {
    const metadata = deepClone(current.metadata);
    metadata.labels = {
      ...(metadata.labels ?? {}),
      'beta.kubernetes.io/arch': 'amd64',
      'beta.kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      'kubernetes.io/hostname': name,
      'kubernetes.io/os': 'linux',
    };
    metadata.annotations = {
      ...(metadata.annotations ?? {}),
      'node.alpha.kubernetes.io/ttl': '0',
      'volumes.kubernetes.io/controller-managed-attach-detach': 'true',
    };
    const spec = isPlainObject(current['spec']) ? deepClone(current['spec']) : {};
    const cidr = podCidr(this.index(name), this.options.pods);
    spec['podCIDR'] = cidr;
    spec['podCIDRs'] = [cidr];
    const existing = Array.isArray(spec['taints']) ? (spec['taints'] as Taint[]) : [];
    const others = existing.filter((t) => t.key !== UNREACHABLE_TAINT && t.key !== NOT_READY_TAINT);
    const lifecycle: Taint[] = this.ready
      ? []
      : [
          existing.find((t) => t.key === UNREACHABLE_TAINT && t.effect === 'NoSchedule') ?? { key: UNREACHABLE_TAINT, effect: 'NoSchedule', timeAdded: now() },
          existing.find((t) => t.key === UNREACHABLE_TAINT && t.effect === 'NoExecute') ?? { key: UNREACHABLE_TAINT, effect: 'NoExecute', timeAdded: now() },
        ];
    const taints = [...others, ...lifecycle];
    if (taints.length > 0) spec['taints'] = taints;
    else delete spec['taints'];
    return { apiVersion: 'v1', kind: 'Node', metadata, spec };
  }

  private desiredStatus(name: string, node: Node): Node['status'] {
    const quantities = { cpu: this.options.cpu, 'ephemeral-storage': EPHEMERAL_STORAGE, memory: this.options.memory, pods: String(this.options.pods) };
    const current = node.status?.conditions ?? [];
    const time = now();
    const conditions = READY_CONDITIONS.map((wanted): Condition => {
      const target: Condition = this.ready ? { ...wanted } : { type: wanted.type, status: 'Unknown', reason: 'NodeStatusUnknown', message: 'Kubelet stopped posting node status.' };
      const existing = current.find((c) => c.type === target.type);
      if (existing && existing.status === target.status && existing.reason === target.reason && existing.message === target.message) return existing;
      return {
        type: target.type,
        status: target.status,
        lastHeartbeatTime: this.ready ? time : (existing?.lastHeartbeatTime ?? time),
        lastTransitionTime: existing && existing.status === target.status ? (existing.lastTransitionTime ?? time) : time,
        ...(target.reason ? { reason: target.reason } : {}),
        ...(target.message ? { message: target.message } : {}),
      };
    });
    const id = computeHash(name);
    const machine = `${id}${id}${id}`.slice(0, 32);
    return {
      addresses: [
        { type: 'InternalIP', address: internalIp(this.index(name)) },
        { type: 'Hostname', address: name },
      ],
      allocatable: quantities,
      capacity: quantities,
      conditions,
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        architecture: 'amd64',
        bootID: uuidFrom(`${machine}boot`),
        containerRuntimeVersion: 'containerd://1.7.18',
        kernelVersion: '6.8.0-flotilla',
        kubeProxyVersion: KUBELET_VERSION,
        kubeletVersion: KUBELET_VERSION,
        machineID: machine,
        operatingSystem: 'linux',
        osImage: 'Flotilla simulated node',
        systemUUID: uuidFrom(machine),
      },
    };
  }
}

/** 10.0.x.y: node i (from 1) is 10.0.0.(i+1), continuing into the next /24s. */
function internalIp(i: number): string {
  const n = i + 1;
  return `10.0.${(n >> 8) & 255}.${n & 255}`;
}

/**
 * The node's pod CIDR: a /24 out of 10.244.0.0/16 for node i (as kind's kube-controller-manager
 * allocates them), or a larger power-of-two block when a node may run more than 254 pods.
 */
export function podCidr(i: number, pods: number): string {
  let bits = 8;
  while (2 ** bits < pods + 2) bits++;
  const size = 2 ** bits;
  const span = 12 * 65536; // 10.244.0.0 – 10.255.255.255
  const base = (((244 << 16) + ((i * size) % span)) >>> 0);
  return `10.${(base >> 16) & 255}.${(base >> 8) & 255}.${base & 255}/${32 - bits}`;
}

function uuidFrom(text: string): string {
  const hex = Array.from(text, (c) => c.charCodeAt(0).toString(16).padStart(2, '0')).join('').padEnd(32, '0').slice(0, 32);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
