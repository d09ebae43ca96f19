import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { openStore } from '../../storage/open-store.js';
import type { Store } from '../../storage/types.js';
import { HttpClient } from '../client/client.js';
import { DEFAULT_LEASE_DURATION_MS, DEFAULT_RENEW_DEADLINE_MS, DEFAULT_RETRY_PERIOD_MS, LeaderElector, leaderElectionTimingError } from '../client/leader-election.js';
import { CONTROLLER_MANAGER_USER, startControllers } from '../controllers/manager.js';
import type { ControllerManagerOptions } from '../controllers/manager.js';
import { KARMADA_API } from '../karmada/api.js';
import { ensurePki, issueClientCertificate } from './pki.js';
import { writeKubeconfig } from './kubeconfig.js';
import { buildServer } from './server.js';
import type { ApiServer } from './server.js';

/**
 * The Flotilla control plane in one process: the API server (Kubernetes API + Karmada's federation
 * API) over the embedded store or etcd, its PKI and admin kubeconfig, and the controllers (clients of
 * the API with their own identity). `flotilla serve` and `flotilla up` start it this way.
 *
 * Several control planes may serve one etcd; the controllers must then run in only one of them. On
 * etcd, by default, they run only while this process holds the Lease karmada-system/flotilla-controller-manager
 * (leader election as kube-controller-manager does it, with the controllers' own identity): on losing
 * it they are stopped — and awaited — and the process becomes a candidate again; stop() releases it
 * so that another replica takes over at once.
 */
export const CONTROLLER_MANAGER_LEASE = { namespace: 'karmada-system', name: 'flotilla-controller-manager' } as const;

/** kube-controller-manager's --leader-elect* settings. */
export interface LeaderElectionSettings {
  /** false: run the controllers unconditionally (one control plane per store). */
  readonly enabled: boolean;
  /** Default 15 s. */
  readonly leaseDurationMs?: number;
  /** Default 10 s; shorter than the lease duration. */
  readonly renewDeadlineMs?: number;
  /** Default 2 s. */
  readonly retryPeriodMs?: number;
}

export type ControllerTransport = 'https' | 'in-process';

export interface ControlPlaneOptions {
  readonly dataDir: string;
  readonly etcd?: { readonly endpoints: readonly string[]; readonly keyPrefix: string };
  readonly bindAddress: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly tlsSans?: readonly string[];
  /** Default <dataDir>/admin.kubeconfig. */
  readonly kubeconfigOut?: string;
  /** false: run no controllers in this process. */
  readonly controllers: boolean;
  /** Controller settings beyond the connection (cluster status intervals, …). */
  readonly controllerOptions?: Partial<Omit<ControllerManagerOptions, 'server' | 'caPem' | 'certPem' | 'keyPem' | 'logger'>>;
  /** How the controllers reach this server's API: over HTTPS (default) or in-process (`--controller-transport`). */
  readonly controllerTransport?: ControllerTransport;
  /** Run the controllers only while holding the controller manager's Lease; default enabled on etcd (an embedded store has one process). */
  readonly leaderElection?: LeaderElectionSettings;
  readonly logger: Logger;
}

export interface RunningControlPlane {
  readonly url: string;
  readonly kubeconfigPath: string;
  readonly store: Store;
  readonly server: ApiServer;
  /** This process' identity in the controller manager's Lease (holderIdentity while it leads); absent without leader election. */
  readonly leaderElectionIdentity?: string;
  /** Whether the controllers run in this process now (always, without leader election; never, without controllers). */
  isLeader(): boolean;
  /** Graceful: not ready, controllers stopped and the lease released, connections closed, caches and store closed. */
  stop(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<RunningControlPlane> {
  const { logger } = options;
  const election = {
    enabled: options.leaderElection?.enabled ?? options.etcd !== undefined,
    leaseDurationMs: options.leaderElection?.leaseDurationMs ?? DEFAULT_LEASE_DURATION_MS,
    renewDeadlineMs: options.leaderElection?.renewDeadlineMs ?? DEFAULT_RENEW_DEADLINE_MS,
    retryPeriodMs: options.leaderElection?.retryPeriodMs ?? DEFAULT_RETRY_PERIOD_MS,
  };
  if (options.controllers && election.enabled) {
    const problem = leaderElectionTimingError(election);
    if (problem) throw new Error(`leader election: ${problem}`);
  }
  const dataDir = resolve(options.dataDir);
  const store = await openStore(
    options.etcd ? { backend: 'etcd', endpoints: [...options.etcd.endpoints], keyPrefix: options.etcd.keyPrefix } : { backend: 'embedded', dataDir: join(dataDir, 'store') },
    logger.child({ component: 'store' }),
  );
  const wildcard = options.bindAddress === '0.0.0.0' || options.bindAddress === '::';
  const sans = ['localhost', '127.0.0.1', '::1', ...(!wildcard ? [options.bindAddress] : []), ...(options.tlsSans ?? [])];
  const pki = await ensurePki(join(dataDir, 'pki'), { sans });
  const server = await buildServer({ store, pki, logger, extensions: [KARMADA_API] });
  await server.app.listen({ host: options.bindAddress, port: options.port });
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = wildcard ? '127.0.0.1' : options.bindAddress;
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const kubeconfigPath = resolve(options.kubeconfigOut ?? join(dataDir, 'admin.kubeconfig'));
  await writeKubeconfig(kubeconfigPath, { server: url, caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem });
  const controllerCert = await issueClientCertificate(pki, { commonName: CONTROLLER_MANAGER_USER, organizations: ['system:masters'] });
  const controllerManagerOptions: ControllerManagerOptions = {
    rediscoveryMs: 5_000, // new CRDs reach the garbage collector within seconds
    federation: true,
    ...options.controllerOptions,
    server: url,
    caPem: pki.caCertPem,
    certPem: controllerCert.certPem,
    keyPem: controllerCert.keyPem,
    // The controller manager's identity, as its certificate states it.
    ...(options.controllerTransport === 'in-process' ? { local: server.localTransport({ name: CONTROLLER_MANAGER_USER, groups: ['system:masters', 'system:authenticated'] }) } : {}),
    logger: logger.child({ component: 'controllers' }),
  };
  let controllers: { identity?: string; isLeader(): boolean; stop(): Promise<void> };
  if (!options.controllers) {
    controllers = { isLeader: () => false, stop: async () => undefined };
  } else if (!election.enabled) {
    const running = await startControllers(controllerManagerOptions);
    controllers = { isLeader: () => true, stop: () => running.stop() };
  } else {
    // The elector writes the Lease as the controller manager (same certificate, its own connections).
    const electionClient = new HttpClient({
      server: url,
      caPem: pki.caCertPem,
      certPem: controllerCert.certPem,
      keyPem: controllerCert.keyPem,
      userAgent: 'flotilla-controller-manager/v0.1.0 (leader-election)',
      fieldManager: 'flotilla-controller-manager',
      requestTimeoutMs: election.renewDeadlineMs,
    });
    const identity = `${hostname()}_${randomUUID()}`;
    const elector = new LeaderElector({
      client: electionClient,
      ...CONTROLLER_MANAGER_LEASE,
      identity,
      leaseDurationMs: election.leaseDurationMs,
      renewDeadlineMs: election.renewDeadlineMs,
      retryPeriodMs: election.retryPeriodMs,
      logger: logger.child({ component: 'leader-election' }),
      metricsRegistry: server.metrics.registry,
      // Runs the controllers until leadership ends, then stops them; the elector waits for that
      // before it releases the lease or competes for it again.
      onStartedLeading: async (signal) => {
        const running = await startControllers(controllerManagerOptions);
        if (!signal.aborted) await new Promise<void>((done) => signal.addEventListener('abort', () => done(), { once: true }));
        await running.stop();
        logger.info({ component: 'leader-election' }, 'controllers stopped');
      },
    });
    elector.start();
    controllers = {
      identity,
      isLeader: () => elector.isLeader(),
      stop: async () => {
        await elector.stop();
        electionClient.close();
      },
    };
  }
  logger.info({ url, store: store.backend, kubeconfig: kubeconfigPath, leaderElection: options.controllers && election.enabled }, 'flotilla API server ready');
  let stopped: Promise<void> | undefined;
  return {
    url,
    kubeconfigPath,
    store,
    server,
    ...(controllers.identity !== undefined ? { leaderElectionIdentity: controllers.identity } : {}),
    isLeader: () => controllers.isLeader(),
    stop() {
      stopped ??= (async () => {
        server.stopAccepting();
        await controllers.stop();
        await server.app.close();
        server.objects.stopCaches();
        await store.close();
      })();
      return stopped;
    },
  };
}
