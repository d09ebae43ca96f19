import type { Logger } from 'pino';
import { HttpClient } from '../client/client.js';
import type { LocalTransport } from '../client/local-transport.js';
import { SharedInformers } from '../client/controller-loop.js';
import type { Controller } from '../client/controller-loop.js';
import { MemberConnections } from '../federation/member-connection.js';
import { MemberInformers } from '../federation/member-informers.js';
import { BindingController } from './binding-controller.js';
import { BindingStatusController } from './binding-status.js';
import { DependenciesDistributor } from './dependencies-distributor.js';
import { ExecutionController } from './execution-controller.js';
import { GracefulEvictionController } from './graceful-eviction.js';
import { TaintManager } from './taint-manager.js';
import { NamespaceSyncController } from './namespace-sync.js';
import { WorkStatusController } from './work-status.js';
import { ClusterController } from './cluster-controller.js';
import { ClusterStatusController } from './cluster-status.js';
import { GarbageCollector } from './garbage-collector.js';
import { NamespaceController } from './namespace-controller.js';
import { PolicyClaimRelease } from './policy-claim-release.js';
import { ResourceDetector } from './detector/detector.js';
import { BindingScheduler } from './scheduler.js';

/**
 * The controller manager: the built-in controllers, each a client of the API server over HTTPS
 * (DESIGN.md), sharing one keep-alive client with its own identity (the caller issues it a client
 * certificate, e.g. CN=system:flotilla-controller-manager, O=system:masters). One process for now;
 * leader election (a coordination.k8s.io Lease) comes when several replicas do.
 *
 * startControllers returns at once: the controllers discover, list and watch in the background and
 * retry until the server answers, so it may be called as soon as the server listens.
 */
export interface ControllerManagerOptions {
  /** https://host:port of the API server. */
  readonly server: string;
  readonly caPem: string;
  readonly certPem: string;
  readonly keyPem: string;
  /** The API in this process (`--controller-transport in-process`): requests skip TLS and the socket. */
  readonly local?: LocalTransport;
  readonly logger: Logger;
  /** Garbage collector re-discovery period (new CRDs); default 30 s. */
  readonly rediscoveryMs?: number;
  /** Also run the controllers of Karmada's federation API (the server serves it); default false. */
  readonly federation?: boolean;
  /** Federation: how often each member cluster's health and status are collected; default 10 s. */
  readonly clusterStatusUpdateFrequencyMs?: number;
  /** Federation: how long a member must stay unhealthy before its Ready turns False; default 30 s. */
  readonly clusterFailureThresholdMs?: number;
  /** Federation: how long a member must stay healthy before its Ready turns True again; default 30 s. */
  readonly clusterSuccessThresholdMs?: number;
  /**
   * Which controllers run, as kube-controller-manager's and Karmada's `--controllers`: `*` is every
   * controller, `name` enables one, `-name` disables one (`*,-namespace-sync`). Default `*`.
   */
  readonly enabledControllers?: readonly string[];
  /** Federation: add NoExecute taints to clusters unhealthy for failoverEvictionTimeoutMs (`--enable-failover`); default false. */
  readonly enableFailover?: boolean;
  /** Default 5 min. */
  readonly failoverEvictionTimeoutMs?: number;
  /** Grace period of eviction tasks without gracePeriodSeconds; default 10 min. */
  readonly gracefulEvictionTimeoutMs?: number;
  /** Taint manager evictions per second; default 0.5. */
  readonly evictionRatePerSecond?: number;
}

/** kube-controller-manager's rule for `--controllers`: an explicit `-name` or `name` wins, then `*`. */
export function controllerEnabled(name: string, enabled: readonly string[] | undefined): boolean {
  if (enabled === undefined) return true;
  if (enabled.includes(`-${name}`)) return false;
  if (enabled.includes(name)) return true;
  return enabled.includes('*');
}

export interface RunningControllers {
  /** Resolves once the controllers' informers have listed (false if `timeoutMs` passed first). */
  waitForSync(timeoutMs?: number): Promise<boolean>;
  /** Stops every controller and closes the client's connections. */
  stop(): Promise<void>;
}

export const CONTROLLER_MANAGER_USER = 'system:flotilla-controller-manager';

export async function startControllers(options: ControllerManagerOptions): Promise<RunningControllers> {
  const client = new HttpClient({
    server: options.server,
    caPem: options.caPem,
    certPem: options.certPem,
    keyPem: options.keyPem,
    userAgent: 'flotilla-controller-manager/v0.1.0',
    fieldManager: 'flotilla-controller-manager',
    ...(options.local ? { local: options.local } : {}),
  });
  const gc = new GarbageCollector({
    client,
    logger: options.logger.child({ controller: 'garbage-collector' }),
    ...(options.rediscoveryMs !== undefined ? { rediscoveryMs: options.rediscoveryMs } : {}),
  });
  const namespaces = new NamespaceController({ client, logger: options.logger.child({ controller: 'namespace' }) });
  const controllers: Controller[] = [
    { name: 'garbage-collector', start: () => gc.start(), waitForSync: (t) => gc.waitForSync(t), stop: () => gc.stop() },
    { name: 'namespace', start: () => namespaces.start(), waitForSync: (t) => namespaces.waitForSync(t), stop: () => namespaces.stop() },
  ];
  const shared = new SharedInformers({ client, logger: options.logger });
  const connections = new MemberConnections({ client });
  const memberInformers = new MemberInformers({ connections, logger: options.logger.child({ component: 'member-informers' }) });
  if (options.federation) {
    const logger = (controller: string) => options.logger.child({ controller });
    const release = new PolicyClaimRelease({ client, logger: logger('policy-claim-release') });
    controllers.push(release);
    const detector = new ResourceDetector({
      client,
      logger: logger('resource-detector'),
      ...(options.rediscoveryMs !== undefined ? { rediscoveryMs: options.rediscoveryMs } : {}),
    });
    controllers.push({ name: 'resource-detector', start: () => detector.start(), waitForSync: (t) => detector.waitForSync(t), stop: () => detector.stop() });
    const scheduler = new BindingScheduler({ client, logger: logger('scheduler') });
    controllers.push(scheduler);
    const clusters = new ClusterController({
      client,
      logger: logger('cluster'),
      ...(options.enableFailover ? { enableFailover: true } : {}),
      ...(options.failoverEvictionTimeoutMs !== undefined ? { failoverEvictionTimeoutMs: options.failoverEvictionTimeoutMs } : {}),
    });
    controllers.push({ name: 'cluster', start: () => clusters.start(), waitForSync: (t) => clusters.waitForSync(t), stop: () => clusters.stop() });
    const clusterStatus = new ClusterStatusController({
      client,
      logger: logger('cluster-status'),
      connections,
      ...(options.clusterStatusUpdateFrequencyMs !== undefined ? { statusUpdateFrequencyMs: options.clusterStatusUpdateFrequencyMs } : {}),
      ...(options.clusterFailureThresholdMs !== undefined ? { failureThresholdMs: options.clusterFailureThresholdMs } : {}),
      ...(options.clusterSuccessThresholdMs !== undefined ? { successThresholdMs: options.clusterSuccessThresholdMs } : {}),
    });
    controllers.push({ name: 'cluster-status', start: () => clusterStatus.start(), waitForSync: (t) => clusterStatus.waitForSync(t), stop: () => clusterStatus.stop() });
    controllers.push(
      new BindingController({ client, logger: logger('binding'), sharedInformers: shared }),
      new ExecutionController({ client, logger: logger('execution'), connections, memberInformers, sharedInformers: shared }),
      new WorkStatusController({ client, logger: logger('work-status'), memberInformers, sharedInformers: shared }),
      new BindingStatusController({ client, logger: logger('binding-status'), sharedInformers: shared }),
      new NamespaceSyncController({ client, logger: logger('namespace-sync'), sharedInformers: shared }),
      new DependenciesDistributor({ client, logger: logger('dependencies-distributor'), sharedInformers: shared }),
      new TaintManager({ client, logger: logger('taint-manager'), sharedInformers: shared, ...(options.evictionRatePerSecond !== undefined ? { evictionRatePerSecond: options.evictionRatePerSecond } : {}) }),
      new GracefulEvictionController({ client, logger: logger('graceful-eviction'), sharedInformers: shared, ...(options.gracefulEvictionTimeoutMs !== undefined ? { gracefulEvictionTimeoutMs: options.gracefulEvictionTimeoutMs } : {}) }),
    );
  }
  const known = new Set(controllers.map((c) => c.name));
  const unknown = (options.enabledControllers ?? []).map((n) => n.replace(/^-/, '')).filter((n) => n !== '*' && !known.has(n));
  if (unknown.length > 0) options.logger.warn({ unknown, known: [...known] }, 'unknown controller names in --controllers');
  const disabled = controllers.filter((c) => !controllerEnabled(c.name, options.enabledControllers));
  for (const controller of disabled) controllers.splice(controllers.indexOf(controller), 1);
  for (const controller of controllers) controller.start();
  options.logger.info({ server: options.server, controllers: controllers.map((c) => c.name), disabled: disabled.map((c) => c.name) }, 'controllers started');

  let stopping: Promise<void> | undefined;
  return {
    async waitForSync(timeoutMs = 30_000) {
      const synced = await Promise.all(controllers.map((c) => c.waitForSync(timeoutMs)));
      return synced.every(Boolean);
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all(controllers.map((c) => c.stop()));
        await memberInformers.stop();
        await shared.stop();
        connections.close();
        client.close();
      })();
      return stopping;
    },
  };
}
