import t from 'tap';
import { Agent, request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { adminCredentials, startServer } from './harness.js';

/**
 * Watch semantics on the wire (kube-api-contract.md §5), with raw HTTPS requests: watch-list,
 * bookmarks, selector transitions, 410 as an ERROR event, timeoutSeconds, Table watches, metrics.
 */
const server = await startServer();
t.teardown(() => server.stop());
const tls = await adminCredentials(server.kubeconfig);
const agent = new Agent({ keepAlive: true, ...tls });
t.teardown(() => agent.destroy());

async function call(method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any; headers: IncomingMessage['headers'] }> {
  return new Promise((resolve, reject) => {
    const req = request(`${server.url}${path}`, { method, agent, headers: { 'Content-Type': 'application/json', ...headers }, timeout: 15_000 }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text && (res.headers['content-type'] ?? '').includes('json') ? JSON.parse(text) : text, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(body === undefined ? undefined : JSON.stringify(body));
  });
}

interface Event {
  type: string;
  object: any;
}

/** Opens a watch and collects events until `until` says stop, the server closes it, or the time runs out. */
function watch(path: string, until: (events: Event[]) => boolean, headers: Record<string, string> = {}, timeoutMs = 10_000): Promise<{ events: Event[]; status: number; contentType: string | undefined; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const events: Event[] = [];
    let buffered = '';
    const req = request(`${server.url}${path}`, { agent, headers }, (res) => {
      const timer = setTimeout(() => {
        req.destroy();
        resolve({ events, status: res.statusCode ?? 0, contentType: res.headers['content-type'], closedByServer: false });
      }, timeoutMs);
      res.on('data', (chunk: Buffer) => {
        buffered += chunk.toString();
        let newline;
        while ((newline = buffered.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buffered.slice(0, newline)) as Event);
          buffered = buffered.slice(newline + 1);
        }
        if (until(events)) {
          clearTimeout(timer);
          req.destroy();
          resolve({ events, status: res.statusCode ?? 0, contentType: res.headers['content-type'], closedByServer: false });
        }
      });
      res.on('end', () => {
        clearTimeout(timer);
        resolve({ events, status: res.statusCode ?? 0, contentType: res.headers['content-type'], closedByServer: true });
      });
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
}

const ns = 'watching';
await call('POST', '/api/v1/namespaces', { metadata: { name: ns } });
const cms = `/api/v1/namespaces/${ns}/configmaps`;
for (const name of ['a', 'b', 'c']) await call('POST', cms, { metadata: { name, labels: { keep: 'yes' } }, data: { v: '0' } });

t.test('watch-list: ADDED for the initial state, then the initial-events-end bookmark, then live events', async (t) => {
  const list = await call('GET', cms);
  const done = watch(`${cms}?watch=true&sendInitialEvents=true&resourceVersionMatch=NotOlderThan&allowWatchBookmarks=true&resourceVersion=${list.body.metadata.resourceVersion}`, (events) => events.some((e) => e.type === 'MODIFIED'));
  await new Promise((resolve) => setTimeout(resolve, 500));
  await call('PATCH', `${cms}/a`, { data: { v: '1' } }, { 'Content-Type': 'application/merge-patch+json' });
  const { events, status } = await done;
  t.equal(status, 200);
  t.same(events.slice(0, 3).map((e) => [e.type, e.object.metadata.name]), [['ADDED', 'a'], ['ADDED', 'b'], ['ADDED', 'c']], 'initial state first');
  const bookmark = events[3];
  t.equal(bookmark?.type, 'BOOKMARK');
  t.equal(bookmark?.object.metadata.annotations['k8s.io/initial-events-end'], 'true', 'the bookmark marks the end of the initial events');
  t.ok(Number(bookmark?.object.metadata.resourceVersion) >= Number(list.body.metadata.resourceVersion), 'at a resourceVersion not older than asked');
  t.equal(events[4]?.type, 'MODIFIED');
  t.equal(events[4]?.object.data.v, '1');
});

t.test('sendInitialEvents without resourceVersionMatch=NotOlderThan is 422', async (t) => {
  const res = await call('GET', `${cms}?watch=true&sendInitialEvents=true`);
  t.equal(res.status, 422);
  t.equal(res.body.reason, 'Invalid');
});

t.test('a watch from a resourceVersion sees only later changes; selectors turn changes into ADDED/DELETED', async (t) => {
  const list = await call('GET', `${cms}?labelSelector=keep%3Dyes`);
  const done = watch(`${cms}?watch=true&labelSelector=keep%3Dyes&resourceVersion=${list.body.metadata.resourceVersion}`, (events) => events.length >= 3);
  await new Promise((resolve) => setTimeout(resolve, 300));
  await call('PATCH', `${cms}/b`, { metadata: { labels: { keep: 'no' } } }, { 'Content-Type': 'application/merge-patch+json' });
  await call('POST', cms, { metadata: { name: 'd' }, data: {} });
  await call('PATCH', `${cms}/d`, { metadata: { labels: { keep: 'yes' } } }, { 'Content-Type': 'application/merge-patch+json' });
  await call('DELETE', `${cms}/c`);
  const { events } = await done;
  t.same(events.map((e) => [e.type, e.object.metadata.name]), [['DELETED', 'b'], ['ADDED', 'd'], ['DELETED', 'c']], 'no synthetic events; b stops matching, d starts matching, c is deleted');
  t.ok(events.every((e, i) => i === 0 || Number(e.object.metadata.resourceVersion) > Number(events[i - 1]?.object.metadata.resourceVersion)), 'resourceVersions increase');
});

t.test('a too-old resourceVersion is an ERROR event with 410 Expired, then the stream ends', async (t) => {
  const { events, status, closedByServer } = await watch(`${cms}?watch=true&resourceVersion=1`, () => false);
  t.equal(status, 200);
  t.equal(events.length, 1);
  t.equal(events[0]?.type, 'ERROR');
  t.equal(events[0]?.object.code, 410);
  t.equal(events[0]?.object.reason, 'Expired');
  t.match(events[0]?.object.message, /too old resource version/);
  t.ok(closedByServer, 'the server closes the stream');
});

t.test('timeoutSeconds ends the watch cleanly', async (t) => {
  const started = Date.now();
  const { closedByServer } = await watch(`${cms}?watch=true&timeoutSeconds=1`, () => false, {}, 8_000);
  t.ok(closedByServer, 'closed by the server');
  t.ok(Date.now() - started < 5_000, 'after about a second');
});

t.test('a Table watch carries column definitions on the first event only', async (t) => {
  const accept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json';
  const { events, contentType } = await watch(`${cms}?watch=true`, (events) => events.length >= 2, { Accept: accept });
  t.match(contentType, /as=Table/);
  t.equal(events[0]?.object.kind, 'Table');
  t.ok(Array.isArray(events[0]?.object.columnDefinitions) && events[0]?.object.columnDefinitions.length > 0, 'first event has columns');
  t.notOk(events[1]?.object.columnDefinitions?.length, 'later events do not');
  t.equal(events[1]?.object.rows.length, 1);
});

t.test('/metrics reports requests and watch events with kube-apiserver names', async (t) => {
  const res = await call('GET', '/metrics');
  t.equal(res.status, 200);
  t.match(res.body, /apiserver_request_total\{verb="POST",group="",version="v1",resource="configmaps",subresource="",scope="namespace",code="201"\} \d+/);
  t.match(res.body, /apiserver_request_duration_seconds_bucket\{/);
  t.match(res.body, /apiserver_watch_events_total\{group="",version="v1",resource="configmaps"\} \d+/);
  t.match(res.body, /etcd_request_duration_seconds_bucket\{le="[^"]+",operation="create",type="configmaps"\}/);
});

t.test('health endpoints answer without credentials', async (t) => {
  const anonymous = new Agent({ ca: tls.ca });
  t.teardown(() => anonymous.destroy());
  const get = (path: string) => new Promise<{ status: number; body: string }>((resolve, reject) => {
    request(`${server.url}${path}`, { agent: anonymous }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    }).on('error', reject).end();
  });
  t.same(await get('/readyz'), { status: 200, body: 'ok' });
  const verbose = await get('/livez?verbose');
  t.match(verbose.body, /\[\+\]ping ok[\s\S]*livez check passed/);
  t.equal((await get('/version')).status, 200);
  const denied = await get('/api/v1/namespaces');
  t.equal(denied.status, 401, 'everything else needs credentials');
  t.match(denied.body, /"reason":"Unauthorized"/);
});
