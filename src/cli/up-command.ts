import { Command, InvalidArgumentError, Option } from 'commander';
import { join, resolve } from 'node:path';
import { createLogger } from '../log.js';
import { startControlPlane } from '../server/control-plane.js';
import type { ControllerTransport, RunningControlPlane } from '../server/control-plane.js';
import { startMember } from '../member/member.js';
import type { RunningMember } from '../member/member.js';
import { startAdminServer } from '../member/admin-server.js';
import { parseDuration } from './duration.js';
import { joinCluster } from './join-command.js';
import { positiveInt } from './member-command.js';

/**
 * `flotilla up`: the quickstart. In one process tree: the control plane (embedded store) and three
 * simulated members joined as member1..member3 in different regions. The data dir and ports are
 * stable, so a second start reuses everything (members already joined stay joined). Ctrl-C stops it all.
 */
interface UpFlags {
  dataDir: string;
  securePort: number;
  members: number;
  nodes: number;
  adminPort: number;
  logLevel: string;
  clusterStatusUpdateFrequency?: number;
  clusterFailureThreshold?: number;
  clusterSuccessThreshold?: number;
  enableFailover?: boolean;
  failoverEvictionTimeout?: number;
  gracefulEvictionTimeout?: number;
  controllerTransport: ControllerTransport;
}

/** Where the quickstart's members live: provider, region, zone and a location label (used by Karmada's image-override sample). */
const PLACES = [
  { region: 'us-east-1', zone: 'us-east-1a', location: 'us' },
  { region: 'cn-north-1', zone: 'cn-north-1a', location: 'cn' },
  { region: 'eu-west-1', zone: 'eu-west-1a', location: 'eu' },
] as const;

const positiveDuration = (value: string): number => {
  const ms = parseDuration(value);
  if (ms <= 0) throw new InvalidArgumentError(`"${value}" must be a positive duration (examples: 500ms, 10s, 1m)`);
  return ms;
};

const port = (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidArgumentError('must be a port number');
  return n;
};

export function upCommand(): Command {
  return new Command('up')
    .description('quickstart: the control plane plus three simulated members, joined and Ready')
    .addOption(new Option('--data-dir <dir>', 'data dir of the control plane; members live in <data-dir>/members').default('.flotilla').env('FLOTILLA_DATA_DIR'))
    .addOption(new Option('--secure-port <port>', 'control plane HTTPS port; members use the next ones').default(6443).argParser(port))
    .addOption(new Option('--members <n>', 'how many members').default(3).argParser((v) => {
      const n = Number(v);
      if (!Number.isInteger(n) || n < 1 || n > 20) throw new InvalidArgumentError('must be 1..20');
      return n;
    }))
    .addOption(new Option('--nodes <n>', 'nodes per member').default(3).argParser(positiveInt(1)))
    .addOption(new Option('--admin-port <port>', 'loopback port of the members\' fault-injection endpoint').default(6400).argParser(port))
    .addOption(new Option('--log-level <level>', 'log level (logs go to stderr)').default('warn').env('FLOTILLA_LOG_LEVEL'))
    // As `flotilla serve`: by default a paused member turns Ready=False within ~40 s (10 s + 30 s); e.g. 1s/3s/3s for a quick demo.
    .addOption(new Option('--cluster-status-update-frequency <duration>', 'how often member clusters\' health and status are collected (default 10s)').argParser(positiveDuration))
    .addOption(new Option('--cluster-failure-threshold <duration>', 'how long a member must stay unhealthy before its Ready condition turns False (default 30s)').argParser(parseDuration))
    .addOption(new Option('--cluster-success-threshold <duration>', 'how long a member must stay healthy before its Ready condition turns True again (default 30s)').argParser(parseDuration))
    .addOption(new Option('--enable-failover', 'as `flotilla serve`: move workloads off clusters unhealthy for --failover-eviction-timeout'))
    .addOption(new Option('--failover-eviction-timeout <duration>', 'how long a cluster stays unhealthy before failover taints it NoExecute (default 5m)').argParser(positiveDuration))
    .addOption(new Option('--graceful-eviction-timeout <duration>', 'how long an evicted cluster keeps its workloads while the new placement becomes healthy (default 10m)').argParser(positiveDuration))
    .addOption(new Option('--controller-transport <transport>', 'as `flotilla serve`: how the controllers reach the API (https or in-process)').choices(['https', 'in-process']).default('https'))
    .action(async (flags: UpFlags) => {
      const logger = createLogger({ level: flags.logLevel, destination: 2 });
      const dataDir = resolve(flags.dataDir);
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const members = new Map<string, RunningMember>();
      let plane: RunningControlPlane | undefined;
      let admin: { url: string; close(): Promise<void> } | undefined;
      const stopAll = async () => {
        await admin?.close();
        await plane?.stop();
        await Promise.all([...members.values()].map((m) => m.stop().catch(() => undefined)));
      };
      try {
        plane = await startControlPlane({
          dataDir,
          bindAddress: '127.0.0.1',
          port: flags.securePort,
          controllers: true,
          controllerTransport: flags.controllerTransport,
          controllerOptions: {
            ...(flags.clusterStatusUpdateFrequency !== undefined ? { clusterStatusUpdateFrequencyMs: flags.clusterStatusUpdateFrequency } : {}),
            ...(flags.clusterFailureThreshold !== undefined ? { clusterFailureThresholdMs: flags.clusterFailureThreshold } : {}),
            ...(flags.clusterSuccessThreshold !== undefined ? { clusterSuccessThresholdMs: flags.clusterSuccessThreshold } : {}),
            ...(flags.enableFailover ? { enableFailover: true } : {}),
            ...(flags.failoverEvictionTimeout !== undefined ? { failoverEvictionTimeoutMs: flags.failoverEvictionTimeout } : {}),
            ...(flags.gracefulEvictionTimeout !== undefined ? { gracefulEvictionTimeoutMs: flags.gracefulEvictionTimeout } : {}),
          },
          logger,
        });
        say(`control plane: ${plane.url}`);
        const names = Array.from({ length: flags.members }, (_, i) => `member${i + 1}`);
        const started = await Promise.all(names.map((name, i) => startMember({
          name,
          dataDir: join(dataDir, 'members', name),
          bindAddress: '127.0.0.1',
          port: flags.securePort + 1 + i,
          nodes: { count: flags.nodes, cpu: '8', memory: '32Gi', pods: 110 },
          logger,
        })));
        for (const member of started) members.set(member.name, member);
        for (const [i, member] of started.entries()) {
          const place = PLACES[i % PLACES.length] as (typeof PLACES)[number];
          try {
            await joinCluster({
              name: member.name,
              clusterKubeconfig: member.kubeconfigPath,
              kubeconfig: plane.kubeconfigPath,
              provider: 'flotilla',
              region: place.region,
              zones: [place.zone],
              labels: { location: place.location },
            });
            say(`joined ${member.name} (${place.region}) at ${member.url}`);
          } catch (err) {
            if (!(err instanceof Error && /already exists/.test(err.message))) throw err;
            say(`${member.name} (${place.region}) at ${member.url}: already joined`);
          }
        }
        admin = await startAdminServer(members, '127.0.0.1', flags.adminPort);
      } catch (err) {
        await stopAll();
        throw err;
      }
      const kubectl = `kubectl --kubeconfig ${plane.kubeconfigPath}`;
      say('');
      say(`Flotilla is up. kubeconfig: ${plane.kubeconfigPath}`);
      say('try:');
      say(`  ${kubectl} get clusters            # Ready within seconds`);
      say(`  ${kubectl} apply -f <karmada sample>   # e.g. ../shared/karmada-samples/samples/nginx/`);
      say(`  kubectl --kubeconfig ${[...members.values()][0]?.kubeconfigPath ?? ''} get nodes,pods -A   # inside member1`);
      const notReadyWithinS = Math.ceil(((flags.clusterStatusUpdateFrequency ?? 10_000) + (flags.clusterFailureThreshold ?? 30_000)) / 1000);
      say(`  curl -X POST ${admin.url}/members/member2/pause   # then watch member2 turn not Ready (within ~${notReadyWithinS} s); /resume brings it back`);
      say('Ctrl-C stops everything.');

      let stopping = false;
      const stop = async (signal: string): Promise<void> => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        const deadline = setTimeout(() => process.exit(1), 20_000);
        deadline.unref();
        await stopAll();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}
