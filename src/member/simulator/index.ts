import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { ApiClient } from '../../client/client.js';
import { Informer } from '../../client/informer.js';
import { CacheIndex } from '../../client/cache-index.js';
import type { Controller, ResourceName, SimContext } from './controller.js';
import { RESOURCES, pathOf } from './controller.js';
import { DaemonSetController } from './daemonset-controller.js';
import { DeploymentController } from './deployment-controller.js';
import { JobController } from './job-controller.js';
import { Kubelet } from './kubelet.js';
import { NodeManager } from './nodes.js';
import { controllerRef } from './pods.js';
import { ReplicaSetController } from './replicaset-controller.js';
import { Scheduler } from './scheduler.js';
import { StatefulSetController } from './statefulset-controller.js';
import type { Pod } from './types.js';

/**
 * The member-cluster simulator: what runs beside a member's API server in place of kubelets,
 * kube-scheduler and kube-controller-manager's workload controllers. Every part is a client of the
 * API (one ApiClient, one shared informer per resource, secondary indexes over them) and reconciles
 * level-based, so a restart on an existing data dir adopts whatever is there:
 *  - nodes.ts — registers `count` nodes and plays their readiness;
 *  - scheduler.ts — binds pending pods to nodes that fit;
 *  - kubelet.ts — runs bound pods (Pending → Running, Job pods → Succeeded), pod IPs, pod GC;
 *  - deployment-, replicaset-, statefulset-, daemonset-, job-controller.ts — kube's workload controllers.
 * Deleting a workload relies on the API server's garbage collector (ownerReferences with controller
 * and blockOwnerDeletion).
 */
export interface SimulatorOptions {
  readonly client: ApiClient;
  readonly logger: Logger;
  readonly nodes: { readonly count: number; readonly cpu: string; readonly memory: string; readonly pods: number; readonly namePrefix?: string };
  /** Delay between a pod being bound and it being Running/Ready; default 1000 ms. */
  readonly podStartDelayMs?: number;
}

export interface RunningSimulator {
  waitForSync(timeoutMs?: number): Promise<boolean>;
  /** Marks every node Ready=True or Ready=False/Unknown (kubelet stopped posting). */
  setNodesReady(ready: boolean): Promise<void>;
  /** Deletes `count` nodes (highest names first) and returns their names; their pods are deleted too. */
  removeNodes(count: number): Promise<string[]>;
  stop(): Promise<void>;
}

/** Workload informers re-deliver everything this often so missed edges heal (pods and nodes do not resync). */
const WORKLOAD_RESYNC_MS = 300_000;

export async function startSimulator(options: SimulatorOptions): Promise<RunningSimulator> {
  const abort = new AbortController();
  setMaxListeners(0, abort.signal);
  const logger = options.logger;
  const informer = (resource: ResourceName, resync: number) =>
    new Informer(options.client, pathOf(resource, undefined), { signal: abort.signal, logger, ...(resync > 0 ? { resyncPeriodMs: resync } : {}) });
  const informers: Record<ResourceName, Informer> = {
    nodes: informer('nodes', 0),
    pods: informer('pods', 0),
    deployments: informer('deployments', WORKLOAD_RESYNC_MS),
    replicasets: informer('replicasets', WORKLOAD_RESYNC_MS),
    statefulsets: informer('statefulsets', WORKLOAD_RESYNC_MS),
    daemonsets: informer('daemonsets', WORKLOAD_RESYNC_MS),
    jobs: informer('jobs', WORKLOAD_RESYNC_MS),
  };
  const ownerUid = (object: { metadata: { ownerReferences?: { controller?: boolean; uid: string }[] } }) => {
    const ref = controllerRef(object as Pod);
    return ref ? [ref.uid] : [];
  };
  const orphanNamespace = (object: Pod) => (controllerRef(object) || !object.metadata.namespace ? [] : [object.metadata.namespace]);
  const ctx: SimContext = {
    client: options.client,
    logger,
    signal: abort.signal,
    informers,
    podsByOwner: new CacheIndex(informers.pods, ownerUid),
    orphanPodsByNamespace: new CacheIndex(informers.pods, orphanNamespace),
    podsByNode: new CacheIndex(informers.pods, (pod) => {
      const node = (pod as Pod).spec?.nodeName;
      return node ? [node] : [];
    }),
    replicaSetsByOwner: new CacheIndex(informers.replicasets, ownerUid),
    orphanReplicaSetsByNamespace: new CacheIndex(informers.replicasets, orphanNamespace),
    podStartDelayMs: Math.max(0, options.podStartDelayMs ?? 1000),
  };

  const nodes = new NodeManager(ctx, options.nodes);
  // Nodes first, so the first scheduling cycle already sees them.
  await nodes.ensure();

  const controllers: Controller[] = [
    new Scheduler(ctx),
    new Kubelet(ctx),
    new ReplicaSetController(ctx),
    new DeploymentController(ctx),
    new StatefulSetController(ctx),
    new DaemonSetController(ctx),
    new JobController(ctx),
  ];
  for (const inf of Object.values(informers)) inf.start();
  for (const controller of controllers) controller.start();
  logger.info({ nodes: nodes.names, resources: Object.keys(RESOURCES) }, 'simulator started');

  let stopping: Promise<void> | undefined;
  return {
    async waitForSync(timeoutMs = 30_000) {
      const synced = await Promise.all(Object.values(informers).map((inf) => inf.waitForSync(timeoutMs)));
      return synced.every(Boolean);
    },
    async setNodesReady(ready) {
      await nodes.setReady(ready);
      logger.info({ ready }, 'nodes readiness set');
    },
    removeNodes: (count) => nodes.remove(count),
    stop() {
      stopping ??= (async () => {
        abort.abort();
        await Promise.all(controllers.map((c) => c.stop()));
        await Promise.all(Object.values(informers).map((inf) => inf.stop()));
        logger.info('simulator stopped');
      })();
      return stopping;
    },
  };
}
