import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
/** Bench plumbing: run an operation `count` times with `inFlight` concurrent callers, bounded in time. */
export interface Throughput {
  readonly ops: number;
  readonly seconds: number;
  readonly perSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

export async function measureThroughput(count: number, inFlight: number, maxSeconds: number, op: (i: number) => Promise<unknown>): Promise<Throughput> {
  const latencies: number[] = [];
  const deadline = performance.now() + maxSeconds * 1000;
  let next = 0;
  const start = performance.now();
  const worker = async (): Promise<void> => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      const t0 = performance.now();
      await op(i);
      latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
  const seconds = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number): number => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { ops: latencies.length, seconds, perSecond: latencies.length / seconds, p50Ms: at(0.5), p99Ms: at(0.99) };
}

/** A ~1 KB Deployment-like JSON value, as the perf baselines use. */
export function deploymentValue(i: number): Buffer {
  const object = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: `bench-${i}`, namespace: 'bench', labels: { app: `bench-${i % 100}`, tier: 'web' }, uid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}` },
    spec: {
      replicas: 3,
      selector: { matchLabels: { app: `bench-${i % 100}` } },
      template: {
        metadata: { labels: { app: `bench-${i % 100}`, tier: 'web' } },
        spec: { containers: [{ name: 'nginx', image: 'nginx:1.27', ports: [{ containerPort: 80 }], resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { cpu: '500m', memory: '256Mi' } } }] },
      },
    },
  };
  const json = JSON.stringify(object);
  return Buffer.from(json.padEnd(1020, ' '));
}

export function printTable(title: string, rows: Record<string, string | number>[]): void {
  process.stdout.write(`\n${title}\n`);
  console.table(rows);
}

let clockTicks: number | undefined;
export function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** utime + stime of a process, in clock ticks (fields 14 and 15 of /proc/<pid>/stat). */
export function cpuTicks(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3 (state)
  return Number(fields[11]) + Number(fields[12]);
}

/** VmRSS of a process, kB. */
export function rssKb(pid: number): number {
  const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!match) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(match[1]);
}

