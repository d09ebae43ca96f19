import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { openStore } from '../../storage/open-store.js';
import type { Store } from '../../storage/types.js';
import { startControllers } from '../controllers/manager.js';
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
 */
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
  readonly logger: Logger;
}

export interface RunningControlPlane {
  readonly url: string;
  readonly kubeconfigPath: string;
  readonly store: Store;
  readonly server: ApiServer;
  /** Graceful: not ready, controllers stopped, connections closed, caches and store closed. */
  stop(): Promise<void>;
}

export async function startControlPlane(options: ControlPlaneOptions): Promise<RunningControlPlane> {
  const { logger } = options;
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
  const controllerCert = await issueClientCertificate(pki, { commonName: 'system:flotilla-controller-manager', organizations: ['system:masters'] });
  const controllers = !options.controllers ? { stop: async () => undefined } : await startControllers({
    rediscoveryMs: 5_000, // new CRDs reach the garbage collector within seconds
    federation: true,
    ...options.controllerOptions,
    server: url,
    caPem: pki.caCertPem,
    certPem: controllerCert.certPem,
    keyPem: controllerCert.keyPem,
    logger: logger.child({ component: 'controllers' }),
  });
  logger.info({ url, store: store.backend, kubeconfig: kubeconfigPath }, 'flotilla API server ready');
  let stopped: Promise<void> | undefined;
  return {
    url,
    kubeconfigPath,
    store,
    server,
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
