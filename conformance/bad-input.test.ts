import { Agent, request } from 'node:https';
import t from 'tap';
import type { Test } from 'tap';
import { Etcd3 } from 'etcd3';
import { startEtcd } from '../test/helpers/etcd-server.js';
import { adminCredentials, startServer } from './harness.js';
import type { RunningServer } from './harness.js';

/**
 * Bad input over raw HTTPS (node:https with the kubeconfig's admin certificate) against a real
 * `flotilla serve`, on the embedded store and on etcd: every malformed or disallowed request gets the
 * 4xx `Status` kube-apiserver sends (kind, status, reason, code; details where kube fills them),
 * never a 5xx (the one kube-sanctioned exception, 504 for a too-large resourceVersion, is its own
 * case), and the server stays ready after each one.
 */
const REQUEST_TIMEOUT_MS = 30_000;
const NS = 'bad-input';

interface Credentials {
  readonly ca: Buffer;
  readonly cert: Buffer;
  readonly key: Buffer;
}

interface Reply {
  readonly code: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: unknown;
}

interface Call {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: string | Buffer;
  readonly headers?: Record<string, string>;
  /** Send no client certificate (anonymous). */
  readonly anonymous?: boolean;
}

/** One HTTPS client per server: keep-alive agents with and without the admin certificate. */
function client(server: RunningServer, creds: Credentials) {
  const url = new URL(server.url);
  const admin = new Agent({ keepAlive: true, maxSockets: 8, ca: creds.ca, cert: creds.cert, key: creds.key });
  const anonymous = new Agent({ keepAlive: true, maxSockets: 2, ca: creds.ca });
  const call = (c: Call): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const body = c.body === undefined ? undefined : Buffer.isBuffer(c.body) ? c.body : Buffer.from(c.body);
      const req = request(
        {
          host: url.hostname,
          port: url.port,
          method: c.method,
          path: c.path,
          agent: c.anonymous ? anonymous : admin,
          headers: { accept: 'application/json', ...(body ? { 'content-length': String(body.length) } : {}), ...c.headers },
          timeout: REQUEST_TIMEOUT_MS,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let json: unknown;
            try {
              json = JSON.parse(text);
            } catch {
              json = undefined;
            }
            resolve({ code: res.statusCode ?? 0, headers: res.headers, text, json });
          });
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${c.method} ${c.path} timed out`)));
      req.on('error', reject);
      // A server that answers before reading a too-large body may reset the upload; the answer still counts.
      req.on('socket', (socket) => socket.on('error', () => undefined));
      req.end(body);
    });
  return { call, close: () => { admin.destroy(); anonymous.destroy(); } };
}

type Client = ReturnType<typeof client>;

interface Expectation {
  readonly code: number;
  /** Status reason; absent for a success. */
  readonly reason?: string;
  readonly message?: RegExp | string;
  readonly check?: (t: Test, reply: Reply, status: StatusBody) => void;
}

interface StatusBody {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: { name?: string; kind?: string; causes?: { reason?: string; field?: string; message?: string }[]; retryAfterSeconds?: number };
}

interface Case {
  readonly name: string;
  readonly call: Call | ((ctx: CaseContext) => Promise<Call>);
  readonly expect: Expectation;
  /** Only on the etcd backend (needs etcd compaction). */
  readonly etcdOnly?: boolean;
}

interface CaseContext {
  readonly http: Client;
  readonly etcdEndpoint: string | undefined;
}

const json = (value: unknown): string => JSON.stringify(value);
const cm = (name: string, extra: Record<string, unknown> = {}) => json({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { k: 'v' }, ...extra });
const post = (path: string, body: string | Buffer, contentType = 'application/json'): Call => ({ method: 'POST', path, body, headers: { 'content-type': contentType } });
const CMS = `/api/v1/namespaces/${NS}/configmaps`;
const DEPLOYMENTS = `/apis/apps/v1/namespaces/${NS}/deployments`;
const deploymentWithTypo = (name: string) => json({
  apiVersion: 'apps/v1',
  kind: 'Deployment',
  metadata: { name },
  spec: { foo: 1, selector: { matchLabels: { app: name } }, template: { metadata: { labels: { app: name } }, spec: { containers: [{ name: 'main', image: 'nginx' }] } } },
});

const cases: Case[] = [
  // Decoding
  { name: 'malformed JSON body', call: post(CMS, '{"metadata": {"name": '), expect: { code: 400, reason: 'BadRequest' } },
  { name: 'JSON array body', call: post(CMS, '[{"metadata":{"name":"arr"}}]'), expect: { code: 400, reason: 'BadRequest' } },
  { name: 'JSON null body', call: post(CMS, 'null'), expect: { code: 400, reason: 'BadRequest' } },
  { name: 'empty body on create', call: post(CMS, ''), expect: { code: 400, reason: 'BadRequest' } },
  { name: 'malformed YAML body', call: post(CMS, 'metadata:\n  name: [unclosed\n', 'application/yaml'), expect: { code: 400, reason: 'BadRequest' } },
  { name: 'metadata is not an object', call: post(CMS, json({ metadata: 'x' })), expect: { code: 400, reason: 'BadRequest' } },
  // kube decodes built-in kinds into Go structs: a wrong JSON type is a decode error, 400 ("ConfigMap in
  // version "v1" cannot be handled as a ConfigMap: json: cannot unmarshal number into Go struct field …").
  { name: 'ConfigMap data value is a number', call: post(CMS, json({ metadata: { name: 'numeric' }, data: { a: 1 } })), expect: { code: 400, reason: 'BadRequest' } },
  // kube: "converting (v1.Secret) to (v1.ConfigMap)…" / "the API version in the data … does not match" → 400
  { name: 'wrong kind in the body for the URL', call: post(CMS, json({ apiVersion: 'v1', kind: 'Secret', metadata: { name: 'wrong-kind' } })), expect: { code: 400, reason: 'BadRequest' } },
  { name: 'wrong apiVersion in the body for the URL', call: post(CMS, json({ apiVersion: 'apps/v1', kind: 'ConfigMap', metadata: { name: 'wrong-version' } })), expect: { code: 400, reason: 'BadRequest' } },
  { name: 'protobuf request body', call: post(CMS, Buffer.concat([Buffer.from('k8s\0'), Buffer.from([0x0a, 0x0f, 0x0a, 0x02, 0x76, 0x31, 0x12, 0x09]), Buffer.from('ConfigMap')]), 'application/vnd.kubernetes.protobuf'), expect: { code: 415, reason: 'UnsupportedMediaType' } },
  { name: 'huge body (> 3 MiB)', call: post(CMS, json({ metadata: { name: 'huge' }, data: { blob: 'x'.repeat(3 * 1024 * 1024 + 16) } })), expect: { code: 413, reason: 'RequestEntityTooLarge' } },

  // Names and namespaces
  {
    name: 'invalid name Invalid_Name',
    call: post(CMS, cm('Invalid_Name')),
    expect: { code: 422, reason: 'Invalid', message: /^ConfigMap "Invalid_Name" is invalid: metadata\.name: Invalid value: "Invalid_Name"/, check: (t, _r, s) => { t.equal(s.details?.causes?.[0]?.field, 'metadata.name'); t.equal(s.details?.kind, 'ConfigMap'); t.equal(s.details?.name, 'Invalid_Name'); } },
  },
  {
    name: '300-character name',
    call: post(CMS, cm('a'.repeat(300))),
    expect: { code: 422, reason: 'Invalid', check: (t, _r, s) => { t.equal(s.details?.causes?.[0]?.field, 'metadata.name'); t.match(s.details?.causes?.[0]?.message, /must be no more than 253 characters/); } },
  },
  {
    name: 'neither name nor generateName',
    call: post(CMS, json({ metadata: {}, data: {} })),
    expect: { code: 422, reason: 'Invalid', check: (t, _r, s) => { t.equal(s.details?.causes?.[0]?.field, 'metadata.name'); t.match(s.details?.causes?.[0]?.message, 'Required value: name or generateName is required'); } },
  },
  { name: 'namespace in the body differs from the URL', call: post(CMS, json({ metadata: { name: 'elsewhere', namespace: 'default' } })), expect: { code: 400, reason: 'BadRequest', message: 'the namespace of the provided object does not match the namespace sent on the request' } },
  {
    name: 'create in a namespace that does not exist',
    call: post('/api/v1/namespaces/no-such-namespace/configmaps', cm('orphan')),
    expect: { code: 404, reason: 'NotFound', message: 'namespaces "no-such-namespace" not found', check: (t, _r, s) => { t.equal(s.details?.kind, 'namespaces'); t.equal(s.details?.name, 'no-such-namespace'); } },
  },

  // Field validation
  {
    name: 'unknown field with fieldValidation=Strict',
    call: post(`${DEPLOYMENTS}?fieldValidation=Strict`, deploymentWithTypo('strict')),
    expect: { code: 400, reason: 'BadRequest', message: 'strict decoding error: unknown field "spec.foo"' },
  },
  {
    name: 'unknown field with fieldValidation=Warn',
    call: post(`${DEPLOYMENTS}?fieldValidation=Warn`, deploymentWithTypo('warned')),
    expect: {
      code: 201,
      check: (t, r) => {
        t.match(String(r.headers['warning']), /^299 - "unknown field \\"spec\.foo\\""$/, 'a Warning header names the field');
        t.notOk((r.json as { spec?: Record<string, unknown> }).spec?.['foo'], 'and the field is dropped');
      },
    },
  },
  { name: 'unknown fieldValidation value', call: post(`${CMS}?fieldValidation=Loud`, cm('loud')), expect: { code: 400, reason: 'BadRequest' } },
  { name: 'unknown dryRun value', call: post(`${CMS}?dryRun=Some`, cm('dry')), expect: { code: 400, reason: 'BadRequest' } },

  // Updates and patches (on the ConfigMap "existing" made beforehand)
  { name: 'PUT with a stale resourceVersion', call: { method: 'PUT', path: `${CMS}/existing`, body: json({ metadata: { name: 'existing', resourceVersion: '1' }, data: { k: 'stale' } }), headers: { 'content-type': 'application/json' } }, expect: { code: 409, reason: 'Conflict', message: 'Operation cannot be fulfilled on configmaps "existing": the object has been modified; please apply your changes to the latest version and try again' } },
  { name: 'PUT with a name that differs from the URL', call: { method: 'PUT', path: `${CMS}/existing`, body: cm('someone-else'), headers: { 'content-type': 'application/json' } }, expect: { code: 400, reason: 'BadRequest', message: 'the name of the object (someone-else) does not match the name on the URL (existing)' } },
  { name: 'PUT of an object that does not exist', call: { method: 'PUT', path: `${CMS}/missing`, body: cm('missing'), headers: { 'content-type': 'application/json' } }, expect: { code: 404, reason: 'NotFound', message: 'configmaps "missing" not found' } },
  { name: 'PATCH with an unsupported content type', call: { method: 'PATCH', path: `${CMS}/existing`, body: json({ data: { k: 'x' } }), headers: { 'content-type': 'text/plain' } }, expect: { code: 415, reason: 'UnsupportedMediaType' } },
  { name: 'PATCH with application/json (not a patch type)', call: { method: 'PATCH', path: `${CMS}/existing`, body: json({ data: { k: 'x' } }), headers: { 'content-type': 'application/json' } }, expect: { code: 415, reason: 'UnsupportedMediaType' } },
  {
    // kube: NewGenericServerResponse(422, …) with the patch library's error as an UnexpectedServerResponse cause.
    name: 'JSON patch whose test op fails',
    call: { method: 'PATCH', path: `${CMS}/existing`, body: json([{ op: 'test', path: '/data/k', value: 'not-the-value' }, { op: 'replace', path: '/data/k', value: 'changed' }]), headers: { 'content-type': 'application/json-patch+json' } },
    expect: { code: 422, reason: 'Invalid', message: 'the server rejected our request due to an error in our request', check: (t, _r, s) => { t.equal(s.details?.causes?.[0]?.reason, 'UnexpectedServerResponse', 'the failing op is named in a cause'); t.match(s.details?.causes?.[0]?.message, /test/); } },
  },
  { name: 'JSON patch that is not a list', call: { method: 'PATCH', path: `${CMS}/existing`, body: json({ op: 'add' }), headers: { 'content-type': 'application/json-patch+json' } }, expect: { code: 400, reason: 'BadRequest' } },
  {
    // kube's patcher runs checkName on the patched object: 400 "the name of the object (…) does not match the name on the URL (…)".
    name: 'merge patch that renames the object',
    call: { method: 'PATCH', path: `${CMS}/existing`, body: json({ metadata: { name: 'renamed' } }), headers: { 'content-type': 'application/merge-patch+json' } },
    expect: { code: 400, reason: 'BadRequest', message: 'the name of the object (renamed) does not match the name on the URL (existing)' },
  },
  { name: 'DELETE with an invalid propagationPolicy', call: { method: 'DELETE', path: `${CMS}/existing?propagationPolicy=Sideways` }, expect: { code: 422, reason: 'Invalid', check: (t, _r, s) => { t.equal(s.details?.kind, 'DeleteOptions'); t.equal(s.details?.causes?.[0]?.field, 'propagationPolicy'); } } },
  { name: 'DELETE of an object that does not exist', call: { method: 'DELETE', path: `${CMS}/missing` }, expect: { code: 404, reason: 'NotFound', message: 'configmaps "missing" not found' } },

  // Verbs on the wrong URL: go-restful has no such route → 405
  { name: 'POST to an object URL', call: post(`${CMS}/existing`, cm('via-item-url')), expect: { code: 405, reason: 'MethodNotAllowed' } },
  { name: 'PUT to a collection URL', call: { method: 'PUT', path: CMS, body: cm('via-collection'), headers: { 'content-type': 'application/json' } }, expect: { code: 405, reason: 'MethodNotAllowed' } },
  { name: 'PATCH to a collection URL', call: { method: 'PATCH', path: CMS, body: '{}', headers: { 'content-type': 'application/merge-patch+json' } }, expect: { code: 405, reason: 'MethodNotAllowed' } },

  // Negotiation, routing, authentication
  { name: 'Accept only protobuf', call: { method: 'GET', path: `${CMS}/existing`, headers: { accept: 'application/vnd.kubernetes.protobuf' } }, expect: { code: 406, reason: 'NotAcceptable' } },
  { name: 'unknown resource', call: { method: 'GET', path: `/api/v1/namespaces/${NS}/widgets` }, expect: { code: 404, reason: 'NotFound' } },
  { name: 'unknown group', call: { method: 'GET', path: `/apis/no.such.group/v1/namespaces/${NS}/widgets` }, expect: { code: 404, reason: 'NotFound' } },
  { name: 'unknown version of a known group', call: { method: 'GET', path: `/apis/apps/v9/namespaces/${NS}/deployments` }, expect: { code: 404, reason: 'NotFound' } },
  { name: 'no client certificate', call: { method: 'GET', path: CMS, anonymous: true }, expect: { code: 401, reason: 'Unauthorized', message: 'Unauthorized' } },
  { name: 'a made-up bearer token and no certificate', call: { method: 'GET', path: CMS, anonymous: true, headers: { authorization: 'Bearer not-a-token' } }, expect: { code: 401, reason: 'Unauthorized' } },

  // List and watch parameters
  { name: 'label selector syntax error', call: { method: 'GET', path: `${CMS}?labelSelector=${encodeURIComponent('a in (')}` }, expect: { code: 400, reason: 'BadRequest' } },
  { name: 'unknown field selector', call: { method: 'GET', path: `${CMS}?fieldSelector=${encodeURIComponent('spec.foo=1')}` }, expect: { code: 400, reason: 'BadRequest', message: /spec\.foo/ } },
  { name: 'resourceVersion=abc on a list', call: { method: 'GET', path: `${CMS}?resourceVersion=abc` }, expect: { code: 400, reason: 'BadRequest' } },
  { name: 'resourceVersion=abc on a watch', call: { method: 'GET', path: `${CMS}?watch=true&resourceVersion=abc` }, expect: { code: 400, reason: 'BadRequest' } },
  { name: 'timeoutSeconds=x on a watch', call: { method: 'GET', path: `${CMS}?watch=true&timeoutSeconds=x` }, expect: { code: 400, reason: 'BadRequest' } },
  {
    name: 'resourceVersionMatch without resourceVersion',
    call: { method: 'GET', path: `${CMS}?resourceVersionMatch=NotOlderThan` },
    expect: { code: 422, reason: 'Invalid', check: (t, _r, s) => { t.equal(s.details?.causes?.[0]?.field, 'resourceVersionMatch'); t.match(s.details?.causes?.[0]?.message, 'resourceVersionMatch is forbidden unless resourceVersion is provided'); } },
  },
  { name: 'resourceVersionMatch=Exact with resourceVersion=0', call: { method: 'GET', path: `${CMS}?resourceVersion=0&resourceVersionMatch=Exact` }, expect: { code: 422, reason: 'Invalid' } },
  { name: 'sendInitialEvents on a list', call: { method: 'GET', path: `${CMS}?sendInitialEvents=true` }, expect: { code: 422, reason: 'Invalid' } },
  { name: 'limit=abc', call: { method: 'GET', path: `${CMS}?limit=abc` }, expect: { code: 400, reason: 'BadRequest' } },
  {
    // kube has no validation of limit; the storage pages only when limit > 0, so -1 lists everything.
    name: 'limit=-1 lists everything, as kube does',
    call: { method: 'GET', path: `${CMS}?limit=-1` },
    expect: { code: 200, check: (t, r) => { const list = r.json as { kind?: string; items?: { metadata: { name: string } }[]; metadata?: { continue?: string } }; t.equal(list.kind, 'ConfigMapList'); t.ok(list.items?.some((i) => i.metadata.name === 'existing')); t.notOk(list.metadata?.continue); } },
  },
  { name: 'malformed continue token', call: { method: 'GET', path: `${CMS}?limit=1&continue=not-a-token` }, expect: { code: 400, reason: 'BadRequest' } },
  {
    // The only 5xx kube answers to client input: a resourceVersion newer than anything the server has
    // seen is 504 Timeout "Too large resource version" with retryAfterSeconds (client-go retries it).
    name: 'resourceVersion far in the future (kube answers 504 Timeout)',
    call: { method: 'GET', path: `${CMS}?resourceVersion=99999999999&resourceVersionMatch=NotOlderThan` },
    expect: { code: 504, reason: 'Timeout', message: /Too large resource version/, check: (t, _r, s) => t.ok((s.details?.retryAfterSeconds ?? 0) > 0, 'with retryAfterSeconds') },
  },
  {
    name: 'continue token compacted away in etcd',
    etcdOnly: true,
    call: async ({ http, etcdEndpoint }) => {
      for (const name of ['page-a', 'page-b', 'page-c']) await http.call(post(CMS, cm(name)));
      const first = await http.call({ method: 'GET', path: `${CMS}?limit=1` });
      const token = (first.json as { metadata?: { continue?: string } }).metadata?.continue;
      if (!token) throw new Error(`first page has no continue token: ${first.text}`);
      // A write after the first page, then compact etcd up to the newest revision: the page's revision is gone.
      await http.call(post(CMS, cm('after-first-page')));
      const etcd = new Etcd3({ hosts: etcdEndpoint as string });
      try {
        const { header } = await etcd.kv.range({ key: Buffer.from('\0'), count_only: true });
        await etcd.kv.compact({ revision: header.revision, physical: true });
      } finally {
        etcd.close();
      }
      return { method: 'GET', path: `${CMS}?limit=1&continue=${encodeURIComponent(token)}` };
    },
    expect: { code: 410, reason: 'Expired', message: /^The provided continue parameter is too old/ },
  },
];

async function setUp(http: Client): Promise<void> {
  const ns = await http.call(post('/api/v1/namespaces', json({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } })));
  if (ns.code !== 201) throw new Error(`create namespace: ${ns.code} ${ns.text}`);
  const existing = await http.call(post(CMS, cm('existing')));
  if (existing.code !== 201) throw new Error(`create configmap: ${existing.code} ${existing.text}`);
}

function suite(t: Test, backend: 'embedded' | 'etcd', http: () => Client, etcdEndpoint: string | undefined): void {
  t.before(async () => setUp(http()));
  for (const c of cases) {
    if (c.etcdOnly && backend !== 'etcd') continue;
    t.test(c.name, async (t) => {
      const call = typeof c.call === 'function' ? await c.call({ http: http(), etcdEndpoint }) : c.call;
      const reply = await http().call(call);
      const { expect } = c;
      const rightCode = t.equal(reply.code, expect.code, `${call.method} ${call.path.slice(0, 120)} → ${expect.code}`, { body: reply.text.slice(0, 600) });
      if (expect.code !== 504) t.ok(reply.code < 500, 'never a 5xx');
      const status = (reply.json ?? {}) as StatusBody;
      // With the wrong code the rest would only repeat the failure; the server must still be ready.
      if (rightCode && expect.reason !== undefined) {
        t.match(String(reply.headers['content-type']), /^application\/json/, 'Status is JSON');
        t.equal(status.kind, 'Status');
        t.equal(status.apiVersion, 'v1');
        t.equal(status.status, 'Failure');
        t.equal(status.reason, expect.reason, 'reason');
        t.equal(status.code, expect.code, 'code inside the Status');
        t.type(status.message, 'string');
        if (expect.message !== undefined) {
          if (typeof expect.message === 'string') t.equal(status.message, expect.message, 'message');
          else t.match(status.message, expect.message, 'message');
        }
      }
      if (rightCode) expect.check?.(t, reply, status);
      const ready = await http().call({ method: 'GET', path: '/readyz' });
      t.equal(ready.code, 200, 'still ready afterwards');
      t.equal(ready.text, 'ok');
    });
  }
  t.test('nothing a rejected request carried was stored', async (t) => {
    const list = await http().call({ method: 'GET', path: CMS });
    const names = ((list.json as { items?: { metadata: { name: string } }[] }).items ?? []).map((i) => i.metadata.name);
    for (const name of ['arr', 'numeric', 'wrong-kind', 'wrong-version', 'huge', 'elsewhere', 'loud', 'dry', 'someone-else', 'via-item-url', 'via-collection']) {
      t.notOk(names.includes(name), `${name} was not created`);
    }
    const existing = await http().call({ method: 'GET', path: `${CMS}/existing` });
    t.same((existing.json as { data?: unknown }).data, { k: 'v' }, 'failed updates and patches left "existing" unchanged');
  });
}

t.test('embedded store', async (t) => {
  const server = await startServer();
  t.teardown(() => server.stop());
  const http = client(server, await adminCredentials(server.kubeconfig));
  t.teardown(() => http.close());
  suite(t, 'embedded', () => http, undefined);
});

t.test('etcd store', async (t) => {
  const etcd = await startEtcd();
  t.teardown(() => etcd.destroy());
  const server = await startServer({ etcdEndpoint: etcd.endpoint });
  t.teardown(() => server.stop());
  const http = client(server, await adminCredentials(server.kubeconfig));
  t.teardown(() => http.close());
  suite(t, 'etcd', () => http, etcd.endpoint);
});
