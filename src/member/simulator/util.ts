import { jsonEqual } from '../../api/merge-patch.js';
import { isPlainObject, timestamp } from '../../api/object.js';
import type { KubeObject } from '../../api/object.js';
import { labelSelectorFromObject } from '../../api/label-selector.js';
import type { LabelSelector, LabelSelectorObject } from '../../api/label-selector.js';
import type { ApiClient } from '../../client/client.js';
import { isApiError } from '../../client/client.js';
import type { Condition, IntOrString } from './types.js';

/** Small helpers shared by the simulator's controllers. */

/**
 * An int-or-percent against a total (intstr.GetScaledValueFromIntOrPercent): "25%" of 10 is 3
 * rounded up, 2 rounded down; an int is itself.
 */
export function scaledValue(value: IntOrString | undefined, total: number, roundUp: boolean, fallback: IntOrString = 0): number {
  const v = value ?? fallback;
  if (typeof v === 'number') return v;
  const match = /^(\d+)%$/.exec(v.trim());
  if (!match) {
    const n = Number(v);
    return Number.isFinite(n) ? n : 0;
  }
  const scaled = (Number(match[1]) * total) / 100;
  return roundUp ? Math.ceil(scaled) : Math.floor(scaled);
}

/** A selector from a workload's spec.selector; undefined when it is invalid or absent. */
export function selectorOf(selector: LabelSelectorObject | undefined): LabelSelector | undefined {
  if (!selector) return undefined;
  try {
    return labelSelectorFromObject(selector);
  } catch {
    return undefined;
  }
}

/**
 * Sets a condition the way kube's Set*Condition helpers do: an existing condition with the same
 * status and reason is left alone (returns false); with the same status its lastTransitionTime is
 * kept; otherwise the old condition is removed and the new one appended.
 */
export function setCondition(conditions: Condition[], condition: Condition): boolean {
  const i = conditions.findIndex((c) => c.type === condition.type);
  const current = i >= 0 ? conditions[i] : undefined;
  if (current && current.status === condition.status && current.reason === condition.reason) return false;
  if (current && current.status === condition.status && current.lastTransitionTime) condition.lastTransitionTime = current.lastTransitionTime;
  if (i >= 0) conditions.splice(i, 1);
  conditions.push(condition);
  return true;
}

export function removeCondition(conditions: Condition[], type: string): boolean {
  const i = conditions.findIndex((c) => c.type === type);
  if (i < 0) return false;
  conditions.splice(i, 1);
  return true;
}

export function now(): string {
  return timestamp();
}

/** Drops the members whose value is 0, undefined or an empty list (Go's `omitempty` on status fields). */
export function omitEmpty<T extends Record<string, unknown>>(status: T, keep: readonly string[] = []): T {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(status)) {
    if (keep.includes(key)) {
      if (value !== undefined) out[key] = value;
      continue;
    }
    if (value === undefined || value === 0 || value === '' || (Array.isArray(value) && value.length === 0)) continue;
    out[key] = value;
  }
  return out as T;
}

/**
 * The objects each client's status writes returned, by path, until its informers catch up: a
 * controller that reconciles again before the watch brings back its own write (a pod turned ready
 * right after the ReplicaSet's status went out) builds on what it wrote, not on the stale cached
 * copy — which would only earn a 409 and a retry.
 */
const writtenByClient = new WeakMap<ApiClient, Map<string, KubeObject>>();
const MAX_REMEMBERED_WRITES = 10_000;

function resourceVersionOf(object: KubeObject): number {
  const rv = Number(object.metadata.resourceVersion);
  return Number.isFinite(rv) ? rv : 0;
}

/** The newer of the cached object and the one this client last wrote at `path`. */
function newestKnown(client: ApiClient, path: string, cached: KubeObject): KubeObject {
  const written = writtenByClient.get(client)?.get(path);
  if (!written) return cached;
  if (written.metadata.uid === cached.metadata.uid && resourceVersionOf(written) > resourceVersionOf(cached)) return written;
  writtenByClient.get(client)?.delete(path); // the cache has caught up (or the object was replaced)
  return cached;
}

function remember(client: ApiClient, path: string, written: KubeObject): void {
  let byPath = writtenByClient.get(client);
  if (!byPath) writtenByClient.set(client, (byPath = new Map()));
  if (byPath.size >= MAX_REMEMBERED_WRITES) byPath.clear();
  byPath.set(path, written);
}

/**
 * Writes `status` through the /status subresource when it differs from the object's current status:
 * a PUT of the object with the new status, so the object's resourceVersion is the precondition (a
 * stale view fails with 409 and is retried against the newer object) and the status is stored
 * exactly as given (null members included, as kube's serialization has them). The object is the
 * cached one, or this client's own last write of it when the cache has not seen that yet. Returns
 * the written object, or undefined when there was nothing to write.
 */
export async function writeStatus(client: ApiClient, path: string, object: KubeObject, status: Record<string, unknown>, signal?: AbortSignal, annotations?: Readonly<Record<string, string>>): Promise<KubeObject | undefined> {
  const base = newestKnown(client, path, object);
  const current = isPlainObject(base['status']) ? base['status'] : {};
  // Annotations to set with the status: only kinds whose /status takes metadata (Deployment) keep them.
  const annotate = annotations !== undefined && Object.entries(annotations).some(([k, v]) => base.metadata.annotations?.[k] !== v);
  if (!annotate && jsonEqual(current, status)) return undefined;
  const metadata = annotate ? { ...base.metadata, annotations: { ...base.metadata.annotations, ...annotations } } : base.metadata;
  const written = await client.update(`${path}/status`, { ...base, metadata, status }, signal ? { signal } : {});
  remember(client, path, written);
  return written;
}

/** Runs `fn` over items with at most `limit` at a time; collects the first error and rethrows it at the end. */
export async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
  if (failure !== undefined) throw failure;
}

/** Ignores "already gone" (404) — for deletes of objects that may have left on their own. */
export function ignoreNotFound(err: unknown): void {
  if (!isApiError(err, 404)) throw err;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** "namespace/name" → [namespace, name]. */
export function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return i < 0 ? ['', key] : [key.slice(0, i), key.slice(i + 1)];
}
