import { parseQuantity } from '../karmada/admission/cluster.js';
import type { BindingSpec, ClusterObject, ReplicaRequirements, ResourceList, ResourceSummary } from './types.js';

/**
 * Karmada's general replica estimator: how many more replicas of a workload a cluster can take,
 * judged only from the cluster's `status.resourceSummary` (and, when the cluster publishes
 * allocatable modelings, from its resource models). Quantities are handled exactly (as fractions)
 * and rounded the way kube's Quantity.Value()/MilliValue() round: up.
 */

export const MAX_INT32 = 2147483647;

/** Pods a virtual resource-model node holds (kube's default per-node pod limit). */
const PODS_PER_MODEL_NODE = 110n;

interface Exact {
  readonly num: bigint;
  readonly den: bigint;
}

const ZERO: Exact = { num: 0n, den: 1n };

/** Quantity strings repeat across clusters and decisions ("64", "256Gi"): each is parsed once. */
const parsedQuantities = new Map<string, Exact | undefined>();

function quantity(value: unknown): Exact | undefined {
  if (typeof value === 'string' && parsedQuantities.has(value)) return parsedQuantities.get(value);
  const parsed = parseQuantity(value);
  const q = parsed && parsed.den > 0n ? parsed : undefined;
  // Bounded: distinct quantity strings are few in practice; stop remembering past 10k.
  if (typeof value === 'string' && parsedQuantities.size < 10_000) parsedQuantities.set(value, q);
  return q;
}

const minus = (a: Exact, b: Exact): Exact => ({ num: a.num * b.den - b.num * a.den, den: a.den * b.den });

/** Rounds away from zero, as Quantity.ScaledValue does. */
function roundUp(num: bigint, den: bigint): bigint {
  const quotient = num / den;
  if (num % den === 0n) return quotient;
  return num > 0n ? quotient + 1n : quotient - 1n;
}

/** Quantity.Value(). */
const units = (q: Exact): bigint => roundUp(q.num, q.den);
/** Quantity.MilliValue(). */
const millis = (q: Exact): bigint => roundUp(q.num * 1000n, q.den);

function listValue(list: ResourceList | null | undefined, name: string): Exact | undefined {
  if (!list || !Object.hasOwn(list, name)) return undefined;
  return quantity(list[name]);
}

/** allocatable.pods − allocated.pods − allocating.pods, never below 0. */
function allowedPods(summary: ResourceSummary): bigint {
  const pods = (list: ResourceList | null | undefined): bigint => {
    const q = listValue(list, 'pods');
    return q ? units(q) : 0n;
  };
  const allowed = pods(summary.allocatable) - pods(summary.allocated) - pods(summary.allocating);
  return allowed > 0n ? allowed : 0n;
}

/** Replicas the free resources allow: min over requested resources of available / request. */
function replicasFromSummary(summary: ResourceSummary, request: ResourceList): bigint | undefined {
  let best: bigint | undefined;
  for (const [name, raw] of Object.entries(request)) {
    const requested = quantity(raw);
    if (!requested || units(requested) <= 0n) continue;
    const allocatable = listValue(summary.allocatable, name);
    if (!allocatable) return 0n;
    let available = allocatable;
    const allocated = listValue(summary.allocated, name);
    if (allocated) available = minus(available, allocated);
    const allocating = listValue(summary.allocating, name);
    if (allocating) available = minus(available, allocating);
    if (units(available) <= 0n) return 0n;
    const fits = name === 'cpu' ? millis(available) / millis(requested) : units(available) / units(requested);
    if (best === undefined || fits < best) best = fits;
  }
  return best;
}

/** Extended, hugepages, attachable-volume and prefixed native resources (kube's scalar resources). */
const isScalarResource = (name: string): boolean =>
  !name.startsWith('requests.') && (name.includes('/') || name.startsWith('hugepages-') || name.startsWith('attachable-volumes-'));

/** A resource amount as util.Resource keeps it: milli-cores for cpu, whole units otherwise. */
function resourceAmount(name: string, value: Exact): bigint {
  return name === 'cpu' ? millis(value) : units(value);
}

/**
 * The resource-model estimate: one virtual node per counted node of each grade (allocatableModelings),
 * sized by the grade's lower bounds plus 110 pods, filled first-fit. For a single pod template that
 * is the sum over nodes of how many replicas fit on each. Undefined when the cluster has no models.
 */
function replicasFromModels(cluster: ClusterObject, request: ResourceList): bigint | undefined {
  const models = cluster.spec?.resourceModels ?? [];
  const modelings = cluster.status?.resourceSummary?.allocatableModelings ?? [];
  if (models.length === 0 || modelings.length === 0) return undefined;
  const counts = new Map<number, number>();
  for (const modeling of modelings) {
    if (modeling.count < 0) return undefined;
    counts.set(modeling.grade, (counts.get(modeling.grade) ?? 0) + modeling.count);
  }
  const wanted: [string, bigint][] = [];
  for (const [name, raw] of Object.entries(request)) {
    const q = quantity(raw);
    if (!q) continue;
    if (name !== 'cpu' && name !== 'memory' && name !== 'ephemeral-storage' && !isScalarResource(name)) continue;
    const amount = resourceAmount(name, q);
    if (amount > 0n) wanted.push([name, amount]);
  }
  let total = 0n;
  for (const model of [...models].sort((a, b) => a.grade - b.grade)) {
    const count = counts.get(model.grade) ?? 0;
    if (count === 0) continue;
    const capacity = new Map<string, bigint>();
    for (const range of model.ranges) {
      const min = quantity(range.min) ?? ZERO;
      capacity.set(range.name, resourceAmount(range.name, min));
    }
    let perNode = PODS_PER_MODEL_NODE;
    for (const [name, amount] of wanted) {
      const fits = (capacity.get(name) ?? 0n) / amount;
      if (fits < perNode) perNode = fits;
    }
    total += perNode * BigInt(count);
  }
  return total;
}

/**
 * The general estimator for one cluster: 0 without a resourceSummary or free pods; the free pod
 * count when the binding has no replicaRequirements; otherwise the smaller of that and what the
 * resource models (preferred when published) or the summary's free resources allow.
 */
export function estimateCluster(cluster: ClusterObject, requirements: ReplicaRequirements | null | undefined): number {
  const summary = cluster.status?.resourceSummary;
  if (!summary) return 0;
  let maximum = allowedPods(summary);
  if (maximum <= 0n) return 0;
  if (!requirements) return toInt32(maximum);
  const request = requirements.resourceRequest ?? {};
  const fromModels = replicasFromModels(cluster, request);
  const bound = fromModels ?? replicasFromSummary(summary, request);
  if (bound !== undefined && bound < maximum) maximum = bound;
  return toInt32(maximum);
}

const toInt32 = (value: bigint): number => Number(value > BigInt(MAX_INT32) ? BigInt(MAX_INT32) : value);

/**
 * Available replicas per cluster as the scheduler's selection step computes them: non-workloads
 * (no replicas and no components) are unbounded (MaxInt32); workloads take the general estimator's
 * figure (an estimator answer of MaxInt32 means "unknown" and becomes spec.replicas).
 */
export function estimateAvailableReplicas(clusters: readonly ClusterObject[], spec: BindingSpec): Map<string, number> {
  const result = new Map<string, number>();
  const replicas = spec.replicas ?? 0;
  const unbounded = replicas === 0 && (spec.components ?? []).length === 0;
  for (const cluster of clusters) {
    if (unbounded) {
      result.set(cluster.metadata.name, MAX_INT32);
      continue;
    }
    const estimate = Math.min(MAX_INT32, estimateCluster(cluster, spec.replicaRequirements));
    result.set(cluster.metadata.name, estimate === MAX_INT32 ? replicas : estimate);
  }
  return result;
}
