import { randomBytes } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from 'pino';
import type { Store } from '../../storage/types.js';
import { ApiError, errors } from '../api/status.js';
import { userFromClientCertificate } from '../authn/x509.js';
import type { UserInfo } from '../authn/x509.js';
import { ObjectStore } from '../registry/object-store.js';
import { ResourceRegistry } from '../registry/registry.js';
import { BUILTIN_RESOURCES } from '../registry/builtin-resources.js';
import type { ResourceDefinition } from '../registry/resource.js';
import { parseRequestInfo } from '../endpoints/request-info.js';
import type { ResourceRequestInfo } from '../endpoints/request-info.js';
import { handleResource } from '../endpoints/resource-handlers.js';
import type { ApiResponse, ConnectHandler, ResourceContext, ResourceRequest, ReviewHandler } from '../endpoints/resource-handlers.js';
import { httpWatchSink, planWatch } from '../endpoints/watch.js';
import type { LocalTransport } from '../client/local-transport.js';
import { createLocalTransport } from './local-transport.js';
import type { ApiOutcome } from './local-transport.js';
import { SchemaAdmission } from '../endpoints/admission.js';
import type { AdmissionPlugin } from '../endpoints/admission.js';
import type { KubeObject } from '../api/object.js';
import { DecodedBody } from '../endpoints/body.js';
import { aggregatedContentType, aggregatedDiscovery, apiGroupDocument, apiGroupList, apiResourceList, apiVersions } from '../endpoints/discovery.js';
import { aggregatedDiscoveryVersion } from '../endpoints/negotiation.js';
import { openApiV2Document, openApiV3Document, openApiV3Index } from '../openapi/documents.js';
import { ServerMetrics } from '../metrics/metrics.js';
import type { CounterSeries, HistogramSeries } from '../metrics/bound-series.js';
import type { Pki } from './pki.js';
import { serverVersion } from './version.js';
import { bootstrapNamespaces } from './bootstrap.js';
import { CrdServing } from '../registry/crd/crd-serving.js';
import { lazyChildLogger } from './lazy-child-logger.js';

/** Everything `flotilla serve` needs to answer requests. */
export interface ServerOptions {
  readonly store: Store;
  readonly pki: Pick<Pki, 'caCertPem' | 'servingCertPem' | 'servingKeyPem'>;
  readonly logger: Logger;
  /** APIs served beyond the built-in kinds (Karmada's federation API in `flotilla serve`). */
  readonly extensions?: readonly ApiExtension[];
}

/** An API served on top of the built-in kinds: its resources as data plus their in-process admission. */
export interface ApiExtension {
  readonly resources: readonly ResourceDefinition[];
  /** Admission plugins by "group/Kind". */
  readonly admissionPlugins?: Readonly<Record<string, AdmissionPlugin>>;
  /** Checks every DELETE passes (of any kind); a message denies it. */
  readonly deleteChecks?: readonly ((object: KubeObject) => string | undefined)[];
  /** Connect subresources by "group/plural/subresource". */
  readonly connect?: Readonly<Record<string, ConnectHandler>>;
  /** Create-only review kinds by "group/plural" (their ResourceDefinitions list only `create`). */
  readonly reviews?: Readonly<Record<string, ReviewHandler>>;
  /** Namespaces created on start, as installing the API would (Karmada's karmada-system, karmada-cluster). */
  readonly namespaces?: readonly string[];
}

/** HTTPS with optional client certificates (verified against our CA; anonymous ones get 401 later). */
function createApp(options: ServerOptions) {
  const logger: FastifyBaseLogger = options.logger;
  return Fastify({
    loggerInstance: logger,
    // Per-request log lines would dominate the log; requests are counted in /metrics instead.
    logController: new LogController({ disableRequestLogging: true }),
    childLoggerFactory: lazyChildLogger,
    bodyLimit: MAX_REQUEST_BODY_BYTES,
    https: { key: options.pki.servingKeyPem, cert: options.pki.servingCertPem, ca: options.pki.caCertPem, requestCert: true, rejectUnauthorized: false },
    return503OnClosing: true,
    forceCloseConnections: true,
  });
}

export type ApiApp = ReturnType<typeof createApp>;

export interface ApiServer {
  readonly app: ApiApp;
  readonly registry: ResourceRegistry;
  readonly objects: ObjectStore;
  readonly metrics: ServerMetrics;
  /** The API for clients in this process, as `user` (see HttpClient's `local`). */
  localTransport(user: UserInfo): LocalTransport;
  /** Marks the server not ready (for graceful shutdown). */
  stopAccepting(): void;
  /** Makes /readyz fail (false) or pass again (true): graceful shutdown, and a simulated member made NotReady. */
  setReady(ready: boolean): void;
}

interface RequestHeaders {
  readonly contentType: string | undefined;
  readonly accept: string | undefined;
  readonly userAgent: string | undefined;
}

/** 3 MiB, kube-apiserver's request body limit (objects in etcd stay under ~1.5 MiB). */
export const MAX_REQUEST_BODY_BYTES = 3 * 1024 * 1024;

const PUBLIC_PATHS = /^\/(healthz|livez|readyz|version)(\/.*)?$/;

declare module 'fastify' {
  interface FastifyRequest {
    user?: UserInfo;
  }
}

export async function buildServer(options: ServerOptions): Promise<ApiServer> {
  const metrics = new ServerMetrics();
  const store = metrics.instrument(options.store);
  const extensions = options.extensions ?? [];
  const registry = new ResourceRegistry([...BUILTIN_RESOURCES, ...extensions.flatMap((e) => e.resources)]);
  const objects = new ObjectStore(store);
  const crds = new CrdServing(registry, objects, options.logger.child({ component: 'crd-serving' }));
  const admission = new SchemaAdmission({
    runtimeSchemas: () => crds.schemas,
    plugins: Object.assign({}, ...extensions.map((e) => e.admissionPlugins ?? {})) as Record<string, AdmissionPlugin>,
    deleteChecks: extensions.flatMap((e) => e.deleteChecks ?? []),
  });
  const connect = Object.assign({}, ...extensions.map((e) => e.connect ?? {})) as Record<string, ConnectHandler>;
  const reviews = Object.assign({}, ...extensions.map((e) => e.reviews ?? {})) as Record<string, ReviewHandler>;
  const ctx: ResourceContext = { registry, objects, admission, connect, reviews };
  let ready = true;

  const app = createApp(options);

  // Bodies stay raw: each endpoint decodes by media type (JSON, YAML, the patch types, none at all).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err, _req, reply) => {
    const status = toApiError(err);
    if (status.code >= 500) options.logger.error({ err }, 'request failed');
    void reply.code(status.code).type('application/json').send(status.toStatus());
  });
  app.setNotFoundHandler((_req, reply) => {
    void reply.code(404).type('application/json').send(new ApiError(404, 'NotFound', 'the server could not find the requested resource', {}).toStatus());
  });

  // Authentication: client certificates signed by our CA; health and version are public. The
  // identity is fixed for a TLS connection, so it is worked out once per connection.
  const identities = new WeakMap<object, UserInfo | null>();
  const loopbackUsers = new Map<string, UserInfo>();
  app.addHook('onRequest', async (req) => {
    const socket = req.raw.socket as import('node:tls').TLSSocket;
    let user = identities.get(socket);
    if (user === undefined) {
      user = (typeof socket.getPeerCertificate === 'function' ? userFromClientCertificate(socket.getPeerCertificate(), socket.authorized) : loopbackUser(req)) ?? null;
      identities.set(socket, user);
    }
    if (user) req.user = user;
    else if (!PUBLIC_PATHS.test(req.url.split('?')[0] ?? '')) throw errors.unauthorized();
  });

  /** An injected request (no TLS socket: it never crossed the network) carrying an in-process client's token. */
  function loopbackUser(req: FastifyRequest): UserInfo | undefined {
    const authorization = req.headers.authorization;
    return authorization?.startsWith('Bearer ') ? loopbackUsers.get(authorization.slice('Bearer '.length)) : undefined;
  }

  app.get('/version', async () => serverVersion());
  for (const endpoint of ['healthz', 'livez', 'readyz'] as const) {
    app.get(`/${endpoint}`, async (req, reply) => health(endpoint, req, reply, store, endpoint === 'readyz' ? () => ready : () => true));
    app.get(`/${endpoint}/:check`, async (req, reply) => health(endpoint, req, reply, store, endpoint === 'readyz' ? () => ready : () => true));
  }
  app.get('/metrics', async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()));

  const serverAddress = (req: FastifyRequest): string => req.headers.host ?? 'localhost';
  app.get('/api', async (req, reply) => discoveryRoot(req, reply, true, () => apiVersions(serverAddress(req))));
  app.get('/apis', async (req, reply) => discoveryRoot(req, reply, false, () => apiGroupList(registry)));
  const discoveryRoot = async (req: FastifyRequest, reply: FastifyReply, core: boolean, legacy: () => object) => {
    await crds.caughtUp();
    const version = aggregatedDiscoveryVersion(req.headers.accept);
    if (version) return reply.type(aggregatedContentType(version)).send(aggregatedDiscovery(registry, core, version));
    return legacy();
  };

  app.get('/openapi/v2', async () => openApiV2Document(registry.all(), crds.schemas));
  app.get('/openapi/v3', async () => openApiV3Index(registry.all(), crds.schemas));
  app.get('/openapi/v3/*', async (req) => {
    const path = (req.params as { '*': string })['*'];
    const [root, a, b] = path.split('/');
    const [group, version] = root === 'api' ? ['', a] : root === 'apis' ? [a, b] : [undefined, undefined];
    if (group === undefined || !version) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    const defs = registry.inGroupVersion(group, version);
    if (defs.length === 0) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    return openApiV3Document(group, version, defs, crds.schemas);
  });

  const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD'] as const;
  app.route({ method: [...methods], url: '/api/*', handler: (req, reply) => apiRequest(req, reply) });
  app.route({ method: [...methods], url: '/apis/*', handler: (req, reply) => apiRequest(req, reply) });

  async function apiRequest(req: FastifyRequest, reply: FastifyReply): Promise<unknown> {
    const outcome = await apiCall(req.method, req.url, { contentType: req.headers['content-type'], accept: req.headers.accept, userAgent: req.headers['user-agent'] }, req.body);
    if ('watch' in outcome) {
      reply.hijack();
      await outcome.watch.start(httpWatchSink(req.raw, reply.raw));
      return undefined;
    }
    return send(reply, outcome.response);
  }

  /**
   * One request under /api or /apis, however it came (HTTPS or in-process): an answer, or a watch
   * ready to run into a sink. Counted in apiserver_request_total either way.
   */
  async function apiCall(method: string, url: string, headers: RequestHeaders, body: unknown): Promise<ApiOutcome> {
    const info = parseRequestInfo(method, url);
    // A resource (or group) we don't know may belong to a CRD written a moment ago.
    if (!info.isResourceRequest || !registry.find(info.group, info.version, info.resource)) await crds.caughtUp();
    if (!info.isResourceRequest) return { response: { code: 200, body: discoveryDocument(info.path) } };
    const started = performance.now();
    const queryAt = url.indexOf('?');
    const request: ResourceRequest = {
      info,
      query: new URLSearchParams(queryAt >= 0 ? url.slice(queryAt + 1) : ''),
      body,
      contentType: headers.contentType,
      accept: headers.accept,
      userAgent: headers.userAgent,
    };
    let code = 500;
    try {
      if (info.verb === 'watch') {
        let events: CounterSeries | undefined; // one resource per watch: its series is looked up once
        const watch = planWatch(ctx, request, (def) => (events ??= metrics.watchEvents.labels({ group: def.group, version: info.version, resource: def.plural })).inc());
        code = 200;
        return { watch };
      }
      const response = await handleResource(ctx, request);
      code = response.code;
      return { response };
    } catch (err) {
      code = toApiError(err).code;
      throw err;
    } finally {
      observe(info, code, started);
    }
  }

  function localTransport(user: UserInfo): LocalTransport {
    const token = randomBytes(32).toString('base64url');
    loopbackUsers.set(token, user);
    return createLocalTransport({
      call: (req) => apiCall(req.method, req.path, { contentType: req.contentType, accept: req.accept, userAgent: req.userAgent }, req.body === undefined ? undefined : new DecodedBody(req.body)),
      inject: async (req) => {
        const res = await app.inject({
          method: req.method as 'GET',
          url: req.path,
          headers: { accept: req.accept, 'user-agent': req.userAgent, authorization: `Bearer ${token}`, ...(req.contentType ? { 'content-type': req.contentType } : {}) },
          ...(req.body !== undefined ? { payload: JSON.stringify(req.body) } : {}),
        });
        return { statusCode: res.statusCode, contentType: res.headers['content-type'] as string | undefined, text: res.body };
      },
      failure: (err) => {
        const status = toApiError(err);
        if (status.code >= 500) options.logger.error({ err }, 'request failed');
        return status;
      },
    });
  }

  function discoveryDocument(path: string): object {
    const parts = path.split('/').filter(Boolean);
    const doc = parts[0] === 'api' && parts.length === 2 ? apiResourceList(registry, '', parts[1] as string)
      : parts[0] === 'apis' && parts.length === 2 ? apiGroupDocument(registry, parts[1] as string)
        : parts[0] === 'apis' && parts.length === 3 ? apiResourceList(registry, parts[1] as string, parts[2] as string)
          : undefined;
    if (!doc) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
    return doc;
  }

  // Each label set's series is found once by a string key; its labels are only built then.
  const requestCounters = new Map<string, CounterSeries>();
  const durationHistograms = new Map<string, HistogramSeries>();
  function observe(info: ResourceRequestInfo, code: number, started: number): void {
    const scope = info.name ? 'resource' : info.namespace ? 'namespace' : 'cluster';
    const key = `${info.verb}|${info.group}|${info.version}|${info.resource}|${info.subresource ?? ''}|${scope}`;
    const counterKey = `${key}|${code}`;
    let counter = requestCounters.get(counterKey);
    if (!counter) requestCounters.set(counterKey, (counter = metrics.requests.labels({ ...requestLabels(info, scope), code: String(code) })));
    counter.inc();
    if (info.verb === 'watch') return;
    let histogram = durationHistograms.get(key);
    if (!histogram) durationHistograms.set(key, (histogram = metrics.requestDuration.labels(requestLabels(info, scope))));
    histogram.observe((performance.now() - started) / 1000);
  }

  objects.watchNamespaces(registry.find('', 'v1', 'namespaces') as ResourceDefinition);
  await bootstrapNamespaces(objects, registry, extensions.flatMap((e) => e.namespaces ?? []));
  await crds.start();
  app.addHook('onClose', async () => crds.stop());
  return { app, registry, objects, metrics, localTransport, stopAccepting: () => { ready = false; }, setReady: (value) => { ready = value; } };
}

/** The labels of apiserver_request_total (less `code`) and apiserver_request_duration_seconds. */
function requestLabels(info: ResourceRequestInfo, scope: string) {
  return { verb: verbLabel(info.verb), group: info.group, version: info.version, resource: info.resource, subresource: info.subresource ?? '', scope };
}

/** kube's verb label: LIST, GET, WATCH, POST, PUT, PATCH, DELETE, DELETECOLLECTION… */
function verbLabel(verb: string): string {
  return ({ create: 'POST', update: 'PUT', patch: 'PATCH', delete: 'DELETE', get: 'GET', list: 'LIST', watch: 'WATCH', deletecollection: 'DELETECOLLECTION' } as Record<string, string>)[verb] ?? verb.toUpperCase();
}

function send(reply: FastifyReply, response: ApiResponse): FastifyReply {
  for (const warning of response.warnings ?? []) void reply.header('Warning', `299 - ${JSON.stringify(warning)}`);
  return reply.code(response.code).type(response.contentType ?? 'application/json').send(response.body);
}

/** Any failure as a kube Status error; unknown errors are internal (and logged by the handler). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  const fastifyCode = (err as { code?: string; statusCode?: number }).code;
  if (fastifyCode === 'FST_ERR_CTP_BODY_TOO_LARGE') return errors.tooLarge(`the request body is larger than the limit of ${MAX_REQUEST_BODY_BYTES} bytes`);
  if (fastifyCode === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return errors.unsupportedMediaType('', ['application/json']);
  const statusCode = (err as { statusCode?: number }).statusCode;
  if (statusCode && statusCode >= 400 && statusCode < 500) return errors.badRequest((err as Error).message);
  return errors.internal(err instanceof Error ? err.message : String(err));
}

/** /healthz, /livez, /readyz: `ok`, `?verbose` check lists, `/<endpoint>/<check>`. */
async function health(endpoint: string, req: FastifyRequest, reply: FastifyReply, store: Store, ready: () => boolean): Promise<FastifyReply> {
  const checks: [string, () => Promise<boolean>][] = [
    ['ping', async () => true],
    ['log', async () => true],
    [store.backend === 'etcd' ? 'etcd' : 'storage', async () => store.revision().then(() => true, () => false)],
  ];
  if (endpoint === 'readyz') checks.push(['shutdown', async () => ready()]);
  const only = (req.params as { check?: string }).check;
  const selected = only ? checks.filter(([name]) => name === only) : checks;
  if (selected.length === 0) return reply.code(404).type('text/plain').send(`404 page not found\n`);
  const results = await Promise.all(selected.map(async ([name, check]) => [name, await check()] as const));
  const failed = results.some(([, ok]) => !ok);
  const verbose = (req.query as Record<string, unknown>)['verbose'] !== undefined;
  let body = 'ok';
  if (verbose || failed) {
    body = results.map(([name, ok]) => `[${ok ? '+' : '-'}]${name} ${ok ? 'ok' : 'failed: reason withheld'}`).join('\n') + `\n${endpoint} check ${failed ? 'failed' : 'passed'}\n`;
  }
  return reply.code(failed ? 500 : 200).type('text/plain; charset=utf-8').header('X-Content-Type-Options', 'nosniff').send(body);
}
