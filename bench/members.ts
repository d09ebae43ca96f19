import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HttpClient, resourcePath } from '../src/client/client.js';
import { joinCluster, loadKubeconfig, unjoinCluster } from '../src/cli/join-command.js';
import { cpuTicks, printTable, rssKb, ticksPerSecond } from './measure.js';

/**
 * `npm run bench -- members`: what simulated members and cluster health cost (issue 5).
 * Child processes: `flotilla serve` (default cluster-status intervals: 10 s probes), one
 * `flotilla member --count 1` (the baseline) and one `flotilla member --count N` (N = 100), all
 * members joined in Push mode. Over steady windows (BENCH_MEMBERS_WINDOW_S, default 60 s) it reads
 * /proc/<pid>/status (VmRSS) and /proc/<pid>/stat (utime + stime):
 *   - member-process RSS: N members total, per member, and marginal = (RSS_N − RSS_1) / (N − 1);
 *   - control-plane CPU (% of one core) with 0 clusters joined (idle) vs N clusters being probed;
 *   - member-process CPU.
 * Phases: (1) idle control plane + unjoined baseline member; (2) baseline joined (RSS_1); it is
 * unjoined and stopped; (3) N members started, joined, all Ready (bounded), then the window.
 * Every wait is bounded; children are stopped by PID on exit, error or SIGINT; loopback only.
 */
const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));
const CLUSTERS = { group: 'cluster.karmada.io', version: 'v1alpha1', resource: 'clusters' } as const;
const JOIN_CONCURRENCY = 8;
const SETTLE_MS = 10_000;

export interface MembersBenchOptions {
  /** Members in the big process; 100 by default. */
  readonly count: number;
  /** The steady measuring window, seconds. */
  readonly windowSeconds: number;
  /** Bound on "all N Clusters Ready" after the joins, seconds. */
  readonly readyTimeoutSeconds: number;
}

interface Child {
  readonly name: string;
  readonly child: ChildProcess;
  readonly pid: number;
  stdout: string;
  stderr: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mib = (kb: number): number => Number((kb / 1024).toFixed(1));
const pct = (n: number): number => Number(n.toFixed(2));

interface WindowFigures {
  readonly seconds: number;
  /** Per pid: CPU as % of one core over the window; RSS mean/max/end over 1 s samples (kB). */
  readonly byPid: Map<number, { cpuPct: number; rssMeanKb: number; rssMaxKb: number; rssEndKb: number }>;
  readonly loadAverage1m: number;
}

/** Samples the processes every second for `seconds`. */
async function measureWindow(pids: readonly number[], seconds: number): Promise<WindowFigures> {
  const start = performance.now();
  const ticks0 = new Map(pids.map((pid) => [pid, cpuTicks(pid)]));
  const samples = new Map<number, number[]>(pids.map((pid) => [pid, [rssKb(pid)]]));
  const end = start + seconds * 1000;
  while (performance.now() < end) {
    await sleep(Math.min(1000, Math.max(0, end - performance.now())));
    for (const pid of pids) samples.get(pid)?.push(rssKb(pid));
  }
  const wall = (performance.now() - start) / 1000;
  const byPid = new Map(pids.map((pid) => {
    const rss = samples.get(pid) ?? [];
    const cpuSeconds = (cpuTicks(pid) - (ticks0.get(pid) ?? 0)) / ticksPerSecond();
    return [pid, {
      cpuPct: (cpuSeconds / wall) * 100,
      rssMeanKb: rss.reduce((a, b) => a + b, 0) / Math.max(1, rss.length),
      rssMaxKb: Math.max(...rss),
      rssEndKb: rss.at(-1) ?? 0,
    }];
  }));
  return { seconds: wall, byPid, loadAverage1m: Number((loadavg()[0] ?? 0).toFixed(2)) };
}

export async function membersBench(options: MembersBenchOptions): Promise<Record<string, unknown>> {
  const { count, windowSeconds } = options;
  if (count < 2) throw new Error('the members bench needs at least 2 members (the marginal is per extra member)');
  const dir = await mkdtemp(join(tmpdir(), 'flotilla-bench-members-'));
  const children: Child[] = [];
  const log = (line: string) => process.stderr.write(`members: ${line}\n`);

  const spawnFlotilla = (name: string, args: readonly string[]): Child => {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    if (child.pid === undefined) throw new Error(`could not start ${name}`);
    const entry: Child = { name, child, pid: child.pid, stdout: '', stderr: '' };
    child.stdout?.on('data', (chunk: Buffer) => (entry.stdout = (entry.stdout + chunk.toString()).slice(-200_000)));
    child.stderr?.on('data', (chunk: Buffer) => (entry.stderr = (entry.stderr + chunk.toString()).slice(-20_000)));
    children.push(entry);
    return entry;
  };
  const waitFor = async (entry: Child, pattern: RegExp, timeoutMs: number): Promise<RegExpExecArray> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const match = pattern.exec(entry.stdout);
      if (match) return match;
      if (entry.child.exitCode !== null || entry.child.signalCode !== null) throw new Error(`${entry.name} exited (${String(entry.child.exitCode ?? entry.child.signalCode)}):\n${entry.stderr}`);
      if (Date.now() > deadline) throw new Error(`${entry.name}: no ${String(pattern)} within ${timeoutMs / 1000} s:\n${entry.stderr}`);
      await sleep(100);
    }
  };
  const stopChild = async (entry: Child): Promise<void> => {
    if (entry.child.exitCode !== null || entry.child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => entry.child.once('exit', () => resolve()));
    entry.child.kill('SIGTERM');
    const timer = setTimeout(() => entry.child.kill('SIGKILL'), 20_000);
    await exited;
    clearTimeout(timer);
  };
  // Ctrl-C or an exit in the middle: no child and no temp dir outlives the bench.
  const killAll = () => {
    for (const entry of children) if (entry.child.exitCode === null && entry.child.signalCode === null) entry.child.kill('SIGKILL');
  };
  const onSigint = () => {
    killAll();
    rmSync(dir, { recursive: true, force: true });
    process.exit(130);
  };
  process.on('exit', killAll);
  process.once('SIGINT', onSigint);
  process.once('SIGTERM', onSigint);

  let cp: HttpClient | undefined;
  try {
    // ---- phase 1: the control plane idle (0 clusters) and the baseline member, unjoined ----
    const serve = spawnFlotilla('flotilla serve', ['serve', '--data-dir', join(dir, 'control-plane'), '--secure-port', '0', '--log-level', 'warn']);
    const baseline = spawnFlotilla('flotilla member --count 1', ['member', '--count', '1', '--name-prefix', 'baseline', '--data-dir', join(dir, 'baseline'), '--secure-port', '0', '--admin-port', '0', '--log-level', 'warn']);
    const serveOut = await waitFor(serve, /listening on (https:\/\/\S+).*\nkubeconfig: (\S+)/, 60_000);
    const kubeconfig = serveOut[2] as string;
    const baselineOut = await waitFor(baseline, /^kubeconfig: (\S+)$/m, 60_000);
    await waitFor(baseline, /^admin: /m, 60_000);
    const plane = await loadKubeconfig(kubeconfig);
    cp = new HttpClient({ server: plane.server, ...(plane.caPem !== undefined ? { caPem: plane.caPem } : {}), ...(plane.certPem !== undefined && plane.keyPem !== undefined ? { certPem: plane.certPem, keyPem: plane.keyPem } : {}), userAgent: 'flotilla-bench/members' });
    const client = cp;
    const readyCount = async (): Promise<{ total: number; ready: number }> => {
      const list = await client.list(resourcePath(CLUSTERS));
      const ready = list.items.filter((c) => {
        const conditions = (c['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
        return conditions.some((x) => x.type === 'Ready' && x.status === 'True');
      }).length;
      return { total: list.items.length, ready };
    };
    const waitReady = async (want: number, timeoutMs: number): Promise<number> => {
      const t0 = Date.now();
      let last = { total: 0, ready: 0 };
      while (Date.now() - t0 < timeoutMs) {
        last = await readyCount().catch(() => last);
        if (last.ready >= want) return Date.now() - t0;
        await sleep(1_000);
      }
      throw new Error(`only ${last.ready} of ${want} Clusters Ready after ${timeoutMs / 1000} s`);
    };

    await sleep(SETTLE_MS / 2);
    log(`phase 1: control plane idle (0 clusters), ${windowSeconds} s window`);
    const idle = await measureWindow([serve.pid, baseline.pid], windowSeconds);

    // ---- phase 2: the baseline joined: RSS of one joined member ----
    await joinCluster({ name: 'baseline1', clusterKubeconfig: baselineOut[1] as string, kubeconfig });
    await waitReady(1, 60_000);
    await sleep(SETTLE_MS);
    const oneWindow = Math.min(windowSeconds, 20);
    log(`phase 2: baseline member joined, ${oneWindow} s window`);
    const one = await measureWindow([serve.pid, baseline.pid], oneWindow);
    await unjoinCluster({ name: 'baseline1', kubeconfig, wait: 60_000 });
    await stopChild(baseline);

    // ---- phase 3: N members, joined, all Ready ----
    log(`phase 3: starting ${count} members`);
    const t0 = Date.now();
    const many = spawnFlotilla(`flotilla member --count ${count}`, ['member', '--count', String(count), '--name-prefix', 'member', '--data-dir', join(dir, 'members'), '--secure-port', '0', '--admin-port', '0', '--log-level', 'warn']);
    await waitFor(many, /^admin: /m, 300_000);
    const startSeconds = (Date.now() - t0) / 1000;
    const kubeconfigs = [...many.stdout.matchAll(/^member (\S+) listening on \S+\nkubeconfig: (\S+)$/gm)].map((m) => ({ name: m[1] as string, kubeconfig: m[2] as string }));
    if (kubeconfigs.length !== count) throw new Error(`expected ${count} members in the output, found ${kubeconfigs.length}`);
    log(`${count} members up in ${startSeconds.toFixed(1)} s (RSS ${mib(rssKb(many.pid))} MiB); joining`);
    const t1 = Date.now();
    let next = 0;
    await Promise.all(Array.from({ length: JOIN_CONCURRENCY }, async () => {
      while (next < kubeconfigs.length) {
        const member = kubeconfigs[next++] as { name: string; kubeconfig: string };
        await joinCluster({ name: member.name, clusterKubeconfig: member.kubeconfig, kubeconfig, timeoutMs: 30_000 });
      }
    }));
    const joinSeconds = (Date.now() - t1) / 1000;
    log(`joined in ${joinSeconds.toFixed(1)} s; waiting for ${count} Ready (≤ ${options.readyTimeoutSeconds} s)`);
    const readyMs = await waitReady(count, options.readyTimeoutSeconds * 1000);
    log(`all Ready ${(readyMs / 1000).toFixed(1)} s after the last join; settling ${SETTLE_MS / 1000} s, then a ${windowSeconds} s window`);
    await sleep(SETTLE_MS);
    const loaded = await measureWindow([serve.pid, many.pid], windowSeconds);
    const stillReady = await readyCount();

    // ---- figures ----
    const at = (w: WindowFigures, pid: number) => w.byPid.get(pid) ?? { cpuPct: 0, rssMeanKb: 0, rssMaxKb: 0, rssEndKb: 0 };
    const rssN = at(loaded, many.pid).rssMeanKb;
    const rss1 = at(one, baseline.pid).rssMeanKb;
    const memory = {
      [`RSS, ${count} members (MiB)`]: mib(rssN),
      [`RSS, ${count} members, max (MiB)`]: mib(at(loaded, many.pid).rssMaxKb),
      'RSS per member (MiB)': mib(rssN / count),
      'RSS, 1 member joined (MiB)': mib(rss1),
      'RSS, 1 member unjoined (MiB)': mib(at(idle, baseline.pid).rssMeanKb),
      'marginal per member (MiB)': mib((rssN - rss1) / (count - 1)),
      'control plane RSS, idle (MiB)': mib(at(idle, serve.pid).rssMeanKb),
      [`control plane RSS, ${count} clusters (MiB)`]: mib(at(loaded, serve.pid).rssMeanKb),
    };
    const cpu = {
      'control plane, 0 clusters (%)': pct(at(idle, serve.pid).cpuPct),
      'control plane, 1 cluster (%)': pct(at(one, serve.pid).cpuPct),
      [`control plane, ${count} clusters (%)`]: pct(at(loaded, serve.pid).cpuPct),
      'member process, 1 member unjoined (%)': pct(at(idle, baseline.pid).cpuPct),
      'member process, 1 member joined (%)': pct(at(one, baseline.pid).cpuPct),
      [`member process, ${count} members joined (%)`]: pct(at(loaded, many.pid).cpuPct),
    };
    const timing = {
      [`start ${count} members (s)`]: Number(startSeconds.toFixed(1)),
      [`join ${count} (s)`]: Number(joinSeconds.toFixed(1)),
      'all Ready after joins (s)': Number((readyMs / 1000).toFixed(1)),
      'Ready at window end': `${stillReady.ready}/${stillReady.total}`,
      'window (s)': Number(loaded.seconds.toFixed(1)),
      'load average 1m (idle / loaded window)': `${idle.loadAverage1m} / ${loaded.loadAverage1m}`,
    };
    printTable(`members: memory (RSS mean over the window; marginal = (RSS${count} − RSS1) / ${count - 1})`, Object.entries(memory).map(([metric, value]) => ({ metric, value })));
    printTable(`members: CPU, % of one core over the window (cluster status every 10 s, default thresholds)`, Object.entries(cpu).map(([metric, value]) => ({ metric, value })));
    printTable('members: timings', Object.entries(timing).map(([metric, value]) => ({ metric, value })));
    return { scenario: 'members', count, windowSeconds: Number(loaded.seconds.toFixed(1)), memoryMiB: memory, cpuPercentOfOneCore: cpu, timing };
  } finally {
    cp?.close();
    await Promise.all(children.map((entry) => stopChild(entry)));
    process.off('exit', killAll);
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigint);
    rmSync(dir, { recursive: true, force: true });
  }
}
