import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { KubeObject, OwnerReference } from '../api/object.js';
import type { ApiClient, DiscoveredResource } from '../client/client.js';
import { isApiError, resourcePath } from '../client/client.js';
import { Informer, sleep } from '../client/informer.js';
import { WorkQueue } from '../client/work-queue.js';
import type { ReconcileResult } from '../client/work-queue.js';

/**
 * The garbage collector (kube-api-contract.md §2 "propagationPolicy", "ownerReferences GC"), a client
 * of the API like any controller. Metadata-only informers over every resource discovery lists with
 * list+watch (re-discovered periodically, so CRDs join) feed a graph of objects by uid and of
 * dependents by owner uid. A work queue keyed by uid reconciles, level-based and idempotently:
 *  - an object with ownerReferences: each owner is solid (exists), dangling (gone — confirmed with a
 *    live GET, since a cache may lag), or waiting (being deleted in the foreground). With a solid
 *    owner, the dangling/waiting references are removed (PATCH); with none, the object is deleted
 *    (DELETE with a uid precondition; Foreground when a waiting owner needs this object's own
 *    dependents gone first, else Background);
 *  - an object being deleted with the `orphan` finalizer: its reference is removed from every
 *    dependent, then the finalizer from the object;
 *  - an object being deleted with the `foregroundDeletion` finalizer: its dependents are queued (and
 *    so deleted, see above); once no dependent with `blockOwnerDeletion: true` is left, the
 *    finalizer is removed and the object goes.
 */
export const ORPHAN_FINALIZER = 'orphan';
export const FOREGROUND_FINALIZER = 'foregroundDeletion';

/** Resources the collector does not watch (kube's defaults: events are many and never owners). */
const IGNORED = new Set(['/events', 'events.k8s.io/events']);

export interface GarbageCollectorOptions {
  readonly client: ApiClient;
  readonly logger: Logger;
  /** Re-discovery period; default 30 s. */
  readonly rediscoveryMs?: number;
  /** Concurrent reconciles; default 8. */
  readonly workers?: number;
  /** Informer resync; default 5 min. */
  readonly resyncPeriodMs?: number;
  /** How long workers wait for the first lists before starting anyway; default 60 s. */
  readonly initialSyncTimeoutMs?: number;
}

interface Node {
  readonly uid: string;
  readonly resource: DiscoveredResource;
  readonly namespace: string | undefined;
  readonly name: string;
  readonly owners: readonly OwnerReference[];
  readonly deleting: boolean;
  readonly finalizers: readonly string[];
}

type OwnerState = 'solid' | 'dangling' | 'waiting';

const resourceKey = (r: Pick<DiscoveredResource, 'group' | 'resource'>): string => `${r.group}/${r.resource}`;

export class GarbageCollector {
  private readonly client: ApiClient;
  private readonly logger: Logger;
  private readonly options: GarbageCollectorOptions;
  private readonly queue = new WorkQueue<string>();
  private readonly informers = new Map<string, { resource: DiscoveredResource; informer: Informer }>();
  /** Every object seen, by uid. */
  private readonly nodes = new Map<string, Node>();
  /** owner uid → uids of objects that name it in ownerReferences (the owner may be absent). */
  private readonly dependents = new Map<string, Set<string>>();
  /** Every discovered resource (all versions), to resolve an ownerReference's apiVersion + kind. */
  private mapping: DiscoveredResource[] = [];
  private readonly abort = new AbortController();
  private rediscoverTimer: NodeJS.Timeout | undefined;
  private workers: Promise<void> = Promise.resolve();
  private syncing: Promise<void> = Promise.resolve();

  constructor(options: GarbageCollectorOptions) {
    this.options = options;
    this.client = options.client;
    this.logger = options.logger;
    setMaxListeners(0, this.abort.signal); // one listener per informer and request
  }

  /**
   * Starts discovery, informers and workers; returns at once (everything retries in the background).
   * Workers wait for the informers' first lists (up to `initialSyncTimeoutMs`): acting on a partial
   * graph could release an orphaning or foreground owner before its dependents are known.
   */
  start(): void {
    this.syncing = (async () => {
      // Until discovery has worked once there is no graph at all: retry 100 ms → 5 s.
      for (let delay = 100; !(await this.syncInformers()) && !this.abort.signal.aborted; delay = Math.min(5_000, delay * 2)) {
        await sleep(delay, this.abort.signal);
      }
    })();
    const discovered = this.syncing;
    this.workers = (async () => {
      await discovered; // until discovery has worked once (or we are stopped)
      if (this.abort.signal.aborted) return;
      const timeout = this.options.initialSyncTimeoutMs ?? 60_000;
      const synced = (await Promise.all([...this.informers.values()].map(({ informer }) => informer.waitForSync(timeout)))).every(Boolean);
      if (this.abort.signal.aborted) return;
      if (!synced) this.logger.warn('garbage collector: not every informer has synced; starting anyway');
      await this.queue.run(this.options.workers ?? 8, (uid) => this.reconcile(uid), (uid, err) => {
        const node = this.nodes.get(uid);
        this.logger.warn({ uid, object: node ? describe(node) : undefined, err: err instanceof Error ? err.message : String(err) }, 'garbage collector: reconcile failed; will retry');
      });
    })();
    this.rediscoverTimer = setInterval(() => {
      this.syncing = this.syncing.then(async () => {
        await this.syncInformers();
      });
    }, this.options.rediscoveryMs ?? 30_000);
    this.rediscoverTimer.unref();
  }

  /** Resolves once every informer started so far has listed (or `timeoutMs` passed). */
  async waitForSync(timeoutMs = 30_000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const discovered = await Promise.race([
      this.syncing.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (!discovered || this.informers.size === 0) return false;
    const results = await Promise.all([...this.informers.values()].map(({ informer }) => informer.waitForSync(Math.max(0, deadline - Date.now()))));
    return results.every(Boolean);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.rediscoverTimer);
    this.queue.shutDown();
    await Promise.all([...this.informers.values()].map(({ informer }) => informer.stop()));
    await this.syncing.catch(() => undefined);
    await this.workers;
  }

  /** Discovery → informers for new resources, informers of vanished ones stopped. False if discovery failed. */
  private async syncInformers(): Promise<boolean> {
    if (this.abort.signal.aborted) return false;
    let discovered;
    let preferred;
    try {
      discovered = await this.client.discoverAll({ allVersions: true, signal: this.abort.signal });
      preferred = await this.client.discoverAll({ signal: this.abort.signal });
    } catch (err) {
      if (!this.abort.signal.aborted) this.logger.warn({ err: err instanceof Error ? err.message : String(err) }, 'garbage collector: discovery failed; will retry');
      return false;
    }
    if (this.abort.signal.aborted) return false;
    this.mapping = discovered.resources;
    const wanted = new Map<string, DiscoveredResource>();
    for (const r of preferred.resources) {
      if (!r.verbs.includes('list') || !r.verbs.includes('watch') || IGNORED.has(resourceKey(r))) continue;
      wanted.set(resourceKey(r), r);
    }
    const failedGroups = new Set([...preferred.failed, ...discovered.failed].map((gv) => (gv.includes('/') ? gv.slice(0, gv.lastIndexOf('/')) : '')));
    for (const [key, { resource, informer }] of [...this.informers]) {
      const next = wanted.get(key);
      if (next && next.version === resource.version) continue;
      // A group we could not read this time keeps its informers (transient discovery failure).
      if (!next && failedGroups.has(resource.group)) continue;
      this.informers.delete(key);
      void informer.stop();
      this.forgetResource(resource);
      this.logger.info({ resource: key, version: resource.version }, 'garbage collector: stopped watching');
    }
    const added: { resource: DiscoveredResource; informer: Informer }[] = [];
    for (const [key, resource] of wanted) {
      if (this.informers.has(key)) continue;
      const informer = new Informer(this.client, resourcePath(resource), {
        metadataOnly: true,
        resyncPeriodMs: this.options.resyncPeriodMs ?? 300_000,
        signal: this.abort.signal,
        logger: this.logger,
      });
      informer.addHandlers({
        onAdd: (object) => this.observe(resource, object),
        onUpdate: (_old, object) => this.observe(resource, object),
        onDelete: (object) => this.forget(object.metadata.uid),
      });
      this.informers.set(key, { resource, informer });
      informer.start();
      added.push({ resource, informer });
      this.logger.debug({ resource: key, version: resource.version }, 'garbage collector: watching');
    }
    if (added.length > 0) void this.revisitOwnersOfNewKinds(added);
    return true;
  }

  /**
   * Dependents whose owner is of a kind we were not watching yet (a CRD served a moment ago) were
   * judged "solid" then; once the new informers have listed, look at them again: an owner that does
   * not exist now is gone, and its deletion event may have passed before we watched.
   */
  private async revisitOwnersOfNewKinds(added: readonly { resource: DiscoveredResource; informer: Informer }[]): Promise<void> {
    await Promise.all(added.map(({ informer }) => informer.waitForSync(30_000)));
    if (this.abort.signal.aborted) return;
    const kinds = new Set(added.map(({ resource }) => `${resource.group}/${resource.kind}`));
    const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.slice(0, apiVersion.indexOf('/')) : '');
    for (const node of this.nodes.values()) {
      if (node.owners.some((o) => kinds.has(`${groupOf(o.apiVersion)}/${o.kind}`) && !this.nodes.has(o.uid))) this.queue.add(node.uid);
    }
  }

  /** An object was added or changed: update the graph and queue whatever may need work. */
  private observe(resource: DiscoveredResource, object: KubeObject): void {
    const meta = object.metadata;
    const uid = meta.uid;
    if (!uid || !meta.name) return;
    const owners = Array.isArray(meta.ownerReferences) ? meta.ownerReferences.filter((r) => r && typeof r.uid === 'string') : [];
    const node: Node = {
      uid,
      resource,
      namespace: resource.namespaced ? meta.namespace : undefined,
      name: meta.name,
      owners,
      deleting: Boolean(meta.deletionTimestamp),
      finalizers: Array.isArray(meta.finalizers) ? meta.finalizers : [],
    };
    const old = this.nodes.get(uid);
    this.nodes.set(uid, node);
    const before = new Set(old?.owners.map((r) => r.uid) ?? []);
    const after = new Set(owners.map((r) => r.uid));
    for (const owner of before) if (!after.has(owner)) this.unlink(owner, uid);
    for (const owner of after) {
      let set = this.dependents.get(owner);
      if (!set) this.dependents.set(owner, (set = new Set()));
      set.add(uid);
    }
    if (owners.length > 0 || node.deleting) this.queue.add(uid);
    // A change of deletion state concerns the dependents (orphaning, foreground deletion).
    if (!old || old.deleting !== node.deleting || old.finalizers.join() !== node.finalizers.join()) {
      for (const dependent of this.dependents.get(uid) ?? []) this.queue.add(dependent);
    }
    // Owners waiting for their dependents re-check when one changes or lets go.
    for (const owner of new Set([...before, ...after])) if (this.nodes.get(owner)?.deleting) this.queue.add(owner);
  }

  /** An object is gone: its dependents may now be garbage, its waiting owners may go on. */
  private forget(uid: string | undefined): void {
    if (!uid) return;
    const node = this.nodes.get(uid);
    if (!node) return;
    this.nodes.delete(uid);
    for (const owner of node.owners) {
      this.unlink(owner.uid, uid);
      if (this.nodes.get(owner.uid)?.deleting) this.queue.add(owner.uid);
    }
    for (const dependent of this.dependents.get(uid) ?? []) this.queue.add(dependent);
  }

  /** A resource stopped being served: drop its objects from the graph (without deleting anything). */
  private forgetResource(resource: DiscoveredResource): void {
    const key = resourceKey(resource);
    for (const node of [...this.nodes.values()]) if (resourceKey(node.resource) === key) this.forget(node.uid);
  }

  private unlink(owner: string, dependent: string): void {
    const set = this.dependents.get(owner);
    if (!set) return;
    set.delete(dependent);
    if (set.size === 0) this.dependents.delete(owner);
  }

  private dependentsOf(uid: string): Node[] {
    return [...(this.dependents.get(uid) ?? [])].map((d) => this.nodes.get(d)).filter((n): n is Node => n !== undefined);
  }

  private async reconcile(uid: string): Promise<ReconcileResult> {
    const node = this.nodes.get(uid);
    if (!node) return;
    if (node.deleting) {
      if (node.finalizers.includes(ORPHAN_FINALIZER)) return this.orphanDependents(node);
      if (node.finalizers.includes(FOREGROUND_FINALIZER)) return this.deleteDependents(node);
      return; // being deleted for other reasons: nothing for the collector to do
    }
    if (node.owners.length === 0) return;
    return this.collect(node);
  }

  /** (b) Orphan: strip the reference from every dependent, then let the owner go. */
  private async orphanDependents(owner: Node): Promise<ReconcileResult> {
    for (const dependent of this.dependentsOf(owner.uid)) {
      await this.removeOwnerReferences(dependent, new Set([owner.uid]));
    }
    await this.removeFinalizer(owner, ORPHAN_FINALIZER);
    this.logger.debug({ object: describe(owner) }, 'garbage collector: orphaned dependents');
  }

  /** (c) Foreground: dependents go first; the owner waits for those that block it. */
  private async deleteDependents(owner: Node): Promise<ReconcileResult> {
    const dependents = this.dependentsOf(owner.uid);
    const blocking = dependents.filter((d) => d.owners.some((r) => r.uid === owner.uid && r.blockOwnerDeletion === true));
    if (blocking.length === 0) {
      await this.removeFinalizer(owner, FOREGROUND_FINALIZER);
      this.logger.debug({ object: describe(owner) }, 'garbage collector: foreground deletion complete');
      return;
    }
    for (const dependent of dependents) if (!dependent.deleting || dependent.finalizers.includes(FOREGROUND_FINALIZER)) this.queue.add(dependent.uid);
    // Their deletions bring us back here; the periodic requeue only guards against a missed event.
    return { requeueAfterMs: 10_000 };
  }

  /** (a) Background, and the dependent side of (c): decide from the owners' states. */
  private async collect(node: Node): Promise<ReconcileResult> {
    const states = new Map<string, OwnerState>();
    for (const ref of node.owners) states.set(ref.uid, await this.ownerState(node, ref));
    const solid = [...states.values()].filter((s) => s === 'solid').length;
    const dead = new Set([...states].filter(([, s]) => s !== 'solid').map(([uid]) => uid));
    if (dead.size === 0) return;
    if (solid > 0) {
      await this.removeOwnerReferences(node, dead);
      return;
    }
    const waiting = [...states.values()].includes('waiting');
    const policy = waiting && (this.dependents.get(node.uid)?.size ?? 0) > 0 ? 'Foreground' : 'Background';
    try {
      await this.client.delete(resourcePath(node.resource, node.namespace, node.name), { propagationPolicy: policy, preconditions: { uid: node.uid } });
      this.logger.debug({ object: describe(node), policy }, 'garbage collector: deleted dependent');
    } catch (err) {
      if (isApiError(err, 404) || isApiError(err, 409)) return; // gone, or a new object of that name
      throw err;
    }
  }

  /** An owner's state as seen by one dependent; absence is confirmed against the API. */
  private async ownerState(dependent: Node, ref: OwnerReference): Promise<OwnerState> {
    const owner = this.nodes.get(ref.uid);
    if (owner && (owner.namespace === undefined || owner.namespace === dependent.namespace)) {
      return owner.deleting && owner.finalizers.includes(FOREGROUND_FINALIZER) ? 'waiting' : 'solid';
    }
    const group = ref.apiVersion.includes('/') ? ref.apiVersion.slice(0, ref.apiVersion.indexOf('/')) : '';
    const version = ref.apiVersion.includes('/') ? ref.apiVersion.slice(ref.apiVersion.indexOf('/') + 1) : ref.apiVersion;
    const candidates = this.mapping.filter((r) => r.group === group && r.kind === ref.kind);
    const resource = candidates.find((r) => r.version === version) ?? candidates[0];
    // Unknown kind (not served, or discovery not done yet): not provably gone, so the object stays.
    if (!resource) return 'solid';
    // A cluster-scoped dependent cannot have a namespaced owner: unresolvable, never collected (kube ≥1.20).
    if (resource.namespaced && dependent.namespace === undefined) return 'solid';
    try {
      const live = await this.client.get(resourcePath(resource, resource.namespaced ? dependent.namespace : undefined, ref.name), { metadataOnly: true, signal: this.abort.signal });
      if (live.metadata.uid !== ref.uid) return 'dangling';
      const finalizers = live.metadata.finalizers ?? [];
      return live.metadata.deletionTimestamp && finalizers.includes(FOREGROUND_FINALIZER) ? 'waiting' : 'solid';
    } catch (err) {
      if (isApiError(err, 404)) return 'dangling';
      throw err;
    }
  }

  /** Removes the given owners from an object's ownerReferences (merge patch, resourceVersion precondition). */
  private async removeOwnerReferences(node: Node, owners: ReadonlySet<string>): Promise<void> {
    const path = resourcePath(node.resource, node.namespace, node.name);
    await this.retryOnConflict(async () => {
      const live = await this.getLive(path, node.uid);
      if (!live) return;
      const refs = live.metadata.ownerReferences ?? [];
      const kept = refs.filter((r) => !owners.has(r.uid));
      if (kept.length === refs.length) return;
      await this.client.patch(path, 'merge', { metadata: { resourceVersion: live.metadata.resourceVersion, ownerReferences: kept.length > 0 ? kept : null } });
      this.logger.debug({ object: describe(node), removed: [...owners] }, 'garbage collector: removed owner references');
    });
  }

  /** Removes one finalizer from an object (merge patch, resourceVersion precondition). */
  private async removeFinalizer(node: Node, finalizer: string): Promise<void> {
    const path = resourcePath(node.resource, node.namespace, node.name);
    await this.retryOnConflict(async () => {
      const live = await this.getLive(path, node.uid);
      if (!live) return;
      const finalizers = live.metadata.finalizers ?? [];
      if (!finalizers.includes(finalizer)) return;
      const rest = finalizers.filter((f) => f !== finalizer);
      await this.client.patch(path, 'merge', { metadata: { resourceVersion: live.metadata.resourceVersion, finalizers: rest.length > 0 ? rest : null } });
    });
  }

  /** The live object if it is still this incarnation (same uid). */
  private async getLive(path: string, uid: string): Promise<KubeObject | undefined> {
    try {
      const live = await this.client.get(path, { metadataOnly: true, signal: this.abort.signal });
      return live.metadata.uid === uid ? live : undefined;
    } catch (err) {
      if (isApiError(err, 404)) return undefined;
      throw err;
    }
  }

  private async retryOnConflict(attempt: () => Promise<void>): Promise<void> {
    for (let i = 0; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        if (!isApiError(err, 409) || i >= 4) throw err;
      }
    }
  }
}

function describe(node: Node): string {
  return `${node.resource.resource}${node.resource.group ? `.${node.resource.group}` : ''} ${node.namespace ? `${node.namespace}/` : ''}${node.name}`;
}
