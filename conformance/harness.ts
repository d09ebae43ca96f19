import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { kubectlPath } from '../test/helpers/kubectl.js';

/**
 * Black-box harness: a real `flotilla serve` process (embedded store or etcd) on a free loopback
 * port, and the machine's real kubectl binaries (`kubectl.1.NN`) pointed at its kubeconfig.
 */
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const START_TIMEOUT_MS = 30_000;
const KUBECTL_TIMEOUT_MS = 60_000;

export interface RunningServer {
  readonly url: string;
  readonly kubeconfig: string;
  readonly dataDir: string;
  /** Process id of `flotilla serve`. */
  readonly pid: number;
  /** What the server has printed on stdout so far. */
  stdout(): string;
  /** Sends `signal` (e.g. SIGKILL) to the server and waits for it to exit; stop() still cleans up. */
  kill(signal: NodeJS.Signals): Promise<void>;
  /** kubectl of the given minor (e.g. "1.31") against this server; never throws on non-zero exit. */
  kubectl(minor: string, args: readonly string[], options?: { stdin?: string; env?: Record<string, string>; timeoutMs?: number }): Promise<KubectlResult>;
  stop(): Promise<void>;
}

export interface KubectlResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export async function startServer(options: { etcdEndpoint?: string; etcdPrefix?: string; controllers?: boolean; serveArgs?: readonly string[] } = {}): Promise<RunningServer> {
  const dataDir = await mkdtemp(join(tmpdir(), 'flotilla-conformance-'));
  // FLOTILLA_SERVER_NODE_ARGS passes extra Node flags to the server (e.g. --cpu-prof for profiling).
  const nodeArgs = (process.env['FLOTILLA_SERVER_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
  const args = [...nodeArgs, '--import', 'tsx', MAIN, 'serve', '--data-dir', dataDir, '--secure-port', '0', '--log-level', 'warn'];
  if (options.controllers === false) args.push('--no-controllers');
  if (options.etcdEndpoint) args.push('--etcd-servers', options.etcdEndpoint, '--etcd-prefix', options.etcdPrefix ?? `/conformance-${process.pid}-${Date.now()}`);
  if (options.serveArgs) args.push(...options.serveArgs);
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-20_000);
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-20_000);
  });
  const { url, kubeconfig } = await new Promise<{ url: string; kubeconfig: string }>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`flotilla serve did not start in time:\n${stderr}`)), START_TIMEOUT_MS);
    child.stdout?.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      const listening = /listening on (https:\/\/\S+)/.exec(stdout);
      const config = /kubeconfig: (\S+)/.exec(stdout);
      if (listening?.[1] && config?.[1]) {
        clearTimeout(timer);
        resolve({ url: listening[1], kubeconfig: config[1] });
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`flotilla serve exited with ${String(code)}:\n${stderr}`));
    });
  });
  const cacheDir = join(dataDir, 'kubectl-cache');
  return {
    url,
    kubeconfig,
    dataDir,
    pid: child.pid ?? 0,
    stdout: () => output,
    kill: async (signal) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill(signal);
      await exited;
    },
    kubectl: (minor, kubectlArgs, runOptions = {}) => runKubectl(minor, ['--kubeconfig', kubeconfig, '--cache-dir', join(cacheDir, minor), ...kubectlArgs], runOptions),
    stop: async () => {
      await stopChild(child);
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export function runKubectl(minor: string, args: readonly string[], options: { stdin?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = spawn(kubectlPath(minor), args, { stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...options.env }, timeout: options.timeoutMs ?? KUBECTL_TIMEOUT_MS });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', (err) => resolve({ code: 127, stdout, stderr: stderr + String(err) }));
    child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
    child.stdin.end(options.stdin ?? '');
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Writes a manifest into the server's temp dir and returns its path. */
export async function manifestFile(server: RunningServer, name: string, content: string): Promise<string> {
  const path = join(server.dataDir, name);
  await writeFile(path, content);
  return path;
}

/** The admin TLS material in a kubeconfig that `flotilla serve` wrote: CA, client certificate and key. */
export async function adminCredentials(kubeconfig: string): Promise<{ ca: Buffer; cert: Buffer; key: Buffer }> {
  const config = parseYaml(await readFile(kubeconfig, 'utf8')) as {
    clusters: { cluster: { 'certificate-authority-data': string } }[];
    users: { user: { 'client-certificate-data': string; 'client-key-data': string } }[];
  };
  const b = (s: string | undefined) => Buffer.from(s ?? '', 'base64');
  return { ca: b(config.clusters[0]?.cluster['certificate-authority-data']), cert: b(config.users[0]?.user['client-certificate-data']), key: b(config.users[0]?.user['client-key-data']) };
}
