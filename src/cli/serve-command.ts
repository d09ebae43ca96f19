import { Command, InvalidArgumentError, Option } from 'commander';
import { JITTER_FACTOR, leaderElectionTimingError } from '../client/leader-election.js';
import { createLogger } from '../log.js';
import { startControlPlane } from '../server/control-plane.js';
import type { ControllerTransport } from '../server/control-plane.js';
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
  /** false with --no-controllers; a list with --controllers. */
  controllers: boolean | string[];
  clusterStatusUpdateFrequency?: number;
  clusterFailureThreshold?: number;
  clusterSuccessThreshold?: number;
  enableFailover?: boolean;
  failoverEvictionTimeout?: number;
  gracefulEvictionTimeout?: number;
  resourceEvictionRate?: number;
  controllerTransport: ControllerTransport;
  leaderElect?: boolean;
  leaderElectLeaseDuration: number;
  leaderElectRenewDeadline: number;
  leaderElectRetryPeriod: number;
}

const positiveDuration = (value: string): number => {
  const ms = parseDuration(value);
  if (ms <= 0) throw new InvalidArgumentError(`"${value}" must be a positive duration (examples: 500ms, 10s, 1m)`);
  return ms;
};

const positiveNumber = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`"${value}" must be a positive number`);
  return n;
};

const collect = (value: string, previous: string[]): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];

/** A Go-style boolean flag value (strconv.ParseBool): 1/t/true or 0/f/false, any case. */
const parseBool = (value: string): boolean => {
  if (/^(1|t|true)$/i.test(value)) return true;
  if (/^(0|f|false)$/i.test(value)) return false;
  throw new InvalidArgumentError(`"${value}" is not a boolean (true or false)`);
};

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
    .addOption(new Option('--controllers <names>', 'controllers to run, comma-separated: * for all, name to enable, -name to disable (e.g. *,-namespace-sync; default *)').argParser((value: string, previous: unknown) => collect(value, Array.isArray(previous) ? (previous as string[]) : [])))
    .addOption(new Option('--no-controllers', 'run no controllers in this process (API server only)'))
    .addOption(new Option('--controller-transport <transport>', 'how the controllers reach this server: https (a client like any other) or in-process (the same requests, authentication and admission without TLS and sockets)').choices(['https', 'in-process']).default('https'))
    .addOption(new Option('--cluster-status-update-frequency <duration>', 'how often member clusters\' health and status are collected (default 10s)').argParser(positiveDuration))
    .addOption(new Option('--cluster-failure-threshold <duration>', 'how long a member must stay unhealthy before its Ready condition turns False (default 30s)').argParser(parseDuration))
    .addOption(new Option('--cluster-success-threshold <duration>', 'how long a member must stay healthy before its Ready condition turns True again (default 30s)').argParser(parseDuration))
    .addOption(new Option('--enable-failover', 'taint clusters unhealthy for --failover-eviction-timeout with NoExecute, so that their workloads move to other clusters (off by default, as in Karmada)'))
    .addOption(new Option('--failover-eviction-timeout <duration>', 'how long a cluster stays unhealthy before failover taints it NoExecute (default 5m)').argParser(positiveDuration))
    .addOption(new Option('--graceful-eviction-timeout <duration>', 'how long an evicted cluster keeps its workloads while the new placement becomes healthy, unless the policy says (default 10m)').argParser(positiveDuration))
    .addOption(new Option('--resource-eviction-rate <n>', 'NoExecute evictions per second (default 0.5)').argParser(positiveNumber))
    .addOption(new Option('--leader-elect [bool]', 'run the controllers only while holding the Lease karmada-system/flotilla-controller-manager, so that several servers can share one etcd (default: true with --etcd-servers; false on the embedded store, which one process owns)').argParser(parseBool))
    .addOption(new Option('--no-leader-elect', 'same as --leader-elect=false'))
    .addOption(new Option('--leader-elect-lease-duration <duration>', 'how long other candidates wait after the leader\'s last renewal before taking the lease').default(15_000, '15s').argParser(positiveDuration))
    .addOption(new Option('--leader-elect-renew-deadline <duration>', 'how long the leader keeps trying to renew before it stops leading; shorter than the lease duration').default(10_000, '10s').argParser(positiveDuration))
    .addOption(new Option('--leader-elect-retry-period <duration>', 'how often candidates try to acquire and the leader renews the lease').default(2_000, '2s').argParser(positiveDuration))
    .action(async (flags: ServeFlags, command: Command) => {
      const leaderElection = {
        enabled: flags.leaderElect ?? flags.etcdServers !== undefined,
        leaseDurationMs: flags.leaderElectLeaseDuration,
        renewDeadlineMs: flags.leaderElectRenewDeadline,
        retryPeriodMs: flags.leaderElectRetryPeriod,
      };
      const runControllers = flags.controllers !== false;
      if (leaderElection.enabled && runControllers && leaderElectionTimingError(leaderElection)) {
        const s = (ms: number) => `${ms / 1000}s`;
        const problem = leaderElection.renewDeadlineMs >= leaderElection.leaseDurationMs
          ? `--leader-elect-renew-deadline (${s(leaderElection.renewDeadlineMs)}) must be shorter than --leader-elect-lease-duration (${s(leaderElection.leaseDurationMs)})`
          : `--leader-elect-renew-deadline (${s(leaderElection.renewDeadlineMs)}) must be longer than ${JITTER_FACTOR} × --leader-elect-retry-period (${s(leaderElection.retryPeriodMs)})`;
        command.error(`error: ${problem}`, { exitCode: 2, code: 'flotilla.invalidArgument' });
      }
      const logger = createLogger({ level: flags.logLevel });
      const plane = await startControlPlane({
        dataDir: flags.dataDir,
        ...(flags.etcdServers ? { etcd: { endpoints: flags.etcdServers.split(',').map((s) => s.trim()).filter(Boolean), keyPrefix: flags.etcdPrefix } } : {}),
        bindAddress: flags.bindAddress,
        port: Number(flags.securePort),
        tlsSans: flags.tlsSan,
        ...(flags.kubeconfigOut !== undefined ? { kubeconfigOut: flags.kubeconfigOut } : {}),
        controllers: runControllers,
        controllerTransport: flags.controllerTransport,
        controllerOptions: {
          ...(Array.isArray(flags.controllers) ? { enabledControllers: flags.controllers } : {}),
          ...(flags.clusterStatusUpdateFrequency !== undefined ? { clusterStatusUpdateFrequencyMs: flags.clusterStatusUpdateFrequency } : {}),
          ...(flags.clusterFailureThreshold !== undefined ? { clusterFailureThresholdMs: flags.clusterFailureThreshold } : {}),
          ...(flags.clusterSuccessThreshold !== undefined ? { clusterSuccessThresholdMs: flags.clusterSuccessThreshold } : {}),
          ...(flags.enableFailover ? { enableFailover: true } : {}),
          ...(flags.failoverEvictionTimeout !== undefined ? { failoverEvictionTimeoutMs: flags.failoverEvictionTimeout } : {}),
          ...(flags.gracefulEvictionTimeout !== undefined ? { gracefulEvictionTimeoutMs: flags.gracefulEvictionTimeout } : {}),
          ...(flags.resourceEvictionRate !== undefined ? { evictionRatePerSecond: flags.resourceEvictionRate } : {}),
        },
        leaderElection,
        logger,
      });
      const { kubeconfigPath } = plane;
      process.stdout.write(`Flotilla API server listening on ${plane.url} (${plane.store.backend} store)\nkubeconfig: ${kubeconfigPath}\ntry: kubectl --kubeconfig ${kubeconfigPath} get namespaces\n`);
      if (plane.leaderElectionIdentity) process.stdout.write(`leader election identity: ${plane.leaderElectionIdentity} (the controllers run while it holds the lease karmada-system/flotilla-controller-manager)\n`);

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
