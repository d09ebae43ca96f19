import { Command, InvalidArgumentError, Option } from 'commander';
import { join, resolve } from 'node:path';
import { createLogger } from '../log.js';
import { startMember } from '../member/member.js';
import type { RunningMember } from '../member/member.js';
import { startAdminServer } from '../member/admin-server.js';
import { parseDuration } from './duration.js';

/**
 * `flotilla member`: simulated member clusters for tests, demos and benchmarks — each its own API
 * server with its own port, CA, store and admin kubeconfig, and a simulator in place of kubelets and
 * controllers. `--count N` hosts N members in this process (ports counted up from --secure-port).
 * Faults are injected through the loopback admin endpoint (see src/member/admin-server.ts).
 */
interface MemberFlags {
  dataDir: string;
  name?: string;
  count: number;
  namePrefix: string;
  bindAddress: string;
  securePort: number;
  kubeconfigOut?: string;
  nodes: number;
  nodeCpu: string;
  nodeMemory: string;
  nodePods: number;
  podStartDelay: number;
  adminPort: number;
  logLevel: string;
}

export const positiveInt = (min: number) => (value: string): number => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`must be an integer ≥ ${min}`);
  return n;
};

export function memberCommand(): Command {
  return new Command('member')
    .description('run simulated member clusters (API server + node/pod simulator), one port each')
    .addOption(new Option('--data-dir <dir>', 'parent of each member\'s data dir (<data-dir>/<name>)').default('.flotilla-members').env('FLOTILLA_MEMBER_DATA_DIR'))
    .addOption(new Option('--name <name>', 'name of a single member (with --count 1)'))
    .addOption(new Option('--count <n>', 'how many members to run in this process').default(1).argParser(positiveInt(1)))
    .addOption(new Option('--name-prefix <prefix>', 'members are named <prefix>1..<prefix>N').default('member'))
    .addOption(new Option('--bind-address <ip>', 'address to listen on').default('127.0.0.1'))
    .addOption(new Option('--secure-port <port>', 'HTTPS port of the first member, the next ones count up (0: free ports)').default(0).argParser(positiveInt(0)))
    .addOption(new Option('--kubeconfig-out <file>', 'admin kubeconfig path (with --count 1; default <data-dir>/<name>/admin.kubeconfig)'))
    .addOption(new Option('--nodes <n>', 'nodes per member').default(3).argParser(positiveInt(0)))
    .addOption(new Option('--node-cpu <quantity>', 'CPU of each node').default('8'))
    .addOption(new Option('--node-memory <quantity>', 'memory of each node').default('32Gi'))
    .addOption(new Option('--node-pods <n>', 'pods per node').default(110).argParser(positiveInt(1)))
    .addOption(new Option('--pod-start-delay <duration>', 'time from a pod being bound to Running/Ready').default(1000).argParser(parseDuration))
    .addOption(new Option('--admin-port <port>', 'loopback HTTP port of the fault-injection endpoint (0: a free one)').default(0).argParser(positiveInt(0)))
    .addOption(new Option('--log-level <level>', 'log level').default('info').env('FLOTILLA_LOG_LEVEL'))
    .action(async (flags: MemberFlags) => {
      if (flags.count > 1 && (flags.name !== undefined || flags.kubeconfigOut !== undefined)) {
        throw new InvalidArgumentError('--name and --kubeconfig-out apply to a single member (--count 1)');
      }
      const logger = createLogger({ level: flags.logLevel });
      const names = flags.count === 1 && flags.name ? [flags.name] : Array.from({ length: flags.count }, (_, i) => `${flags.namePrefix}${i + 1}`);
      const members = new Map<string, RunningMember>();
      const stopAll = async () => Promise.all([...members.values()].map((m) => m.stop().catch(() => undefined)));
      try {
        // A few at a time: each start generates keys and opens a store.
        for (let i = 0; i < names.length; i += 8) {
          const batch = names.slice(i, i + 8);
          const started = await Promise.all(batch.map((name, j) => startMember({
            name,
            dataDir: join(resolve(flags.dataDir), name),
            bindAddress: flags.bindAddress,
            port: flags.securePort === 0 ? 0 : flags.securePort + i + j,
            ...(flags.kubeconfigOut !== undefined ? { kubeconfigOut: flags.kubeconfigOut } : {}),
            nodes: { count: flags.nodes, cpu: flags.nodeCpu, memory: flags.nodeMemory, pods: flags.nodePods },
            podStartDelayMs: flags.podStartDelay,
            logger,
          })));
          for (const member of started) members.set(member.name, member);
        }
      } catch (err) {
        await stopAll();
        throw err;
      }
      const admin = await startAdminServer(members, '127.0.0.1', flags.adminPort);
      for (const member of members.values()) process.stdout.write(`member ${member.name} listening on ${member.url}\nkubeconfig: ${member.kubeconfigPath}\n`);
      process.stdout.write(`admin: ${admin.url}/members (POST /members/<name>/pause|resume|not-ready|ready|remove-nodes?count=N)\n`);
      logger.info({ members: members.size, admin: admin.url }, 'members ready');

      let stopping = false;
      const stop = async (signal: string): Promise<void> => {
        if (stopping) return;
        stopping = true;
        logger.info({ signal }, 'shutting down');
        const deadline = setTimeout(() => process.exit(1), 15_000);
        deadline.unref();
        await admin.close();
        await stopAll();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop('SIGINT'));
      process.once('SIGTERM', () => void stop('SIGTERM'));
    });
}
