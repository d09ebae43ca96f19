import type { Socket } from 'node:net';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import { openStore } from '../../storage/open-store.js';
import type { Store } from '../../storage/types.js';
import { HttpClient } from '../client/client.js';
import { startControllers } from '../controllers/manager.js';
import type { RunningControllers } from '../controllers/manager.js';
import { ensurePki, issueClientCertificate } from '../server/pki.js';
import { writeKubeconfig } from '../server/kubeconfig.js';
import { buildServer } from '../server/server.js';
import type { ApiServer } from '../server/server.js';
import { startSimulator } from './simulator/index.js';
import type { RunningSimulator } from './simulator/index.js';

/**
 * One simulated member cluster: our own API server (embedded store, own CA, admin kubeconfig, the
 * Kubernetes kinds a member has — no federation API), its garbage collector and namespace
 * controller, and the simulator in place of kubelets, the scheduler and the workload controllers.
 * Faults for tests and demos: pause (every connection from outside is dropped, as if the network to
 * the machine went away; inside, the cluster keeps running), NotReady (/readyz answers 500 and the
 * nodes turn NotReady), node removal.
 */
export interface MemberOptions {
  readonly name: string;
  /** The member's own data dir (store, pki, kubeconfig). */
  readonly dataDir: string;
  readonly bindAddress: string;
  /** HTTPS port; 0 picks a free one. */
  readonly port: number;
  /** Default <dataDir>/admin.kubeconfig. */
  readonly kubeconfigOut?: string;
  readonly tlsSans?: readonly string[];
  readonly nodes: { readonly count: number; readonly cpu: string; readonly memory: string; readonly pods: number };
  readonly podStartDelayMs?: number;
  readonly logger: Logger;
}

export interface RunningMember {
  readonly name: string;
  readonly url: string;
  readonly kubeconfigPath: string;
  readonly paused: boolean;
  readonly ready: boolean;
  /** Stop answering: open connections are dropped and new ones closed at once. */
  pause(): void;
  resume(): void;
  /** Ready: /readyz passes and nodes are Ready; not ready: /readyz answers 500 and nodes turn NotReady. */
  setReady(ready: boolean): Promise<void>;
  removeNodes(count: number): Promise<string[]>;
  stop(): Promise<void>;
}

export async function startMember(options: MemberOptions): Promise<RunningMember> {
  const dataDir = resolve(options.dataDir);
  const logger = options.logger.child({ member: options.name });
  const host = options.bindAddress === '0.0.0.0' || options.bindAddress === '::' ? '127.0.0.1' : options.bindAddress;
  const sans = ['localhost', '127.0.0.1', '::1', ...(host !== '127.0.0.1' ? [host] : []), ...(options.tlsSans ?? [])];
  const pki = await ensurePki(join(dataDir, 'pki'), { sans });
  const store: Store = await openStore({ backend: 'embedded', dataDir: join(dataDir, 'store') }, logger.child({ component: 'store' }));
  let server: ApiServer | undefined;
  let controllers: RunningControllers | undefined;
  let simulator: RunningSimulator | undefined;
  let client: HttpClient | undefined;
  try {
    server = await buildServer({ store, pki, logger: logger.child({ component: 'apiserver' }) });
    let paused = false;
    const sockets = new Set<Socket>();
    server.app.server.on('secureConnection', (socket: Socket) => {
      if (paused) {
        socket.destroy();
        return;
      }
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    await server.app.listen({ host: options.bindAddress, port: options.port });
    const address = server.app.server.address();
    const port = typeof address === 'object' && address ? address.port : options.port;
    const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
    const kubeconfigPath = resolve(options.kubeconfigOut ?? join(dataDir, 'admin.kubeconfig'));
    await writeKubeconfig(kubeconfigPath, { server: url, caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem, clusterName: options.name, contextName: options.name });

    const controllerCert = await issueClientCertificate(pki, { commonName: 'system:flotilla-controller-manager', organizations: ['system:masters'] });
    // The member's own controllers and its workload simulator live in its process: they reach its
    // API in-process (TLS and sockets are for the control plane and kubectl). A paused member
    // keeps running inside, as a cluster cut off from its control plane does.
    controllers = await startControllers({
      server: url,
      caPem: pki.caCertPem,
      certPem: controllerCert.certPem,
      keyPem: controllerCert.keyPem,
      local: server.localTransport({ name: 'system:flotilla-controller-manager', groups: ['system:masters', 'system:authenticated'] }),
      logger: logger.child({ component: 'controllers' }),
      rediscoveryMs: 30_000,
    });
    client = new HttpClient({
      server: url,
      userAgent: 'flotilla-member-simulator/v0.1.0',
      fieldManager: 'flotilla-member-simulator',
      local: server.localTransport({ name: 'system:flotilla-member-simulator', groups: ['system:masters', 'system:authenticated'] }),
    });
    simulator = await startSimulator({
      client,
      logger: logger.child({ component: 'simulator' }),
      nodes: options.nodes,
      ...(options.podStartDelayMs !== undefined ? { podStartDelayMs: options.podStartDelayMs } : {}),
    });
    const running = { server, controllers, simulator, client };
    let ready = true;
    let stopped: Promise<void> | undefined;
    return {
      name: options.name,
      url,
      kubeconfigPath,
      get paused() {
        return paused;
      },
      get ready() {
        return ready;
      },
      pause() {
        paused = true;
        for (const socket of sockets) socket.destroy();
        sockets.clear();
        logger.info('member paused');
      },
      resume() {
        paused = false;
        logger.info('member resumed');
      },
      async setReady(value) {
        ready = value;
        running.server.setReady(value);
        await running.simulator.setNodesReady(value);
        logger.info({ ready: value }, 'member readiness set');
      },
      removeNodes: (count) => running.simulator.removeNodes(count),
      stop() {
        stopped ??= (async () => {
          paused = false;
          running.server.stopAccepting();
          await running.simulator.stop();
          await running.controllers.stop();
          running.client.close();
          await running.server.app.close();
          running.server.objects.stopCaches();
          await store.close();
        })();
        return stopped;
      },
    };
  } catch (err) {
    await simulator?.stop().catch(() => undefined);
    await controllers?.stop().catch(() => undefined);
    client?.close();
    if (server) {
      await server.app.close().catch(() => undefined);
      server.objects.stopCaches();
    }
    await store.close().catch(() => undefined);
    throw err;
  }
}
