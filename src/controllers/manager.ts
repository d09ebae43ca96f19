import type { Logger } from 'pino';
import { HttpClient } from '../client/client.js';
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
  });
  const gc = new GarbageCollector({
    client,
    logger: options.logger.child({ controller: 'garbage-collector' }),
    ...(options.rediscoveryMs !== undefined ? { rediscoveryMs: options.rediscoveryMs } : {}),
  });
  const namespaces = new NamespaceController({ client, logger: options.logger.child({ controller: 'namespace' }) });
  const controllers: { name: string; start(): void; waitForSync(timeoutMs?: number): Promise<boolean>; stop(): Promise<void> }[] = [
    { name: 'garbage-collector', start: () => gc.start(), waitForSync: (t) => gc.waitForSync(t), stop: () => gc.stop() },
    { name: 'namespace', start: () => namespaces.start(), waitForSync: (t) => namespaces.waitForSync(t), stop: () => namespaces.stop() },
  ];
  if (options.federation) {
    const release = new PolicyClaimRelease({ client, logger: options.logger.child({ controller: 'policy-claim-release' }) });
    controllers.push({ name: 'policy-claim-release', start: () => release.start(), waitForSync: (t) => release.waitForSync(t), stop: () => release.stop() });
    const detector = new ResourceDetector({
      client,
      logger: options.logger.child({ controller: 'resource-detector' }),
      ...(options.rediscoveryMs !== undefined ? { rediscoveryMs: options.rediscoveryMs } : {}),
    });
    controllers.push({ name: 'resource-detector', start: () => detector.start(), waitForSync: (t) => detector.waitForSync(t), stop: () => detector.stop() });
    const scheduler = new BindingScheduler({ client, logger: options.logger.child({ controller: 'scheduler' }) });
    controllers.push({ name: 'scheduler', start: () => scheduler.start(), waitForSync: (t) => scheduler.waitForSync(t), stop: () => scheduler.stop() });
    const clusters = new ClusterController({ client, logger: options.logger.child({ controller: 'cluster' }) });
    controllers.push({ name: 'cluster', start: () => clusters.start(), waitForSync: (t) => clusters.waitForSync(t), stop: () => clusters.stop() });
    const clusterStatus = new ClusterStatusController({
      client,
      logger: options.logger.child({ controller: 'cluster-status' }),
      ...(options.clusterStatusUpdateFrequencyMs !== undefined ? { statusUpdateFrequencyMs: options.clusterStatusUpdateFrequencyMs } : {}),
      ...(options.clusterFailureThresholdMs !== undefined ? { failureThresholdMs: options.clusterFailureThresholdMs } : {}),
      ...(options.clusterSuccessThresholdMs !== undefined ? { successThresholdMs: options.clusterSuccessThresholdMs } : {}),
    });
    controllers.push({ name: 'cluster-status', start: () => clusterStatus.start(), waitForSync: (t) => clusterStatus.waitForSync(t), stop: () => clusterStatus.stop() });
  }
  for (const controller of controllers) controller.start();
  options.logger.info({ server: options.server, controllers: controllers.map((c) => c.name) }, 'controllers started');

  let stopping: Promise<void> | undefined;
  return {
    async waitForSync(timeoutMs = 30_000) {
      const synced = await Promise.all(controllers.map((c) => c.waitForSync(timeoutMs)));
      return synced.every(Boolean);
    },
    stop() {
      stopping ??= (async () => {
        await Promise.all(controllers.map((c) => c.stop()));
        client.close();
      })();
      return stopping;
    },
  };
}
