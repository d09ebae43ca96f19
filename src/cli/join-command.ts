import { Command, InvalidArgumentError, Option } from 'commander';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { isPlainObject } from '../api/object.js';
import type { KubeObject } from '../api/object.js';
import { validateName } from '../api/names.js';
import { HttpClient, isApiError, resourcePath } from '../client/client.js';
import type { ClientConfig } from '../client/client.js';
import { KARMADA_SYSTEM_LABEL } from '../controllers/cluster-controller.js';
import { executionNamespace } from '../karmada/names.js';
import { SECRET_CA_KEY, SECRET_CERT_KEY, SECRET_KEY_KEY, SECRET_TOKEN_KEY, secretRefOf } from '../federation/member-connection.js';
import { CLUSTER_NAME_MAX_LENGTH } from '../karmada/admission/cluster.js';
import { validateLabelKey, validateLabelValue } from '../karmada/admission/common.js';
import { parseDuration } from './duration.js';

/**
 * `flotilla join` / `flotilla unjoin`: register a Push-mode member cluster with the control plane,
 * as `karmadactl join` does (karmada-api.md §3.1, §5) — the member's credentials go into a Secret
 * `<cluster-namespace>/<name>` and a Cluster `<name>` points at it — and remove it again.
 *
 * Unlike karmadactl, join does not create a service account in the member: it stores the credentials
 * of the member kubeconfig's user as they are (a bearer token and/or a client certificate; Flotilla's
 * own members use client certificates, kept under the Secret keys `tls.crt` and `tls.key`).
 */
export const DEFAULT_CLUSTER_NAMESPACE = 'karmada-cluster';
const DEFAULT_CONTROL_PLANE_KUBECONFIG = join('.flotilla', 'admin.kubeconfig');
const DEFAULT_PROBE_TIMEOUT_MS = 10_000;
const DEFAULT_UNJOIN_WAIT_MS = 60_000;

const CLUSTERS = { group: 'cluster.karmada.io', version: 'v1alpha1', resource: 'clusters' } as const;
const NAMESPACES = { group: '', version: 'v1', resource: 'namespaces' } as const;
const SECRETS = { group: '', version: 'v1', resource: 'secrets' } as const;

/** A join/unjoin failure with a message meant for the user. */
export class JoinError extends Error {
  override readonly name = 'JoinError';
}

// ---- kubeconfig ----

/** What a kubeconfig context resolves to. */
export interface KubeconfigCredentials {
  readonly path: string;
  readonly context: string;
  readonly server: string;
  readonly caPem?: string;
  readonly certPem?: string;
  readonly keyPem?: string;
  readonly token?: string;
  readonly insecureSkipTLSVerify: boolean;
}

function named(list: unknown, name: string, field: 'cluster' | 'user' | 'context'): Record<string, unknown> | undefined {
  if (!Array.isArray(list)) return undefined;
  const entry = list.find((e) => isPlainObject(e) && e['name'] === name);
  return isPlainObject(entry) && isPlainObject(entry[field]) ? entry[field] : isPlainObject(entry) ? {} : undefined;
}

/** Reads a kubeconfig and resolves one context (the current one by default) to a server and credentials. */
export async function loadKubeconfig(path: string, context?: string): Promise<KubeconfigCredentials> {
  const file = resolve(path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new JoinError(`cannot read the kubeconfig ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : err instanceof Error ? err.message : String(err)}`);
  }
  let config: unknown;
  try {
    config = parseYaml(text);
  } catch (err) {
    throw new JoinError(`${path} is not a valid kubeconfig: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}`);
  }
  if (!isPlainObject(config)) throw new JoinError(`${path} is not a valid kubeconfig: not a YAML mapping`);
  const contextName = context ?? (typeof config['current-context'] === 'string' ? config['current-context'] : '');
  if (!contextName) throw new JoinError(`the kubeconfig ${path} has no current-context; name one with --cluster-context`);
  const ctx = named(config['contexts'], contextName, 'context');
  if (!ctx) throw new JoinError(`context "${contextName}" not found in the kubeconfig ${path}`);
  const clusterName = typeof ctx['cluster'] === 'string' ? ctx['cluster'] : '';
  const cluster = clusterName ? named(config['clusters'], clusterName, 'cluster') : undefined;
  if (!cluster) throw new JoinError(`cluster "${clusterName}" of context "${contextName}" not found in the kubeconfig ${path}`);
  const userName = typeof ctx['user'] === 'string' ? ctx['user'] : '';
  const user = userName ? named(config['users'], userName, 'user') : undefined;
  if (!user) throw new JoinError(`user "${userName}" of context "${contextName}" not found in the kubeconfig ${path}`);
  const server = typeof cluster['server'] === 'string' ? cluster['server'].trim() : '';
  if (!server) throw new JoinError(`cluster "${clusterName}" in the kubeconfig ${path} has no server`);
  if (!/^https:\/\//i.test(server)) throw new JoinError(`cluster "${clusterName}" in the kubeconfig ${path}: the server must be an https URL (got ${server})`);

  const base = dirname(file);
  const material = async (dataKey: string, fileKey: string, from: Record<string, unknown>, what: string): Promise<string | undefined> => {
    const data = from[dataKey];
    if (typeof data === 'string' && data) return Buffer.from(data, 'base64').toString('utf8');
    const ref = from[fileKey];
    if (typeof ref === 'string' && ref) {
      const refPath = isAbsolute(ref) ? ref : join(base, ref);
      try {
        return await readFile(refPath, 'utf8');
      } catch (err) {
        throw new JoinError(`cannot read the ${what} ${refPath} named by the kubeconfig ${path}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return undefined;
  };
  const caPem = await material('certificate-authority-data', 'certificate-authority', cluster, 'CA file');
  const certPem = await material('client-certificate-data', 'client-certificate', user, 'client certificate');
  const keyPem = await material('client-key-data', 'client-key', user, 'client key');
  let token = typeof user['token'] === 'string' && user['token'] ? user['token'] : undefined;
  if (!token && typeof user['tokenFile'] === 'string' && user['tokenFile']) {
    const tokenPath = isAbsolute(user['tokenFile']) ? user['tokenFile'] : join(base, user['tokenFile']);
    try {
      token = (await readFile(tokenPath, 'utf8')).trim();
    } catch (err) {
      throw new JoinError(`cannot read the token file ${tokenPath} named by the kubeconfig ${path}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  if ((certPem === undefined) !== (keyPem === undefined)) throw new JoinError(`user "${userName}" in the kubeconfig ${path} has a client certificate without its key (or a key without its certificate)`);
  if (!token && certPem === undefined) {
    const other = ['exec', 'auth-provider', 'username'].find((k) => user[k] !== undefined);
    throw new JoinError(`user "${userName}" in the kubeconfig ${path} has neither a token nor a client certificate${other ? ` (${other} credentials are not supported)` : ''}`);
  }
  return {
    path,
    context: contextName,
    server: server.replace(/\/+$/, ''),
    ...(caPem !== undefined ? { caPem } : {}),
    ...(certPem !== undefined && keyPem !== undefined ? { certPem, keyPem } : {}),
    ...(token ? { token } : {}),
    insecureSkipTLSVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}

/** A client configuration from resolved kubeconfig credentials. */
export function clientConfig(credentials: KubeconfigCredentials, timeoutMs: number, userAgent = 'flotilla-join/v0.1.0'): ClientConfig {
  return {
    server: credentials.server,
    ...(credentials.caPem !== undefined ? { caPem: credentials.caPem } : {}),
    ...(credentials.certPem !== undefined && credentials.keyPem !== undefined ? { certPem: credentials.certPem, keyPem: credentials.keyPem } : {}),
    ...(credentials.token ? { token: credentials.token } : {}),
    ...(credentials.insecureSkipTLSVerify ? { insecureSkipTLSVerify: true } : {}),
    userAgent,
    requestTimeoutMs: timeoutMs,
    maxSockets: 4,
  };
}

/** The control plane's kubeconfig: --kubeconfig, else $KUBECONFIG (its first entry), else .flotilla/admin.kubeconfig. */
export function controlPlaneKubeconfigPath(explicit?: string): string {
  if (explicit) return explicit;
  const env = process.env['KUBECONFIG']?.split(process.platform === 'win32' ? ';' : ':').find(Boolean);
  return env ?? DEFAULT_CONTROL_PLANE_KUBECONFIG;
}

const b64 = (text: string): string => Buffer.from(text, 'utf8').toString('base64');
const messageOf = (err: unknown): string => {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  return code && !err.message.includes(code) ? `${err.message} (${code})` : err.message;
};

/** Runs `fn` on a control-plane request; transport failures become a JoinError naming the server. */
async function controlPlane<T>(server: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof JoinError || isApiError(err)) throw err;
    throw new JoinError(`cannot reach the control plane at ${server}: ${messageOf(err)}`);
  }
}

// ---- join ----

export interface JoinClusterOptions {
  /** The Cluster's name (a DNS label of at most 48 characters). */
  readonly name: string;
  /** The member's kubeconfig. */
  readonly clusterKubeconfig: string;
  /** Context in it; default its current-context. */
  readonly clusterContext?: string;
  /** The control plane's kubeconfig; default $KUBECONFIG or .flotilla/admin.kubeconfig. */
  readonly kubeconfig?: string;
  readonly provider?: string;
  readonly region?: string;
  readonly zones?: readonly string[];
  /** metadata.labels of the Cluster. */
  readonly labels?: Readonly<Record<string, string>>;
  /** Where the credentials Secret goes; default karmada-cluster. */
  readonly clusterNamespace?: string;
  /** Deadline of each request to the member and the control plane; default 10 s. */
  readonly timeoutMs?: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** Validates what can be checked before any request; throws a JoinError. */
function validateJoinOptions(options: JoinClusterOptions): void {
  const { name } = options;
  if (!name) throw new JoinError('the cluster name is required');
  if (name.length > CLUSTER_NAME_MAX_LENGTH) throw new JoinError(`invalid cluster name "${name}": must be no more than ${CLUSTER_NAME_MAX_LENGTH} characters`);
  const problems = validateName(name, 'label', 'name');
  if (problems.length > 0) throw new JoinError(`invalid cluster name "${name}": ${problems.map((p) => p.message).join('; ')}`);
  const namespace = options.clusterNamespace ?? DEFAULT_CLUSTER_NAMESPACE;
  if (validateName(namespace, 'label', 'namespace').length > 0) throw new JoinError(`invalid cluster namespace "${namespace}": must be a DNS label`);
  const values: [string, string | undefined][] = [['provider', options.provider], ['region', options.region], ...(options.zones ?? []).map((z): [string, string] => ['zone', z])];
  for (const [what, value] of values) {
    const problem = value === undefined ? [] : validateLabelValue(value, what);
    if (problem.length > 0) throw new JoinError(`invalid ${what} "${value ?? ''}": ${problem.map((p) => p.message).join('; ')}`);
  }
  for (const [key, value] of Object.entries(options.labels ?? {})) {
    const problems2 = [...validateLabelKey(key, 'label key'), ...validateLabelValue(value, 'label value')];
    if (problems2.length > 0) throw new JoinError(`invalid label ${key}=${value}: ${problems2.map((p) => p.message).join('; ')}`);
  }
}

/**
 * Registers a member: checks the name is free, probes the member with its kubeconfig's credentials
 * (its kube-system namespace's uid becomes spec.id), then creates the credentials Secret and the
 * Cluster (the Secret owned by the Cluster, as karmadactl does). Throws a JoinError with a message
 * for the user; nothing is created when a check fails.
 */
export async function joinCluster(options: JoinClusterOptions): Promise<void> {
  validateJoinOptions(options);
  const { name } = options;
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const namespace = options.clusterNamespace ?? DEFAULT_CLUSTER_NAMESPACE;
  const member = await loadKubeconfig(options.clusterKubeconfig, options.clusterContext);
  const plane = await loadKubeconfig(controlPlaneKubeconfigPath(options.kubeconfig));
  const cp = new HttpClient({ ...clientConfig(plane, timeoutMs), userAgent: 'flotilla-join/v0.1.0', fieldManager: 'flotilla-join' });
  let memberClient: HttpClient | undefined;
  try {
    // 1. The name must be free.
    const existing = await controlPlane(plane.server, () => cp.get(resourcePath(CLUSTERS, undefined, name))).then(
      (cluster) => cluster,
      (err: unknown) => {
        if (isApiError(err, 404)) return undefined;
        throw err;
      },
    );
    if (existing) throw new JoinError(`cluster ${name} already exists`);

    // 2. The member must answer, and accept the credentials.
    try {
      memberClient = new HttpClient(clientConfig(member, timeoutMs));
    } catch (err) {
      throw new JoinError(`the kubeconfig ${member.path} cannot be used: ${messageOf(err)}`);
    }
    try {
      const ready = await memberClient.getRaw('/readyz', { timeoutMs });
      if (ready.code !== 200 && ready.code !== 404) log(`warning: cluster ${name} answers /readyz with ${ready.code}; it is joined anyway and will show Ready=False until it is healthy`);
    } catch (err) {
      throw new JoinError(`cannot reach cluster ${name} at ${member.server}: ${messageOf(err)}`);
    }
    let id: string;
    try {
      const kubeSystem = await memberClient.get(resourcePath(NAMESPACES, undefined, 'kube-system'));
      id = kubeSystem.metadata.uid ?? '';
    } catch (err) {
      if (isApiError(err, 401) || isApiError(err, 403)) throw new JoinError(`cluster ${name} at ${member.server} refused the credentials of the kubeconfig ${member.path}: ${err.message}`);
      if (isApiError(err)) throw new JoinError(`cannot read the kube-system namespace of cluster ${name}: ${err.message}`);
      throw new JoinError(`cannot reach cluster ${name} at ${member.server}: ${messageOf(err)}`);
    }
    if (!id) throw new JoinError(`the kube-system namespace of cluster ${name} has no uid`);

    // 3. The same member must not be registered twice under two names.
    const clusters = await controlPlane(plane.server, () => cp.list(resourcePath(CLUSTERS)));
    const twin = clusters.items.find((c) => isPlainObject(c['spec']) && c['spec']['id'] === id);
    if (twin) throw new JoinError(`the member at ${member.server} is already registered as cluster ${twin.metadata.name ?? ''} (cluster ID ${id})`);

    // 4. Namespace, Secret, Cluster; the Secret then owned by the Cluster.
    await controlPlane(plane.server, async () => {
      try {
        await cp.get(resourcePath(NAMESPACES, undefined, namespace), { metadataOnly: true });
      } catch (err) {
        if (!isApiError(err, 404)) throw err;
        await cp.create(resourcePath(NAMESPACES), { apiVersion: 'v1', kind: 'Namespace', metadata: { name: namespace, labels: { [KARMADA_SYSTEM_LABEL]: 'true' } } }).catch((e: unknown) => {
          if (!isApiError(e, 409)) throw e;
        });
      }
    });
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name, namespace, labels: { [KARMADA_SYSTEM_LABEL]: 'true' } },
      type: 'Opaque',
      data: {
        ...(member.caPem !== undefined ? { [SECRET_CA_KEY]: b64(member.caPem) } : {}),
        ...(member.token ? { [SECRET_TOKEN_KEY]: b64(member.token) } : {}),
        ...(member.certPem !== undefined && member.keyPem !== undefined ? { [SECRET_CERT_KEY]: b64(member.certPem), [SECRET_KEY_KEY]: b64(member.keyPem) } : {}),
      },
    };
    const secretPath = resourcePath(SECRETS, namespace, name);
    let createdSecret = false;
    await controlPlane(plane.server, async () => {
      try {
        await cp.create(resourcePath(SECRETS, namespace), secret);
        createdSecret = true;
      } catch (err) {
        if (!isApiError(err, 409)) throw err;
        // A leftover of an earlier join (no Cluster has this name): its content is replaced.
        const old = await cp.get(secretPath);
        await cp.update(secretPath, { ...secret, metadata: { ...old.metadata, labels: { ...old.metadata.labels, [KARMADA_SYSTEM_LABEL]: 'true' }, ownerReferences: [] } });
      }
    });
    log(`secret ${namespace}/${name} written`);

    const cluster: KubeObject = {
      apiVersion: 'cluster.karmada.io/v1alpha1',
      kind: 'Cluster',
      metadata: { name, ...(options.labels && Object.keys(options.labels).length > 0 ? { labels: { ...options.labels } } : {}) },
      spec: {
        id,
        syncMode: 'Push',
        apiEndpoint: member.server,
        secretRef: { namespace, name },
        ...(member.insecureSkipTLSVerify ? { insecureSkipTLSVerification: true } : {}),
        ...(options.provider ? { provider: options.provider } : {}),
        ...(options.region ? { region: options.region } : {}),
        ...(options.zones && options.zones.length > 0 ? { zones: [...options.zones] } : {}),
      },
    };
    let created: KubeObject;
    try {
      created = await controlPlane(plane.server, () => cp.create(resourcePath(CLUSTERS), cluster));
    } catch (err) {
      if (createdSecret) await cp.delete(secretPath).catch(() => undefined);
      if (isApiError(err, 409)) throw new JoinError(`cluster ${name} already exists`);
      throw err instanceof JoinError ? err : new JoinError(`failed to create cluster ${name}: ${messageOf(err)}`);
    }
    await controlPlane(plane.server, () => cp.patch(secretPath, 'merge', {
      metadata: { ownerReferences: [{ apiVersion: 'cluster.karmada.io/v1alpha1', kind: 'Cluster', name, uid: created.metadata.uid ?? '', controller: true, blockOwnerDeletion: true }] },
    }));
    log(`cluster(${name}) is joined successfully`);
  } finally {
    memberClient?.close();
    cp.close();
  }
}

// ---- unjoin ----

export interface UnjoinClusterOptions {
  readonly name: string;
  /** The control plane's kubeconfig; default $KUBECONFIG or .flotilla/admin.kubeconfig. */
  readonly kubeconfig?: string;
  /** Wait until the Cluster is gone (its execution namespace cleaned up): true (60 s) or a deadline in ms. */
  readonly wait?: boolean | number;
  readonly timeoutMs?: number;
  readonly log?: (line: string) => void;
}

/**
 * Deletes the Cluster (the cluster controller then removes its execution namespace and Works before
 * the Cluster goes) and its credentials Secret; with `wait`, returns once the Cluster is gone.
 */
export async function unjoinCluster(options: UnjoinClusterOptions): Promise<void> {
  const { name } = options;
  if (!name) throw new JoinError('the cluster name is required');
  const log = options.log ?? (() => undefined);
  const timeoutMs = options.timeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  const plane = await loadKubeconfig(controlPlaneKubeconfigPath(options.kubeconfig));
  const cp = new HttpClient({ ...clientConfig(plane, timeoutMs), userAgent: 'flotilla-unjoin/v0.1.0' });
  try {
    const clusterPath = resourcePath(CLUSTERS, undefined, name);
    let cluster: KubeObject;
    try {
      cluster = await controlPlane(plane.server, () => cp.get(clusterPath));
    } catch (err) {
      if (isApiError(err, 404)) throw new JoinError(`cluster ${name} not found`);
      throw err;
    }
    const spec = isPlainObject(cluster['spec']) ? cluster['spec'] : {};
    if (spec['syncMode'] === 'Pull') throw new JoinError(`cluster ${name} is a Pull mode member cluster; unjoin only removes Push mode clusters`);
    await controlPlane(plane.server, () => cp.delete(clusterPath)).catch((err: unknown) => {
      if (!isApiError(err, 404)) throw err;
    });
    log(`cluster ${name} deleted; its execution namespace ${executionNamespace(name)} is being cleaned up`);

    if (options.wait) {
      const deadline = Date.now() + (typeof options.wait === 'number' ? options.wait : DEFAULT_UNJOIN_WAIT_MS);
      for (;;) {
        const gone = await controlPlane(plane.server, () => cp.get(clusterPath, { metadataOnly: true })).then(
          (c) => c.metadata.uid !== cluster.metadata.uid,
          (err: unknown) => {
            if (isApiError(err, 404)) return true;
            throw err;
          },
        );
        if (gone) break;
        if (Date.now() > deadline) {
          throw new JoinError(`cluster ${name} is still being deleted after ${Math.round((typeof options.wait === 'number' ? options.wait : DEFAULT_UNJOIN_WAIT_MS) / 1000)}s (is the controller manager running? the execution namespace ${executionNamespace(name)} must be emptied first)`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    // The credentials: the Secret the Cluster names, when it was made for it (owned by it, or named
    // after it). The controllers need them until the Cluster is gone (the Works' objects are deleted
    // in the member with them), so they go last: at once when waiting, else the garbage collector
    // removes an owned Secret after the Cluster.
    const ref = secretRefOf(cluster);
    if (ref && options.wait) {
      const secretPath = resourcePath(SECRETS, ref.namespace, ref.name);
      const secret = await controlPlane(plane.server, () => cp.get(secretPath)).catch((err: unknown) => {
        if (isApiError(err, 404)) return undefined;
        throw err;
      });
      const owned = secret && ((secret.metadata.ownerReferences ?? []).some((o) => o.uid === cluster.metadata.uid) || ref.name === name);
      if (secret && owned) {
        await controlPlane(plane.server, () => cp.delete(secretPath, secret.metadata.uid ? { preconditions: { uid: secret.metadata.uid } } : {})).catch((err: unknown) => {
          if (!isApiError(err, 404) && !isApiError(err, 409)) throw err;
        });
        log(`secret ${ref.namespace}/${ref.name} deleted`);
      }
    }

    log(`cluster(${name}) is unjoined successfully`);
  } finally {
    cp.close();
  }
}

// ---- commands ----

const repeatable = (value: string, previous: string[] = []): string[] => [...previous, ...value.split(',').map((s) => s.trim()).filter(Boolean)];
const labelArg = (value: string, previous: Record<string, string> = {}): Record<string, string> => {
  const eq = value.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`"${value}" is not key=value`);
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
};

interface JoinFlags {
  clusterKubeconfig: string;
  clusterContext?: string;
  kubeconfig?: string;
  provider?: string;
  region?: string;
  zone?: string[];
  label?: Record<string, string>;
  clusterNamespace: string;
}

export function joinCommand(): Command {
  return new Command('join')
    .description('register a member cluster (Push mode) with the control plane, as karmadactl join does')
    .argument('<name>', `the cluster's name (a DNS label of at most ${CLUSTER_NAME_MAX_LENGTH} characters)`)
    .requiredOption('--cluster-kubeconfig <file>', 'kubeconfig of the member cluster')
    .option('--cluster-context <context>', 'context in the member kubeconfig (default its current-context)')
    .option('--kubeconfig <file>', 'kubeconfig of the control plane (default $KUBECONFIG or .flotilla/admin.kubeconfig)')
    .option('--provider <provider>', 'spec.provider of the cluster')
    .option('--region <region>', 'spec.region of the cluster')
    .addOption(new Option('--zone <zone>', 'a zone of the cluster (repeatable, or comma-separated) → spec.zones').argParser(repeatable))
    .addOption(new Option('--label <key=value>', 'a label of the Cluster object (repeatable)').argParser(labelArg))
    .option('--cluster-namespace <namespace>', 'namespace of the control plane holding member credentials', DEFAULT_CLUSTER_NAMESPACE)
    .action(async (name: string, flags: JoinFlags) => {
      await joinCluster({
        name,
        clusterKubeconfig: flags.clusterKubeconfig,
        clusterNamespace: flags.clusterNamespace,
        ...(flags.clusterContext !== undefined ? { clusterContext: flags.clusterContext } : {}),
        ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
        ...(flags.provider !== undefined ? { provider: flags.provider } : {}),
        ...(flags.region !== undefined ? { region: flags.region } : {}),
        ...(flags.zone !== undefined ? { zones: flags.zone } : {}),
        ...(flags.label !== undefined ? { labels: flags.label } : {}),
        log: (line) => process.stdout.write(`${line}\n`),
      });
    });
}

interface UnjoinFlags {
  kubeconfig?: string;
  wait?: boolean | string;
}

export function unjoinCommand(): Command {
  return new Command('unjoin')
    .description('remove a member cluster (Push mode) from the control plane, with its credentials Secret')
    .argument('<name>', 'the cluster\'s name')
    .option('--kubeconfig <file>', 'kubeconfig of the control plane (default $KUBECONFIG or .flotilla/admin.kubeconfig)')
    .option('--wait [duration]', `wait until the cluster and its execution namespace are gone (default ${DEFAULT_UNJOIN_WAIT_MS / 1000}s)`)
    .action(async (name: string, flags: UnjoinFlags) => {
      const wait = flags.wait === undefined || flags.wait === false ? false : flags.wait === true ? true : parseDuration(flags.wait);
      await unjoinCluster({
        name,
        ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
        wait,
        log: (line) => process.stdout.write(`${line}\n`),
      });
    });
}
