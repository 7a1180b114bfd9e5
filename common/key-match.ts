import { createPublicKey, X509Certificate } from 'node:crypto';

/** True when the certificate was issued for this private key (compares the SPKI of both). */
export function publicKeyMatches(certPem: string, keyPem: string): boolean {
  try {
    const fromKey = createPublicKey(keyPem).export({ type: 'spki', format: 'der' });
    const fromCert = new X509Certificate(certPem).publicKey.export({ type: 'spki', format: 'der' });
    return fromKey.equals(fromCert);
  } catch {
    return false;
  }
}
