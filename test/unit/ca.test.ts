import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import assert from 'node:assert/strict';
import { webcrypto, X509Certificate } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';
import { certFingerprint, ensureRelayCa, ensureServerCertificate, parseConnectorIdentity, signConnectorCsr, type RelayCa } from '../../relay/ca.js';
import { certificateInfo, generateKeyAndCsr, publicKeyMatches } from '../../electron/agent/pki.js';

x509.cryptoProvider.set(webcrypto);

const DAY = 86_400_000;
const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'skb-ca-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function csrWith(alg: webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams, signing: { name: string; hash: string }, cn = 'whatever'): Promise<string> {
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${cn}`, keys, signingAlgorithm: signing });
  return csr.toString('pem');
}

const rsa = (bits: number): webcrypto.RsaHashedKeyGenParams => ({ name: 'RSASSA-PKCS1-v1_5', modulusLength: bits, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' });
const RSA_SIGN = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' };

async function rejectsAsInvalid(p: Promise<unknown>): Promise<SkybridgeError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SkybridgeError, `expected a SkybridgeError, got ${String(caught)}`);
  assert.equal(caught.code, ErrorCode.CertificateInvalid);
  return caught;
}

describe('relay CA', () => {
  let dataDir: string;
  let ca: RelayCa;
  before(async () => {
    dataDir = freshDir();
    ca = await ensureRelayCa(dataDir);
  });

  it('creates a private, self-signed, ten-year CA once and loads it afterwards', async () => {
    assert.equal(statSync(join(dataDir, 'ca')).mode & 0o777, 0o700);
    assert.equal(statSync(join(dataDir, 'ca', 'ca.key')).mode & 0o777, 0o600);
    const node = new X509Certificate(ca.certPem);
    assert.ok(node.ca);
    assert.match(ca.cert.subject, /^CN=Skybridge Relay CA [0-9a-f]+$/);
    assert.ok(await ca.cert.isSelfSigned());
    const bc = ca.cert.getExtension(x509.BasicConstraintsExtension)!;
    assert.ok(bc.ca && bc.critical);
    const ku = ca.cert.getExtension(x509.KeyUsagesExtension)!;
    assert.equal(ku.usages, x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    const years = (ca.cert.notAfter.getTime() - Date.now()) / (365 * DAY);
    assert.ok(years > 9.9 && years < 10.1, `valid for ${years} years`);
    assert.equal(ca.fingerprint, node.fingerprint256.replace(/:/g, '').toLowerCase());
    assert.equal(certFingerprint(node.raw), ca.fingerprint);

    const again = await ensureRelayCa(dataDir);
    assert.equal(again.fingerprint, ca.fingerprint);
    assert.equal(again.keyPem, ca.keyPem);
  });

  it('ends up with one CA when several processes create it at once', async () => {
    const dir = freshDir();
    const cas = await Promise.all([ensureRelayCa(dir), ensureRelayCa(dir), ensureRelayCa(dir)]);
    assert.equal(new Set(cas.map((c) => c.fingerprint)).size, 1);
    assert.ok(publicKeyMatches(cas[0]!.certPem, cas[2]!.keyPem));
    assert.deepEqual(readdirSync(dir), ['ca'], 'no scratch directories are left behind');
  });

  it('issues a server certificate for every name, and keeps it while it still fits', async () => {
    const names = ['localhost', '127.0.0.1', '::1'];
    const first = await ensureServerCertificate(dataDir, ca, names);
    const node = new X509Certificate(first.certPem);
    const sans = node.subjectAltName!.split(', ').sort();
    assert.deepEqual(sans, ['DNS:localhost', 'IP Address:0:0:0:0:0:0:0:1', 'IP Address:127.0.0.1']);
    assert.ok(node.verify(new X509Certificate(ca.certPem).publicKey));
    assert.deepEqual(node.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(node.ca, false);
    const days = (Date.parse(node.validTo) - Date.now()) / DAY;
    assert.ok(days > 396 && days <= 397, `valid for ${days} days`);
    assert.ok(publicKeyMatches(first.certPem, first.keyPem));
    assert.equal(statSync(join(dataDir, 'tls', 'server.key')).mode & 0o777, 0o600);

    const same = await ensureServerCertificate(dataDir, ca, ['127.0.0.1', '0:0:0:0:0:0:0:1']);
    assert.equal(same.certPem, first.certPem, 'a subset of the names (any IPv6 spelling) keeps the certificate');

    const wider = await ensureServerCertificate(dataDir, ca, [...names, 'relay.example.com']);
    assert.notEqual(wider.certPem, first.certPem);
    assert.match(new X509Certificate(wider.certPem).subjectAltName!, /DNS:relay\.example\.com/);
  });

  it('reissues the server certificate when it nears expiry or the CA changed', async () => {
    const dir = freshDir();
    const ownCa = await ensureRelayCa(dir);
    const current = await ensureServerCertificate(dir, ownCa, ['localhost']);

    // A certificate that still covers the name but expires in ten days.
    const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
    const expiring = await x509.X509CertificateGenerator.create({
      subject: 'CN=localhost',
      issuer: ownCa.cert.subjectName,
      notBefore: new Date(Date.now() - 300 * DAY),
      notAfter: new Date(Date.now() + 10 * DAY),
      publicKey: keys.publicKey,
      signingKey: ownCa.signer,
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: 'localhost' }])],
    });
    writeFileSync(join(dir, 'tls', 'server.pem'), expiring.toString('pem'));
    const renewed = await ensureServerCertificate(dir, ownCa, ['localhost']);
    assert.ok((Date.parse(new X509Certificate(renewed.certPem).validTo) - Date.now()) / DAY > 390);

    const unchanged = await ensureServerCertificate(dir, ownCa, ['localhost']);
    assert.equal(unchanged.certPem, renewed.certPem);
    assert.notEqual(renewed.certPem, current.certPem);

    const otherCa = await ensureRelayCa(freshDir());
    const moved = await ensureServerCertificate(dir, otherCa, ['localhost']);
    assert.ok(new X509Certificate(moved.certPem).verify(new X509Certificate(otherCa.certPem).publicKey));
  });

  it('signs a connector CSR with the identity it is given, not the one asked for', async () => {
    const { keyPem, csrPem } = await generateKeyAndCsr('CN-the-connector-chose');
    const issued = await signConnectorCsr(ca, csrPem, { connectorId: 'c-abc123def456', tenantId: 't-tenant000001', location: 'Berlin, HQ/2 ü' });
    const node = new X509Certificate(issued.certPem);
    assert.ok(node.verify(new X509Certificate(ca.certPem).publicKey), 'signed by the relay CA');
    assert.ok(node.checkIssued(new X509Certificate(ca.certPem)));
    assert.ok(publicKeyMatches(issued.certPem, keyPem));
    assert.equal(node.subject, 'CN=c-abc123def456\nO=Skybridge connector');
    assert.doesNotMatch(node.subject, /the-connector-chose/);
    assert.deepEqual(node.keyUsage, ['1.3.6.1.5.5.7.3.2']);
    assert.equal(node.ca, false);
    assert.match(issued.serial, /^[0-9a-f]{32}$/);
    assert.equal(node.serialNumber.toLowerCase(), issued.serial);
    assert.equal(issued.fingerprint, certFingerprint(issued.certPem));

    const info = certificateInfo(issued.certPem);
    assert.equal(info.fingerprint, issued.fingerprint);
    assert.equal(info.notAfter, issued.notAfter);
    const skewMin = (Date.now() - Date.parse(info.notBefore)) / 60_000;
    assert.ok(skewMin > 4.9 && skewMin < 5.5, `notBefore ${skewMin} minutes ago`);
    const days = (Date.parse(issued.notAfter) - Date.now()) / DAY;
    assert.ok(days > 89.9 && days <= 90, `valid for ${days} days`);

    assert.deepEqual(parseConnectorIdentity(issued.certPem), { connectorId: 'c-abc123def456', tenantId: 't-tenant000001', location: 'Berlin, HQ/2 ü' });
    assert.deepEqual(parseConnectorIdentity(node.raw), { connectorId: 'c-abc123def456', tenantId: 't-tenant000001', location: 'Berlin, HQ/2 ü' });

    const short = await signConnectorCsr(ca, csrPem, { connectorId: 'c-1', tenantId: 't-1', location: '', validityDays: 7 });
    assert.ok(Math.abs(Date.parse(short.notAfter) - Date.now() - 7 * DAY) < 60_000);
    assert.equal(parseConnectorIdentity(short.certPem)?.location, '');
  });

  it('accepts P-384 and RSA-2048 keys', async () => {
    const p384 = await csrWith({ name: 'ECDSA', namedCurve: 'P-384' }, { name: 'ECDSA', hash: 'SHA-384' });
    await signConnectorCsr(ca, p384, { connectorId: 'c-2', tenantId: 't-1', location: 'x' });
    const rsa2048 = await csrWith(rsa(2048), RSA_SIGN);
    await signConnectorCsr(ca, rsa2048, { connectorId: 'c-3', tenantId: 't-1', location: 'x' });
  });

  it('refuses weak keys, bad signatures and garbage', async () => {
    const weak = await rejectsAsInvalid(signConnectorCsr(ca, await csrWith(rsa(1024), RSA_SIGN), { connectorId: 'c-4', tenantId: 't-1', location: 'x' }));
    assert.match(weak.message, /1024-bit RSA/);

    // Flip the last byte, which belongs to the signature: still well-formed, no longer signed by its key.
    const der = Buffer.from(new x509.Pkcs10CertificateRequest(await csrWith({ name: 'ECDSA', namedCurve: 'P-256' }, { name: 'ECDSA', hash: 'SHA-256' })).rawData);
    der[der.length - 1] = der[der.length - 1]! ^ 0x01;
    const forgedPem = `-----BEGIN CERTIFICATE REQUEST-----\n${der.toString('base64')}\n-----END CERTIFICATE REQUEST-----\n`;
    const bad = await rejectsAsInvalid(signConnectorCsr(ca, forgedPem, { connectorId: 'c-5', tenantId: 't-1', location: 'x' }));
    assert.match(bad.message, /not signed/);
    await rejectsAsInvalid(signConnectorCsr(ca, 'not a csr', { connectorId: 'c-6', tenantId: 't-1', location: 'x' }));
  });

  it('finds no connector identity in other certificates', async () => {
    const server = await ensureServerCertificate(dataDir, ca, ['localhost']);
    assert.equal(parseConnectorIdentity(server.certPem), undefined);
    assert.equal(parseConnectorIdentity(ca.certPem), undefined);
    assert.equal(parseConnectorIdentity('garbage'), undefined);
  });
});
