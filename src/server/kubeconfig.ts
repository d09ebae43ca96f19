import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';
import { writeFileAtomic } from './pki.js';

export interface KubeconfigOptions {
  /** API server URL, e.g. https://127.0.0.1:6443 */
  server: string;
  caPem: string;
  clientCertPem: string;
  clientKeyPem: string;
  /** default "flotilla" */
  clusterName?: string;
  /** default "admin" */
  userName?: string;
  /** default the cluster name */
  contextName?: string;
}

const b64 = (pem: string): string => Buffer.from(pem, 'utf8').toString('base64');

/** A standard v1 kubeconfig with one cluster, one client-certificate user and one (current) context. */
export function kubeconfigYaml(options: KubeconfigOptions): string {
  const cluster = options.clusterName ?? 'flotilla';
  const user = options.userName ?? 'admin';
  const context = options.contextName ?? cluster;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server: options.server, 'certificate-authority-data': b64(options.caPem) } }],
    users: [{ name: user, user: { 'client-certificate-data': b64(options.clientCertPem), 'client-key-data': b64(options.clientKeyPem) } }],
    contexts: [{ name: context, context: { cluster, user } }],
    'current-context': context,
    preferences: {},
  });
}

/** Writes the kubeconfig (it holds a private key: mode 0600), creating parent directories; atomic. */
export async function writeKubeconfig(path: string, options: KubeconfigOptions): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFileAtomic(path, kubeconfigYaml(options), 0o600);
}
