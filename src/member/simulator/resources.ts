import type { Container, Pod, PodSpec } from './types.js';

/**
 * Resource quantities and sums, as the scheduler and the nodes need them. A resource list is a
 * Map from resource name to an integer amount in the resource's canonical unit: `cpu` in
 * millicores, everything else (memory, ephemeral-storage, pods, extended resources) in whole units
 * (bytes for memory), each rounded up as kube's Quantity.Value()/MilliValue() do.
 */
export type ResourceList = Map<string, number>;

const BINARY: Record<string, number> = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, Pi: 2 ** 50, Ei: 2 ** 60 };
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };
const QUANTITY = /^([+-]?)(\d+\.?\d*|\.\d+)(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?$/;

/** A Kubernetes quantity ("100m", "1.5", "16Gi", "1e3") as a number of base units; undefined if malformed. */
export function parseQuantity(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value !== 'string') return undefined;
  const match = QUANTITY.exec(value.trim());
  if (!match) return undefined;
  const [, sign = '', digits = '0', suffix = ''] = match;
  let amount = Number(digits);
  const binary = BINARY[suffix];
  if (binary !== undefined) amount *= binary;
  else if (suffix in DECIMAL) amount *= 10 ** (DECIMAL[suffix] ?? 0);
  else amount *= 10 ** Number(suffix.slice(1));
  return sign === '-' ? -amount : amount;
}

/** A quantity in the canonical unit of `resource` (millicores for cpu), rounded up. */
export function canonicalAmount(resource: string, value: unknown): number {
  const amount = parseQuantity(value);
  if (amount === undefined) return 0;
  // Rounding guards against 0.1 * 1000 = 100.00000000000001 turning into 101.
  const scaled = resource === 'cpu' ? amount * 1000 : amount;
  return Math.ceil(Number(scaled.toPrecision(12)));
}

/** A resource map from an object of quantities (node allocatable, container requests). */
export function resourceList(values: Record<string, unknown> | undefined): ResourceList {
  const list: ResourceList = new Map();
  for (const [name, value] of Object.entries(values ?? {})) list.set(name, canonicalAmount(name, value));
  return list;
}

export function addInto(target: ResourceList, other: ResourceList, sign = 1): void {
  for (const [name, amount] of other) target.set(name, (target.get(name) ?? 0) + sign * amount);
}

function maxInto(target: ResourceList, other: ResourceList): void {
  for (const [name, amount] of other) target.set(name, Math.max(target.get(name) ?? 0, amount));
}

/** A container's requests; a resource with a limit but no request requests its limit (kube's defaulting). */
export function containerRequests(container: Container): ResourceList {
  const requests = resourceList(container.resources?.requests);
  const limits = resourceList(container.resources?.limits);
  for (const [name, amount] of limits) if (!requests.has(name)) requests.set(name, amount);
  return requests;
}

const requestsCache = new WeakMap<object, ResourceList>();

/**
 * What a pod asks of a node, as kube's resource.PodRequests computes it: the sum over containers,
 * restartable (sidecar) init containers added to it, at least the largest init container (plus the
 * sidecars started before it), plus pod overhead. Cached per object: informers hand out a new
 * object on every change, so the cache never goes stale and is collected with the object.
 */
export function podRequests(pod: Pod): ResourceList {
  const cached = requestsCache.get(pod);
  if (cached) return cached;
  const spec: PodSpec = pod.spec ?? {};
  const total: ResourceList = new Map();
  for (const container of spec.containers ?? []) addInto(total, containerRequests(container));
  const sidecars: ResourceList = new Map();
  const init: ResourceList = new Map();
  for (const container of spec.initContainers ?? []) {
    const requests = containerRequests(container);
    if (container.restartPolicy === 'Always') {
      addInto(total, requests);
      addInto(sidecars, requests);
      maxInto(init, sidecars);
    } else {
      const withSidecars = new Map(requests);
      addInto(withSidecars, sidecars);
      maxInto(init, withSidecars);
    }
  }
  maxInto(total, init);
  addInto(total, resourceList(spec.overhead));
  requestsCache.set(pod, total);
  return total;
}

/** kube-scheduler's defaults for scoring pods that request nothing (DefaultMilliCPURequest / DefaultMemoryRequest). */
const DEFAULT_MILLI_CPU = 100;
const DEFAULT_MEMORY = 200 * 1024 * 1024;

const nonZeroCache = new WeakMap<object, { cpu: number; memory: number }>();

/** cpu and memory requests with kube-scheduler's non-zero defaults per container, used for scoring only (cached per object). */
export function nonZeroRequests(pod: Pod): { readonly cpu: number; readonly memory: number } {
  const cached = nonZeroCache.get(pod);
  if (cached) return cached;
  let cpu = 0;
  let memory = 0;
  for (const container of pod.spec?.containers ?? []) {
    const requests = containerRequests(container);
    cpu += requests.has('cpu') ? (requests.get('cpu') ?? 0) : DEFAULT_MILLI_CPU;
    memory += requests.has('memory') ? (requests.get('memory') ?? 0) : DEFAULT_MEMORY;
  }
  const result = { cpu, memory };
  nonZeroCache.set(pod, result);
  return result;
}

/** The QoS class of a pod (kube's GetPodQOS, without pod-level resources). */
export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const containers = [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])];
  let anySet = false;
  let guaranteed = true;
  for (const container of containers) {
    const requests = resourceList(container.resources?.requests);
    const limits = resourceList(container.resources?.limits);
    for (const [name, amount] of [...requests, ...limits]) if ((name === 'cpu' || name === 'memory') && amount > 0) anySet = true;
    for (const name of ['cpu', 'memory']) {
      const limit = limits.get(name);
      if (limit === undefined || limit === 0) guaranteed = false;
      const request = requests.get(name);
      if (request !== undefined && limit !== undefined && request !== limit) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed && containers.length > 0 ? 'Guaranteed' : 'Burstable';
}
