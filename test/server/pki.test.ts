import t from 'tap';
import { execFile } from 'node:child_process';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm, stat } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { parse } from 'yaml';
import { userFromClientCertificate } from '../../src/authn/x509.js';
import { kubeconfigYaml, writeKubeconfig } from '../../src/server/kubeconfig.js';
import { ensurePki, issueClientCertificate, type Pki } from '../../src/server/pki.js';
import { kubectlPath } from '../helpers/kubectl.js';
import { tempDir } from '../helpers/temp-dir.js';

const FILES = ['ca.crt', 'ca.key', 'serving.crt', 'serving.key', 'admin.crt', 'admin.key'];
const readAll = async (dir: string) => Object.fromEntries(await Promise.all(FILES.map(async (f) => [f, await readFile(join(dir, f), 'utf8')] as const)));

const VERSION = {
  major: '1',
  minor: '31',
  gitVersion: 'v1.31.0',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2024-08-13T00:00:00Z',
  goVersion: 'go1.22.5',
  compiler: 'gc',
  platform: 'linux/amd64',
};

/**
 * HTTPS server as `flotilla serve` will build it: client certs requested, verified against our CA,
 * never required at the TLS layer. /version needs an authenticated user (401 otherwise) so that a
 * kubectl success proves its client certificate was accepted; every other path echoes the user.
 */
async function startServer(pki: Pki): Promise<{ port: number; close: () => void }> {
  const server = createServer(
    { cert: pki.servingCertPem, key: pki.servingKeyPem, ca: pki.caCertPem, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const socket = req.socket as TLSSocket;
      const user = userFromClientCertificate(socket.getPeerCertificate(), socket.authorized);
      res.setHeader('content-type', 'application/json');
      if (new URL(req.url ?? '/', 'https://x').pathname === '/version') { // kubectl adds ?timeout=
        res.statusCode = user === undefined ? 401 : 200;
        res.end(JSON.stringify(user === undefined ? { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Unauthorized', code: 401 } : VERSION));
        return;
      }
      res.end(JSON.stringify({ user: user ?? null, authorized: socket.authorized }));
    },
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () => {
      server.closeAllConnections();
      server.close();
    },
  };
}

/** GET over HTTPS trusting `ca`, optionally presenting a client certificate. */
function get(port: number, path: string, tls: { ca: string; cert?: string; key?: string }): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, agent: false, timeout: 10_000, ...tls }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) }));
    });
    req.on('timeout', () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end();
  });
}


function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { env, timeout: 30_000, killSignal: 'SIGKILL', encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(); // never let kubectl wait on a credentials prompt
  });
}

t.test('ensurePki creates, reuses, and re-issues only the serving cert for new SANs', async (t) => {
  const tmp = await tempDir('pki');
  t.teardown(tmp.remove);
  const dir = join(tmp.path, 'nested', 'pki');

  // (a) first start: everything generated, directory 0700, keys 0600 PKCS#8
  const pki = await ensurePki(dir, { sans: [] });
  t.equal((await stat(dir)).mode & 0o777, 0o700, 'pki dir 0700');
  for (const f of FILES) {
    t.ok(existsSync(join(dir, f)), `${f} exists`);
    if (f.endsWith('.key')) t.equal((await stat(join(dir, f))).mode & 0o777, 0o600, `${f} is 0600`);
  }
  const files = await readAll(dir);
  t.same(files, {
    'ca.crt': pki.caCertPem,
    'ca.key': pki.caKeyPem,
    'serving.crt': pki.servingCertPem,
    'serving.key': pki.servingKeyPem,
    'admin.crt': pki.adminCertPem,
    'admin.key': pki.adminKeyPem,
  });
  for (const key of [pki.caKeyPem, pki.servingKeyPem, pki.adminKeyPem]) t.match(key, /^-----BEGIN PRIVATE KEY-----\n/);

  const ca = new X509Certificate(pki.caCertPem);
  const serving = new X509Certificate(pki.servingCertPem);
  const admin = new X509Certificate(pki.adminCertPem);
  t.equal(ca.subject, 'CN=flotilla-ca');
  t.ok(ca.ca, 'CA cert is a CA');
  t.equal(ca.publicKey.asymmetricKeyType, 'ec');
  t.ok(Date.parse(ca.validTo) - Date.now() > 9 * 365 * 86_400_000, 'CA valid ~10 years');
  t.equal(serving.subject, 'CN=flotilla');
  t.notOk(serving.ca);
  t.ok(serving.checkIssued(ca) && serving.verify(ca.publicKey), 'serving signed by CA');
  t.ok(Date.parse(serving.validTo) - Date.now() >= 365 * 86_400_000, 'serving valid >= 1 year');
  t.equal(serving.checkHost('localhost'), 'localhost');
  t.equal(serving.checkIP('127.0.0.1'), '127.0.0.1');
  t.equal(serving.checkIP('::1'), '::1');
  t.match(serving.keyUsage, ['1.3.6.1.5.5.7.3.1']);
  t.equal(admin.subject, 'O=system:masters\nCN=admin');
  t.ok(admin.verify(ca.publicKey), 'admin signed by CA');
  t.match(admin.keyUsage, ['1.3.6.1.5.5.7.3.2']);
  t.not(ca.serialNumber, serving.serialNumber);
  t.match(serving.serialNumber, /^[0-7][0-9A-F]{31}$/, '16-byte positive serial');

  // (b) later start with the same (or an already-covered) SAN set: nothing changes
  t.same(await ensurePki(dir, { sans: [] }), pki);
  t.same(await ensurePki(dir, { sans: ['LOCALHOST', '0:0:0:0:0:0:0:1'] }), pki, 'covered SANs match case/format-insensitively');
  t.same(await readAll(dir), files, 'files byte-for-byte unchanged');

  // (c) a new SAN re-issues only the serving cert, from the same CA
  const pki2 = await ensurePki(dir, { sans: ['flotilla.example.com', '10.1.2.3'] });
  t.equal(pki2.caCertPem, pki.caCertPem);
  t.equal(pki2.caKeyPem, pki.caKeyPem);
  t.equal(pki2.adminCertPem, pki.adminCertPem);
  t.equal(pki2.adminKeyPem, pki.adminKeyPem);
  t.not(pki2.servingCertPem, pki.servingCertPem);
  t.not(pki2.servingKeyPem, pki.servingKeyPem);
  const serving2 = new X509Certificate(pki2.servingCertPem);
  t.equal(serving2.checkHost('flotilla.example.com'), 'flotilla.example.com');
  t.equal(serving2.checkIP('10.1.2.3'), '10.1.2.3');
  t.equal(serving2.checkIP('::1'), '::1', 'defaults kept');
  t.ok(serving2.verify(ca.publicKey));
  const files2 = await readAll(dir);
  t.equal(files2['serving.crt'], pki2.servingCertPem, 'new serving cert on disk');
  t.same(await ensurePki(dir, { sans: ['10.1.2.3'] }), pki2, 'subset of existing SANs: reused');

  // a lost serving key: only the serving pair is made again
  await rm(join(dir, 'serving.key'));
  const pki3 = await ensurePki(dir, { sans: ['10.1.2.3'] });
  t.same({ ...pki3, servingCertPem: '', servingKeyPem: '' }, { ...pki2, servingCertPem: '', servingKeyPem: '' });
  t.not(pki3.servingCertPem, pki2.servingCertPem);
  t.equal(await readFile(join(dir, 'serving.key'), 'utf8'), pki3.servingKeyPem);
});

t.test('issueClientCertificate maps to user and groups', async (t) => {
  const tmp = await tempDir('pki-client');
  t.teardown(tmp.remove);
  const pki = await ensurePki(tmp.path, { sans: [] });
  const { certPem, keyPem } = await issueClientCertificate(pki, { commonName: 'system:agent:member-1', organizations: ['flotilla:agents', 'team-a'] }, 30);
  const cert = new X509Certificate(certPem);
  t.equal(cert.subject, 'O=flotilla:agents\nO=team-a\nCN=system:agent:member-1');
  t.ok(cert.checkPrivateKey(createPrivateKey(keyPem)));
  t.ok(Date.parse(cert.validTo) - Date.now() < 31 * 86_400_000);
});

t.test('userFromClientCertificate', async (t) => {
  const cert = (subject: Record<string, string | string[]>) => ({ subject }) as unknown as PeerCertificate;
  t.same(userFromClientCertificate(cert({ CN: 'bob', O: ['a', 'b'] }), true), { name: 'bob', groups: ['a', 'b', 'system:authenticated'] });
  t.same(userFromClientCertificate(cert({ CN: 'bob' }), true), { name: 'bob', groups: ['system:authenticated'] });
  t.same(userFromClientCertificate(cert({ CN: 'bob', O: 'system:authenticated' }), true), { name: 'bob', groups: ['system:authenticated'] });
  t.equal(userFromClientCertificate(cert({ CN: 'bob' }), false), undefined);
  t.equal(userFromClientCertificate(cert({ O: 'x' }), true), undefined, 'no CN');
  t.equal(userFromClientCertificate({} as PeerCertificate, true), undefined, 'no certificate sent');
  t.equal(userFromClientCertificate(undefined, true), undefined);
});

t.test('HTTPS server authenticates client certificates issued by our CA only', async (t) => {
  const tmp = await tempDir('pki-https');
  t.teardown(tmp.remove);
  const pki = await ensurePki(join(tmp.path, 'ours'), { sans: [] });
  const other = await ensurePki(join(tmp.path, 'other'), { sans: [] });
  const server = await startServer(pki);
  t.teardown(server.close);
  const ca = pki.caCertPem;

  const asAdmin = await get(server.port, '/whoami', { ca, cert: pki.adminCertPem, key: pki.adminKeyPem });
  t.same(asAdmin.body, { user: { name: 'admin', groups: ['system:masters', 'system:authenticated'] }, authorized: true });

  const agent = await issueClientCertificate(pki, { commonName: 'agent-1', organizations: ['flotilla:agents', 'team-a'] });
  const asAgent = await get(server.port, '/whoami', { ca, cert: agent.certPem, key: agent.keyPem });
  t.same(asAgent.body.user, { name: 'agent-1', groups: ['flotilla:agents', 'team-a', 'system:authenticated'] });

  const anonymous = await get(server.port, '/whoami', { ca });
  t.same(anonymous.body, { user: null, authorized: false }, 'no client cert: request still served, unauthenticated');
  t.equal((await get(server.port, '/version', { ca })).status, 401);

  const foreign = await get(server.port, '/whoami', { ca, cert: other.adminCertPem, key: other.adminKeyPem });
  t.same(foreign.body, { user: null, authorized: false }, 'cert from another CA is not trusted');

  // OpenSSL checks the clientAuth purpose server-side: a serverAuth-only cert is no client identity.
  const servingAsClient = await get(server.port, '/whoami', { ca, cert: pki.servingCertPem, key: pki.servingKeyPem });
  t.same(servingAsClient.body, { user: null, authorized: false }, 'serving cert (serverAuth EKU) rejected as client cert');
});

t.test('kubeconfig works with real kubectl (Go TLS accepts CA, serving cert, ECDSA client cert)', async (t) => {
  const kubectl = kubectlPath('1.31');
  const tmp = await tempDir('pki-kubectl');
  t.teardown(tmp.remove);
  const pki = await ensurePki(join(tmp.path, 'pki'), { sans: [] });
  const server = await startServer(pki);
  t.teardown(server.close);

  const path = join(tmp.path, 'home', '.kube', 'config');
  const options = { server: `https://127.0.0.1:${server.port}`, caPem: pki.caCertPem, clientCertPem: pki.adminCertPem, clientKeyPem: pki.adminKeyPem };
  await writeKubeconfig(path, options);
  t.equal((await stat(path)).mode & 0o777, 0o600, 'kubeconfig 0600');
  t.equal(await readFile(path, 'utf8'), kubeconfigYaml(options));
  const doc = parse(kubeconfigYaml(options));
  t.match(doc, {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'flotilla', cluster: { server: options.server } }],
    users: [{ name: 'admin' }],
    contexts: [{ name: 'flotilla', context: { cluster: 'flotilla', user: 'admin' } }],
    'current-context': 'flotilla',
  });

  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: join(tmp.path, 'home') };
  const flags = ['--cache-dir', join(tmp.path, 'kube-cache'), '--request-timeout', '10s'];
  const common = ['--kubeconfig', path, ...flags];

  const view = await run(kubectl, [...common, 'config', 'view', '--raw', '-o', 'jsonpath={.users[0].user.client-certificate-data}'], env);
  t.equal(view.code, 0, view.stderr);
  t.equal(view.stdout, Buffer.from(pki.adminCertPem).toString('base64'), 'client-certificate-data round-trips');
  const caView = await run(kubectl, [...common, 'config', 'view', '--raw', '-o', 'jsonpath={.clusters[0].cluster.certificate-authority-data}'], env);
  t.equal(caView.stdout, Buffer.from(pki.caCertPem).toString('base64'), 'certificate-authority-data round-trips');

  const version = await run(kubectl, [...common, 'version', '-o', 'json'], env);
  t.equal(version.code, 0, `kubectl version: ${version.stderr}`);
  const parsed = JSON.parse(version.stdout) as { clientVersion?: { gitVersion?: string }; serverVersion?: { gitVersion?: string } };
  t.equal(parsed.serverVersion?.gitVersion, 'v1.31.0', 'server version reached over mTLS');
  t.match(parsed.clientVersion?.gitVersion, /^v1\.31\./);

  // The same server answers 401 to a client certificate from another CA, so the success above was
  // down to our admin certificate.
  const other = await ensurePki(join(tmp.path, 'other-pki'), { sans: [] });
  const foreignPath = join(tmp.path, 'foreign-config');
  await writeKubeconfig(foreignPath, { ...options, clientCertPem: other.adminCertPem, clientKeyPem: other.adminKeyPem });
  const foreign = await run(kubectl, ['--kubeconfig', foreignPath, ...flags, 'version', '-o', 'json'], env);
  t.not(foreign.code, 0, 'kubectl with a foreign client cert fails');
  t.match(foreign.stderr, /must be logged in|Unauthorized/);
});
