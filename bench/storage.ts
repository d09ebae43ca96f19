import { Etcd3 } from 'etcd3';
import { openEtcdStore } from '../storage/etcd/etcd-store.js';
import { openEmbeddedStore } from '../storage/embedded/embedded-store.js';
import { startEtcd } from '../test/helpers/etcd-server.js';
import { tempDir } from '../test/helpers/temp-dir.js';
import { deploymentValue, measureThroughput, printTable } from './measure.js';
import type { Throughput } from './measure.js';

/**
 * `npm run bench -- storage`: create throughput of ~1 KB values at 64 in flight, in one run:
 *   raw etcd3 txn-create (the apiserver-style `if mod_revision == 0 then put else get`),
 *   the etcd backend through the Store interface (target ≥ 0.8× raw),
 *   the embedded backend with fsync on (target ≥ 2× raw etcd).
 * Raw and backend rounds alternate on one etcd so drift hits both alike.
 */
const IN_FLIGHT = 64;
const ROUNDS = 2;

export async function storageBench(options: { count: number; maxSeconds: number }): Promise<Record<string, unknown>> {
  const { count, maxSeconds } = options;
  const values = Array.from({ length: count }, (_, i) => deploymentValue(i));
  const etcd = await startEtcd();
  const raw = new Etcd3({ hosts: etcd.endpoint });
  const backend = await openEtcdStore({ endpoints: [etcd.endpoint] });
  const results: Record<string, Throughput[]> = { raw: [], etcdBackend: [], embedded: [] };
  try {
    for (let round = 0; round < ROUNDS; round++) {
      results['raw']!.push(await measureThroughput(count, IN_FLIGHT, maxSeconds, (i) =>
        raw.if(`/raw${round}/${i}`, 'Mod', '==', 0).then(raw.put(`/raw${round}/${i}`).value(values[i] as Buffer)).else(raw.get(`/raw${round}/${i}`)).commit()));
      results['etcdBackend']!.push(await measureThroughput(count, IN_FLIGHT, maxSeconds, (i) => backend.create(`/registry/apps/deployments/bench${round}/d${i}`, values[i] as Buffer)));
    }
  } finally {
    await backend.close();
    raw.close();
    await etcd.destroy();
  }
  for (let round = 0; round < ROUNDS; round++) {
    const dir = await tempDir('bench-embedded');
    const store = await openEmbeddedStore({ dataDir: dir.path });
    try {
      results['embedded']!.push(await measureThroughput(count, IN_FLIGHT, maxSeconds, (i) => store.create(`/registry/apps/deployments/bench/d${i}`, values[i] as Buffer)));
    } finally {
      await store.close();
      await dir.remove();
    }
  }

  const mean = (runs: Throughput[]): number => runs.reduce((sum, r) => sum + r.perSecond, 0) / runs.length;
  const rawRate = mean(results['raw']!);
  const targets: Record<string, number> = { etcdBackend: 0.8, embedded: 2 };
  const rows = Object.entries(results).map(([name, runs]) => ({
    scenario: name,
    'creates/s (mean)': Math.round(mean(runs)),
    'per round': runs.map((r) => Math.round(r.perSecond)).join(' / '),
    'p50 ms': Number((runs.at(-1)?.p50Ms ?? 0).toFixed(2)),
    'p99 ms': Number((runs.at(-1)?.p99Ms ?? 0).toFixed(2)),
    'ratio to raw etcd': Number((mean(runs) / rawRate).toFixed(2)),
    target: targets[name] === undefined ? 'baseline' : `≥ ${targets[name]}×`,
    'meets target': targets[name] === undefined ? '' : mean(runs) / rawRate >= (targets[name] as number) ? 'yes' : 'NO',
  }));
  printTable(`storage: create ~1 KB values, ${IN_FLIGHT} in flight, ${count} per round, ${ROUNDS} rounds`, rows);
  return { scenario: 'storage', inFlight: IN_FLIGHT, count, rows };
}
