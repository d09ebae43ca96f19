import { X509Certificate as NodeX509, createPrivateKey, randomBytes, webcrypto } from 'node:crypto';
import { chmod, mkdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { basename, dirname, join } from 'node:path';
import type * as X509 from '@peculiar/x509';

/**
 * The server's PKI: one self-signed CA that signs the HTTPS serving certificate and every client
 * certificate (admin, agents, members). ECDSA P-256 throughout: fast to generate, and accepted by
 * Go's crypto/tls (kubectl, client-go) and OpenSSL (Node) alike. All PEM; keys are PKCS#8.
 */

let x509Promise: Promise<typeof X509> | undefined;
/** @peculiar/x509 (through tsyringe) needs the Reflect metadata API, which `reflect-metadata` provides. */
function loadX509(): Promise<typeof X509> {
  return (x509Promise ??= (async () => {
    await import('reflect-metadata');
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto);
    return x509;
  })());
}

export interface Pki {
  caCertPem: string;
  caKeyPem: string;
  servingCertPem: string;
  servingKeyPem: string;
  adminCertPem: string;
  adminKeyPem: string;
}

const KEY_ALG = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN_ALG = { name: 'ECDSA', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
const SERVING_DAYS = 730;
const ADMIN_DAYS = 365;
/** A serving/admin certificate this close to expiry is re-issued at start (the CA is never renewed). */
const RENEW_BEFORE_MS = 30 * DAY_MS;
/** Always on the serving certificate, whatever the caller asks for. */
const DEFAULT_SANS = ['localhost', '127.0.0.1', '::1'];

const FILES = {
  caCert: 'ca.crt',
  caKey: 'ca.key',
  servingCert: 'serving.crt',
  servingKey: 'serving.key',
  adminCert: 'admin.crt',
  adminKey: 'admin.key',
} as const;

/**
 * Loads the PKI from `dir`, creating whatever is missing. A missing or unusable CA regenerates
 * everything; otherwise only the serving certificate (when a requested SAN is absent, it is near
 * expiry, or it no longer matches its key/CA) and the admin certificate (same, minus SANs) are
 * re-issued, from the existing CA. Unchanged files are left byte-for-byte as they were.
 */
export async function ensurePki(dir: string, options: { sans: string[] }): Promise<Pki> {
  if ((await mkdir(dir, { recursive: true, mode: 0o700 })) !== undefined) await chmod(dir, 0o700);
  const read = async (name: string): Promise<string | undefined> => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  };
  // Keys are written before their certificates, so a crash can leave a key without (or newer
  // than) its certificate; pairOk catches that and the pair is simply made again.
  const store = async (certName: string, keyName: string, pair: { certPem: string; keyPem: string }) => {
    await writeFileAtomic(join(dir, keyName), pair.keyPem, 0o600);
    await writeFileAtomic(join(dir, certName), pair.certPem, 0o644);
  };

  let caCertPem = await read(FILES.caCert);
  let caKeyPem = await read(FILES.caKey);
  let caReused = false; // leaves signed by a freshly made CA cannot exist: all are re-issued
  if (caCertPem !== undefined && caKeyPem !== undefined) {
    const ca = parseNode(caCertPem);
    caReused = ca !== undefined && ca.ca && pairOk(ca, caKeyPem) && ca.verify(ca.publicKey);
  }
  if (!caReused || caCertPem === undefined || caKeyPem === undefined) {
    const ca = await createCa();
    await store(FILES.caCert, FILES.caKey, ca);
    ({ certPem: caCertPem, keyPem: caKeyPem } = ca);
  }
  const caPki = { caCertPem, caKeyPem };
  const caNode = parseNode(caCertPem)!;
  // A leaf is reusable when it parses, matches its key, was signed by this CA and is not near expiry.
  const leafOk = (certPem: string | undefined, keyPem: string | undefined): NodeX509 | undefined => {
    if (certPem === undefined || keyPem === undefined || !caReused) return undefined;
    const cert = parseNode(certPem);
    if (cert === undefined || !pairOk(cert, keyPem) || !cert.checkIssued(caNode) || !cert.verify(caNode.publicKey)) return undefined;
    return Date.parse(cert.validTo) - Date.now() > RENEW_BEFORE_MS ? cert : undefined;
  };

  const sans = normalizeSans([...DEFAULT_SANS, ...options.sans]);
  let servingCertPem = await read(FILES.servingCert);
  let servingKeyPem = await read(FILES.servingKey);
  const serving = leafOk(servingCertPem, servingKeyPem);
  if (serving === undefined || !(await hasAllSans(servingCertPem!, serving, sans))) {
    const pair = await issue(caPki, [{ CN: ['flotilla'] }], SERVING_DAYS, 'serverAuth', sans);
    await store(FILES.servingCert, FILES.servingKey, pair);
    ({ certPem: servingCertPem, keyPem: servingKeyPem } = pair);
  }

  let adminCertPem = await read(FILES.adminCert);
  let adminKeyPem = await read(FILES.adminKey);
  if (leafOk(adminCertPem, adminKeyPem) === undefined) {
    const pair = await issueClientCertificate(caPki, { commonName: 'admin', organizations: ['system:masters'] }, ADMIN_DAYS);
    await store(FILES.adminCert, FILES.adminKey, pair);
    ({ certPem: adminCertPem, keyPem: adminKeyPem } = pair);
  }
  return { caCertPem, caKeyPem, servingCertPem: servingCertPem!, servingKeyPem: servingKeyPem!, adminCertPem: adminCertPem!, adminKeyPem: adminKeyPem! };
}

/**
 * Issues a client certificate (clientAuth EKU) from the CA. Kubernetes' x509 authenticator maps
 * it to user = CN, groups = each O; so does ours (src/authn/x509.ts).
 */
export async function issueClientCertificate(
  pki: Pick<Pki, 'caCertPem' | 'caKeyPem'>,
  subject: { commonName: string; organizations?: string[] },
  validDays = 365,
): Promise<{ certPem: string; keyPem: string }> {
  // One RDN per attribute (O=a, O=b, CN=x), the shape Go's and OpenSSL's parsers expect.
  const name: X509.JsonName = [...(subject.organizations ?? []).map((o) => ({ O: [o] })), { CN: [subject.commonName] }];
  return issue(pki, name, validDays, 'clientAuth');
}

/** Atomically replaces `path` (temp file in the same directory, then rename) with the given mode. */
export async function writeFileAtomic(path: string, data: string, mode: number): Promise<void> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, data, { mode, flag: 'wx' });
    await chmod(temp, mode); // writeFile's mode is filtered by the umask
    await rename(temp, path);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
}

// ---- internals ----

async function createCa(): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await loadX509();
  const keys = await generateKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomSerial(),
    name: [{ CN: ['flotilla-ca'] }],
    ...validity(CA_DAYS),
    signingAlgorithm: SIGN_ALG,
    keys,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign | x509.KeyUsageFlags.digitalSignature, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certPem: `${cert.toString('pem')}\n`, keyPem: await exportKey(keys.privateKey) };
}

/** Issues a leaf certificate (not a CA) with one EKU and, for serving certificates, SANs. */
async function issue(
  pki: Pick<Pki, 'caCertPem' | 'caKeyPem'>,
  subject: X509.JsonName,
  validDays: number,
  usage: 'serverAuth' | 'clientAuth',
  sans?: string[],
): Promise<{ certPem: string; keyPem: string }> {
  const x509 = await loadX509();
  const caCert = new x509.X509Certificate(pki.caCertPem);
  const caKey = await webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pki.caKeyPem), KEY_ALG, false, ['sign']);
  const keys = await generateKeys();
  const extensions: X509.Extension[] = [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage[usage]]),
    await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey),
  ];
  if (sans !== undefined) {
    extensions.push(new x509.SubjectAlternativeNameExtension(sans.map((v) => ({ type: isIP(v) ? 'ip' : 'dns', value: v }))));
  }
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: randomSerial(),
    subject,
    issuer: caCert.subjectName,
    ...validity(validDays),
    signingAlgorithm: SIGN_ALG,
    publicKey: keys.publicKey,
    signingKey: caKey,
    extensions,
  });
  return { certPem: `${cert.toString('pem')}\n`, keyPem: await exportKey(keys.privateKey) };
}

async function generateKeys(): Promise<webcrypto.CryptoKeyPair> {
  return webcrypto.subtle.generateKey(KEY_ALG, true, ['sign', 'verify']);
}

async function exportKey(key: webcrypto.CryptoKey): Promise<string> {
  const x509 = await loadX509();
  return `${x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY')}\n`;
}

/** 16 random bytes, top bit clear (positive) and first byte non-zero (minimal DER, which Go demands). */
function randomSerial(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f || 0x01;
  return bytes.toString('hex');
}

/** Backdated 5 minutes to tolerate clock skew between the server and its clients. */
function validity(days: number): { notBefore: Date; notAfter: Date } {
  const now = Date.now();
  return { notBefore: new Date(now - 5 * 60_000), notAfter: new Date(now + days * DAY_MS) };
}

function parseNode(pem: string): NodeX509 | undefined {
  try {
    return new NodeX509(pem);
  } catch {
    return undefined;
  }
}

function pairOk(cert: NodeX509, keyPem: string): boolean {
  try {
    return cert.checkPrivateKey(createPrivateKey(keyPem));
  } catch {
    return false;
  }
}

/** Lower-cased DNS names and canonical IPs (IPv6 compressed, as URL serialisation does), deduplicated. */
function normalizeSans(sans: string[]): string[] {
  const out = new Set<string>();
  for (const raw of sans) {
    const s = raw.trim().replace(/^\[(.*)\]$/, '$1');
    if (s === '') continue;
    const family = isIP(s);
    out.add(family === 6 ? new URL(`http://[${s}]/`).hostname.slice(1, -1) : family === 4 ? s : s.toLowerCase());
  }
  return [...out];
}

/** Whether the serving certificate already carries every requested SAN (IPs compared by address). */
async function hasAllSans(certPem: string, cert: NodeX509, sans: string[]): Promise<boolean> {
  const x509 = await loadX509();
  const ext = new x509.X509Certificate(certPem).getExtension(x509.SubjectAlternativeNameExtension);
  const dns = new Set((ext?.names.items ?? []).filter((n) => n.type === 'dns').map((n) => n.value.toLowerCase()));
  return sans.every((s) => (isIP(s) ? cert.checkIP(s) !== undefined : dns.has(s)));
}
