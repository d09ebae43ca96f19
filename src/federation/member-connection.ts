import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { HttpClient, isApiError, resourcePath } from '../client/client.js';
import type { ApiClient, ClientConfig } from '../client/client.js';

/**
 * Connections from the control plane to member clusters (Push mode): a Cluster names its API server
 * (`spec.apiEndpoint`) and the Secret holding its credentials (`spec.secretRef`), as Karmada's
 * cluster client builder reads them (karmada-api.md §2.1, §3.1). The Secret's `data` (base64):
 *
 *   caBundle   PEM CA bundle the member's serving certificate chains to (not needed with
 *              spec.insecureSkipTLSVerification)
 *   token      bearer token (what `karmadactl join` stores)
 *   tls.crt    client certificate, PEM  ┐ Flotilla's extension, for members that authenticate with
 *   tls.key    its private key, PEM     ┘ x509 client certificates (Flotilla's own members)
 *
 * At least a token or a client certificate must be there. One HttpClient per cluster is cached and
 * rebuilt when what it was built from changes (the Cluster's endpoint, TLS setting or secretRef, or
 * the Secret's resourceVersion); remove(name) closes it.
 */
export const SECRET_CA_KEY = 'caBundle';
export const SECRET_TOKEN_KEY = 'token';
export const SECRET_CERT_KEY = 'tls.crt';
export const SECRET_KEY_KEY = 'tls.key';

const SECRETS = { group: '', version: 'v1', resource: 'secrets' } as const;

/** A member cluster's credentials could not be put together (missing Secret, endpoint, key…). */
export class MemberConnectionError extends Error {
  override readonly name = 'MemberConnectionError';
}

/** `spec.apiEndpoint` as an https URL: a bare host or host:port gets the https scheme. */
export function normalizeApiEndpoint(endpoint: string): string {
  const trimmed = endpoint.trim();
  return /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(trimmed) ? trimmed : `https://${trimmed}`;
}

function secretValue(secret: KubeObject, key: string): string | undefined {
  const data = secret['data'];
  if (!isPlainObject(data) || typeof data[key] !== 'string' || data[key] === '') return undefined;
  return Buffer.from(data[key], 'base64').toString('utf8');
}

/** The Cluster's spec fields a connection is built from. */
function specOf(cluster: KubeObject): Record<string, unknown> {
  return isPlainObject(cluster['spec']) ? cluster['spec'] : {};
}

/** The Secret a Cluster references, as {namespace, name}; undefined when it has none. */
export function secretRefOf(cluster: KubeObject): { namespace: string; name: string } | undefined {
  const ref = specOf(cluster)['secretRef'];
  if (!isPlainObject(ref) || typeof ref['namespace'] !== 'string' || typeof ref['name'] !== 'string' || !ref['namespace'] || !ref['name']) return undefined;
  return { namespace: ref['namespace'], name: ref['name'] };
}

/**
 * The client configuration for a member from its Cluster and credentials Secret; throws a
 * MemberConnectionError saying what is missing (the message ends up in the Cluster's Ready condition).
 */
export function memberClientConfig(cluster: KubeObject, secret: KubeObject, extra: Partial<ClientConfig> = {}): ClientConfig {
  const name = cluster.metadata.name ?? '';
  const spec = specOf(cluster);
  const endpoint = typeof spec['apiEndpoint'] === 'string' ? spec['apiEndpoint'] : '';
  if (!endpoint) throw new MemberConnectionError(`the api endpoint of cluster ${name} is empty`);
  const server = normalizeApiEndpoint(endpoint);
  if (!server.toLowerCase().startsWith('https://')) throw new MemberConnectionError(`the api endpoint of cluster ${name} must be https: ${endpoint}`);
  if (typeof spec['proxyURL'] === 'string' && spec['proxyURL']) throw new MemberConnectionError(`cluster ${name} sets spec.proxyURL, which Flotilla does not support yet`);
  const insecure = spec['insecureSkipTLSVerification'] === true;
  const secretName = `${secret.metadata.namespace ?? ''}/${secret.metadata.name ?? ''}`;
  const caPem = secretValue(secret, SECRET_CA_KEY);
  if (!insecure && caPem === undefined) throw new MemberConnectionError(`the secret ${secretName} for cluster ${name} is missing the CA data key "${SECRET_CA_KEY}"`);
  const token = secretValue(secret, SECRET_TOKEN_KEY)?.trim();
  const certPem = secretValue(secret, SECRET_CERT_KEY);
  const keyPem = secretValue(secret, SECRET_KEY_KEY);
  if ((certPem === undefined) !== (keyPem === undefined)) {
    throw new MemberConnectionError(`the secret ${secretName} for cluster ${name} has only one of "${SECRET_CERT_KEY}" and "${SECRET_KEY_KEY}"`);
  }
  if (!token && certPem === undefined) {
    throw new MemberConnectionError(`the secret ${secretName} for cluster ${name} has neither a "${SECRET_TOKEN_KEY}" nor a client certificate ("${SECRET_CERT_KEY}" and "${SECRET_KEY_KEY}")`);
  }
  return {
    ...extra,
    server,
    ...(caPem !== undefined && !insecure ? { caPem } : {}),
    ...(token ? { token } : {}),
    ...(certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : {}),
    ...(insecure ? { insecureSkipTLSVerify: true } : {}),
  };
}

export interface MemberConnectionsOptions {
  /** The control plane, to read credentials Secrets. */
  readonly client: ApiClient;
  /** Default 'flotilla-controller-manager/v0.1.0'. */
  readonly userAgent?: string;
  /** Deadline of one request to a member; default 10 s. */
  readonly requestTimeoutMs?: number;
  /** Sockets per member for ordinary requests; default 4. */
  readonly maxSockets?: number;
}

interface Cached {
  readonly key: string;
  readonly client: HttpClient;
}

export class MemberConnections {
  private readonly options: MemberConnectionsOptions;
  private readonly cache = new Map<string, Cached>();
  private readonly listeners = new Set<(cluster: string, client: HttpClient) => void>();
  private closed = false;

  constructor(options: MemberConnectionsOptions) {
    this.options = options;
  }

  /**
   * The client for this Cluster (reads its Secret from the control plane). Throws a
   * MemberConnectionError when the credentials cannot be put together, and the control plane's
   * errors when the Secret cannot be read for another reason.
   */
  async clientFor(cluster: KubeObject, signal?: AbortSignal): Promise<HttpClient> {
    if (this.closed) throw new Error('the member connections are closed');
    const name = cluster.metadata.name ?? '';
    const ref = secretRefOf(cluster);
    if (!ref) throw new MemberConnectionError(`cluster ${name} does not have a secret`);
    let secret: KubeObject;
    try {
      secret = await this.options.client.get(resourcePath(SECRETS, ref.namespace, ref.name), signal ? { signal } : {});
    } catch (err) {
      if (isApiError(err, 404)) throw new MemberConnectionError(`secret "${ref.name}" not found in namespace "${ref.namespace}" (the credentials of cluster ${name})`);
      throw err;
    }
    const spec = specOf(cluster);
    const key = JSON.stringify([cluster.metadata.uid, spec['apiEndpoint'], spec['insecureSkipTLSVerification'] === true, spec['proxyURL'], ref, secret.metadata.uid, secret.metadata.resourceVersion]);
    const cached = this.cache.get(name);
    if (cached?.key === key) return cached.client;
    const config = memberClientConfig(cluster, secret, {
      userAgent: this.options.userAgent ?? 'flotilla-controller-manager/v0.1.0',
      requestTimeoutMs: this.options.requestTimeoutMs ?? 10_000,
      maxSockets: this.options.maxSockets ?? 4,
    });
    let client: HttpClient;
    try {
      client = new HttpClient(config);
    } catch (err) {
      throw new MemberConnectionError(err instanceof Error ? err.message : String(err));
    }
    if (this.closed) {
      client.close();
      throw new Error('the member connections are closed');
    }
    // A concurrent call may have built one meanwhile: the newest wins, the other is closed.
    const replaced = this.cache.get(name);
    this.cache.set(name, { key, client });
    if (replaced) replaced.client.close();
    for (const listener of this.listeners) listener(name, client);
    return client;
  }

  /** The cached client of a cluster, if one was built. */
  cached(name: string): HttpClient | undefined {
    return this.cache.get(name)?.client;
  }

  /** Called whenever a cluster's client is (re)built: whatever was built on the old one is stale. */
  onRebuild(listener: (cluster: string, client: HttpClient) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Closes and forgets the cluster's client (the Cluster is gone). */
  remove(name: string): void {
    const cached = this.cache.get(name);
    if (!cached) return;
    this.cache.delete(name);
    cached.client.close();
  }

  /** Closes every client; clientFor refuses from now on. */
  close(): void {
    this.closed = true;
    for (const name of [...this.cache.keys()]) this.remove(name);
  }
}
