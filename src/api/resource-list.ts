import { isPlainObject } from './object.js';
import type { KubeObject } from './object.js';
import { parseQuantity } from '../karmada/admission/cluster.js';

/**
 * Resource amounts as kube and Karmada add them up: quantities ("100m", "1Gi", "2") summed per
 * resource name in exact integer units (milli-cores for cpu, whole units rounded up otherwise), and
 * written back in kube's canonical forms. Used for cluster resource summaries and for the
 * per-replica requirements of resource templates.
 */
const DECIMAL_SUFFIXES: Readonly<Record<number, string>> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };
const BINARY_SUFFIXES = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];

/** kube's canonical DecimalSI form of milli-units: 12000 → "12", 2500 → "2500m", 1500000 → "1500". */
export function formatDecimalMilli(milli: bigint): string {
  if (milli === 0n) return '0';
  const negative = milli < 0n;
  let amount = negative ? -milli : milli;
  let exponent = -3;
  while (amount % 10n === 0n) {
    amount /= 10n;
    exponent++;
  }
  const rest = ((exponent % 3) + 3) % 3;
  if (rest !== 0) {
    amount *= 10n ** BigInt(rest);
    exponent -= rest;
  }
  const suffix = DECIMAL_SUFFIXES[exponent];
  const text = suffix !== undefined ? `${amount}${suffix}` : `${amount}e${exponent}`;
  return negative ? `-${text}` : text;
}

/** kube's canonical BinarySI form of an integer: 8589934592 → "8Gi", 1536 → "1536", 1000 → "1k". */
export function formatBinary(units: bigint): string {
  const magnitude = units < 0n ? -units : units;
  // Below 1024 kube writes the DecimalSI form (1000 → "1k").
  if (magnitude < 1024n) return formatDecimalMilli(units * 1000n);
  let amount = magnitude;
  let power = 0;
  while (amount % 1024n === 0n && power < BINARY_SUFFIXES.length - 1) {
    amount /= 1024n;
    power++;
  }
  return `${units < 0n ? '-' : ''}${amount}${BINARY_SUFFIXES[power] ?? ''}`;
}

/** Binary-formatted resources (bytes); everything else is DecimalSI. */
const isBinaryResource = (name: string): boolean => name === 'memory' || name === 'ephemeral-storage' || name.startsWith('hugepages-');

/** Resources counted by pod requests besides cpu, memory, ephemeral-storage (Karmada's scalar resources). */
const isScalarResource = (name: string): boolean => !name.startsWith('requests.') && (name.includes('/') || name.startsWith('hugepages-') || name.startsWith('attachable-volumes-'));

/** A resource amount in the unit it is summed in: milli-cores for cpu, whole units (rounded up) otherwise. */
function amountOf(name: string, value: unknown): bigint | undefined {
  const q = parseQuantity(value);
  if (!q || q.den === 0n) return undefined;
  const scaled = name === 'cpu' ? q.num * 1000n : q.num;
  const quotient = scaled / q.den;
  return scaled % q.den !== 0n && scaled > 0n ? quotient + 1n : quotient;
}

/** A sum of resource amounts by resource name (Karmada's util.Resource, reduced). */
export class ResourceSum {
  private readonly amounts = new Map<string, bigint>();

  add(name: string, amount: bigint): void {
    this.amounts.set(name, (this.amounts.get(name) ?? 0n) + amount);
  }

  addList(list: unknown, filter: (name: string) => boolean = () => true): void {
    if (!isPlainObject(list)) return;
    for (const [name, value] of Object.entries(list)) {
      if (!filter(name)) continue;
      const amount = amountOf(name, value);
      if (amount !== undefined) this.add(name, amount);
    }
  }

  /** Raises each resource to at least the list's amount (init containers). */
  maxList(list: unknown, filter: (name: string) => boolean): void {
    if (!isPlainObject(list)) return;
    for (const [name, value] of Object.entries(list)) {
      if (!filter(name)) continue;
      const amount = amountOf(name, value);
      if (amount !== undefined && amount > (this.amounts.get(name) ?? 0n)) this.amounts.set(name, amount);
    }
  }

  merge(other: ResourceSum): void {
    for (const [name, amount] of other.amounts) this.add(name, amount);
  }

  /** A ResourceList in kube's canonical quantity forms, keys sorted; undefined when empty (omitempty). */
  toList(options: { dropZero: boolean }): Record<string, string> | undefined {
    const entries = [...this.amounts].filter(([, amount]) => !options.dropZero || amount > 0n).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    if (entries.length === 0) return undefined;
    return Object.fromEntries(entries.map(([name, amount]) => [name, name === 'cpu' ? formatDecimalMilli(amount) : isBinaryResource(name) ? formatBinary(amount) : formatDecimalMilli(amount * 1000n)]));
  }
}

const isRequestResource = (name: string): boolean => name === 'cpu' || name === 'memory' || name === 'ephemeral-storage' || isScalarResource(name);

/** A pod's effective request: max(sum of containers, each init container) plus overhead. */
export function podRequest(pod: KubeObject): ResourceSum {
  return podSpecRequest(isPlainObject(pod['spec']) ? pod['spec'] : {}, { limitsAsRequests: false });
}

/**
 * A pod spec's effective request (max(sum of containers, each init container) plus overhead).
 * `limitsAsRequests`: a container resource with a limit but no request counts its limit, as the API
 * server's defaulting would make it (what Karmada does for the requirements of a pod template).
 */
export function podSpecRequest(spec: Record<string, unknown>, options: { limitsAsRequests: boolean }): ResourceSum {
  const sum = new ResourceSum();
  const requestsOf = (container: unknown): unknown => {
    if (!isPlainObject(container) || !isPlainObject(container['resources'])) return undefined;
    const { requests, limits } = container['resources'];
    if (!options.limitsAsRequests || !isPlainObject(limits)) return requests;
    return { ...limits, ...(isPlainObject(requests) ? requests : {}) };
  };
  for (const container of Array.isArray(spec['containers']) ? spec['containers'] : []) sum.addList(requestsOf(container), isRequestResource);
  for (const container of Array.isArray(spec['initContainers']) ? spec['initContainers'] : []) sum.maxList(requestsOf(container), isRequestResource);
  sum.addList(spec['overhead'], isRequestResource);
  return sum;
}
