import { Command, InvalidArgumentError, Option } from 'commander';
import { createLogger } from '../log.js';
import { startControlPlane } from '../server/control-plane.js';
import { parseDuration } from './duration.js';

/**
 * `flotilla serve`: the control plane — the kube-compatible API server with Karmada's federation API
 * and the controllers. Embedded store in --data-dir by default, etcd with --etcd-servers. HTTPS
 * always: a CA, serving and admin certificates are generated on first start, and an admin
 * kubeconfig is written for kubectl.
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
  clusterStatusUpdateFrequency?: number;
  clusterFailureThreshold?: number;
  clusterSuccessThreshold?: number;
}

const positiveDuration = (value: string): number => {
  const ms = parseDuration(value);
  if (ms <= 0) throw new InvalidArgumentError(`"${value}" must be a positive duration (examples: 500ms, 10s, 1m)`);
  return ms;
};

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
    .addOption(new Option('--cluster-status-update-frequency <duration>', 'how often member clusters\' health and status are collected (default 10s)').argParser(positiveDuration))
    .addOption(new Option('--cluster-failure-threshold <duration>', 'how long a member must stay unhealthy before its Ready condition turns False (default 30s)').argParser(parseDuration))
    .addOption(new Option('--cluster-success-threshold <duration>', 'how long a member must stay healthy before its Ready condition turns True again (default 30s)').argParser(parseDuration))
    .action(async (flags: ServeFlags) => {
      const logger = createLogger({ level: flags.logLevel });
      const plane = await startControlPlane({
        dataDir: flags.dataDir,
        ...(flags.etcdServers ? { etcd: { endpoints: flags.etcdServers.split(',').map((s) => s.trim()).filter(Boolean), keyPrefix: flags.etcdPrefix } } : {}),
        bindAddress: flags.bindAddress,
        port: Number(flags.securePort),
        tlsSans: flags.tlsSan,
        ...(flags.kubeconfigOut !== undefined ? { kubeconfigOut: flags.kubeconfigOut } : {}),
        controllers: flags.controllers,
        controllerOptions: {
          ...(flags.clusterStatusUpdateFrequency !== undefined ? { clusterStatusUpdateFrequencyMs: flags.clusterStatusUpdateFrequency } : {}),
          ...(flags.clusterFailureThreshold !== undefined ? { clusterFailureThresholdMs: flags.clusterFailureThreshold } : {}),
          ...(flags.clusterSuccessThreshold !== undefined ? { clusterSuccessThresholdMs: flags.clusterSuccessThreshold } : {}),
        },
        logger,
      });
      const { kubeconfigPath } = plane;
      process.stdout.write(`Flotilla API server listening on ${plane.url} (${plane.store.backend} store)\nkubeconfig: ${kubeconfigPath}\ntry: kubectl --kubeconfig ${kubeconfigPath} get namespaces\n`);

      let stopping = false;
      const stop = async (signal: string): Promise<void> => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        const deadline = setTimeout(() => process.exit(1), 10_000);
        deadline.unref();
        await plane.stop();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}
