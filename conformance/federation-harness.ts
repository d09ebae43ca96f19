import { join } from 'node:path';
import { runKubectl } from './harness.js';
import type { KubectlResult } from './harness.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { spawnFlotilla, stopProc, waitForOutput } from '../test/helpers/flotilla-process.js';
import type { Proc } from '../test/helpers/flotilla-process.js';

export { pollUntil, runFlotilla, sleep, spawnFlotilla, stopProc, waitForOutput } from '../test/helpers/flotilla-process.js';
export type { Proc } from '../test/helpers/flotilla-process.js';

/**
 * Black-box federation harness: real processes only — `flotilla serve` (embedded store, free port,
 * fast cluster-status intervals), one `flotilla member --count N` process simulating the member
 * clusters, and `flotilla join` for each of them — plus the real kubectl against the control plane
 * or any member. The same approach as test/member/member-process.test.ts, factored out for the
 * conformance suites.
 */
const JOIN_TIMEOUT_MS = 60_000;

export interface MemberJoin {
  /** member1, member2, … (`--name-prefix` + index). */
  readonly name: string;
  readonly provider?: string;
  readonly region?: string;
  readonly zones?: readonly string[];
  readonly labels?: Readonly<Record<string, string>>;
}

export interface FederationOptions {
  /** The members to simulate and join, in order (their names must be `<namePrefix><1..N>`). */
  readonly members: readonly MemberJoin[];
  readonly namePrefix?: string;
  /** Per simulated member; default 2 nodes of 8 CPU, 32Gi, 110 pods. */
  readonly nodes?: { readonly count: number; readonly cpu: string; readonly memory: string; readonly pods: number };
  /** Cluster status timing; default 200ms / 1s / 1s. */
  readonly statusUpdateFrequency?: string;
  readonly failureThreshold?: string;
  readonly successThreshold?: string;
  readonly serveArgs?: readonly string[];
}

export interface MemberInfo {
  readonly url: string;
  readonly kubeconfig: string;
}

export interface Federation {
  readonly controlPlaneKubeconfig: string;
  readonly adminUrl: string;
  readonly members: ReadonlyMap<string, MemberInfo>;
  readonly serve: Proc;
  readonly memberProc: Proc;
  readonly dir: string;
  /** kubectl of `minor` against the control plane; never throws on non-zero exit. */
  kubectl(minor: string, args: readonly string[], options?: { stdin?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** kubectl of `minor` against a member. */
  memberKubectl(member: string, minor: string, args: readonly string[], options?: { stdin?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** The members' fault-injection endpoint (POST /members/<name>/pause|resume|not-ready|ready|remove-nodes). */
  admin(method: 'GET' | 'POST', path: string): Promise<{ code: number; body: unknown }>;
  /** The last few log lines of serve or of the member process (pino JSON, warn and above), without the fields every line has. */
  lastLogLines(proc: 'serve' | 'member', count?: number): string[];
  /** SIGTERM to every process (SIGKILL after 10 s); returns the exit codes of serve and member. */
  stop(): Promise<{ serve: number | null; member: number | null }>;
}

/**
 * Starts `flotilla serve` and `flotilla member --count N` side by side, then `flotilla join`s every
 * member (in parallel). Rejects (after killing what it started) if any of it fails. Whatever
 * happens, no child outlives the test process.
 */
export async function startFederation(options: FederationOptions): Promise<Federation> {
  const dir = await tempDir('federation');
  const procs: Proc[] = [];
  const killAll = () => {
    for (const proc of procs) if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  const stop = async (): Promise<{ serve: number | null; member: number | null }> => {
    const codes = await Promise.all(procs.map((proc) => stopProc(proc)));
    process.off('exit', killAll);
    await dir.remove();
    return { serve: codes[0] ?? null, member: codes[1] ?? null };
  };
  try {
    const prefix = options.namePrefix ?? 'member';
    const nodes = options.nodes ?? { count: 2, cpu: '8', memory: '32Gi', pods: 110 };
    const serve = spawnFlotilla('flotilla serve', [
      'serve', '--data-dir', join(dir.path, 'control-plane'), '--secure-port', '0', '--log-level', 'warn',
      '--cluster-status-update-frequency', options.statusUpdateFrequency ?? '200ms',
      '--cluster-failure-threshold', options.failureThreshold ?? '1s',
      '--cluster-success-threshold', options.successThreshold ?? '1s',
      ...(options.serveArgs ?? []),
    ], procs);
    const memberProc = spawnFlotilla('flotilla member', [
      'member', '--count', String(options.members.length), '--name-prefix', prefix, '--secure-port', '0', '--admin-port', '0',
      '--data-dir', join(dir.path, 'members'), '--nodes', String(nodes.count), '--node-cpu', nodes.cpu, '--node-memory', nodes.memory, '--node-pods', String(nodes.pods),
      '--log-level', 'warn',
    ], procs);
    const [serveOut, adminOut] = await Promise.all([
      waitForOutput(serve, /listening on (https:\/\/\S+).*\nkubeconfig: (\S+)/),
      waitForOutput(memberProc, /^admin: (http:\/\/127\.0\.0\.1:\d+)\/members/m),
    ]);
    const controlPlaneKubeconfig = serveOut[2] as string;
    const adminUrl = adminOut[1] as string;
    const members = new Map([...memberProc.stdout.matchAll(/^member (\S+) listening on (https:\/\/\S+)\nkubeconfig: (\S+)$/gm)].map((m) => [m[1] as string, { url: m[2] as string, kubeconfig: m[3] as string }]));

    const joins = options.members.map((member) => {
      const info = members.get(member.name);
      if (!info) throw new Error(`flotilla member did not start ${member.name} (started: ${[...members.keys()].join(', ')})`);
      const args = ['join', member.name, '--cluster-kubeconfig', info.kubeconfig, '--kubeconfig', controlPlaneKubeconfig];
      if (member.provider !== undefined) args.push('--provider', member.provider);
      if (member.region !== undefined) args.push('--region', member.region);
      for (const zone of member.zones ?? []) args.push('--zone', zone);
      for (const [key, value] of Object.entries(member.labels ?? {})) args.push('--label', `${key}=${value}`);
      return spawnFlotilla(`flotilla join ${member.name}`, args, procs);
    });
    const timer = setTimeout(() => joins.forEach((j) => j.child.kill('SIGKILL')), JOIN_TIMEOUT_MS);
    const codes = await Promise.all(joins.map((j) => j.exited));
    clearTimeout(timer);
    joins.forEach((j, i) => {
      if (codes[i] !== 0) throw new Error(`${j.name} exited ${String(codes[i])}:\n${j.stdout}\n${j.stderr}`);
    });

    const cacheDir = join(dir.path, 'kubectl-cache');
    return {
      controlPlaneKubeconfig,
      adminUrl,
      members,
      serve,
      memberProc,
      dir: dir.path,
      kubectl: (minor, args, runOptions = {}) => runKubectl(minor, ['--kubeconfig', controlPlaneKubeconfig, '--cache-dir', join(cacheDir, 'control-plane', minor), ...args], runOptions),
      memberKubectl: (member, minor, args, runOptions = {}) => {
        const info = members.get(member);
        if (!info) throw new Error(`no member named ${member}`);
        return runKubectl(minor, ['--kubeconfig', info.kubeconfig, '--cache-dir', join(cacheDir, member, minor), ...args], runOptions);
      },
      admin: async (method, path) => {
        const res = await fetch(`${adminUrl}${path}`, { method, signal: AbortSignal.timeout(10_000) });
        return { code: res.status, body: JSON.parse(await res.text()) as unknown };
      },
      lastLogLines: (which, count = 6) => lastLogLines(which === 'serve' ? serve : memberProc, count),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

function lastLogLines(proc: Proc, count: number): string[] {
  return `${proc.stdout}\n${proc.stderr}`.split('\n').filter((l) => l.startsWith('{')).slice(-count).map((line) => {
    try {
      const { level: _level, time: _time, pid: _pid, hostname: _hostname, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(rest).slice(0, 240);
    } catch {
      return line.slice(0, 240);
    }
  });
}
