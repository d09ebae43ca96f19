import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runKubectl } from './harness.js';
import type { KubectlResult } from './harness.js';
import { tempDir } from '../test/helpers/temp-dir.js';

/**
 * Black-box federation harness: real processes only — `flotilla serve` (embedded store, free port,
 * fast cluster-status intervals), one `flotilla member --count N` process simulating the member
 * clusters, and `flotilla join` for each of them — plus the real kubectl against the control plane
 * or any member. The same approach as test/member/member-process.test.ts, factored out for the
 * conformance suites.
 */
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const JOIN_TIMEOUT_MS = 60_000;

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Exit code; -1 when killed by a signal. */
  readonly exited: Promise<number | null>;
}

/** `node --import tsx src/cli/main.ts <args>`, stdout and stderr collected. */
export function spawnFlotilla(name: string, args: readonly string[], registry?: Proc[]): Proc {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const proc: Proc = {
    name,
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null)))),
  };
  child.stdout?.on('data', (chunk: Buffer) => (proc.stdout += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (proc.stderr = (proc.stderr + chunk.toString()).slice(-20_000)));
  registry?.push(proc);
  return proc;
}

/** Runs a flotilla CLI command to completion (SIGKILL after `timeoutMs`). */
export async function runFlotilla(args: readonly string[], timeoutMs = 60_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawnFlotilla(`flotilla ${args.join(' ')}`, args);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), timeoutMs);
  const code = await proc.exited;
  clearTimeout(timer);
  return { code, stdout: proc.stdout, stderr: proc.stderr };
}

/** Resolves with the first match of `pattern` in the process's stdout; rejects on exit or after `timeoutMs`. */
export function waitForOutput(proc: Proc, pattern: RegExp, timeoutMs = START_TIMEOUT_MS): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = (): boolean => {
      const match = pattern.exec(proc.stdout);
      if (!match) return false;
      cleanup();
      resolve(match);
      return true;
    };
    const onData = () => void check();
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`${proc.name} exited (${String(code)}) before printing ${String(pattern)}:\n${proc.stdout}\n${proc.stderr}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`${proc.name} did not print ${String(pattern)} within ${timeoutMs} ms:\n${proc.stdout}\n${proc.stderr}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      proc.child.stdout?.off('data', onData);
      proc.child.off('exit', onExit);
    };
    proc.child.stdout?.on('data', onData);
    proc.child.once('exit', onExit);
    if (proc.child.exitCode !== null) onExit(proc.child.exitCode);
    else check();
  });
}

/** SIGTERM, then SIGKILL after 10 s; resolves with the exit code (-1: killed by a signal). */
export async function stopProc(proc: Proc, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return proc.exited;
  proc.child.kill(signal);
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  const code = await proc.exited;
  clearTimeout(timer);
  return code;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Calls `check` every `intervalMs` until it returns a value other than undefined/false; resolves
 * with it, or with undefined after `timeoutMs` (errors thrown by `check` count as "not yet"; the
 * last one is passed to `onTimeout`).
 */
export async function pollUntil<T>(check: () => Promise<T | undefined | false>, timeoutMs: number, intervalMs = 150, onTimeout?: (last: unknown) => void): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      onTimeout?.(last);
      return undefined;
    }
    await sleep(intervalMs);
  }
}

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
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
