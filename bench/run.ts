import { apiBench } from './api.js';
import { membersBench } from './members.js';
import { propagationBench } from './propagation.js';
import { schedulerBench } from './scheduler.js';
import { storageBench } from './storage.js';

/**
 * `npm run bench [-- scenario...]`: runs the named scenarios (all when none is named) and prints a
 * table per scenario plus one JSON line with every figure, so runs can be diffed.
 * Every scenario is bounded in count and time and talks to loopback only.
 */
const scenarios: Record<string, () => Promise<Record<string, unknown>>> = {
  storage: () => storageBench({ count: Number(process.env['BENCH_COUNT'] ?? 20_000), maxSeconds: 60 }),
  api: () => apiBench({ count: Number(process.env['BENCH_API_COUNT'] ?? 10_000), maxSeconds: 30, watchers: 1_000, writesPerSecond: 20, watchSeconds: 10 }),
  members: () => membersBench({ count: Number(process.env['BENCH_MEMBERS_COUNT'] ?? 100), windowSeconds: Number(process.env['BENCH_MEMBERS_WINDOW_S'] ?? 60), readyTimeoutSeconds: 180 }),
  propagation: () => propagationBench({
    members: Number(process.env['BENCH_PROPAGATION_MEMBERS'] ?? 10),
    ratePerSecond: Number(process.env['BENCH_PROPAGATION_RATE'] ?? 20),
    seconds: Number(process.env['BENCH_PROPAGATION_SECONDS'] ?? 15),
    coldDeployments: Number(process.env['BENCH_PROPAGATION_COLD_DEPLOYMENTS'] ?? 5000),
    timeoutSeconds: 120,
    transport: process.env['BENCH_PROPAGATION_TRANSPORT'] === 'https' ? 'https' : 'in-process',
  }),
  // Both ways the controllers can reach the API (`flotilla serve --controller-transport`), unless
  // BENCH_SCHEDULER_TRANSPORT names one.
  scheduler: async () => {
    const only = process.env['BENCH_SCHEDULER_TRANSPORT'];
    const transports: readonly ('https' | 'in-process')[] = only === 'https' || only === 'in-process' ? [only] : ['in-process', 'https'];
    const runs = [];
    for (const transport of transports) {
      runs.push(await schedulerBench({
        deployments: Number(process.env['BENCH_SCHEDULER_DEPLOYMENTS'] ?? 1000),
        clusters: Number(process.env['BENCH_SCHEDULER_CLUSTERS'] ?? 100),
        timeoutSeconds: 120,
        transport,
        ...(process.env['BENCH_SCHEDULER_WORKERS'] ? { workers: Number(process.env['BENCH_SCHEDULER_WORKERS']) } : {}),
      }));
    }
    return { scenario: 'scheduler', runs };
  },
};

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !(name in scenarios));
if (unknown.length > 0) {
  process.stderr.write(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}\n`);
  process.exit(2);
}
const results = [];
for (const name of wanted.length > 0 ? wanted : Object.keys(scenarios)) {
  results.push(await (scenarios[name] as () => Promise<Record<string, unknown>>)());
}
process.stdout.write(`\n${JSON.stringify({ bench: results, node: process.version, date: new Date().toISOString() })}\n`);
