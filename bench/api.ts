import { Agent, request } from 'node:https';
import { adminCredentials, startServer } from '../conformance/harness.js';
import type { RunningServer } from '../conformance/harness.js';
import { openEtcdStore } from '../storage/etcd/etcd-store.js';
import { startEtcd } from '../test/helpers/etcd-server.js';
import { measureThroughput, printTable } from './measure.js';
import type { Throughput } from './measure.js';

/**
 * `npm run bench -- api`: the HTTP API of a real `flotilla serve` (etcd backend) against raw etcd on
 * the same etcd, in one run (perf-baselines.md §3, S1 / S3 / S4):
 *   creates/s — raw etcd txn-create vs POST of ~1 KB ConfigMaps over 64 keep-alive HTTPS
 *     connections (target ≥ 0.5× raw), rounds alternating so drift hits both alike, each side
 *     warmed up first (JIT, TLS handshakes, gRPC channel) so that neither is measured cold;
 *   LIST of 10k ConfigMaps, unpaginated (served from the watch cache) and limit=500 pages, p50/p99
 *     over 10 iterations, against raw etcd range-10k + JSON decode/encode (target p50 ≤ 1.0×); the
 *     unpaginated LIST again after a write to another resource (a consistent read the cache must
 *     prove it can serve);
 *   watch fan-out — 1,000 HTTP watch streams while a writer creates ~20 objects/s for 10 s:
 *     commit-ack → received latency per delivery (target p99 ≤ 200 ms, 0 lost).
 * The raw side does exactly the etcd work the server does per object, nothing less or more: the
 * same client (etcd3 configured as storage/etcd configures it: one attempt per call, a deadline),
 * the same request (EtcdStore.create: one `mod_revision == 0 → put` txn), 64 calls in flight, keys
 * of the same length and values of the same size (the bytes the server stored for a warm-up
 * ConfigMap) — so its range of 10k is as many bytes to decode as the server's LIST serves.
 * Every phase is bounded in count and time; loopback only; etcd and the server are stopped by PID.
 */
const IN_FLIGHT = 64;
const ROUNDS = 3;
/** Unmeasured creates on each side before the first round. */
const WARM_UP = 1_000;
/** The server stores under this etcd prefix; the raw side under one of the same length. */
const SERVER_PREFIX = '/bench-api';
const RAW_PREFIX = '/bench-raw';
const LIST_ITERATIONS = 10;
const LIST_PAGE = 500;
const REQUEST_TIMEOUT_MS = 60_000;
const WATCH_CONNECT_BATCH = 50;
const WATCH_DRAIN_MS = 15_000;

export interface ApiBenchOptions {
  /** Creates per round (and so the LIST size); 10,000 by default. */
  readonly count: number;
  /** Upper bound of each create round. */
  readonly maxSeconds: number;
  readonly watchers: number;
  readonly writesPerSecond: number;
  readonly watchSeconds: number;
}

interface Https {
  readonly agent: Agent;
  call(method: string, path: string, body?: Buffer, agent?: Agent): Promise<{ code: number; body: Buffer }>;
  newAgent(options: { maxSockets: number; keepAlive: boolean }): Agent;
  readonly url: URL;
}

async function httpsClient(server: RunningServer): Promise<Https> {
  const tls = await adminCredentials(server.kubeconfig);
  const newAgent = (options: { maxSockets: number; keepAlive: boolean }) => new Agent({ ...tls, ...options });
  const agent = newAgent({ maxSockets: IN_FLIGHT, keepAlive: true });
  const url = new URL(server.url);
  const call = (method: string, path: string, body?: Buffer, via: Agent = agent): Promise<{ code: number; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: url.hostname, port: url.port, method, path, agent: via, timeout: REQUEST_TIMEOUT_MS, headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/json', 'content-length': String(body.length) } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => resolve({ code: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(body);
    });
  return { agent, call, newAgent, url };
}

/** A ~1 KB ConfigMap, as JSON. */
function configMapBody(name: string, i: number): Buffer {
  const object = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, labels: { app: `bench-${i % 100}`, tier: 'web' } }, data: { index: String(i), payload: '' } };
  const base = JSON.stringify(object).length;
  object.data.payload = 'x'.repeat(Math.max(0, 1020 - base));
  return Buffer.from(JSON.stringify(object));
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

const ms = (n: number): number => Number(n.toFixed(1));

export async function apiBench(options: ApiBenchOptions): Promise<Record<string, unknown>> {
  const { count, maxSeconds } = options;
  const deadline = Date.now() + 170_000; // whole scenario < 3 min, whatever the machine
  const etcd = await startEtcd();
  // The raw side's etcd client: the server's own storage client, opened as `flotilla serve` opens it.
  const raw = await openEtcdStore({ endpoints: [etcd.endpoint] });
  let server: RunningServer | undefined;
  let http: Https | undefined;
  try {
    // The API server alone, as kube-apiserver is measured: its controllers run in another process.
    server = await startServer({ etcdEndpoint: etcd.endpoint, etcdPrefix: SERVER_PREFIX, controllers: false });
    http = await httpsClient(server);
    const client = http;
    for (const name of ['bench-warm', ...Array.from({ length: ROUNDS }, (_, round) => `bench-${round}`)]) {
      const ns = await client.call('POST', '/api/v1/namespaces', Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } })));
      if (ns.code !== 201) throw new Error(`create namespace ${name}: ${ns.code} ${ns.body.toString()}`);
    }

    // 1. Creates: raw etcd txn-create and HTTPS POST, alternating rounds after a warm-up of each.
    const configMaps = (prefix: string, namespace: string): string => `${prefix}/registry/core/configmaps/${namespace}/`;
    await measureThroughput(WARM_UP, IN_FLIGHT, maxSeconds, (i) => client.call('POST', '/api/v1/namespaces/bench-warm/configmaps', configMapBody(`cm-${i}`, i)));
    const stored = await raw.get(`${configMaps(SERVER_PREFIX, 'bench-warm')}cm-${WARM_UP - 1}`);
    if (!stored) throw new Error('the warm-up ConfigMaps were not stored');
    const value = Buffer.from(stored.value); // what the server stored for one ConfigMap: the raw side writes as many bytes
    await measureThroughput(WARM_UP, IN_FLIGHT, maxSeconds, (i) => raw.create(`${configMaps(RAW_PREFIX, 'bench-warm')}cm-${i}`, value));
    const creates: Record<'raw' | 'https', Throughput[]> = { raw: [], https: [] };
    let httpFailures = 0;
    for (let round = 0; round < ROUNDS; round++) {
      creates.raw.push(await measureThroughput(count, IN_FLIGHT, maxSeconds, (i) => raw.create(`${configMaps(RAW_PREFIX, `bench-${round}`)}cm-${i}`, value)));
      const bodies = Array.from({ length: count }, (_, i) => configMapBody(`cm-${i}`, i));
      creates.https.push(await measureThroughput(count, IN_FLIGHT, maxSeconds, async (i) => {
        const res = await client.call('POST', `/api/v1/namespaces/bench-${round}/configmaps`, bodies[i] as Buffer);
        if (res.code !== 201) httpFailures++;
      }));
    }
    const mean = (runs: Throughput[]): number => runs.reduce((sum, r) => sum + r.perSecond, 0) / runs.length;
    const rawRate = mean(creates.raw);
    // Each round's HTTPS rate over the raw rate measured just before it.
    const roundRatios = creates.https.map((r, round) => r.perSecond / (creates.raw[round]?.perSecond ?? Number.NaN)).sort((a, b) => a - b);
    const createRows = (['raw', 'https'] as const).map((name) => {
      const runs = creates[name];
      const ratio = mean(runs) / rawRate;
      return {
        scenario: name === 'raw' ? 'raw etcd txn-create' : 'POST ConfigMap over HTTPS',
        'creates/s (mean)': Math.round(mean(runs)),
        'per round': runs.map((r) => Math.round(r.perSecond)).join(' / '),
        'p50 ms': ms(runs.at(-1)?.p50Ms ?? 0),
        'p99 ms': ms(runs.at(-1)?.p99Ms ?? 0),
        'ratio to raw etcd': Number(ratio.toFixed(2)),
        'round ratios min/median/max': name === 'raw' ? '' : [roundRatios[0] ?? 0, percentile(roundRatios, 0.5), roundRatios.at(-1) ?? 0].map((r) => r.toFixed(2)).join(' / '),
        target: name === 'raw' ? 'baseline' : '≥ 0.5×',
        'meets target': name === 'raw' ? '' : ratio >= 0.5 && httpFailures === 0 ? 'yes' : 'NO',
        errors: name === 'raw' ? 0 : httpFailures,
      };
    });
    printTable(`api: create ~1 KB objects (${value.length} B stored), ${IN_FLIGHT} in flight, ${count} per round, ${ROUNDS} rounds after ${WARM_UP} warm-up creates each`, createRows);

    // 2. LIST of `count` objects: raw range + decode/encode, then the server (watch cache; limit=500 pages).
    const listed = creates.https[0]?.ops ?? 0;
    const rawList: number[] = [];
    let rawItems = 0;
    let rawBytes = 0;
    for (let i = -1; i < LIST_ITERATIONS && Date.now() < deadline; i++) {
      const t0 = performance.now();
      const res = await raw.list(configMaps(RAW_PREFIX, 'bench-0'));
      const items = res.items.map((kv) => JSON.parse(Buffer.from(kv.value.buffer, kv.value.byteOffset, kv.value.byteLength).toString('utf8')) as unknown);
      const encoded = JSON.stringify({ kind: 'List', apiVersion: 'v1', metadata: { resourceVersion: String(res.revision) }, items });
      if (i >= 0) rawList.push(performance.now() - t0); // i = -1: one unmeasured warm-up
      rawItems = items.length;
      rawBytes = encoded.length;
    }
    const timeList = async (paginate: boolean): Promise<{ samples: number[]; items: number; bytes: number }> => {
      const samples: number[] = [];
      let items = 0;
      let bytes = 0;
      for (let i = -1; i < LIST_ITERATIONS && Date.now() < deadline; i++) {
        const t0 = performance.now();
        let token: string | undefined;
        let pages = 0;
        const bodies: Buffer[] = [];
        do {
          const path = `/api/v1/namespaces/bench-0/configmaps${paginate ? `?limit=${LIST_PAGE}${token ? `&continue=${encodeURIComponent(token)}` : ''}` : ''}`;
          const res = await client.call('GET', path);
          if (res.code !== 200) throw new Error(`LIST ${path}: ${res.code} ${res.body.toString().slice(0, 300)}`);
          bodies.push(res.body);
          token = paginate ? (JSON.parse(res.body.toString('utf8')) as { metadata: { continue?: string } }).metadata.continue : undefined;
          pages++;
        } while (token && pages < 10_000);
        if (i >= 0) samples.push(performance.now() - t0); // i = -1: one unmeasured warm-up
        if (i === 0) {
          bytes = bodies.reduce((sum, b) => sum + b.length, 0);
          items = bodies.reduce((sum, b) => sum + (JSON.parse(b.toString('utf8')) as { items: unknown[] }).items.length, 0);
        }
      }
      return { samples, items, bytes };
    };
    const unpaginated = await timeList(false);
    const paginated = await timeList(true);
    // The same LIST once another resource has been written since the last ConfigMap event: the
    // ConfigMap watch cache has seen nothing newer, so it cannot prove it is current.
    const secret = await client.call('POST', '/api/v1/namespaces/bench-0/secrets', Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'unrelated-write' } })));
    if (secret.code !== 201) throw new Error(`create secret: ${secret.code}`);
    const afterOtherWrite = await timeList(false);
    const rawP50 = percentile([...rawList].sort((a, b) => a - b), 0.5);
    const listRow = (scenario: string, samples: number[], items: number, bytes: number, target: string, limit: number | undefined) => {
      const sorted = [...samples].sort((a, b) => a - b);
      const p50 = percentile(sorted, 0.5);
      const p99 = percentile(sorted, 0.99);
      return {
        scenario,
        items,
        MB: Number((bytes / 1e6).toFixed(1)),
        'p50 ms': ms(p50),
        'p99 ms': ms(p99),
        'p50 ratio to raw': Number((p50 / rawP50).toFixed(2)),
        target,
        'meets target': limit === undefined ? '' : p50 <= limit * rawP50 && p99 <= 1000 ? 'yes' : 'NO',
      };
    };
    const listRows = [
      listRow(`raw etcd range ${rawItems} + JSON decode/encode`, rawList, rawItems, rawBytes, 'baseline', undefined),
      listRow('LIST unpaginated (watch cache)', unpaginated.samples, unpaginated.items, unpaginated.bytes, 'p50 ≤ 1.0× (stretch 0.5×), p99 ≤ 1 s', 1.0),
      listRow(`LIST limit=${LIST_PAGE} pages (etcd)`, paginated.samples, paginated.items, paginated.bytes, 'p50 ≤ 1.0×, p99 ≤ 1 s', 1.0),
      listRow('LIST unpaginated, after a Secret write', afterOtherWrite.samples, afterOtherWrite.items, afterOtherWrite.bytes, 'p50 ≤ 1.0× (stretch 0.5×), p99 ≤ 1 s', 1.0),
    ];
    printTable(`api: LIST of ${listed} ConfigMaps (~1 KB each), ${LIST_ITERATIONS} iterations after one warm-up`, listRows);

    // 3. Watch fan-out: N watch streams, a paced writer, commit-ack → received per delivery.
    const watch = await watchFanout(client, options, deadline);
    printTable(`api: ${watch.watchers} watchers × ${watch.writes} writes (~${options.writesPerSecond}/s for ${options.watchSeconds} s)`, [watch.row]);

    // Last, for comparison (on the same etcd, so it runs after the LIST phase): one round against a server that also runs its controllers in-process (the
    // garbage collector watches every object, so each write also feeds its informers).
    const withControllers = await startServer({ etcdEndpoint: etcd.endpoint, etcdPrefix: '/bench-api-controllers' });
    let inProcess: Throughput | undefined;
    try {
      const other = await httpsClient(withControllers);
      await other.call('POST', '/api/v1/namespaces', Buffer.from(JSON.stringify({ metadata: { name: 'bench-c' } })));
      const bodies = Array.from({ length: count }, (_, i) => configMapBody(`cm-${i}`, i));
      inProcess = await measureThroughput(count, IN_FLIGHT, maxSeconds, async (i) => {
        const res = await other.call('POST', '/api/v1/namespaces/bench-c/configmaps', bodies[i] as Buffer);
        if (res.code !== 201) httpFailures++;
      });
      other.agent.destroy();
    } finally {
      await withControllers.stop();
    }
    const comparison = {
      scenario: 'POST over HTTPS, controllers in-process',
      'creates/s': Math.round(inProcess?.perSecond ?? 0),
      'p50 ms': ms(inProcess?.p50Ms ?? 0),
      'p99 ms': ms(inProcess?.p99Ms ?? 0),
      'ratio to raw etcd': Number(((inProcess?.perSecond ?? 0) / rawRate).toFixed(2)),
    };
    printTable('api: create with the garbage collector and namespace controller in the same process (for comparison)', [comparison]);
    return { scenario: 'api', inFlight: IN_FLIGHT, count, creates: createRows, createsWithControllers: comparison, list: listRows, watch: watch.row };
  } finally {
    http?.agent.destroy();
    await server?.stop();
    await raw.close();
    await etcd.destroy();
  }
}

async function watchFanout(http: Https, options: ApiBenchOptions, deadline: number): Promise<{ watchers: number; writes: number; row: Record<string, string | number> }> {
  const ns = 'watch-bench';
  const created = await http.call('POST', '/api/v1/namespaces', Buffer.from(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns } })));
  if (created.code !== 201) throw new Error(`create namespace ${ns}: ${created.code}`);
  const listing = await http.call('GET', `/api/v1/namespaces/${ns}/configmaps`);
  const fromRv = (JSON.parse(listing.body.toString('utf8')) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const writes = Math.max(1, Math.round(options.writesPerSecond * options.watchSeconds));
  const watchers = options.watchers;
  // receivedAt[w * writes + i]: when watcher w got the ADDED of object i (0 = not yet).
  const receivedAt = new Float64Array(watchers * writes);
  const ackAt = new Float64Array(writes);
  const sentAt = new Float64Array(writes);
  let delivered = 0;
  let unexpected = 0;
  const watchAgent = http.newAgent({ maxSockets: watchers + 1, keepAlive: false });
  const streams: { destroy: () => void }[] = [];
  const NAME = /"name":"w-(\d+)"/;

  const connect = (w: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request(
        { host: http.url.hostname, port: http.url.port, method: 'GET', agent: watchAgent, path: `/api/v1/namespaces/${ns}/configmaps?watch=true&resourceVersion=${fromRv}&timeoutSeconds=${options.watchSeconds + 60}`, headers: { accept: 'application/json' } },
        (res) => {
          if (res.statusCode !== 200) {
            reject(new Error(`watch ${w}: HTTP ${res.statusCode}`));
            res.resume();
            return;
          }
          let buffered = '';
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            const now = performance.now();
            buffered += chunk;
            let newline = buffered.indexOf('\n');
            while (newline >= 0) {
              const line = buffered.slice(0, newline);
              buffered = buffered.slice(newline + 1);
              newline = buffered.indexOf('\n');
              const match = line.startsWith('{"type":"ADDED"') ? NAME.exec(line) : null;
              const i = match ? Number(match[1]) : -1;
              if (i >= 0 && i < writes && receivedAt[w * writes + i] === 0) {
                receivedAt[w * writes + i] = now;
                delivered++;
              } else unexpected++;
            }
          });
          res.on('error', () => undefined);
          resolve();
        },
      );
      req.on('error', (err) => reject(err));
      req.end();
      streams.push({ destroy: () => req.destroy() });
    });

  try {
    const connectStarted = performance.now();
    for (let w = 0; w < watchers; w += WATCH_CONNECT_BATCH) {
      await Promise.all(Array.from({ length: Math.min(WATCH_CONNECT_BATCH, watchers - w) }, (_, k) => connect(w + k)));
    }
    const connectMs = performance.now() - connectStarted;

    // The writer: object i is sent at start + i / rate, not waiting for earlier ones.
    const writeAgent = http.newAgent({ maxSockets: 8, keepAlive: true });
    const writeStarted = performance.now();
    let writeFailures = 0;
    const inFlight: Promise<void>[] = [];
    for (let i = 0; i < writes && Date.now() < deadline; i++) {
      const due = writeStarted + (i * 1000) / options.writesPerSecond;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      sentAt[i] = performance.now();
      inFlight.push(http.call('POST', `/api/v1/namespaces/${ns}/configmaps`, configMapBody(`w-${i}`, i), writeAgent).then((res) => {
        ackAt[i] = performance.now();
        if (res.code !== 201) writeFailures++;
      }));
    }
    await Promise.all(inFlight);
    const writeSeconds = (performance.now() - writeStarted) / 1000;
    writeAgent.destroy();
    const expected = watchers * writes;
    const drainUntil = performance.now() + WATCH_DRAIN_MS;
    while (delivered < expected && performance.now() < drainUntil) await new Promise((resolve) => setTimeout(resolve, 50));
    const spanSeconds = (performance.now() - writeStarted) / 1000;

    const latencies: number[] = [];
    const fromSend: number[] = [];
    let early = 0;
    for (let w = 0; w < watchers; w++) {
      for (let i = 0; i < writes; i++) {
        const got = receivedAt[w * writes + i] as number;
        if (got === 0 || ackAt[i] === 0) continue;
        const latency = got - (ackAt[i] as number);
        if (latency < 0) early++; // delivered before the writer saw its response: counted as 0 ms
        latencies.push(Math.max(0, latency));
        fromSend.push(got - (sentAt[i] as number));
      }
    }
    latencies.sort((a, b) => a - b);
    fromSend.sort((a, b) => a - b);
    const p99 = percentile(latencies, 0.99);
    const lost = expected - delivered;
    return {
      watchers,
      writes,
      row: {
        watchers,
        'connect s': Number((connectMs / 1000).toFixed(1)),
        writes,
        'writes/s': Number((writes / writeSeconds).toFixed(1)),
        'write errors': writeFailures,
        deliveries: delivered,
        lost,
        unexpected,
        'deliveries/s': Math.round(delivered / spanSeconds),
        'before ack': early,
        'p50 ms': ms(percentile(latencies, 0.5)),
        'p99 ms': ms(p99),
        'max ms': ms(latencies.at(-1) ?? 0),
        'send→received p99 ms': ms(percentile(fromSend, 0.99)),
        target: 'p99 ≤ 200 ms, 0 lost',
        'meets target': p99 <= 200 && lost === 0 && writeFailures === 0 ? 'yes' : 'NO',
      },
    };
  } finally {
    for (const stream of streams) stream.destroy();
    watchAgent.destroy();
  }
}
