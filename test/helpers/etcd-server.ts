import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** A single-member etcd for tests, listening on 127.0.0.1 only. */
export interface EtcdServer {
  /** Client URL, `http://127.0.0.1:PORT`. */
  readonly endpoint: string;
  readonly dataDir: string;
  /** SIGTERM, wait for exit; SIGKILL after 5s. */
  stop(): Promise<void>;
  /** Stops, then starts again on the same data dir and ports. */
  restart(): Promise<void>;
  /** Stops and removes the data dir. */
  destroy(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;
const STDERR_TAIL_BYTES = 8_192;

/** The etcd processes this process started and has not seen exit, and the temp dirs it made. */
const running = new Set<ChildProcess>();
const tempDirs = new Set<string>();

/** Kills every etcd still running and removes their temp dirs; safe in an 'exit' handler. */
function cleanUpNow(): void {
  for (const child of running) child.kill('SIGKILL');
  for (const dir of tempDirs) {
    try {
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // best effort while exiting
    }
  }
}
process.on('exit', cleanUpNow);
// Signals end the process without 'exit' (tap's timeout is SIGALRM): clean up, then let the signal
// do whatever it would have done without this listener.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGALRM'] as const) {
  process.on(signal, function onSignal() {
    cleanUpNow();
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  });
}

/** The `etcd` binary on PATH, if any. */
function etcdPath(): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, 'etcd');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

export function etcdAvailable(): boolean {
  return etcdPath() !== undefined;
}

/** A loopback port nobody listens on right now. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not allocate a port'))));
    });
  });
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startEtcd(options: { dataDir?: string } = {}): Promise<EtcdServer> {
  const binary = etcdPath();
  if (!binary) throw new Error('etcd not found on PATH (CI installs it with `apt-get install etcd-server`)');
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'flotilla-etcd-')));
  if (options.dataDir === undefined) tempDirs.add(dataDir);
  const clientPort = await freePort();
  let peerPort = await freePort();
  for (let i = 0; i < 10 && peerPort === clientPort; i++) peerPort = await freePort();
  const endpoint = `http://127.0.0.1:${clientPort}`;
  const peerUrl = `http://127.0.0.1:${peerPort}`;
  const args = [
    '--name', 't',
    '--data-dir', dataDir,
    '--listen-client-urls', endpoint,
    '--advertise-client-urls', endpoint,
    '--listen-peer-urls', peerUrl,
    '--initial-advertise-peer-urls', peerUrl,
    '--initial-cluster', `t=${peerUrl}`,
    '--logger', 'zap',
    '--log-level', 'error',
  ];

  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const launch = async (): Promise<void> => {
    let stderr = '';
    let exitStatus: string | undefined;
    const proc = spawn(binary, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    child = proc;
    running.add(proc);
    proc.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr = (stderr + chunk).slice(-STDERR_TAIL_BYTES);
    });
    exited = new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        running.delete(proc);
        exitStatus = signal ?? `code ${code}`;
        resolve();
      });
      proc.once('error', (err) => {
        running.delete(proc);
        exitStatus = err.message;
        resolve();
      });
    });
    const deadline = Date.now() + START_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (exitStatus !== undefined) break;
      if (await healthy(endpoint)) return;
      await sleep(50);
    }
    const why = exitStatus === undefined ? `not healthy after ${START_TIMEOUT_MS}ms` : `exited (${exitStatus})`;
    await stop();
    throw new Error(`etcd ${why} on ${endpoint}; stderr:\n${stderr}`);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || !running.has(proc)) return;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), STOP_GRACE_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    await launch();
  } catch (err) {
    if (tempDirs.delete(dataDir)) await rm(dataDir, { recursive: true, force: true });
    throw err;
  }
  return {
    endpoint,
    dataDir,
    stop,
    async restart() {
      await stop();
      await launch();
    },
    async destroy() {
      await stop();
      await rm(dataDir, { recursive: true, force: true });
      tempDirs.delete(dataDir);
    },
  };
}

/** Whether etcd answers its /health endpoint (bounded by a short timeout). */
async function healthy(endpoint: string): Promise<boolean> {
  try {
    const res = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1_000) });
    const body = (await res.json()) as { health?: unknown };
    return res.ok && String(body.health) === 'true';
  } catch {
    return false;
  }
}
