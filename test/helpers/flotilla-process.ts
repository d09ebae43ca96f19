import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Flotilla CLI commands as real child processes (`node --import tsx src/cli/main.ts <args>`): start,
 * wait for a line of output, stop with a signal, poll for a condition. Shared by the tests that
 * drive `flotilla serve`, `member`, `join` and `up` as a user would.
 */
const MAIN = fileURLToPath(new URL('../../src/cli/main.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  /** Exit code; -1 when killed by a signal. */
  readonly exited: Promise<number | null>;
}

/**
 * `node --import tsx src/cli/main.ts <args>`, stdout and stderr collected; added to `registry` when given.
 * FLOTILLA_CPU_PROF_DIR=<dir> makes every child write a V8 CPU profile there when it exits (benchmarks).
 */
export function spawnFlotilla(name: string, args: readonly string[], registry?: Proc[]): Proc {
  const profile = process.env['FLOTILLA_CPU_PROF_DIR'] ? ['--cpu-prof', '--cpu-prof-dir', process.env['FLOTILLA_CPU_PROF_DIR']] : [];
  const child = spawn(process.execPath, [...profile, '--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
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

