import type { Logger } from 'pino';
import type { KubeObject, OwnerReference } from '../../api/object.js';
import type { LabelSelector } from '../../api/label-selector.js';
import type { ApiClient } from '../../client/client.js';
import { isApiError, resourcePath } from '../../client/client.js';
import type { Informer } from '../../client/informer.js';
import { objectKey } from '../../client/informer.js';
import { WorkQueue } from '../../client/work-queue.js';
import type { ReconcileResult } from '../../client/work-queue.js';
import type { CacheIndex } from '../../client/cache-index.js';
import { controllerRef } from './pods.js';
import type { Pod } from './types.js';
import { errorMessage } from './util.js';

/** The API resources the simulator works with. */
export const RESOURCES = {
  nodes: { group: '', version: 'v1', resource: 'nodes' },
  pods: { group: '', version: 'v1', resource: 'pods' },
  deployments: { group: 'apps', version: 'v1', resource: 'deployments' },
  replicasets: { group: 'apps', version: 'v1', resource: 'replicasets' },
  statefulsets: { group: 'apps', version: 'v1', resource: 'statefulsets' },
  daemonsets: { group: 'apps', version: 'v1', resource: 'daemonsets' },
  jobs: { group: 'batch', version: 'v1', resource: 'jobs' },
} as const;
export type ResourceName = keyof typeof RESOURCES;

/** What every part of the simulator shares: one client, one informer per resource, the indexes over them. */
export interface SimContext {
  readonly client: ApiClient;
  readonly logger: Logger;
  /** Aborted on stop: in-flight requests end. */
  readonly signal: AbortSignal;
  readonly informers: Readonly<Record<ResourceName, Informer>>;
  /** Pods by the uid of their controller. */
  readonly podsByOwner: CacheIndex;
  /** Pods without a controller, by namespace (candidates for adoption). */
  readonly orphanPodsByNamespace: CacheIndex;
  /** Pods by spec.nodeName. */
  readonly podsByNode: CacheIndex;
  /** ReplicaSets by the uid of their controller. */
  readonly replicaSetsByOwner: CacheIndex;
  /** ReplicaSets without a controller, by namespace. */
  readonly orphanReplicaSetsByNamespace: CacheIndex;
  readonly podStartDelayMs: number;
}

/** The path of an object of one of the simulator's resources. */
export function pathOf(resource: ResourceName, namespace: string | undefined, name?: string): string {
  return resourcePath(RESOURCES[resource], namespace, name);
}

/**
 * A level-based controller: a work queue of keys (namespace/name) reconciled by a few workers
 * against the informer caches; failures are retried with back-off; stop() waits for the workers.
 */
export abstract class Controller {
  protected readonly ctx: SimContext;
  protected readonly logger: Logger;
  protected readonly queue = new WorkQueue<string>({ qps: Infinity });
  private readonly workers: number;
  private workerLoop: Promise<void> = Promise.resolve();

  constructor(ctx: SimContext, name: string, workers = 2) {
    this.ctx = ctx;
    this.logger = ctx.logger.child({ controller: name });
    this.workers = workers;
  }

  start(): void {
    this.workerLoop = this.queue.run(this.workers, (key) => this.reconcile(key), (key, err) => {
      if (this.ctx.signal.aborted) return;
      const log = isApiError(err, 409) ? 'debug' : 'warn';
      this.logger[log]({ key, err: errorMessage(err) }, 'reconcile failed; will retry');
    });
  }

  async stop(): Promise<void> {
    this.queue.shutDown();
    await this.workerLoop;
  }

  enqueue(key: string): void {
    this.queue.add(key);
  }

  protected abstract reconcile(key: string): Promise<ReconcileResult>;

  /** Enqueues the owner of `object` if its controller reference is of this kind. */
  protected enqueueOwner(object: KubeObject, kind: string): void {
    const ref = controllerRef(object);
    if (ref?.kind === kind && object.metadata.namespace) this.queue.add(`${object.metadata.namespace}/${ref.name}`);
  }

  /**
   * The pods an owner controls (controller.PodControllerRefManager.ClaimPods): its own pods that
   * still match the selector, plus orphans in its namespace that match (adopted by adding the
   * owner reference). Owned pods that no longer match are released. Adoption is skipped while the
   * owner is being deleted. `member` narrows what may be claimed (a StatefulSet's pods are named after it).
   */
  protected async claimPods(owner: KubeObject, selector: LabelSelector, ref: OwnerReference, member: (pod: Pod) => boolean = () => true): Promise<Pod[]> {
    const uid = owner.metadata.uid as string;
    const namespace = owner.metadata.namespace as string;
    const claimed: Pod[] = [];
    for (const pod of this.ctx.podsByOwner.get<Pod>(uid)) {
      if (pod.metadata.namespace !== namespace) continue;
      if (selector.matches(pod.metadata.labels) && member(pod)) claimed.push(pod);
      else if (!pod.metadata.deletionTimestamp) await this.setOwner(pathOf('pods', namespace, pod.metadata.name), pod, undefined, uid);
    }
    if (owner.metadata.deletionTimestamp) return claimed;
    for (const pod of this.ctx.orphanPodsByNamespace.get<Pod>(namespace)) {
      if (pod.metadata.deletionTimestamp || !selector.matches(pod.metadata.labels) || !member(pod)) continue;
      const adopted = await this.setOwner(pathOf('pods', namespace, pod.metadata.name), pod, ref, undefined);
      if (adopted) claimed.push(adopted as Pod);
    }
    return claimed;
  }

  /** Adds (`add`) or removes (`removeUid`) a controller reference; undefined when the object moved on. */
  protected async setOwner(path: string, object: KubeObject, add: OwnerReference | undefined, removeUid: string | undefined): Promise<KubeObject | undefined> {
    const refs = (object.metadata.ownerReferences ?? []).filter((r) => r.uid !== removeUid && r.uid !== add?.uid);
    if (add) refs.push(add);
    try {
      const result = await this.ctx.client.patch(path, 'merge', { metadata: { resourceVersion: object.metadata.resourceVersion, ownerReferences: refs.length > 0 ? refs : null } }, { signal: this.ctx.signal });
      this.logger.debug({ object: objectKey(object), adopted: Boolean(add) }, add ? 'adopted' : 'released');
      return result;
    } catch (err) {
      if (isApiError(err, 404) || isApiError(err, 409)) return undefined; // gone or changed: the next sync decides again
      throw err;
    }
  }
}
