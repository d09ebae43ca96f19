import type { Logger } from 'pino';
import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { resourcePath } from '../client/client.js';
import { Informer } from '../client/informer.js';
import { splitApiVersion } from '../client/rest-mapper.js';
import type { MemberConnections } from './member-connection.js';

/**
 * Informers on member clusters' API servers, one per (cluster, resource), made on first use and shared
 * by the execution and work-status controllers (Karmada's member-cluster informer manager): the
 * execution controller reads what is in a member from the cache, the status controller reflects it,
 * and both hear about changes — one watch per member and kind, never a poll per object.
 *
 * A member's informers go when its client is rebuilt (new endpoint or credentials) or the cluster
 * goes; they are made again on the next use. A member that is down keeps its informers, which retry
 * with back-off and relist when it returns.
 */
export interface MemberResource {
  readonly group: string;
  readonly version: string;
  readonly resource: string;
}

export type MemberEventType = 'ADDED' | 'MODIFIED' | 'DELETED';
export type MemberEventListener = (cluster: string, type: MemberEventType, object: KubeObject, old?: KubeObject) => void;

/** The resource a member serves `apiVersion`/`kind` as, from the Cluster's status.apiEnablements. */
export function memberResource(cluster: KubeObject, apiVersion: string, kind: string): MemberResource | undefined {
  const status = cluster['status'];
  const enablements = isPlainObject(status) && Array.isArray(status['apiEnablements']) ? status['apiEnablements'] : [];
  for (const enablement of enablements) {
    if (!isPlainObject(enablement) || enablement['groupVersion'] !== apiVersion || !Array.isArray(enablement['resources'])) continue;
    for (const r of enablement['resources']) {
      if (isPlainObject(r) && r['kind'] === kind && typeof r['name'] === 'string' && !r['name'].includes('/')) {
        return { ...splitApiVersion(apiVersion), resource: r['name'] };
      }
    }
  }
  return undefined;
}

const resourceKey = (r: MemberResource): string => `${r.group}/${r.version}/${r.resource}`;

export class MemberInformers {
  private readonly connections: MemberConnections;
  private readonly logger: Logger;
  private readonly informers = new Map<string, Map<string, Promise<Informer>>>();
  private readonly listeners = new Set<MemberEventListener>();
  private stopped = false;

  constructor(options: { connections: MemberConnections; logger: Logger }) {
    this.connections = options.connections;
    this.logger = options.logger;
    this.connections.onRebuild((cluster) => void this.stopCluster(cluster));
  }

  /** Hears every add, update and delete in every member informer. */
  onEvent(listener: MemberEventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The informer of `resource` in this cluster, made and started if there is none yet. */
  ensure(cluster: KubeObject, resource: MemberResource): Promise<Informer> {
    if (this.stopped) return Promise.reject(new Error('member informers are stopped'));
    const name = cluster.metadata.name ?? '';
    let byResource = this.informers.get(name);
    if (!byResource) this.informers.set(name, (byResource = new Map()));
    const key = resourceKey(resource);
    let informer = byResource.get(key);
    if (!informer) {
      informer = this.make(cluster, resource);
      byResource.set(key, informer);
      // A failure (no credentials yet) is not cached: the next use tries again.
      informer.catch(() => {
        if (this.informers.get(name)?.get(key) === informer) this.informers.get(name)?.delete(key);
      });
    }
    return informer;
  }

  private async make(cluster: KubeObject, resource: MemberResource): Promise<Informer> {
    const name = cluster.metadata.name ?? '';
    const client = await this.connections.clientFor(cluster);
    const informer = new Informer(client, resourcePath(resource), { logger: this.logger.child({ cluster: name, resource: resourceKey(resource) }), resyncPeriodMs: 0 });
    informer.addHandlers({
      onAdd: (object) => this.emit(name, 'ADDED', object),
      onUpdate: (old, object) => this.emit(name, 'MODIFIED', object, old),
      onDelete: (object) => this.emit(name, 'DELETED', object),
    });
    return informer.start();
  }

  private emit(cluster: string, type: MemberEventType, object: KubeObject, old?: KubeObject): void {
    for (const listener of this.listeners) listener(cluster, type, object, old);
  }

  /** Stops and forgets a cluster's informers. */
  async stopCluster(cluster: string): Promise<void> {
    const byResource = this.informers.get(cluster);
    if (!byResource) return;
    this.informers.delete(cluster);
    await Promise.all([...byResource.values()].map(async (informer) => (await informer.catch(() => undefined))?.stop()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all([...this.informers.keys()].map((cluster) => this.stopCluster(cluster)));
  }
}
