import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { jsonEqual } from '../api/merge-patch.js';
import { isPlainObject, timestamp } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient, HttpClient } from '../client/client.js';
import { isApiError, resourcePath } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { WorkQueue } from '../client/work-queue.js';
import type { ReconcileResult } from '../client/work-queue.js';
import { MemberConnectionError, MemberConnections } from '../federation/member-connection.js';
import { podRequest, ResourceSum } from '../api/resource-list.js';
import { CLUSTER_CONTROLLER_FINALIZER, CLUSTERS, findCondition } from './cluster-controller.js';
import type { Condition } from './cluster-controller.js';

/**
 * Karmada's cluster status controller for Push clusters (karmada-api.md §4.6, §4.7). Every
 * `statusUpdateFrequencyMs` per Cluster (once the cluster controller's finalizer is on it):
 *  - GET /readyz on the member (/healthz when /readyz is 404), within `probeTimeoutMs`:
 *    no answer → Ready=False `ClusterNotReachable`; not 200 → Ready=False `ClusterNotReady`;
 *    200 → Ready=True `ClusterReady`; credentials that cannot be put together (no Secret, no CA…) →
 *    Ready=False `StatusCollectionFailed`;
 *  - a change of Ready is written only once the new observation has held for
 *    `failureThresholdMs` (towards not ready) or `successThresholdMs` (towards ready); the first
 *    observation of a cluster (after a start) is written at once;
 *  - while Ready=True it also collects kubernetesVersion (/version), apiEnablements (discovery of every
 *    group-version, subresources left out, sorted) with the `CompleteAPIEnablements` condition, and
 *    from node and pod informers on the member: nodeSummary and resourceSummary (allocatable of the
 *    nodes; requests of pods not yet bound = allocating; of bound, not terminated pods = allocated,
 *    each with a `pods` count);
 *  - the status is written (PUT …/status, optimistic concurrency) only when it changed; conditions
 *    keep their lastTransitionTime while their status stays the same.
 * Work is bounded: `concurrency` clusters are synced at a time, each re-queued after its sync.
 *
 * Not done: resourceSummary.allocatableModelings (Karmada's resource-model grades), Pull-mode leases,
 * spec.proxyURL.
 */
export interface ClusterStatusControllerOptions {
  readonly client: ApiClient;
  readonly logger: Logger;
  /** How often each cluster is probed; default 10 s. */
  readonly statusUpdateFrequencyMs?: number;
  /** How long "not ready" must hold before Ready turns False; default 30 s. */
  readonly failureThresholdMs?: number;
  /** How long "ready" must hold before Ready turns True again; default 30 s. */
  readonly successThresholdMs?: number;
  /** Deadline of a health probe; default 5 s. */
  readonly probeTimeoutMs?: number;
  /** How long a sync waits for a member's node and pod informers to list; default 10 s. */
  readonly cacheSyncTimeoutMs?: number;
  /** Clusters synced at once; default 8. */
  readonly concurrency?: number;
  /** Member clients (a private set by default). */
  readonly connections?: MemberConnections;
}

const READY = 'Ready';
export const COMPLETE_API_ENABLEMENTS = 'CompleteAPIEnablements';
export const CLUSTER_READY_REASON = 'ClusterReady';
export const CLUSTER_READY_MESSAGE = 'cluster is healthy and ready to accept workloads';
export const CLUSTER_NOT_READY_REASON = 'ClusterNotReady';
export const CLUSTER_NOT_READY_MESSAGE = 'cluster is reachable but health endpoint responded without ok';
export const CLUSTER_NOT_REACHABLE_REASON = 'ClusterNotReachable';
export const CLUSTER_NOT_REACHABLE_MESSAGE = 'cluster is not reachable';
export const STATUS_COLLECTION_FAILED_REASON = 'StatusCollectionFailed';

export interface NodeSummary {
  totalNum?: number;
  readyNum?: number;
}

export interface ResourceSummary {
  allocatable?: Record<string, string>;
  allocating?: Record<string, string>;
  allocated?: Record<string, string>;
}

function nodeReady(node: KubeObject): boolean {
  const status = node['status'];
  if (!isPlainObject(status) || !Array.isArray(status['conditions'])) return false;
  return (status['conditions'] as unknown[]).some((c) => isPlainObject(c) && c['type'] === 'Ready' && c['status'] === 'True');
}

/** nodeSummary as Karmada writes it (zero counts are omitted). */
export function summarizeNodes(nodes: readonly KubeObject[]): NodeSummary {
  const ready = nodes.filter(nodeReady).length;
  return { ...(nodes.length > 0 ? { totalNum: nodes.length } : {}), ...(ready > 0 ? { readyNum: ready } : {}) };
}

/** resourceSummary: the nodes' allocatable, and the requests of pending (allocating) and bound (allocated) pods. */
export function summarizeResources(nodes: readonly KubeObject[], pods: readonly KubeObject[]): ResourceSummary {
  const allocatable = new ResourceSum();
  for (const node of nodes) allocatable.addList(isPlainObject(node['status']) ? node['status']['allocatable'] : undefined);
  const allocating = new ResourceSum();
  const allocated = new ResourceSum();
  let pending = 0n;
  let bound = 0n;
  for (const pod of pods) {
    const spec = isPlainObject(pod['spec']) ? pod['spec'] : {};
    const phase = isPlainObject(pod['status']) ? pod['status']['phase'] : undefined;
    if (phase === 'Succeeded' || phase === 'Failed') continue; // the scheduler no longer counts them
    if (typeof spec['nodeName'] === 'string' && spec['nodeName'] !== '') {
      allocated.merge(podRequest(pod));
      bound++;
    } else {
      allocating.merge(podRequest(pod));
      pending++;
    }
  }
  allocating.add('pods', pending);
  allocated.add('pods', bound);
  const result: ResourceSummary = {};
  const allocatableList = allocatable.toList({ dropZero: false });
  const allocatingList = allocating.toList({ dropZero: true });
  const allocatedList = allocated.toList({ dropZero: true });
  if (allocatableList) result.allocatable = allocatableList;
  if (allocatingList) result.allocating = allocatingList;
  if (allocatedList) result.allocated = allocatedList;
  return result;
}

// ---- API enablements ----

export interface ApiEnablement {
  groupVersion: string;
  resources?: { name: string; kind: string }[];
}

/**
 * Every group-version the member serves with its resources (subresources left out), sorted by
 * groupVersion and resource name; `complete` is false when some group-version could not be read.
 */
export async function collectApiEnablements(client: HttpClient, signal?: AbortSignal): Promise<{ enablements: ApiEnablement[]; complete: boolean }> {
  const opts = signal ? { signal } : {};
  let core: KubeObject;
  let groups: KubeObject;
  try {
    [core, groups] = await Promise.all([client.get('/api', opts), client.get('/apis', opts)]);
  } catch (err) {
    if (signal?.aborted) throw err;
    return { enablements: [], complete: false };
  }
  const groupVersions: string[] = [];
  for (const v of Array.isArray(core['versions']) ? core['versions'] : []) if (typeof v === 'string') groupVersions.push(v);
  for (const group of Array.isArray(groups['groups']) ? groups['groups'] : []) {
    if (!isPlainObject(group) || !Array.isArray(group['versions'])) continue;
    for (const v of group['versions']) if (isPlainObject(v) && typeof v['groupVersion'] === 'string') groupVersions.push(v['groupVersion']);
  }
  let complete = true;
  const lists = await Promise.all(groupVersions.map(async (gv) => {
    try {
      return { gv, list: await client.get(gv.includes('/') ? `/apis/${gv}` : `/api/${gv}`, opts) };
    } catch (err) {
      if (signal?.aborted) throw err;
      complete = false;
      return undefined;
    }
  }));
  const enablements: ApiEnablement[] = [];
  for (const entry of lists) {
    if (!entry) continue;
    const resources = (Array.isArray(entry.list['resources']) ? entry.list['resources'] : [])
      .filter((r): r is Record<string, unknown> => isPlainObject(r) && typeof r['name'] === 'string' && !r['name'].includes('/'))
      .map((r) => ({ name: r['name'] as string, kind: typeof r['kind'] === 'string' ? r['kind'] : '' }))
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    enablements.push({ groupVersion: entry.gv, ...(resources.length > 0 ? { resources } : {}) });
  }
  enablements.sort((a, b) => (a.groupVersion < b.groupVersion ? -1 : a.groupVersion > b.groupVersion ? 1 : 0));
  return { enablements, complete };
}

// ---- helpers ----

function condition(type: string, status: 'True' | 'False', reason: string, message: string): Condition {
  return { type, status, reason, message, lastTransitionTime: timestamp() };
}

/** metav1's SetStatusCondition: lastTransitionTime changes only with the status. */
function setCondition(conditions: Condition[], next: Condition): void {
  const i = conditions.findIndex((c) => c.type === next.type);
  if (i < 0) {
    conditions.push({ ...next, lastTransitionTime: next.lastTransitionTime ?? timestamp() });
    return;
  }
  const existing = conditions[i] as Condition;
  const updated: Condition = { ...existing };
  if (existing.status !== next.status) {
    updated.status = next.status;
    updated.lastTransitionTime = next.lastTransitionTime ?? timestamp();
  }
  if (next.reason !== undefined) updated.reason = next.reason;
  if (next.message !== undefined) updated.message = next.message;
  if (next.observedGeneration !== undefined) updated.observedGeneration = next.observedGeneration;
  else delete updated.observedGeneration;
  conditions[i] = updated;
}


interface StatusChange {
  readonly conditions: readonly Condition[];
  /** Present: set (an empty value removes the field, as Go's omitempty would write it). */
  readonly kubernetesVersion?: string;
  readonly apiEnablements?: ApiEnablement[];
  readonly nodeSummary?: NodeSummary;
  readonly resourceSummary?: ResourceSummary;
}

function applyChange(current: unknown, change: StatusChange): Record<string, unknown> {
  const status: Record<string, unknown> = isPlainObject(current) ? structuredClone(current) : {};
  if ('kubernetesVersion' in change) {
    if (change.kubernetesVersion) status['kubernetesVersion'] = change.kubernetesVersion;
    else delete status['kubernetesVersion'];
  }
  if ('apiEnablements' in change) {
    if (change.apiEnablements && change.apiEnablements.length > 0) status['apiEnablements'] = change.apiEnablements;
    else delete status['apiEnablements'];
  }
  if (change.nodeSummary) status['nodeSummary'] = change.nodeSummary;
  if (change.resourceSummary) status['resourceSummary'] = change.resourceSummary;
  const conditions = (Array.isArray(status['conditions']) ? status['conditions'] : []).filter(isPlainObject) as unknown as Condition[];
  for (const c of change.conditions) setCondition(conditions, c);
  status['conditions'] = conditions;
  return status;
}

/** Node and pod informers on one member (built on one client; rebuilt with it). */
interface MemberCache {
  readonly client: HttpClient;
  readonly nodes: Informer;
  readonly pods: Informer;
}

// ---- the controller ----

export class ClusterStatusController {
  private readonly client: ApiClient;
  private readonly logger: Logger;
  private readonly options: ClusterStatusControllerOptions;
  private readonly queue = new WorkQueue<string>();
  private readonly abort = new AbortController();
  private readonly informer: Informer;
  private readonly connections: MemberConnections;
  private readonly ownsConnections: boolean;
  private readonly frequencyMs: number;
  private readonly failureThresholdMs: number;
  private readonly successThresholdMs: number;
  /** Last observed Ready status per cluster and since when (Karmada's cluster condition cache). */
  private readonly observed = new Map<string, { status: string; since: number }>();
  private readonly caches = new Map<string, MemberCache>();
  private workers: Promise<void> = Promise.resolve();

  constructor(options: ClusterStatusControllerOptions) {
    this.options = options;
    this.client = options.client;
    this.logger = options.logger;
    this.frequencyMs = options.statusUpdateFrequencyMs ?? 10_000;
    this.failureThresholdMs = options.failureThresholdMs ?? 30_000;
    this.successThresholdMs = options.successThresholdMs ?? 30_000;
    if (!(this.frequencyMs > 0)) throw new Error(`the cluster status update frequency must be positive (got ${this.frequencyMs} ms)`);
    this.ownsConnections = options.connections === undefined;
    this.connections = options.connections ?? new MemberConnections({ client: options.client });
    setMaxListeners(0, this.abort.signal);
    // A member's client rebuilt (new endpoint or credentials): its informers ran on the old one.
    this.connections.onRebuild((name, client) => {
      if (this.caches.get(name)?.client !== client) void this.dropCache(name);
    });
    this.informer = new Informer(this.client, resourcePath(CLUSTERS), { resyncPeriodMs: 0, signal: this.abort.signal, logger: this.logger });
    const key = (cluster: KubeObject): string | undefined => cluster.metadata.name;
    this.informer.addHandlers({
      onAdd: (cluster) => {
        const name = key(cluster);
        if (name) this.queue.add(name);
      },
      // Status writes (ours) do not re-trigger a sync; spec, finalizer and deletion changes do.
      onUpdate: (old, cluster) => {
        const name = key(cluster);
        if (!name) return;
        const changed = old.metadata.generation !== cluster.metadata.generation || old.metadata.uid !== cluster.metadata.uid
          || JSON.stringify(old.metadata.finalizers ?? []) !== JSON.stringify(cluster.metadata.finalizers ?? [])
          || old.metadata.deletionTimestamp !== cluster.metadata.deletionTimestamp;
        if (changed) this.queue.add(name);
      },
      onDelete: (cluster) => {
        const name = key(cluster);
        if (name) this.queue.add(name);
      },
    });
  }

  start(): void {
    this.informer.start();
    this.workers = this.queue.run(this.options.concurrency ?? 8, (name) => this.reconcile(name), (name, err) => {
      this.logger.warn({ cluster: name, err: err instanceof Error ? err.message : String(err) }, 'cluster status controller: sync failed; will retry');
    });
  }

  waitForSync(timeoutMs?: number): Promise<boolean> {
    return this.informer.waitForSync(timeoutMs);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    this.queue.shutDown();
    await this.informer.stop();
    await this.workers;
    await Promise.all([...this.caches.keys()].map((name) => this.dropCache(name)));
    if (this.ownsConnections) this.connections.close();
  }

  private get signal(): AbortSignal {
    return this.abort.signal;
  }

  private async reconcile(name: string): Promise<ReconcileResult> {
    const cluster = this.informer.getByName(undefined, name);
    if (!cluster) {
      // Gone: forget everything about it.
      this.observed.delete(name);
      await this.dropCache(name);
      this.connections.remove(name);
      return undefined;
    }
    const spec = isPlainObject(cluster['spec']) ? cluster['spec'] : {};
    if (spec['syncMode'] !== 'Push') return undefined; // Pull clusters report through their agent
    // Karmada waits for the cluster controller's finalizer so as not to race it (its informer
    // update re-queues the cluster).
    if (!(cluster.metadata.finalizers ?? []).includes(CLUSTER_CONTROLLER_FINALIZER)) return { requeueAfterMs: Math.min(1_000, this.frequencyMs) };
    await this.syncClusterStatus(cluster);
    return { requeueAfterMs: this.frequencyMs };
  }

  private async syncClusterStatus(cluster: KubeObject): Promise<void> {
    const name = cluster.metadata.name as string;
    let client: HttpClient;
    try {
      client = await this.connections.clientFor(cluster, this.signal);
    } catch (err) {
      if (this.signal.aborted || !(err instanceof MemberConnectionError)) throw err;
      const observed = condition(READY, 'False', STATUS_COLLECTION_FAILED_REASON, `failed to create a ClusterClient: ${err.message}`);
      await this.writeStatus(cluster, { conditions: [this.thresholdAdjusted(cluster, observed)] });
      return;
    }
    const { online, healthy } = await this.probe(client);
    const observed = !online
      ? condition(READY, 'False', CLUSTER_NOT_REACHABLE_REASON, CLUSTER_NOT_REACHABLE_MESSAGE)
      : !healthy
        ? condition(READY, 'False', CLUSTER_NOT_READY_REASON, CLUSTER_NOT_READY_MESSAGE)
        : condition(READY, 'True', CLUSTER_READY_REASON, CLUSTER_READY_MESSAGE);
    const ready = this.thresholdAdjusted(cluster, observed);
    if (online && healthy && ready.status === 'True') {
      const collected = await this.collect(name, client, cluster);
      await this.writeStatus(cluster, { ...collected.change, conditions: [collected.apiCondition, ready] });
      return;
    }
    await this.writeStatus(cluster, { conditions: [ready] });
  }

  /** /readyz (or /healthz when there is no /readyz): reachable at all, and 200? */
  private async probe(client: HttpClient): Promise<{ online: boolean; healthy: boolean }> {
    const timeoutMs = this.options.probeTimeoutMs ?? 5_000;
    try {
      let res = await client.getRaw('/readyz', { timeoutMs, signal: this.signal });
      if (res.code === 404) res = await client.getRaw('/healthz', { timeoutMs, signal: this.signal });
      return { online: true, healthy: res.code === 200 };
    } catch (err) {
      if (this.signal.aborted) throw err;
      return { online: false, healthy: false };
    }
  }

  /**
   * Karmada's threshold-adjusted Ready condition: a flip between ready and not ready is held back
   * (the current condition returned) until the new observation has lasted the threshold.
   */
  private thresholdAdjusted(cluster: KubeObject, observed: Condition): Condition {
    const name = cluster.metadata.name as string;
    const saved = this.observed.get(name);
    const now = Date.now();
    if (!saved) {
      this.observed.set(name, { status: observed.status, since: now });
      return observed;
    }
    const current = findCondition(cluster, READY);
    if (!current) return observed;
    let since = saved.since;
    if (saved.status !== observed.status) {
      since = now;
      this.observed.set(name, { status: observed.status, since });
    }
    const threshold = observed.status === 'True' ? this.successThresholdMs : this.failureThresholdMs;
    const flips = (observed.status === 'True') !== (current.status === 'True');
    if (flips && now < since + threshold) return current;
    return observed;
  }

  private async collect(name: string, client: HttpClient, cluster: KubeObject): Promise<{ change: Omit<StatusChange, 'conditions'>; apiCondition: Condition }> {
    const previous = isPlainObject(cluster['status']) ? cluster['status'] : {};
    const [version, apis, summaries] = await Promise.all([
      client.get('/version', { signal: this.signal }).then((v) => (typeof v['gitVersion'] === 'string' ? v['gitVersion'] : undefined), (err: unknown) => {
        if (this.signal.aborted) throw err;
        this.logger.debug({ cluster: name, err: err instanceof Error ? err.message : String(err) }, 'cluster status: /version failed');
        return undefined;
      }),
      collectApiEnablements(client, this.signal),
      this.summaries(name, client),
    ]);
    const apiCondition = apis.enablements.length === 0
      ? condition(COMPLETE_API_ENABLEMENTS, 'False', 'Empty', 'collected empty APIEnablements from the cluster')
      : !apis.complete
        ? condition(COMPLETE_API_ENABLEMENTS, 'False', 'Partial', `might collect partial APIEnablements(${apis.enablements.length}) from the cluster`)
        : condition(COMPLETE_API_ENABLEMENTS, 'True', 'Complete', 'collected complete APIEnablements from the cluster');
    // A failed /version keeps the version known before rather than blanking it.
    const kubernetesVersion = version ?? (typeof previous['kubernetesVersion'] === 'string' ? previous['kubernetesVersion'] : '');
    return {
      change: { kubernetesVersion, apiEnablements: apis.enablements, ...(summaries ?? {}) },
      apiCondition,
    };
  }

  /** nodeSummary and resourceSummary from the member's informers; undefined while they have not listed. */
  private async summaries(name: string, client: HttpClient): Promise<{ nodeSummary: NodeSummary; resourceSummary: ResourceSummary } | undefined> {
    let cache = this.caches.get(name);
    if (cache && cache.client !== client) {
      await this.dropCache(name);
      cache = undefined;
    }
    if (!cache) {
      const logger = this.logger.child({ cluster: name });
      const informerOptions = { resyncPeriodMs: 0, signal: this.signal, logger, maxBackoffMs: 5_000 };
      cache = { client, nodes: new Informer(client, '/api/v1/nodes', informerOptions).start(), pods: new Informer(client, '/api/v1/pods', informerOptions).start() };
      this.caches.set(name, cache);
    }
    const timeout = this.options.cacheSyncTimeoutMs ?? 10_000;
    const [nodesSynced, podsSynced] = await Promise.all([cache.nodes.waitForSync(timeout), cache.pods.waitForSync(timeout)]);
    if (!nodesSynced || !podsSynced) {
      if (!this.signal.aborted) this.logger.warn({ cluster: name }, 'cluster status: the member\'s nodes and pods have not been listed yet; summaries left as they were');
      return undefined;
    }
    const nodes = cache.nodes.list();
    return { nodeSummary: summarizeNodes(nodes), resourceSummary: summarizeResources(nodes, cache.pods.list()) };
  }

  private async dropCache(name: string): Promise<void> {
    const cache = this.caches.get(name);
    if (!cache) return;
    this.caches.delete(name);
    await Promise.all([cache.nodes.stop(), cache.pods.stop()]);
  }

  /** PUT …/status when the status would change; on a conflict, again from the object as it is now. */
  private async writeStatus(cluster: KubeObject, change: StatusChange): Promise<void> {
    const name = cluster.metadata.name as string;
    const path = resourcePath(CLUSTERS, undefined, name, 'status');
    let current = cluster;
    for (let attempt = 0; ; attempt++) {
      const before = findCondition(current, READY);
      const status = applyChange(current['status'], change);
      if (jsonEqual(current['status'] ?? {}, status)) return;
      try {
        await this.client.update(path, { ...current, status }, { signal: this.signal });
        const after = (status['conditions'] as Condition[]).find((c) => c.type === READY);
        if (before?.status !== after?.status || before?.reason !== after?.reason) {
          this.logger.info({ cluster: name, ready: after?.status, reason: after?.reason }, 'cluster status: Ready changed');
        }
        return;
      } catch (err) {
        if (!isApiError(err, 409) || attempt >= 4) {
          if (isApiError(err, 404)) return;
          throw err;
        }
      }
      try {
        current = await this.client.get(resourcePath(CLUSTERS, undefined, name), { signal: this.signal });
      } catch (err) {
        if (isApiError(err, 404)) return;
        throw err;
      }
    }
  }
}
