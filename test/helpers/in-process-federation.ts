import { join } from 'node:path';
import type { KubeObject } from '../../src/api/object.js';
import { HttpClient, isApiError } from '../../src/client/client.js';
import { joinCluster } from '../../src/cli/join-command.js';
import { startControllers } from '../../src/controllers/manager.js';
import type { RunningControllers } from '../../src/controllers/manager.js';
import { startMember } from '../../src/member/member.js';
import type { RunningMember } from '../../src/member/member.js';
import { ensurePki, issueClientCertificate } from '../../src/server/pki.js';
import { tempDir } from './temp-dir.js';
import { silentLogger, startInProcessServer } from './in-process-server.js';
import type { InProcessServer } from './in-process-server.js';

/**
 * A federation in this process: a control plane with its controllers as HTTPS clients (fast cluster
 * status: every 200 ms, thresholds 600 ms), and simulated members joined in push mode. `member(name)`
 * is an admin client of that member's own API server.
 */
export interface InProcessFederation {
  readonly cp: InProcessServer;
  readonly controllers: RunningControllers;
  readonly members: readonly RunningMember[];
  member(name: string): HttpClient;
  stop(): Promise<void>;
}

export interface FederationMember {
  readonly name: string;
  readonly region?: string;
  readonly labels?: Readonly<Record<string, string>>;
}

export async function startInProcessFederation(name: string, options: {
  members: readonly FederationMember[];
  nodes: { count: number; cpu: string; memory: string; pods: number };
  enabledControllers?: readonly string[];
}): Promise<InProcessFederation> {
  const dir = await tempDir(name);
  const cp = await startInProcessServer(dir.path, 'control-plane', { karmada: true });
  const cert = await issueClientCertificate(cp.pki, { commonName: 'system:flotilla-controller-manager', organizations: ['system:masters'] });
  const controllers = await startControllers({
    server: cp.url,
    caPem: cp.pki.caCertPem,
    certPem: cert.certPem,
    keyPem: cert.keyPem,
    // The controllers reach the API in-process here (`--controller-transport in-process`); the
    // conformance suites run `flotilla serve` with its default, HTTPS.
    local: cp.server.localTransport({ name: 'system:flotilla-controller-manager', groups: ['system:masters', 'system:authenticated'] }),
    logger: silentLogger,
    federation: true,
    rediscoveryMs: 300,
    clusterStatusUpdateFrequencyMs: 200,
    clusterFailureThresholdMs: 600,
    clusterSuccessThresholdMs: 600,
    ...(options.enabledControllers ? { enabledControllers: options.enabledControllers } : {}),
  });
  const members: RunningMember[] = [];
  const clients = new Map<string, HttpClient>();
  for (const member of options.members) {
    const running = await startMember({ name: member.name, dataDir: join(dir.path, member.name), bindAddress: '127.0.0.1', port: 0, nodes: options.nodes, logger: silentLogger });
    members.push(running);
    await joinCluster({ name: member.name, clusterKubeconfig: running.kubeconfigPath, kubeconfig: cp.kubeconfig, ...(member.region ? { region: member.region } : {}), ...(member.labels ? { labels: { ...member.labels } } : {}) });
    const pki = await ensurePki(join(dir.path, member.name, 'pki'), { sans: ['127.0.0.1'] });
    clients.set(member.name, new HttpClient({ server: running.url, caPem: pki.caCertPem, certPem: pki.adminCertPem, keyPem: pki.adminKeyPem }));
  }
  let stopped: Promise<void> | undefined;
  return {
    cp,
    controllers,
    members,
    member(memberName) {
      const client = clients.get(memberName);
      if (!client) throw new Error(`no member named ${memberName}`);
      return client;
    },
    stop() {
      stopped ??= (async () => {
        for (const client of clients.values()) client.close();
        await controllers.stop();
        for (const member of members) await member.stop().catch(() => undefined);
        await cp.stop();
        await dir.remove();
      })();
      return stopped;
    },
  };
}

/** The object at `path`, or undefined when it is not there (404). */
export async function getOrUndefined(client: HttpClient, path: string): Promise<KubeObject | undefined> {
  try {
    return await client.get(path);
  } catch (err) {
    if (isApiError(err, 404)) return undefined;
    throw err;
  }
}
