import type { Test } from 'tap';
import { join } from 'node:path';
import { openStore } from '../../storage/open-store.js';
import type { Store } from '../../storage/types.js';
import { HttpClient } from '../../src/client/client.js';
import { KARMADA_API } from '../../src/karmada/api.js';
import { createLogger } from '../../src/log.js';
import { writeKubeconfig } from '../../src/server/kubeconfig.js';
import { ensurePki } from '../../src/server/pki.js';
import type { Pki } from '../../src/server/pki.js';
import { buildServer } from '../../src/server/server.js';
import type { ApiServer } from '../../src/server/server.js';

/**
 * A real API server in this process on a free loopback port (embedded store, own PKI and admin
 * kubeconfig), with Karmada's federation API or without it (a member cluster's server).
 */
export interface InProcessServer {
  readonly server: ApiServer;
  readonly store: Store;
  readonly pki: Pki;
  readonly url: string;
  readonly port: number;
  readonly kubeconfig: string;
  readonly admin: HttpClient;
  stop(): Promise<void>;
}

export const silentLogger = createLogger({ level: 'silent' });

export async function startInProcessServer(dir: string, name: string, options: { karmada: boolean }): Promise<InProcessServer> {
  const base = join(dir, name);
  const store = await openStore({ backend: 'embedded', dataDir: join(base, 'store') });
  const pki = await ensurePki(join(base, 'pki'), { sans: ['127.0.0.1', 'localhost'] });
  const server = await buildServer({ store, pki, logger: silentLogger, ...(options.karmada ? { extensions: [KARMADA_API] } : {}) });
  await server.app.listen({ host: '127.0.0.1', port: 0 });
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const url = `https://127.0.0.1:${port}`;
  const kubeconfig = join(base, 'admin.kubeconfig');
  await writeKubeconfig(kubeconfig, { server: url, caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem, clusterName: name });
  const admin = new HttpClient({ server: url, caPem: pki.caCertPem, certPem: pki.adminCertPem, keyPem: pki.adminKeyPem });
  let stopped: Promise<void> | undefined;
  return {
    server,
    store,
    pki,
    url,
    port,
    kubeconfig,
    admin,
    stop() {
      stopped ??= (async () => {
        admin.close();
        await server.app.close();
        server.objects.stopCaches();
        await store.close();
      })();
      return stopped;
    },
  };
}

/**
 * Polls `check` every `intervalMs` until it returns a value (not undefined/false): a pass, or a
 * failure after `timeoutMs` with the last error `check` threw.
 */
export async function eventually<T>(t: Test, what: string, check: () => Promise<T | undefined | false>, timeoutMs = 10_000, intervalMs = 50): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) {
        t.pass(what);
        return value;
      }
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline) {
      t.fail(`${what} (not within ${timeoutMs} ms)`, lastError ? { error: String(lastError) } : {});
      return undefined;
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
