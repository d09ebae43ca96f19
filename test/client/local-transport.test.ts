import { request as httpsRequest } from 'node:https';
import t from 'tap';
import type { KubeObject } from '../../src/api/object.js';
import { ApiError } from '../../src/api/status.js';
import { HttpClient, resourcePath } from '../../src/client/client.js';
import type { WatchEvent } from '../../src/client/client.js';
import { Informer } from '../../src/client/informer.js';
import { startInProcessServer } from '../helpers/in-process-server.js';
import { tempDir } from '../helpers/temp-dir.js';

/**
 * Controllers inside `flotilla serve --controller-transport in-process` reach the API through the
 * server's local transport: the same requests, answers, Status errors, metrics and watch streams
 * as over HTTPS, minus TLS and the socket. Each case runs the same calls both ways and compares.
 */
const CONFIGMAPS = { group: '', version: 'v1', resource: 'configmaps' };
const NS = 'default';

const dir = await tempDir('local-transport');
const cp = await startInProcessServer(dir.path, 'cp', { karmada: false });
const local = new HttpClient({
  server: cp.url,
  userAgent: 'local-tester/v1',
  local: cp.server.localTransport({ name: 'local-tester', groups: ['system:masters', 'system:authenticated'] }),
});
t.teardown(async () => {
  local.close();
  await cp.stop();
  await dir.remove();
});

const configMap = (name: string, data: Record<string, string> = {}): KubeObject => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data });

async function caught(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof ApiError) return err;
    throw err;
  }
  throw new Error('expected an ApiError');
}

t.test('CRUD in-process answers exactly as over HTTPS', async (t) => {
  const created = await local.create(resourcePath(CONFIGMAPS, NS), configMap('local-a', { k: 'v' }));
  t.equal(created.metadata.name, 'local-a');
  t.match(created.metadata.resourceVersion, /^\d+$/);
  t.equal((created.metadata.managedFields as { manager: string }[])[0]?.manager, 'local-tester', 'the default field manager comes from the user agent, as over HTTPS');
  const viaHttps = await cp.admin.get(resourcePath(CONFIGMAPS, NS, 'local-a'));
  const viaLocal = await local.get(resourcePath(CONFIGMAPS, NS, 'local-a'));
  t.same(viaLocal, viaHttps, 'a GET is the same object either way');

  const updated = await local.update(resourcePath(CONFIGMAPS, NS, 'local-a'), { ...viaLocal, data: { k: 'v2' } });
  t.equal((updated['data'] as Record<string, string>)['k'], 'v2');
  t.not(updated.metadata.resourceVersion, created.metadata.resourceVersion);
  const patched = await local.patch(resourcePath(CONFIGMAPS, NS, 'local-a'), 'merge', { data: { other: 'x' } });
  t.same(patched['data'], { k: 'v2', other: 'x' });
  const strategic = await local.patch(resourcePath(CONFIGMAPS, NS, 'local-a'), 'strategic', { metadata: { labels: { a: 'b' } } });
  t.same(strategic.metadata.labels, { a: 'b' });

  const list = await local.list(resourcePath(CONFIGMAPS, NS), { labelSelector: 'a=b' });
  t.same(list.items.map((i) => i.metadata.name), ['local-a'], 'selectors apply');
  t.equal(list.kind, 'ConfigMapList');

  const dry = await local.create(resourcePath(CONFIGMAPS, NS), configMap('local-dry'), { dryRun: true });
  t.equal(dry.metadata.name, 'local-dry');
  t.equal((await caught(cp.admin.get(resourcePath(CONFIGMAPS, NS, 'local-dry')))).code, 404, 'dryRun stores nothing');

  await cp.admin.create(resourcePath(CONFIGMAPS, NS), configMap('https-a'));
  const deleted = await local.delete(resourcePath(CONFIGMAPS, NS, 'local-a'));
  const httpsDeleted = await cp.admin.delete(resourcePath(CONFIGMAPS, NS, 'https-a'));
  t.equal(deleted.kind, httpsDeleted.kind, 'a DELETE answers with the same kind of body');
  t.equal((await caught(cp.admin.get(resourcePath(CONFIGMAPS, NS, 'local-a')))).code, 404);
});

t.test('failures are the same Status errors', async (t) => {
  const notFound = await caught(local.get(resourcePath(CONFIGMAPS, NS, 'missing')));
  t.equal(notFound.code, 404);
  t.equal(notFound.reason, 'NotFound');
  t.same(notFound.details, { name: 'missing', group: '', kind: 'configmaps' });

  const created = await local.create(resourcePath(CONFIGMAPS, NS), configMap('local-b'));
  await local.update(resourcePath(CONFIGMAPS, NS, 'local-b'), { ...created, data: { x: 'y' } });
  const conflict = await caught(local.update(resourcePath(CONFIGMAPS, NS, 'local-b'), { ...created, data: { x: 'z' } }));
  t.equal(conflict.code, 409, 'a stale resourceVersion is a conflict');
  t.equal(conflict.reason, 'Conflict');

  const exists = await caught(local.create(resourcePath(CONFIGMAPS, NS), configMap('local-b')));
  t.equal(exists.code, 409);
  t.equal(exists.reason, 'AlreadyExists');

  const invalid = await caught(local.create(resourcePath(CONFIGMAPS, NS), configMap('Not_A_Name')));
  t.equal(invalid.code, 422);
  t.equal(invalid.reason, 'Invalid');

  const unknown = await caught(local.get('/apis/nowhere.example.com/v1/things'));
  t.equal(unknown.code, 404, 'an unknown group is 404, as over HTTPS');
  const httpsUnknown = await caught(cp.admin.get('/apis/nowhere.example.com/v1/things'));
  t.same({ code: unknown.code, reason: unknown.reason, message: unknown.message }, { code: httpsUnknown.code, reason: httpsUnknown.reason, message: httpsUnknown.message });
});

t.test('paths outside /api and /apis: discovery roots, health, version', async (t) => {
  const found = await local.discoverAll();
  t.same(found.failed, []);
  t.ok(found.resources.some((r) => r.resource === 'configmaps' && r.group === '' && r.namespaced), 'discovery lists configmaps');
  t.ok(found.resources.some((r) => r.resource === 'deployments' && r.group === 'apps' && r.subresources.includes('scale')));
  const readyz = await local.getRaw('/readyz');
  t.equal(readyz.code, 200);
  t.equal(readyz.body, 'ok');
  const openapi = await local.getRaw('/openapi/v2');
  t.equal(openapi.code, 200, 'authenticated paths are served to the in-process client');
  t.match(JSON.parse(openapi.body), { swagger: '2.0' });
});

t.test('the in-process credential never works over the network', async (t) => {
  // Catch the token the local transport hands to fastify's inject, then present it over HTTPS.
  const app = cp.server.app;
  type Inject = (opts: { headers?: Record<string, string> }) => Promise<unknown>;
  const patchable = app as unknown as { inject: Inject };
  const inject = patchable.inject.bind(app);
  let authorization: string | undefined;
  patchable.inject = (opts) => {
    authorization = opts.headers?.['authorization'];
    return inject(opts);
  };
  try {
    t.equal((await local.getRaw('/openapi/v2')).code, 200);
  } finally {
    patchable.inject = inject;
  }
  t.match(authorization, /^Bearer .{20,}/, 'injected requests carry a bearer token');
  const code = await new Promise<number>((resolve, reject) => {
    const req = httpsRequest(`${cp.url}/api/v1/namespaces`, { ca: cp.pki.caCertPem, headers: { authorization: authorization as string } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
  t.equal(code, 401, 'over HTTPS the token authenticates nobody');
});

t.test('requests are counted in apiserver_request_total', async (t) => {
  const countOf = async () => {
    const text = (await cp.admin.getRaw('/metrics')).body;
    const line = text.split('\n').find((l) => l.startsWith('apiserver_request_total{') && l.includes('verb="POST"') && l.includes('resource="configmaps"') && l.includes('code="201"'));
    return line ? Number(line.split(' ').at(-1)) : 0;
  };
  const before = await countOf();
  await local.create(resourcePath(CONFIGMAPS, NS), configMap('local-counted'));
  t.equal(await countOf(), before + 1);
});

t.test('watch: events in order, resume, 410, abort and close', async (t) => {
  const start = await local.create(resourcePath(CONFIGMAPS, NS), configMap('local-w'));
  const abort = new AbortController();
  const seen: WatchEvent[] = [];
  const reading = (async () => {
    for await (const event of local.watch(resourcePath(CONFIGMAPS, NS), { resourceVersion: start.metadata.resourceVersion as string, fieldSelector: 'metadata.name=local-w', signal: abort.signal })) {
      seen.push(event);
      if (seen.length === 3) break;
    }
  })();
  const updated = await local.update(resourcePath(CONFIGMAPS, NS, 'local-w'), { ...start, data: { n: '1' } });
  await cp.admin.delete(resourcePath(CONFIGMAPS, NS, 'local-w'));
  await local.create(resourcePath(CONFIGMAPS, NS), configMap('local-w'));
  await reading;
  t.same(seen.map((e) => e.type), ['MODIFIED', 'DELETED', 'ADDED'], 'every change after the resourceVersion, in order');
  t.equal(seen[0]?.object.metadata.resourceVersion, updated.metadata.resourceVersion);

  // Too old: an ERROR event with 410 Expired, then the end of the stream.
  await cp.store.compact(await cp.store.revision());
  const events: WatchEvent[] = [];
  for await (const event of local.watch(resourcePath(CONFIGMAPS, NS), { resourceVersion: '1' })) events.push(event);
  t.equal(events.length, 1);
  t.equal(events[0]?.type, 'ERROR');
  t.equal(events[0]?.object['code'], 410);
  t.equal(events[0]?.object['reason'], 'Expired');

  // A bad request fails the watch itself (no stream), as over HTTPS.
  await t.rejects(async () => {
    for await (const _ of local.watch(resourcePath(CONFIGMAPS, NS), { fieldSelector: 'spec.nothing=x' })) break;
  }, { code: 400 });

  // Aborting and closing end an open watch.
  const aborted = new AbortController();
  const abortedWatch = (async () => {
    for await (const _ of local.watch(resourcePath(CONFIGMAPS, NS), { signal: aborted.signal })) {
      // the initial ADDED events; then waits
    }
  })();
  setTimeout(() => aborted.abort(), 50);
  await t.rejects(abortedWatch, 'an aborted watch ends');
  const other = new HttpClient({ server: cp.url, local: cp.server.localTransport({ name: 'other', groups: ['system:authenticated'] }) });
  const closedWatch = (async () => {
    for await (const _ of other.watch(resourcePath(CONFIGMAPS, NS))) {
      // waits
    }
  })();
  setTimeout(() => other.close(), 50);
  await t.rejects(closedWatch, 'closing the client ends its watches');
  await t.rejects(other.get(resourcePath(CONFIGMAPS, NS)), /closed/, 'a closed client sends nothing');
});

t.test('an informer over the local transport sees every change, in order', async (t) => {
  const informer = new Informer(local, resourcePath(CONFIGMAPS, 'informed'));
  await local.create(resourcePath({ group: '', version: 'v1', resource: 'namespaces' }), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'informed' } });
  const log: string[] = [];
  informer.addHandlers({
    onAdd: (o) => log.push(`add ${o.metadata.name}`),
    onUpdate: (_, o) => log.push(`update ${o.metadata.name}`),
    onDelete: (o) => log.push(`delete ${o.metadata.name}`),
  });
  informer.start();
  t.teardown(() => informer.stop());
  t.ok(await informer.waitForSync(5_000), 'synced');
  for (let i = 0; i < 20; i++) await local.create(resourcePath(CONFIGMAPS, 'informed'), configMap(`c${i}`));
  await local.patch(resourcePath(CONFIGMAPS, 'informed', 'c3'), 'merge', { data: { a: 'b' } });
  await local.delete(resourcePath(CONFIGMAPS, 'informed', 'c4'));
  const expected = [...Array.from({ length: 20 }, (_, i) => `add c${i}`), 'update c3', 'delete c4'];
  for (let i = 0; i < 100 && log.length < expected.length; i++) await new Promise((r) => setTimeout(r, 20));
  t.same(log, expected, 'in order, each once');
});

t.test('what a client gets or sends is its own: changing it changes nothing on the server', async (t) => {
  const body = configMap('local-own', { k: 'v' });
  const created = await local.create(resourcePath(CONFIGMAPS, NS), body);
  t.same(body.metadata, { name: 'local-own' }, 'the server did not write into the body the client passed');
  (created['data'] as Record<string, string>)['k'] = 'changed by the client';
  const listed = await local.list(resourcePath(CONFIGMAPS, NS));
  const fromList = listed.items.find((i) => i.metadata.name === 'local-own') as KubeObject;
  t.same(fromList['data'], { k: 'v' });
  (fromList['data'] as Record<string, string>)['k'] = 'changed again';
  const events: WatchEvent[] = [];
  for await (const event of local.watch(resourcePath(CONFIGMAPS, NS), { fieldSelector: 'metadata.name=local-own', timeoutSeconds: 1 })) {
    events.push(event);
    (event.object['data'] as Record<string, string>)['k'] = 'changed by a watcher';
    break;
  }
  t.equal(events[0]?.type, 'ADDED');
  t.same((await local.get(resourcePath(CONFIGMAPS, NS, 'local-own')))['data'], { k: 'v' }, 'the cache still holds what was stored');
  t.same((await cp.admin.get(resourcePath(CONFIGMAPS, NS, 'local-own')))['data'], { k: 'v' });
});
