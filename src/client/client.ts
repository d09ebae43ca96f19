import { Agent, request as httpsRequest } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { deepClone, isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { ApiError } from '../api/status.js';
import type { Status, StatusReason } from '../api/status.js';
import { isLocalStream } from './local-transport.js';
import type { LocalRequest, LocalResponse, LocalStream, LocalTransport } from './local-transport.js';

/**
 * A small Kubernetes API client: JSON over HTTPS with keep-alive, authenticated by a client
 * certificate and/or a bearer token. Controllers talk to the API only through `ApiClient`
 * (DESIGN.md: controllers are clients of the API, never of storage); `HttpClient` is the
 * implementation over the network.
 *
 * Paths are API paths (`/api/v1/namespaces/x/configmaps`, `/apis/apps/v1/deployments`); build them
 * with `resourcePath`. Failures the server reports become `ApiError`s carrying the Status' code,
 * reason and details; transport failures (refused, reset, TLS) are thrown as the Node errors they are.
 */

/**
 * Where and as whom: the parts of a kubeconfig a user needs — a client certificate (certPem +
 * keyPem), a bearer token, or both (the token is sent with every request).
 */
export interface ClientConfig {
  /** https://host:port */
  readonly server: string;
  /** CA bundle the server's certificate must chain to; absent: the system's roots. */
  readonly caPem?: string;
  readonly certPem?: string;
  readonly keyPem?: string;
  /** Sent as `Authorization: Bearer <token>`. */
  readonly token?: string;
  /** Do not verify the server's certificate (kubeconfig `insecure-skip-tls-verify`). */
  readonly insecureSkipTLSVerify?: boolean;
  /** User-Agent (the server derives the default fieldManager from it). */
  readonly userAgent?: string;
  /** `?fieldManager=` on every write unless a call gives its own. */
  readonly fieldManager?: string;
  /** Sockets for ordinary requests (watches use their own pool); default 16. */
  readonly maxSockets?: number;
  /** Deadline for one non-watch request; default 60 s. */
  readonly requestTimeoutMs?: number;
  /**
   * The API in this process (controllers inside `flotilla serve`): requests go to it instead of over
   * a connection; the server still authenticates, admits and counts them as it does every request.
   */
  readonly local?: LocalTransport;
}

export type PatchType = 'merge' | 'json' | 'strategic';

const PATCH_CONTENT_TYPES: Record<PatchType, string> = {
  merge: 'application/merge-patch+json',
  json: 'application/json-patch+json',
  strategic: 'application/strategic-merge-patch+json',
};

/** Metadata-only forms (what kube's GC and namespace controller ask for); plain JSON as the fallback. */
const METADATA_ACCEPT = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';
const METADATA_LIST_ACCEPT = 'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json';

export interface RequestOptions {
  readonly signal?: AbortSignal;
}

/** A non-API answer (`/readyz`, `/healthz`, …) as it came: any status code, the body as text. */
export interface RawResponse {
  readonly code: number;
  readonly body: string;
  readonly contentType: string | undefined;
}

export interface RawRequestOptions extends RequestOptions {
  /** Deadline for this request; default the client's `requestTimeoutMs`. */
  readonly timeoutMs?: number;
}

export interface GetOptions extends RequestOptions {
  /** Ask for PartialObjectMetadata (apiVersion, kind, metadata only). */
  readonly metadataOnly?: boolean;
  readonly resourceVersion?: string;
}

export interface ListOptions extends RequestOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly limit?: number;
  readonly continue?: string;
  readonly resourceVersion?: string;
  readonly resourceVersionMatch?: 'Exact' | 'NotOlderThan';
  /** Ask for a PartialObjectMetadataList. */
  readonly metadataOnly?: boolean;
}

export interface WriteOptions extends RequestOptions {
  readonly fieldManager?: string;
  readonly dryRun?: boolean;
}

export interface DeleteOptions extends RequestOptions {
  readonly propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  readonly preconditions?: { readonly uid?: string; readonly resourceVersion?: string };
  readonly gracePeriodSeconds?: number;
  readonly dryRun?: boolean;
}

export interface DeleteCollectionOptions extends DeleteOptions {
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
}

export interface WatchOptions extends RequestOptions {
  readonly resourceVersion?: string;
  readonly labelSelector?: string;
  readonly fieldSelector?: string;
  readonly allowWatchBookmarks?: boolean;
  readonly timeoutSeconds?: number;
  /** Events carry PartialObjectMetadata. */
  readonly metadataOnly?: boolean;
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** One watch event; for ERROR the object is a Status. */
export interface WatchEvent {
  readonly type: WatchEventType;
  readonly object: KubeObject;
}

export interface ObjectList {
  apiVersion?: string;
  kind?: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: KubeObject[];
}

/** One resource as discovery lists it (subresources are not included). */
export interface DiscoveredResource {
  /** "" for the core group. */
  readonly group: string;
  readonly version: string;
  /** The plural, e.g. "deployments". */
  readonly resource: string;
  readonly kind: string;
  readonly namespaced: boolean;
  readonly verbs: readonly string[];
  /** Its subresources as discovery lists them ("status", "scale"…). */
  readonly subresources: readonly string[];
}

export interface DiscoveryResult {
  readonly resources: DiscoveredResource[];
  /** Group-versions whose resource list could not be read ("apps/v1"); their resources are missing. */
  readonly failed: string[];
}

/** What controllers need from the API. */
export interface ApiClient {
  get(path: string, options?: GetOptions): Promise<KubeObject>;
  list(path: string, options?: ListOptions): Promise<ObjectList>;
  create(path: string, body: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  update(path: string, body: KubeObject, options?: WriteOptions): Promise<KubeObject>;
  patch(path: string, type: PatchType, patch: unknown, options?: WriteOptions): Promise<KubeObject>;
  /** The deleted object, the object still being deleted (finalizers), or a Success Status. */
  delete(path: string, options?: DeleteOptions): Promise<KubeObject | Status>;
  deleteCollection(path: string, options?: DeleteCollectionOptions): Promise<ObjectList>;
  /** Preferred versions only, unless `allVersions`. */
  discover(options?: { allVersions?: boolean; signal?: AbortSignal }): Promise<DiscoveredResource[]>;
  discoverAll(options?: { allVersions?: boolean; signal?: AbortSignal }): Promise<DiscoveryResult>;
  watch(path: string, options?: WatchOptions): AsyncIterable<WatchEvent>;
  close(): void;
}

/** `/api/v1/namespaces/ns/configmaps/name/status`, each segment escaped. */
export function resourcePath(
  resource: { readonly group: string; readonly version: string; readonly resource: string },
  namespace?: string,
  name?: string,
  subresource?: string,
): string {
  const e = encodeURIComponent;
  let path = resource.group ? `/apis/${e(resource.group)}/${e(resource.version)}` : `/api/${e(resource.version)}`;
  if (namespace !== undefined) path += `/namespaces/${e(namespace)}`;
  path += `/${e(resource.resource)}`;
  if (name !== undefined) path += `/${e(name)}`;
  if (subresource !== undefined) path += `/${e(subresource)}`;
  return path;
}

const REASON_BY_CODE: Record<number, StatusReason> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Expired',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** An ApiError from a Status body (or, when the body is not a Status, from the HTTP code alone). */
export function apiErrorFromStatus(httpCode: number, body: unknown): ApiError {
  if (isPlainObject(body) && body['kind'] === 'Status') {
    const code = typeof body['code'] === 'number' && body['code'] > 0 ? body['code'] : httpCode;
    const reason = typeof body['reason'] === 'string' && body['reason'] ? (body['reason'] as StatusReason) : (REASON_BY_CODE[code] ?? 'InternalError');
    const message = typeof body['message'] === 'string' ? body['message'] : `the server responded with status ${code}`;
    const details = isPlainObject(body['details']) ? (body['details'] as ApiError['details']) : undefined;
    return new ApiError(code, reason, message, details);
  }
  const text = typeof body === 'string' && body.trim() ? `: ${body.trim().slice(0, 500)}` : '';
  return new ApiError(httpCode, REASON_BY_CODE[httpCode] ?? 'InternalError', `the server responded with status ${httpCode}${text}`);
}

/** Whether `err` is an ApiError with this HTTP code. */
export function isApiError(err: unknown, code?: number): err is ApiError {
  return err instanceof ApiError && (code === undefined || err.code === code);
}

function queryString(params: Record<string, string | number | boolean | undefined>): string {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== '') q.set(key, String(value));
  const s = q.toString();
  return s ? `?${s}` : '';
}

function withQuery(path: string, params: Record<string, string | number | boolean | undefined>): string {
  const qs = queryString(params);
  if (!qs) return path;
  return path.includes('?') ? `${path}&${qs.slice(1)}` : `${path}${qs}`;
}

interface RawRequest {
  readonly method: string;
  readonly path: string;
  readonly body?: unknown;
  readonly contentType?: string;
  readonly accept?: string;
  readonly signal?: AbortSignal;
}

export class HttpClient implements ApiClient {
  private readonly base: URL;
  private readonly config: ClientConfig;
  /** Ordinary requests: keep-alive, at most `maxSockets` connections. */
  private readonly agent: Agent;
  /**
   * Watches hold a connection each for minutes; they get their own pool so that N informers cannot
   * starve ordinary requests of the `maxSockets` connections (HTTP/1.1 has no multiplexing).
   */
  private readonly watchAgent: Agent;
  /** In-process watches open now (closing the client ends them, as destroying the pool ends sockets). */
  private readonly localStreams = new Set<LocalStream>();
  private closed = false;

  constructor(config: ClientConfig) {
    this.config = config;
    this.base = new URL(config.server);
    if (this.base.protocol !== 'https:') throw new Error(`the API server URL must be https: ${config.server}`);
    const tls = {
      ...(config.caPem ? { ca: config.caPem } : {}),
      ...(config.certPem && config.keyPem ? { cert: config.certPem, key: config.keyPem } : {}),
      ...(config.insecureSkipTLSVerify ? { rejectUnauthorized: false } : {}),
    };
    this.agent = new Agent({ ...tls, keepAlive: true, maxSockets: config.maxSockets ?? 16 });
    this.watchAgent = new Agent({ ...tls, keepAlive: true });
  }

  async get(path: string, options: GetOptions = {}): Promise<KubeObject> {
    return (await this.json({
      method: 'GET',
      path: withQuery(path, { resourceVersion: options.resourceVersion }),
      ...(options.metadataOnly ? { accept: METADATA_ACCEPT } : {}),
      ...signalOf(options),
    })) as KubeObject;
  }

  async list(path: string, options: ListOptions = {}): Promise<ObjectList> {
    const list = await this.json({
      method: 'GET',
      path: withQuery(path, {
        labelSelector: options.labelSelector,
        fieldSelector: options.fieldSelector,
        limit: options.limit,
        continue: options.continue,
        resourceVersion: options.resourceVersion,
        resourceVersionMatch: options.resourceVersionMatch,
      }),
      ...(options.metadataOnly ? { accept: METADATA_LIST_ACCEPT } : {}),
      ...signalOf(options),
    });
    return asList(list);
  }

  async create(path: string, body: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    return (await this.json({ method: 'POST', path: this.writePath(path, options), body, contentType: 'application/json', ...signalOf(options) })) as KubeObject;
  }

  async update(path: string, body: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    return (await this.json({ method: 'PUT', path: this.writePath(path, options), body, contentType: 'application/json', ...signalOf(options) })) as KubeObject;
  }

  async patch(path: string, type: PatchType, patch: unknown, options: WriteOptions = {}): Promise<KubeObject> {
    return (await this.json({ method: 'PATCH', path: this.writePath(path, options), body: patch, contentType: PATCH_CONTENT_TYPES[type], ...signalOf(options) })) as KubeObject;
  }

  async delete(path: string, options: DeleteOptions = {}): Promise<KubeObject | Status> {
    return (await this.json({ method: 'DELETE', path, body: deleteOptionsBody(options), contentType: 'application/json', ...signalOf(options) })) as KubeObject | Status;
  }

  async deleteCollection(path: string, options: DeleteCollectionOptions = {}): Promise<ObjectList> {
    const result = await this.json({
      method: 'DELETE',
      path: withQuery(path, { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector }),
      body: deleteOptionsBody(options),
      contentType: 'application/json',
      ...signalOf(options),
    });
    return isPlainObject(result) && Array.isArray(result['items']) ? asList(result) : { metadata: {}, items: [] };
  }

  async discover(options: { allVersions?: boolean; signal?: AbortSignal } = {}): Promise<DiscoveredResource[]> {
    return (await this.discoverAll(options)).resources;
  }

  /**
   * Legacy discovery: /api → /api/<v>, /apis → /apis/<g>/<v> (the preferred version of each group,
   * or all with `allVersions`). A failing /api or /apis throws; a failing group-version is reported
   * in `failed` and its resources left out, as client-go's partial discovery does.
   */
  async discoverAll(options: { allVersions?: boolean; signal?: AbortSignal } = {}): Promise<DiscoveryResult> {
    const signal = signalOf(options);
    const [core, groups] = await Promise.all([this.json({ method: 'GET', path: '/api', ...signal }), this.json({ method: 'GET', path: '/apis', ...signal })]);
    const targets: { group: string; version: string }[] = [];
    const coreVersions = isPlainObject(core) && Array.isArray(core['versions']) ? (core['versions'] as unknown[]).filter((v): v is string => typeof v === 'string') : [];
    for (const version of options.allVersions ? coreVersions : coreVersions.slice(0, 1)) targets.push({ group: '', version });
    const groupList = isPlainObject(groups) && Array.isArray(groups['groups']) ? (groups['groups'] as unknown[]) : [];
    for (const entry of groupList) {
      if (!isPlainObject(entry) || typeof entry['name'] !== 'string') continue;
      const versions = Array.isArray(entry['versions']) ? (entry['versions'] as unknown[]).filter(isPlainObject).map((v) => v['version']).filter((v): v is string => typeof v === 'string') : [];
      const preferred = isPlainObject(entry['preferredVersion']) && typeof entry['preferredVersion']['version'] === 'string' ? entry['preferredVersion']['version'] : versions[0];
      const chosen = options.allVersions ? versions : preferred !== undefined ? [preferred] : [];
      for (const version of chosen) targets.push({ group: entry['name'], version });
    }
    const resources: DiscoveredResource[] = [];
    const failed: string[] = [];
    const lists = await Promise.all(
      targets.map(async ({ group, version }) => {
        const path = group ? `/apis/${encodeURIComponent(group)}/${encodeURIComponent(version)}` : `/api/${encodeURIComponent(version)}`;
        try {
          return { group, version, list: await this.json({ method: 'GET', path, ...signal }) };
        } catch (err) {
          if (options.signal?.aborted) throw err;
          failed.push(group ? `${group}/${version}` : version);
          return undefined;
        }
      }),
    );
    for (const entry of lists) {
      if (!entry || !isPlainObject(entry.list) || !Array.isArray(entry.list['resources'])) continue;
      const listed = (entry.list['resources'] as unknown[]).filter((r): r is Record<string, unknown> & { name: string } => isPlainObject(r) && typeof r['name'] === 'string');
      const subresources = new Map<string, string[]>();
      for (const r of listed) {
        const slash = r.name.indexOf('/');
        if (slash > 0) subresources.set(r.name.slice(0, slash), [...(subresources.get(r.name.slice(0, slash)) ?? []), r.name.slice(slash + 1)]);
      }
      for (const r of listed) {
        if (r['name'].includes('/')) continue;
        resources.push({
          group: entry.group,
          version: entry.version,
          resource: r['name'],
          kind: typeof r['kind'] === 'string' ? r['kind'] : '',
          namespaced: r['namespaced'] === true,
          verbs: Array.isArray(r['verbs']) ? (r['verbs'] as unknown[]).filter((v): v is string => typeof v === 'string') : [],
          subresources: subresources.get(r['name']) ?? [],
        });
      }
    }
    return { resources, failed };
  }

  /**
   * A watch stream as an async iterable of events. It ends when the server closes the stream
   * (timeoutSeconds, shutdown), throws on transport failures and on a non-200 answer (as ApiError);
   * an in-stream ERROR event is yielded as it is. Breaking out of the loop or aborting `signal`
   * closes the connection.
   */
  watch(path: string, options: WatchOptions = {}): AsyncIterable<WatchEvent> {
    const fullPath = withQuery(path, {
      watch: 'true',
      resourceVersion: options.resourceVersion,
      labelSelector: options.labelSelector,
      fieldSelector: options.fieldSelector,
      allowWatchBookmarks: options.allowWatchBookmarks ? 'true' : undefined,
      timeoutSeconds: options.timeoutSeconds,
    });
    const req: RawRequest = { method: 'GET', path: fullPath, ...(options.metadataOnly ? { accept: METADATA_LIST_ACCEPT } : {}), ...signalOf(options) };
    const local = this.config.local;
    return {
      [Symbol.asyncIterator]: () => (local ? localWatchEvents(() => this.openLocal(local, req)) : watchEvents(() => this.send(req, this.watchAgent, options.timeoutSeconds))),
    };
  }

  /**
   * GET of a path whose answer need not be JSON nor 2xx (health endpoints): resolves with whatever
   * the server answered; only transport failures (refused, reset, TLS, the deadline) throw.
   */
  async getRaw(path: string, options: RawRequestOptions = {}): Promise<RawResponse> {
    const timeout = AbortSignal.timeout(options.timeoutMs ?? this.config.requestTimeoutMs ?? 60_000);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    const { code, body, contentType } = await this.exchange({ method: 'GET', path, accept: 'text/plain, application/json, */*', signal });
    return { code, body, contentType };
  }

  /** Closes idle keep-alive connections and refuses new requests. */
  close(): void {
    this.closed = true;
    this.agent.destroy();
    this.watchAgent.destroy();
    for (const stream of this.localStreams) stream.destroy();
  }

  private writePath(path: string, options: WriteOptions): string {
    return withQuery(path, { fieldManager: options.fieldManager ?? this.config.fieldManager, dryRun: options.dryRun ? 'All' : undefined });
  }

  /** One request whose answer is JSON; non-2xx → ApiError. */
  private async json(req: RawRequest): Promise<unknown> {
    let code: number;
    let body: unknown;
    const local = this.config.local;
    if (local) {
      // In-process there is no connection to time out: the server answers or fails.
      const res = await this.localRequest(local, req);
      code = res.statusCode;
      body = res.value !== undefined ? res.value : decodeJson(res.text ?? '', code, res.contentType);
    } else {
      const timeout = AbortSignal.timeout(this.config.requestTimeoutMs ?? 60_000);
      const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
      const res = await this.exchange({ ...req, signal });
      code = res.code;
      body = decodeJson(res.body, code, res.contentType);
    }
    if (code < 200 || code >= 300) throw apiErrorFromStatus(code, body);
    return body;
  }

  /** One whole request and answer as text, over the connection pool or in-process. */
  private async exchange(req: RawRequest): Promise<RawResponse> {
    const local = this.config.local;
    if (local) {
      const res = await this.localRequest(local, req);
      return { code: res.statusCode, body: res.text ?? (res.value === undefined ? '' : JSON.stringify(res.value)), contentType: res.contentType };
    }
    const res = await this.send(req, this.agent);
    const body = await readBody(res);
    return { code: res.statusCode ?? 0, body, contentType: res.headers['content-type'] };
  }

  private localRequest(local: LocalTransport, req: RawRequest): Promise<LocalResponse> {
    if (this.closed) return Promise.reject(new Error('the API client is closed'));
    req.signal?.throwIfAborted();
    return local.request(this.asLocal(req));
  }

  /** The request as the local transport takes it: the body a copy the server may keep. */
  private asLocal(req: RawRequest): LocalRequest {
    return {
      method: req.method,
      path: req.path,
      accept: req.accept ?? 'application/json',
      userAgent: this.config.userAgent ?? 'flotilla-client/v0.1.0',
      ...(req.body !== undefined ? { body: deepClone(req.body), contentType: req.contentType ?? 'application/json' } : {}),
      ...(req.signal ? { signal: req.signal } : {}),
    };
  }

  /** A watch in-process: the stream ends when the server ends it; aborting `signal` or breaking the loop closes it. */
  private async openLocal(local: LocalTransport, req: RawRequest): Promise<LocalStream> {
    if (this.closed) throw new Error('the API client is closed');
    req.signal?.throwIfAborted();
    const opened = await local.stream(this.asLocal(req));
    if (!isLocalStream(opened)) {
      const body = opened.value !== undefined ? opened.value : opened.text;
      if (opened.statusCode >= 200 && opened.statusCode < 300) throw new ApiError(500, 'InternalError', 'the server answered a watch with a single response');
      throw apiErrorFromStatus(opened.statusCode, body);
    }
    const stream = opened;
    this.localStreams.add(stream);
    stream.once('close', () => this.localStreams.delete(stream));
    if (this.closed) stream.destroy();
    if (req.signal) {
      const close = () => stream.destroy(req.signal?.reason instanceof Error ? req.signal.reason : new Error('the watch was aborted'));
      req.signal.addEventListener('abort', close, { once: true });
      stream.once('close', () => req.signal?.removeEventListener('abort', close));
    }
    return stream;
  }

  /** Sends a request and resolves with the response head (the body still to be read). */
  private send(req: RawRequest, agent: Agent, watchTimeoutSeconds?: number): Promise<IncomingMessage> {
    if (this.closed) return Promise.reject(new Error('the API client is closed'));
    const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body));
    return new Promise((resolve, reject) => {
      const request = httpsRequest(
        {
          protocol: this.base.protocol,
          hostname: this.base.hostname.replace(/^\[(.*)\]$/, '$1'),
          port: this.base.port || 443,
          method: req.method,
          path: `${this.base.pathname.replace(/\/$/, '')}${req.path}`,
          agent,
          headers: {
            Accept: req.accept ?? 'application/json',
            'User-Agent': this.config.userAgent ?? 'flotilla-client/v0.1.0',
            ...(this.config.token ? { Authorization: `Bearer ${this.config.token}` } : {}),
            ...(payload ? { 'Content-Type': req.contentType ?? 'application/json', 'Content-Length': payload.length } : {}),
          },
          ...(req.signal ? { signal: req.signal } : {}),
        },
        resolve,
      );
      request.on('error', reject); // `on`: a late second error (abort after a reset) must not go unhandled
      if (watchTimeoutSeconds !== undefined) {
        // The server ends the stream after timeoutSeconds; a connection silent well past that is dead.
        request.setTimeout((watchTimeoutSeconds + 30) * 1000, () => request.destroy(new Error('watch stream timed out')));
      }
      request.end(payload);
    });
  }
}

function signalOf(options: { signal?: AbortSignal }): { signal?: AbortSignal } {
  return options.signal ? { signal: options.signal } : {};
}

function deleteOptionsBody(options: DeleteOptions): Record<string, unknown> {
  return {
    kind: 'DeleteOptions',
    apiVersion: 'v1',
    ...(options.propagationPolicy ? { propagationPolicy: options.propagationPolicy } : {}),
    ...(options.preconditions ? { preconditions: options.preconditions } : {}),
    ...(options.gracePeriodSeconds !== undefined ? { gracePeriodSeconds: options.gracePeriodSeconds } : {}),
    ...(options.dryRun ? { dryRun: ['All'] } : {}),
  };
}

function asList(value: unknown): ObjectList {
  if (!isPlainObject(value) || !Array.isArray(value['items'])) throw new ApiError(500, 'InternalError', 'the server sent a list without items');
  const metadata = isPlainObject(value['metadata']) ? (value['metadata'] as ObjectList['metadata']) : {};
  return { ...(value as Omit<ObjectList, 'metadata'>), metadata, items: (value['items'] as unknown[]).filter(isPlainObject).map(normalizeObject) };
}

function normalizeObject(value: Record<string, unknown>): KubeObject {
  if (!isPlainObject(value['metadata'])) value['metadata'] = {};
  return value as KubeObject;
}

/** A JSON body's value; text that is not JSON stays text (a 2xx answer must be JSON). */
function decodeJson(text: string, code: number, contentType: string | undefined): unknown {
  if (!text) return text;
  try {
    return JSON.parse(text);
  } catch {
    if (code >= 200 && code < 300) throw new ApiError(500, 'InternalError', `the server sent a body that is not JSON (${contentType ?? 'no content type'})`);
    return text;
  }
}

function readBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.once('error', reject);
    res.once('aborted', () => reject(new Error('the response was aborted')));
  });
}

/** Newline-delimited JSON events from a watch response. */
async function* watchEvents(open: () => Promise<IncomingMessage>): AsyncGenerator<WatchEvent> {
  const res = await open();
  try {
    const code = res.statusCode ?? 0;
    if (code !== 200) {
      const text = await readBody(res);
      let body: unknown = text;
      try {
        body = JSON.parse(text);
      } catch {
        // not JSON: mapped by code alone
      }
      throw apiErrorFromStatus(code, body);
    }
    res.setEncoding('utf8');
    let buffer = '';
    for await (const chunk of res as AsyncIterable<string>) {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        const event = parseEvent(line);
        if (event) yield event;
      }
    }
    const last = parseEvent(buffer);
    if (last) yield last;
  } finally {
    res.destroy();
  }
}

/** Events of an in-process watch, already decoded; ends (or throws) as the stream does. */
async function* localWatchEvents(open: () => Promise<LocalStream>): AsyncGenerator<WatchEvent> {
  const stream = await open();
  try {
    for await (const event of stream as AsyncIterable<WatchEvent>) yield event;
  } finally {
    stream.destroy();
  }
}

/**
 * One event line. A line that is not an event ends the watch with an error (as client-go's decoder
 * does) rather than being skipped: the watcher resumes from the last event it did get, so nothing is
 * silently lost.
 */
function parseEvent(line: string): WatchEvent | undefined {
  if (!line.trim()) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    throw new Error(`the watch stream sent a line that is not JSON: ${line.slice(0, 200)}`);
  }
  if (!isPlainObject(value) || typeof value['type'] !== 'string' || !isPlainObject(value['object'])) throw new Error(`the watch stream sent a line that is not a watch event: ${line.slice(0, 200)}`);
  return { type: value['type'] as WatchEventType, object: normalizeObject(value['object']) };
}

/** The ApiError an ERROR watch event carries. */
export function watchEventError(event: WatchEvent): ApiError {
  const code = typeof event.object['code'] === 'number' ? event.object['code'] : 500;
  return apiErrorFromStatus(code, event.object);
}
