import { Agent, request } from 'node:https';
import { createConnection, createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { createInterface } from 'node:readline';
import t from 'tap';
import type { Test } from 'tap';
import { ApiException, CoreV1Api, KubeConfig, makeInformer } from '@kubernetes/client-node';
import type { ListWatch, V1ConfigMap } from '@kubernetes/client-node';
import { startEtcd } from '../test/helpers/etcd-server.js';
import { startServer } from './harness.js';
import type { RunningServer } from './harness.js';

/**
 * A real @kubernetes/client-node (kube-api-contract.md §11) against a real `flotilla serve`, on the
 * embedded store and on etcd:
 *   - CoreV1Api CRUD of a ConfigMap, with ApiException codes 404 / 409 and Status bodies;
 *   - an informer (`makeInformer` + ListWatch) that must see create → update → delete of 1,000
 *     ConfigMaps, every event, in order per object;
 *   - the informer's recovery from 410 Expired: its connection is cut (a loopback TCP proxy between it
 *     and the server), more than the watch cache's 10,000 events of history are written meanwhile, and
 *     when it reconnects with its old resourceVersion the server must answer ERROR 410 Expired, so it
 *     relists and its cache converges on the server's list.
 *
 * Why not etcd compaction for the 410: watches are served from the server's watch cache, which (like
 * kube-apiserver's) keeps its own window of recent events and never re-reads etcd history, so
 * compacting etcd does not expire a watch resourceVersion; outrunning the window does.
 */
const OBJECTS = 1_000;
const WRITERS = 32;
const WATCH_CACHE_WINDOW = 10_000;
const FILLER = WATCH_CACHE_WINDOW + 200;
const FILLER_IN_FLIGHT = 64;
const WAIT_MS = 90_000;
const NS = 'informed';

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `done` every 50 ms until it holds or `timeoutMs` passes; returns whether it held. */
async function until(done: () => boolean | Promise<boolean>, timeoutMs = WAIT_MS): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await sleep(50);
  }
  return done();
}

/** The Status inside an ApiException (client-node keeps the response body as text). */
function statusOf(err: unknown): { code?: number; reason?: string; message?: string } {
  if (!(err instanceof ApiException)) return {};
  const body = (err as ApiException<unknown>).body;
  try {
    return typeof body === 'string' ? JSON.parse(body) : (body as object);
  } catch {
    return {};
  }
}

async function expectApiError(t: Test, what: string, promise: Promise<unknown>, code: number, reason: string): Promise<void> {
  try {
    await promise;
    t.fail(`${what}: expected ApiException ${code}`);
  } catch (err) {
    t.ok(err instanceof ApiException, `${what}: an ApiException`, { err: String(err) });
    t.equal((err as ApiException<unknown>).code, code, `${what}: .code ${code}`);
    const status = statusOf(err);
    t.equal(status.reason, reason, `${what}: Status reason ${reason}`);
    t.equal(status.code, code);
  }
}

/**
 * A loopback TCP proxy (TLS passes through untouched) that can cut every connection and refuse new
 * ones: a network failure between a client and the server, without touching either.
 */
class CuttableProxy {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();
  private cut = false;
  accepted = 0;

  constructor(private readonly target: URL) {
    this.server = createServer((client) => this.accept(client));
  }

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    const address = this.server.address();
    if (typeof address !== 'object' || !address) throw new Error('proxy has no address');
    return `https://127.0.0.1:${address.port}`;
  }

  /** Drops every open connection; new ones are closed at once until `restore()`. */
  sever(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }

  restore(): void {
    this.cut = false;
  }

  async close(): Promise<void> {
    this.sever();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(client: Socket): void {
    if (this.cut) {
      client.destroy();
      return;
    }
    this.accepted++;
    const upstream = createConnection({ host: this.target.hostname, port: Number(this.target.port) });
    for (const [a, b] of [[client, upstream], [upstream, client]] as const) {
      this.sockets.add(a);
      a.on('error', () => b.destroy());
      a.on('close', () => {
        this.sockets.delete(a);
        b.destroy();
      });
      a.pipe(b);
    }
  }
}

/** Raw keep-alive HTTPS with the kubeconfig's admin certificate, for bulk writes and raw watches. */
function rawClient(kc: KubeConfig, inFlight: number) {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster || !user?.certData || !user.keyData || !cluster.caData) throw new Error('kubeconfig without inline certificates');
  const url = new URL(cluster.server);
  const b = (s: string) => Buffer.from(s, 'base64');
  const agent = new Agent({ keepAlive: true, maxSockets: inFlight, ca: b(cluster.caData), cert: b(user.certData), key: b(user.keyData) });
  const call = (method: string, path: string, body?: unknown): Promise<{ code: number; text: string }> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const req = request({ host: url.hostname, port: url.port, method, path, agent, timeout: 30_000, headers: { accept: 'application/json', ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}) } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk)).on('end', () => resolve({ code: res.statusCode ?? 0, text }));
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path} timed out`)));
      req.on('error', reject);
      req.end(payload);
    });
  /** The first event of a watch from `resourceVersion` (bounded by a 10 s server-side timeout). */
  const firstWatchEvent = (path: string, resourceVersion: string): Promise<{ type?: string; object?: { code?: number; reason?: string; message?: string } } | undefined> =>
    new Promise((resolve, reject) => {
      const req = request({ host: url.hostname, port: url.port, method: 'GET', path: `${path}?watch=true&timeoutSeconds=10&resourceVersion=${resourceVersion}`, agent, timeout: 15_000 }, (res) => {
        const lines = createInterface(res);
        let settled = false;
        lines.on('line', (line) => {
          if (settled) return;
          settled = true;
          resolve(JSON.parse(line));
          req.destroy();
        });
        lines.on('close', () => {
          if (!settled) resolve(undefined);
        });
      });
      req.on('timeout', () => req.destroy(new Error('watch timed out')));
      req.on('error', (err) => (err.message === 'socket hang up' ? undefined : reject(err)));
      req.end();
    });
  return { call, firstWatchEvent, close: () => agent.destroy() };
}

async function bulk(count: number, inFlight: number, op: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) await op(next++);
  };
  await Promise.all(Array.from({ length: inFlight }, worker));
}

type Recorded = { type: 'add' | 'update' | 'delete'; rv: string; data: Record<string, string> | undefined };

function suite(t: Test, server: RunningServer): void {
  const kc = new KubeConfig();
  kc.loadFromFile(server.kubeconfig);
  const api = kc.makeApiClient(CoreV1Api);
  const raw = rawClient(kc, FILLER_IN_FLIGHT);
  t.teardown(() => raw.close());
  t.before(async () => {
    await api.createNamespace({ body: { metadata: { name: NS } } });
    await api.createNamespace({ body: { metadata: { name: 'filler' } } });
  });

  t.test('CoreV1Api CRUD and ApiException codes', async (t) => {
    const created = await api.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'crud', labels: { app: 'crud' } }, data: { color: 'blue' } } });
    t.equal(created.metadata?.name, 'crud');
    t.match(created.metadata?.uid, /^[0-9a-f-]{36}$/);
    t.match(created.metadata?.resourceVersion, /^\d+$/);
    t.ok(created.metadata?.creationTimestamp instanceof Date, 'creationTimestamp deserializes as a Date');

    const read = await api.readNamespacedConfigMap({ name: 'crud', namespace: NS });
    t.same(read.data, { color: 'blue' });
    t.equal(read.metadata?.resourceVersion, created.metadata?.resourceVersion);

    const listed = await api.listNamespacedConfigMap({ namespace: NS, labelSelector: 'app=crud' });
    t.same(listed.items.map((i) => i.metadata?.name), ['crud']);
    t.match(listed.metadata?.resourceVersion, /^\d+$/);

    const replaced = await api.replaceNamespacedConfigMap({ name: 'crud', namespace: NS, body: { ...read, data: { color: 'green' } } });
    t.same(replaced.data, { color: 'green' });
    t.not(replaced.metadata?.resourceVersion, read.metadata?.resourceVersion, 'replace bumps resourceVersion');

    await expectApiError(t, 'replace with a stale resourceVersion', api.replaceNamespacedConfigMap({ name: 'crud', namespace: NS, body: { ...read, data: { color: 'red' } } }), 409, 'Conflict');
    await expectApiError(t, 'create twice', api.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'crud' } } }), 409, 'AlreadyExists');
    await expectApiError(t, 'read a missing object', api.readNamespacedConfigMap({ name: 'absent', namespace: NS }), 404, 'NotFound');
    await expectApiError(t, 'create in a missing namespace', api.createNamespacedConfigMap({ namespace: 'absent', body: { metadata: { name: 'x' } } }), 404, 'NotFound');
    await expectApiError(t, 'invalid name', api.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'Not_Valid' } } }), 422, 'Invalid');

    const patched = await api.patchNamespacedConfigMap({ name: 'crud', namespace: NS, body: [{ op: 'replace', path: '/data/color', value: 'teal' }] });
    t.same(patched.data, { color: 'teal' }, 'JSON patch (client-node default patch type)');

    const deleted = await api.deleteNamespacedConfigMap({ name: 'crud', namespace: NS });
    t.equal(deleted.status, 'Success');
    await expectApiError(t, 'read after delete', api.readNamespacedConfigMap({ name: 'crud', namespace: NS }), 404, 'NotFound');
    await expectApiError(t, 'delete twice', api.deleteNamespacedConfigMap({ name: 'crud', namespace: NS }), 404, 'NotFound');
  });

  t.test('informer: every event of 1,000 ConfigMaps in order, then recovery from 410 Expired', async (t) => {
    const proxy = new CuttableProxy(new URL(server.url));
    const proxyUrl = await proxy.listen();
    t.teardown(() => proxy.close());
    // The informer (its LIST and its WATCH) reaches the server only through the proxy.
    const viaProxy = new KubeConfig();
    viaProxy.loadFromOptions({ clusters: kc.clusters.map((c) => ({ ...c, server: proxyUrl })), users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext });
    const informerApi = viaProxy.makeApiClient(CoreV1Api);
    let lists = 0;
    // makeInformer builds a ListWatch (typed as Informer & ObjectCache); latestResourceVersion() is its own.
    const informer = makeInformer(viaProxy, `/api/v1/namespaces/${NS}/configmaps`, () => {
      lists++;
      return informerApi.listNamespacedConfigMap({ namespace: NS });
    }) as ListWatch<V1ConfigMap>;
    const events = new Map<string, Recorded[]>();
    const record = (type: Recorded['type']) => (obj: V1ConfigMap) => {
      const name = obj.metadata?.name ?? '';
      let list = events.get(name);
      if (!list) events.set(name, (list = []));
      list.push({ type, rv: obj.metadata?.resourceVersion ?? '', data: obj.data });
    };
    informer.on('add', record('add'));
    informer.on('update', record('update'));
    informer.on('delete', record('delete'));
    const errors: unknown[] = [];
    let connects = 0;
    let stopping = false;
    informer.on('error', (err) => {
      if (!stopping) errors.push(err);
    });
    informer.on('connect', () => connects++);
    t.teardown(async () => {
      stopping = true;
      await informer.stop();
    });
    await informer.start();
    t.equal(lists, 1, 'the informer listed once');
    t.equal(connects, 1, 'and connected');

    // 1. create → replace → delete of each ConfigMap, WRITERS objects at a time, through CoreV1Api.
    const started = Date.now();
    await bulk(OBJECTS, WRITERS, async (i) => {
      const name = `cm-${i}`;
      const created = await api.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name }, data: { step: 'created', i: String(i) } } });
      await api.replaceNamespacedConfigMap({ name, namespace: NS, body: { ...created, data: { step: 'updated', i: String(i) } } });
      await api.deleteNamespacedConfigMap({ name, namespace: NS });
    });
    const wrote = Date.now() - started;
    const complete = await until(() => [...Array(OBJECTS).keys()].every((i) => (events.get(`cm-${i}`)?.length ?? 0) >= 3));
    t.ok(complete, `the informer saw all ${OBJECTS * 3} events (writes took ${wrote} ms)`);
    let inOrder = 0;
    for (let i = 0; i < OBJECTS; i++) {
      const seen = events.get(`cm-${i}`) ?? [];
      const types = seen.map((e) => e.type).join(',');
      const rvs = seen.map((e) => Number(e.rv));
      const ok = types === 'add,update,delete' && seen[0]?.data?.['step'] === 'created' && seen[1]?.data?.['step'] === 'updated' && seen[2]?.data?.['i'] === String(i) && rvs.every((rv, k) => k === 0 || rv > (rvs[k - 1] as number));
      if (ok) inOrder++;
      else t.fail(`cm-${i}: events ${types} (resourceVersions ${rvs.join(',')})`, { seen });
    }
    t.equal(inOrder, OBJECTS, 'every object: add (created), update (updated), delete, resourceVersions increasing');
    t.same(informer.list(NS).map((o) => o.metadata?.name).filter((n) => n?.startsWith('cm-')), [], 'the informer cache holds none of them afterwards');
    t.same(errors, [], 'no informer errors so far');
    t.equal(lists, 1, 'no relist was needed');

    // 2. Objects that will change while the informer is cut off.
    for (let i = 0; i < 20; i++) await api.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `keep-${i}` }, data: { v: '1' } } });
    t.ok(await until(() => informer.list(NS).filter((o) => o.metadata?.name?.startsWith('keep-')).length === 20), 'the informer has the 20 survivors');
    const lastSeen = informer.latestResourceVersion();
    const before = { lists, connects, errors: errors.length };

    proxy.sever();
    t.ok(await until(() => errors.length > before.errors, 20_000), 'the cut connection surfaces as an informer error (the informer stops)', { errors: errors.map(String) });

    // 3. While it is away: changes it must pick up, then more events than the watch cache keeps.
    for (let i = 0; i < 10; i++) {
      const current = await api.readNamespacedConfigMap({ name: `keep-${i}`, namespace: NS });
      await api.replaceNamespacedConfigMap({ name: `keep-${i}`, namespace: NS, body: { ...current, data: { v: '2' } } });
    }
    for (let i = 10; i < 15; i++) await api.deleteNamespacedConfigMap({ name: `keep-${i}`, namespace: NS });
    for (let i = 0; i < 10; i++) await api.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: `new-${i}` }, data: { v: '1' } } });
    const fillStarted = Date.now();
    let fillFailures = 0;
    await bulk(FILLER, FILLER_IN_FLIGHT, async (i) => {
      const res = await raw.call('POST', '/api/v1/namespaces/filler/configmaps', { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: `fill-${i}` }, data: { i: String(i) } });
      if (res.code !== 201) fillFailures++;
    });
    t.equal(fillFailures, 0, `${FILLER} filler ConfigMaps created in ${Date.now() - fillStarted} ms`);

    // The server itself: a watch from the informer's last resourceVersion is now ERROR 410 Expired.
    const expired = await raw.firstWatchEvent(`/api/v1/namespaces/${NS}/configmaps`, lastSeen);
    t.equal(expired?.type, 'ERROR', `a watch from resourceVersion ${lastSeen} gets an ERROR event`, { found: expired });
    t.equal(expired?.object?.code, 410);
    t.equal(expired?.object?.reason, 'Expired');
    t.match(expired?.object?.message, /too old resource version/);

    // 4. Reconnect (what an application's error handler does): watch from the old RV → 410 → relist.
    const errorsWhileCut = errors.length;
    proxy.restore();
    await informer.start();
    const serverList = async () => new Map((await api.listNamespacedConfigMap({ namespace: NS })).items.map((o) => [o.metadata?.name ?? '', o.metadata?.resourceVersion ?? '']));
    const cache = () => new Map(informer.list(NS).map((o) => [o.metadata?.name ?? '', o.metadata?.resourceVersion ?? '']));
    const converged = await until(async () => lists > before.lists && JSON.stringify([...cache()].sort()) === JSON.stringify([...(await serverList())].sort()), 30_000);
    t.ok(converged, 'the informer relisted and its cache equals the server list');
    t.equal(lists, before.lists + 1, 'exactly one relist: the old resourceVersion was answered with 410');
    t.ok(connects > before.connects, 'the informer reconnected');
    t.same([...cache()].sort(), [...(await serverList())].sort(), 'cache (name → resourceVersion) = server list');
    for (let i = 0; i < 10; i++) t.same(informer.get(`keep-${i}`, NS)?.data, { v: '2' }, `keep-${i} updated while away`);
    for (let i = 10; i < 15; i++) {
      t.notOk(informer.get(`keep-${i}`, NS), `keep-${i} deleted while away is gone`);
      t.equal(events.get(`keep-${i}`)?.at(-1)?.type, 'delete', `and the relist reported its deletion`);
    }
    for (let i = 0; i < 10; i++) t.equal(events.get(`new-${i}`)?.[0]?.type, 'add', `new-${i} created while away was added`);
    t.equal(errors.length, errorsWhileCut, 'no informer errors after reconnecting');

    // 5. And it keeps watching.
    await api.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: 'after-recovery' }, data: { v: '1' } } });
    t.ok(await until(() => events.get('after-recovery')?.[0]?.type === 'add', 10_000), 'a create after the recovery arrives as an add');
    t.ok(proxy.accepted >= 4, 'all of this went through the proxy');
  });
}

t.test('embedded store', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  suite(t, server);
});

t.test('etcd store', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.destroy());
  const server = await startServer({ etcdEndpoint: etcd.endpoint });
  t.teardown(() => server.stop());
  suite(t, server);
});
