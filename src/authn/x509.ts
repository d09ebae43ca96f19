import type { PeerCertificate } from 'node:tls';

/** The authenticated identity of a request, as Kubernetes' user.Info. */
export interface UserInfo {
  name: string;
  groups: string[];
  uid?: string;
  extra?: Record<string, string[]>;
}

export const AUTHENTICATED_GROUP = 'system:authenticated';

/**
 * Kubernetes' x509 client-certificate authenticator: user = subject CN, groups = every subject O,
 * plus system:authenticated. Only for a certificate the TLS layer verified against our CA
 * (`authorized`; OpenSSL also checks validity dates and, server-side, the clientAuth purpose).
 * A request without a verified certificate, or with an empty CN, is not authenticated by this
 * method (undefined), as in Kubernetes.
 */
export function userFromClientCertificate(cert: PeerCertificate | undefined, authorized: boolean): UserInfo | undefined {
  // getPeerCertificate() returns {} when the client sent no certificate.
  if (!authorized || cert?.subject === undefined) return undefined;
  // Node gives a string for a single-valued attribute and an array for repeated ones.
  const values = (v: string | string[] | undefined): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);
  const name = values(cert.subject.CN).at(-1); // Go keeps the last CN when several are present
  if (name === undefined || name === '') return undefined;
  const groups = values(cert.subject.O);
  if (!groups.includes(AUTHENTICATED_GROUP)) groups.push(AUTHENTICATED_GROUP);
  return { name, groups };
}
