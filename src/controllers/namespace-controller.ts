import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { isPlainObject, timestamp } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import type { ApiClient, DiscoveredResource } from '../client/client.js';
import { isApiError, resourcePath } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { WorkQueue } from '../client/work-queue.js';
import type { ReconcileResult } from '../client/work-queue.js';

/**
 * The namespace controller (kube-api-contract.md §2 "Namespace defaults"): a namespace being deleted
 * whose spec.finalizers still holds `kubernetes` is emptied — every namespaced resource that can be
 * listed and deleted (deletecollection, or list + delete one by one) — and, once nothing is left,
 * finalized: PUT /api/v1/namespaces/<ns>/finalize without `kubernetes`, after which the server removes
 * the namespace. Objects held by finalizers take their time; the namespace is re-checked with
 * back-off (0.5 s doubling to 10 s) until they are gone. Like kube, it reports progress in the
 * namespace's status.conditions (NamespaceDeletionDiscoveryFailure, NamespaceDeletionContentFailure,
 * NamespaceContentRemaining, NamespaceFinalizersRemaining, …).
 */
export const NAMESPACE_FINALIZER = 'kubernetes';

export interface NamespaceControllerOptions {
  readonly client: ApiClient;
  readonly logger: Logger;
  /** Concurrent namespaces; default 4. */
  readonly workers?: number;
  /** How long a discovery result is reused; default 10 s. */
  readonly discoveryTtlMs?: number;
  /** Informer resync; default 5 min. */
  readonly resyncPeriodMs?: number;
}

const CONDITION_TYPES = [
  'NamespaceDeletionDiscoveryFailure',
  'NamespaceDeletionGroupVersionParsingFailure',
  'NamespaceDeletionContentFailure',
  'NamespaceContentRemaining',
  'NamespaceFinalizersRemaining',
] as const;
type ConditionType = (typeof CONDITION_TYPES)[number];
type Findings = Partial<Record<ConditionType, string>>;

const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' } as const;

export class NamespaceController {
  private readonly client: ApiClient;
  private readonly logger: Logger;
  private readonly options: NamespaceControllerOptions;
  private readonly queue = new WorkQueue<string>();
  private readonly abort = new AbortController();
  private readonly informer: Informer;
  private readonly attempts = new Map<string, number>();
  private discovery: { at: number; result: Promise<{ resources: DiscoveredResource[]; failed: string[] }> } | undefined;
  private workers: Promise<void> = Promise.resolve();

  constructor(options: NamespaceControllerOptions) {
    this.options = options;
    this.client = options.client;
    this.logger = options.logger;
    setMaxListeners(0, this.abort.signal);
    this.informer = new Informer(this.client, resourcePath(NAMESPACES), { resyncPeriodMs: options.resyncPeriodMs ?? 300_000, signal: this.abort.signal, logger: this.logger });
    const enqueue = (ns: KubeObject) => {
      if (ns.metadata.deletionTimestamp && ns.metadata.name) this.queue.add(ns.metadata.name);
    };
    this.informer.addHandlers({
      onAdd: enqueue,
      onUpdate: (_old, ns) => enqueue(ns),
      onDelete: (ns) => {
        if (ns.metadata.name) this.attempts.delete(ns.metadata.name);
      },
    });
  }

  start(): void {
    this.informer.start();
    this.workers = this.queue.run(this.options.workers ?? 4, (name) => this.reconcile(name), (name, err) => {
      this.logger.warn({ namespace: name, err: err instanceof Error ? err.message : String(err) }, 'namespace controller: reconcile failed; will retry');
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
  }

  private async reconcile(name: string): Promise<ReconcileResult> {
    let ns: KubeObject;
    try {
      ns = await this.client.get(resourcePath(NAMESPACES, undefined, name), { signal: this.abort.signal });
    } catch (err) {
      if (isApiError(err, 404)) {
        this.attempts.delete(name);
        return;
      }
      throw err;
    }
    if (!ns.metadata.deletionTimestamp || !specFinalizers(ns).includes(NAMESPACE_FINALIZER)) return;

    const findings: Findings = {};
    const remaining = await this.deleteContent(name, findings);
    if (Object.keys(findings).length > 0 || remaining > 0) {
      await this.reportConditions(ns, findings);
      const attempt = this.attempts.get(name) ?? 0;
      this.attempts.set(name, attempt + 1);
      const delay = Math.min(10_000, 500 * 2 ** attempt);
      this.logger.debug({ namespace: name, remaining, findings, retryInMs: delay }, 'namespace controller: content remaining');
      return { requeueAfterMs: delay };
    }

    // Empty: let the namespace go.
    const finalizers = specFinalizers(ns).filter((f) => f !== NAMESPACE_FINALIZER);
    try {
      await this.client.update(resourcePath(NAMESPACES, undefined, name, 'finalize'), { ...ns, spec: { ...(isPlainObject(ns['spec']) ? ns['spec'] : {}), finalizers } }, { signal: this.abort.signal });
    } catch (err) {
      if (isApiError(err, 404)) return;
      throw err; // 409: the namespace changed; the rate-limited retry reads it again
    }
    this.attempts.delete(name);
    this.logger.info({ namespace: name }, 'namespace controller: namespace emptied and finalized');
  }

  /**
   * One pass over every namespaced resource: delete what is there, then count what is left.
   * Returns the number of objects left; failures go into `findings`.
   */
  private async deleteContent(namespace: string, findings: Findings): Promise<number> {
    let discovered;
    try {
      discovered = await this.discover();
    } catch (err) {
      findings.NamespaceDeletionDiscoveryFailure = `Discovery failed: ${err instanceof Error ? err.message : String(err)}`;
      return 0;
    }
    if (discovered.failed.length > 0) findings.NamespaceDeletionDiscoveryFailure = `Discovery failed for some groups: ${discovered.failed.join(', ')}`;
    const deletable = discovered.resources.filter((r) => r.namespaced && r.verbs.includes('list') && (r.verbs.includes('deletecollection') || r.verbs.includes('delete')));
    let remaining = 0;
    const contentFailures: string[] = [];
    const remainingByResource: string[] = [];
    const finalizersRemaining = new Map<string, number>();
    await mapLimit(deletable, 8, async (resource) => {
      const path = resourcePath(resource, namespace);
      const label = `${resource.resource}${resource.group ? `.${resource.group}` : ''}`;
      try {
        if (resource.verbs.includes('deletecollection')) {
          await this.client.deleteCollection(path, { propagationPolicy: 'Background', signal: this.abort.signal });
        } else {
          const list = await this.client.list(path, { metadataOnly: true, signal: this.abort.signal });
          for (const item of list.items) {
            if (item.metadata.deletionTimestamp || !item.metadata.name) continue;
            await this.client.delete(resourcePath(resource, namespace, item.metadata.name), { propagationPolicy: 'Background', ...(item.metadata.uid ? { preconditions: { uid: item.metadata.uid } } : {}), signal: this.abort.signal }).catch((err: unknown) => {
              if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
            });
          }
        }
        const left = await this.client.list(path, { metadataOnly: true, signal: this.abort.signal });
        if (left.items.length > 0) {
          remaining += left.items.length;
          remainingByResource.push(`${label} has ${left.items.length} resource instances`);
          for (const item of left.items) for (const f of item.metadata.finalizers ?? []) finalizersRemaining.set(f, (finalizersRemaining.get(f) ?? 0) + 1);
        }
      } catch (err) {
        // Gone since discovery (CRD deleted) or not deletable after all: nothing of it to wait for.
        if (isApiError(err, 404) || isApiError(err, 405)) return;
        contentFailures.push(`${label}: ${err instanceof Error ? err.message : String(err)}`);
        remaining++;
      }
    });
    if (contentFailures.length > 0) findings.NamespaceDeletionContentFailure = `Failed to delete all resource types, ${contentFailures.length} remaining: ${contentFailures.sort().join(', ')}`;
    if (remainingByResource.length > 0) findings.NamespaceContentRemaining = `Some resources are remaining: ${remainingByResource.sort().join(', ')}`;
    if (finalizersRemaining.size > 0) {
      findings.NamespaceFinalizersRemaining = `Some content in the namespace has finalizers remaining: ${[...finalizersRemaining].map(([f, n]) => `${f} in ${n} resource instances`).sort().join(', ')}`;
    }
    return remaining;
  }

  private discover(): Promise<{ resources: DiscoveredResource[]; failed: string[] }> {
    const ttl = this.options.discoveryTtlMs ?? 10_000;
    if (!this.discovery || Date.now() - this.discovery.at > ttl) {
      const result = this.client.discoverAll({ signal: this.abort.signal });
      this.discovery = { at: Date.now(), result };
      result.catch(() => {
        if (this.discovery?.result === result) this.discovery = undefined;
      });
    }
    return this.discovery.result;
  }

  /** kube's deletion conditions on the namespace's status (best effort; written only when they change). */
  private async reportConditions(ns: KubeObject, findings: Findings): Promise<void> {
    const status = isPlainObject(ns['status']) ? ns['status'] : {};
    const current = Array.isArray(status['conditions']) ? (status['conditions'] as Record<string, unknown>[]) : [];
    const now = timestamp();
    let changed = false;
    const conditions = CONDITION_TYPES.map((type) => {
      const message = findings[type];
      const wanted = message !== undefined
        ? { type, status: 'True', reason: reasonFor(type, true), message }
        : { type, status: 'False', reason: reasonFor(type, false), message: messageFor(type) };
      const existing = current.find((c) => c['type'] === type);
      if (existing && existing['status'] === wanted.status && existing['reason'] === wanted.reason && existing['message'] === wanted.message) return existing;
      changed = true;
      return { ...wanted, lastTransitionTime: existing && existing['status'] === wanted.status ? existing['lastTransitionTime'] ?? now : now };
    });
    const others = current.filter((c) => !CONDITION_TYPES.includes(c['type'] as ConditionType));
    if (!changed) return;
    try {
      await this.client.patch(resourcePath(NAMESPACES, undefined, ns.metadata.name as string, 'status'), 'merge', { status: { conditions: [...others, ...conditions] } }, { signal: this.abort.signal });
    } catch (err) {
      this.logger.debug({ namespace: ns.metadata.name, err: err instanceof Error ? err.message : String(err) }, 'namespace controller: could not update conditions');
    }
  }
}

function specFinalizers(ns: KubeObject): string[] {
  const spec = ns['spec'];
  return isPlainObject(spec) && Array.isArray(spec['finalizers']) ? (spec['finalizers'] as unknown[]).filter((f): f is string => typeof f === 'string') : [];
}

function reasonFor(type: ConditionType, failing: boolean): string {
  switch (type) {
    case 'NamespaceDeletionDiscoveryFailure':
      return failing ? 'DiscoveryFailed' : 'ResourcesDiscovered';
    case 'NamespaceDeletionGroupVersionParsingFailure':
      return failing ? 'GroupVersionParsingFailed' : 'ParsedGroupVersions';
    case 'NamespaceDeletionContentFailure':
      return failing ? 'ContentDeletionFailed' : 'ContentDeleted';
    case 'NamespaceContentRemaining':
      return failing ? 'SomeResourcesRemain' : 'ContentRemoved';
    case 'NamespaceFinalizersRemaining':
      return failing ? 'SomeFinalizersRemain' : 'ContentHasNoFinalizers';
  }
}

function messageFor(type: ConditionType): string {
  switch (type) {
    case 'NamespaceDeletionDiscoveryFailure':
      return 'All resources successfully discovered';
    case 'NamespaceDeletionGroupVersionParsingFailure':
      return 'All legacy kube types successfully parsed';
    case 'NamespaceDeletionContentFailure':
      return 'All content successfully deleted, may be waiting on finalization';
    case 'NamespaceContentRemaining':
      return 'All content successfully removed';
    case 'NamespaceFinalizersRemaining':
      return 'All content-preserving finalizers finished';
  }
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const item = items[next++] as T;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, () => worker()));
}
