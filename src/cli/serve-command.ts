import { Command, Option } from 'commander';
import { join, resolve } from 'node:path';
import { openStore } from '../../storage/open-store.js';
import { createLogger } from '../log.js';
import { ensurePki, issueClientCertificate } from '../server/pki.js';
import { startControllers } from '../controllers/manager.js';
import { writeKubeconfig } from '../server/kubeconfig.js';
import { KARMADA_API } from '../karmada/api.js';
import { buildServer } from '../server/server.js';

/**
 * `flotilla serve`: the kube-compatible API server. Embedded store in --data-dir by default, etcd
 * with --etcd-servers. HTTPS always: a CA, serving and admin certificates are generated on first
 * start, and an admin kubeconfig is written for kubectl.
 */
interface ServeFlags {
  dataDir: string;
  etcdServers?: string;
  etcdPrefix: string;
  bindAddress: string;
  securePort: string;
  tlsSan: string[];
  kubeconfigOut?: string;
  logLevel: string;
  controllers: boolean;
}

const collect = (value: string, previous: string[]): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

export function serveCommand(): Command {
  return new Command('serve')
    .description('run the Kubernetes-compatible API server (embedded store by default, or etcd)')
    .addOption(new Option('--data-dir <dir>', 'where the embedded store, certificates and kubeconfig live').default('.flotilla').env('FLOTILLA_DATA_DIR'))
    .addOption(new Option('--etcd-servers <urls>', 'comma-separated etcd endpoints; use etcd instead of the embedded store').env('FLOTILLA_ETCD_SERVERS'))
    .addOption(new Option('--etcd-prefix <prefix>', 'key prefix in etcd (several servers can share one etcd)').default(''))
    .addOption(new Option('--bind-address <ip>', 'address to listen on').default('127.0.0.1'))
    .addOption(new Option('--secure-port <port>', 'HTTPS port (0 picks a free one)').default('6443'))
    .addOption(new Option('--tls-san <names>', 'extra DNS names / IPs for the serving certificate (repeatable)').default([]).argParser(collect))
    .addOption(new Option('--kubeconfig-out <file>', 'where to write the admin kubeconfig (default <data-dir>/admin.kubeconfig)'))
    .addOption(new Option('--log-level <level>', 'log level').default('info').env('FLOTILLA_LOG_LEVEL'))
    .addOption(new Option('--no-controllers', 'do not run the garbage collector and namespace controller in this process'))
    .action(async (flags: ServeFlags) => {
      const logger = createLogger({ level: flags.logLevel });
      const dataDir = resolve(flags.dataDir);
      const store = await openStore(
        flags.etcdServers
          ? { backend: 'etcd', endpoints: flags.etcdServers.split(',').map((s) => s.trim()).filter(Boolean), keyPrefix: flags.etcdPrefix }
          : { backend: 'embedded', dataDir: join(dataDir, 'store') },
        logger.child({ component: 'store' }),
      );
      const sans = ['localhost', '127.0.0.1', '::1', ...(flags.bindAddress !== '0.0.0.0' && flags.bindAddress !== '::' ? [flags.bindAddress] : []), ...flags.tlsSan];
      const pki = await ensurePki(join(dataDir, 'pki'), { sans });
      const server = await buildServer({ store, pki, logger, extensions: [KARMADA_API] });
      await server.app.listen({ host: flags.bindAddress, port: Number(flags.securePort) });
      const address = server.app.server.address();
      const port = typeof address === 'object' && address ? address.port : Number(flags.securePort);
      const host = flags.bindAddress === '0.0.0.0' || flags.bindAddress === '::' ? '127.0.0.1' : flags.bindAddress;
      const kubeconfigPath = resolve(flags.kubeconfigOut ?? join(dataDir, 'admin.kubeconfig'));
      await writeKubeconfig(kubeconfigPath, {
        server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
        caPem: pki.caCertPem,
        clientCertPem: pki.adminCertPem,
        clientKeyPem: pki.adminKeyPem,
      });
      // The garbage collector and namespace controller: clients of the API with their own identity.
      const controllerCert = await issueClientCertificate(pki, { commonName: 'system:flotilla-controller-manager', organizations: ['system:masters'] });
      const controllers = !flags.controllers ? { stop: async () => undefined } : await startControllers({
        server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
        caPem: pki.caCertPem,
        certPem: controllerCert.certPem,
        keyPem: controllerCert.keyPem,
        logger: logger.child({ component: 'controllers' }),
        rediscoveryMs: 5_000, // new CRDs reach the garbage collector within seconds
        federation: true,
      });
      logger.info({ address: `${host}:${port}`, store: store.backend, kubeconfig: kubeconfigPath }, 'flotilla API server ready');
      process.stdout.write(`Flotilla API server listening on https://${host}:${port} (${store.backend} store)\nkubeconfig: ${kubeconfigPath}\ntry: kubectl --kubeconfig ${kubeconfigPath} get namespaces\n`);

      let stopping = false;
      const stop = async (signal: string): Promise<void> => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        server.stopAccepting();
        await controllers.stop();
        const deadline = setTimeout(() => process.exit(1), 10_000);
        deadline.unref();
        await server.app.close();
        server.objects.stopCaches();
        await store.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}
