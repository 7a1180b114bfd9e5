import 'reflect-metadata';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createPrivateKey, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { silentLogger } from '../../common/logger.js';
import { ensureRelayCa, signConnectorCsr, type RelayCa } from '../../relay/ca.js';
import { readCredentials, swapInRenewed, writeCredentials } from '../../electron/agent/credentials.js';
import { forgetProtection, lockedSecretsMessage, protectSecrets, setProtection, type Protection } from '../../electron/agent/data-protection.js';
import { readProxyPassword, writeProxyPassword } from '../../electron/agent/outbound.js';
import { generateKeyAndCsr } from '../../electron/agent/pki.js';
import { subaccountsWithEncryptedSecrets } from '../../electron/agent/secret-format.js';
import { scrubText } from '../../electron/agent/support-bundle.js';
import { TunnelClient } from '../../electron/agent/tunnel-client.js';
import type { TunnelStatus } from '../../shared/api.js';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) {
    forgetProtection(d);
    fs.rmSync(d, { recursive: true, force: true });
  }
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-protect-'));
  dirs.push(dir);
  return dir;
}

let caPromise: Promise<RelayCa> | undefined;
function relayCa(): Promise<RelayCa> {
  caPromise ??= ensureRelayCa(tempDir());
  return caPromise;
}

/** A key, a certificate for it and the CA, as pairing leaves them. */
async function issued(id: string) {
  const ca = await relayCa();
  const { keyPem, csrPem } = await generateKeyAndCsr(`c-${id}`);
  const signed = await signConnectorCsr(ca, csrPem, { connectorId: `c-${id}`, tenantId: id, location: '' });
  return { keyPem, certPem: signed.certPem, trustAnchorPem: ca.certPem };
}

const keyProtection = (key = randomBytes(32)): Extract<Protection, { kind: 'key' }> => ({ kind: 'key', key });

function sub(dir: string, id: string, name: string): string {
  return path.join(dir, 'subaccounts', id, name);
}

function sameKey(a: string, b: string): boolean {
  const der = (pem: string) => createPrivateKey(pem).export({ type: 'pkcs8', format: 'der' });
  return der(a).equals(der(b));
}

/** Every file under the dir with its bytes and mtime, to prove nothing changed. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.set(p, `${fs.statSync(p).mtimeMs}:${fs.readFileSync(p, 'base64')}`);
    }
  };
  walk(dir);
  return out;
}

function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

describe('secrets with the data-protection key', () => {
  test('pairing writes an encrypted PKCS#8 key and a sealed proxy password that read back as they were', async () => {
    const dir = tempDir();
    const p = keyProtection();
    setProtection(dir, p);
    const creds = await issued('acme');
    await writeCredentials(dir, 'acme', creds);
    await writeProxyPassword(dir, 'acme', 'hunter2 with spaces');

    const keyFile = fs.readFileSync(sub(dir, 'acme', 'key.pem'), 'utf8');
    assert.match(keyFile, /^-----BEGIN ENCRYPTED PRIVATE KEY-----\n/);
    assert.throws(() => createPrivateKey(keyFile), 'the file alone opens without the key');
    const passwordFile = fs.readFileSync(sub(dir, 'acme', 'proxy-password'), 'utf8');
    assert.match(passwordFile, /^skybridge-sealed:v1:/);
    assert.ok(!passwordFile.includes('hunter2'));
    assert.equal(mode(sub(dir, 'acme', 'key.pem')), 0o600);
    assert.equal(mode(sub(dir, 'acme', 'proxy-password')), 0o600);

    const read = readCredentials(dir, 'acme');
    assert.ok(sameKey(read.keyPem, creds.keyPem));
    // What the tunnel does with it: a TLS context with the key and its certificate.
    tls.createSecureContext({ key: read.keyPem, cert: read.certPem });
    assert.equal(readProxyPassword(dir, 'acme'), 'hunter2 with spaces');
    assert.deepEqual(subaccountsWithEncryptedSecrets(dir), ['acme']);
  });

  test('a renewal swaps in an encrypted key, and one interrupted between renames is still completed', async () => {
    const dir = tempDir();
    setProtection(dir, keyProtection());
    await writeCredentials(dir, 'acme', await issued('acme'));
    const next = await issued('acme');
    await swapInRenewed(dir, 'acme', next.keyPem, next.certPem);
    assert.match(fs.readFileSync(sub(dir, 'acme', 'key.pem'), 'utf8'), /ENCRYPTED PRIVATE KEY/);
    // Crash after the certificate moved, before the key did.
    fs.renameSync(sub(dir, 'acme', 'key.pem'), sub(dir, 'acme', 'key.pem.next'));
    const read = readCredentials(dir, 'acme');
    assert.ok(sameKey(read.keyPem, next.keyPem));
    assert.equal(fs.existsSync(sub(dir, 'acme', 'key.pem.next')), false);
  });

  test('plain files are migrated once, atomically, and certificates are left alone', async () => {
    const dir = tempDir();
    const a = await issued('acme');
    const b = await issued('beta');
    await writeCredentials(dir, 'acme', a); // headless: plain
    await writeCredentials(dir, 'beta', b);
    await writeProxyPassword(dir, 'beta', 'pw-beta');
    assert.match(fs.readFileSync(sub(dir, 'acme', 'key.pem'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    const certBefore = fs.readFileSync(sub(dir, 'acme', 'cert.pem'), 'utf8');

    const p = keyProtection();
    assert.deepEqual(await protectSecrets(dir, p.key), { encrypted: 3, alreadyEncrypted: 0, skipped: [] });
    for (const id of ['acme', 'beta']) {
      assert.match(fs.readFileSync(sub(dir, id, 'key.pem'), 'utf8'), /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      assert.equal(mode(sub(dir, id, 'key.pem')), 0o600);
    }
    assert.ok(!fs.readFileSync(sub(dir, 'beta', 'proxy-password'), 'utf8').includes('pw-beta'));
    assert.equal(fs.readFileSync(sub(dir, 'acme', 'cert.pem'), 'utf8'), certBefore);
    assert.deepEqual(
      fs.readdirSync(path.join(dir, 'subaccounts', 'beta')).sort(),
      ['ca.pem', 'cert.pem', 'key.pem', 'proxy-password'],
      'no temporary file is left behind',
    );

    setProtection(dir, p);
    assert.ok(sameKey(readCredentials(dir, 'acme').keyPem, a.keyPem));
    assert.ok(sameKey(readCredentials(dir, 'beta').keyPem, b.keyPem));
    assert.equal(readProxyPassword(dir, 'beta'), 'pw-beta');

    const before = snapshot(dir);
    assert.deepEqual(await protectSecrets(dir, p.key), { encrypted: 0, alreadyEncrypted: 3, skipped: [] });
    assert.deepEqual(snapshot(dir), before, 'a second start changes nothing');
  });

  test('a damaged plain key is left as it is and named, the others are still migrated', async () => {
    const dir = tempDir();
    await writeCredentials(dir, 'acme', await issued('acme'));
    await writeCredentials(dir, 'broken', await issued('broken'));
    fs.writeFileSync(sub(dir, 'broken', 'key.pem'), 'not a key\n');
    const report = await protectSecrets(dir, randomBytes(32));
    assert.equal(report.encrypted, 1);
    assert.deepEqual(report.skipped, ['the private key of subaccount "broken"']);
    assert.equal(fs.readFileSync(sub(dir, 'broken', 'key.pem'), 'utf8'), 'not a key\n');
  });
});

describe('the wrong key', () => {
  test('migration refuses with a sentence naming the subaccount, and changes no file', async () => {
    const dir = tempDir();
    setProtection(dir, keyProtection());
    await writeCredentials(dir, 'acme', await issued('acme'));
    await writeProxyPassword(dir, 'acme', 'pw');
    forgetProtection(dir);
    await writeCredentials(dir, 'beta', await issued('beta')); // a plain one that could be migrated
    const before = snapshot(dir);

    const wrong = randomBytes(32);
    await assert.rejects(protectSecrets(dir, wrong), (err: SkybridgeError) => {
      assert.equal(err.code, ErrorCode.SecretLocked);
      assert.match(err.message, /subaccount "acme" were encrypted with a different key/);
      assert.match(err.message, /no secret was encrypted or changed/);
      assert.match(err.message, /pair that subaccount again/);
      return true;
    });
    assert.deepEqual(snapshot(dir), before);

    setProtection(dir, keyProtection(wrong));
    const creds = readCredentials(dir, 'acme'); // the certificate is still readable
    assert.match(creds.certPem, /BEGIN CERTIFICATE/);
    assert.throws(() => creds.keyPem, /private key of subaccount "acme" was encrypted with a different key/);
    assert.throws(() => readProxyPassword(dir, 'acme'), /proxy password of subaccount "acme" was encrypted with a different key/);
    assert.deepEqual(snapshot(dir), before);
  });
});

describe('without the key', () => {
  test('a headless agent keeps writing owner-only plain files, as before', async () => {
    const dir = tempDir();
    const creds = await issued('acme');
    await writeCredentials(dir, 'acme', creds);
    await writeProxyPassword(dir, 'acme', 'pw');
    assert.equal(fs.readFileSync(sub(dir, 'acme', 'key.pem'), 'utf8'), creds.keyPem);
    assert.equal(fs.readFileSync(sub(dir, 'acme', 'proxy-password'), 'utf8'), 'pw');
    assert.equal(mode(sub(dir, 'acme', 'key.pem')), 0o600);
    assert.equal(mode(path.join(dir, 'subaccounts', 'acme')), 0o700);
    assert.equal(readCredentials(dir, 'acme').keyPem, creds.keyPem);
    assert.equal(lockedSecretsMessage(dir), undefined);
  });

  test('a headless agent on a desktop data dir: a clear reason, the certificate still readable, no file touched', async () => {
    const dir = tempDir();
    setProtection(dir, keyProtection());
    await writeCredentials(dir, 'acme', await issued('acme'));
    await writeProxyPassword(dir, 'acme', 'pw');
    forgetProtection(dir); // what `skybridge agent start` sees
    const before = snapshot(dir);

    const creds = readCredentials(dir, 'acme');
    assert.match(creds.certPem, /BEGIN CERTIFICATE/);
    assert.throws(
      () => creds.keyPem,
      (err: SkybridgeError) =>
        err.code === ErrorCode.SecretLocked &&
        /private key of subaccount "acme" is encrypted by the Skybridge desktop app/.test(err.message) &&
        /Run Skybridge from the desktop app, or pair this subaccount again/.test(err.message),
    );
    assert.throws(() => readProxyPassword(dir, 'acme'), /proxy password of subaccount "acme" is encrypted by the Skybridge desktop app/);
    assert.match(lockedSecretsMessage(dir) ?? '', /^The private key or password of subaccount "acme" is encrypted by the Skybridge desktop app/);
    assert.deepEqual(snapshot(dir), before);
  });

  test('the tunnel of such a subaccount fails with the reason and the process lives on', { timeout: 10_000 }, async () => {
    const dir = tempDir();
    setProtection(dir, keyProtection());
    await writeCredentials(dir, 'acme', await issued('acme'));
    forgetProtection(dir);
    const statuses: TunnelStatus[] = [];
    const tunnel = new TunnelClient({
      subaccountId: 'acme',
      relayUrl: 'https://127.0.0.1:1',
      identity: 'c-acme',
      credentials: () => readCredentials(dir, 'acme'),
      settings: () => ({ heartbeatIntervalMs: 10_000, heartbeatTimeoutMs: 30_000, reconnectMinMs: 500, reconnectMaxMs: 30_000 }),
      onStream: () => undefined,
      logger: silentLogger(),
    });
    tunnel.on('status', (s: TunnelStatus) => statuses.push(s));
    tunnel.start();
    tunnel.stop();
    const failed = statuses.find((s) => s.state === 'failed');
    assert.ok(failed, JSON.stringify(statuses));
    assert.match(failed.lastError ?? '', /cannot be read: the private key of subaccount "acme" is encrypted by the Skybridge desktop app/);
  });

  test('with the desktop key unreadable, pairing again still works: the new key is an owner-only file', async () => {
    const dir = tempDir();
    setProtection(dir, keyProtection());
    await writeCredentials(dir, 'acme', await issued('acme'));
    setProtection(dir, { kind: 'none', reason: 'key-unreadable' });
    assert.match(lockedSecretsMessage(dir) ?? '', /could not be read from the OS key store.*pair this subaccount again/);
    const fresh = await issued('acme');
    await writeCredentials(dir, 'acme', fresh);
    assert.equal(readCredentials(dir, 'acme').keyPem, fresh.keyPem);
    assert.equal(lockedSecretsMessage(dir), undefined);
  });
});

test('the support bundle scrubber also removes encrypted keys', () => {
  const text = 'before\n-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIBvTBXBgkqhkiG9w0BBQ0wSjApBgkqhkiG9w0BBQwwHAQI\n-----END ENCRYPTED PRIVATE KEY-----\nafter';
  assert.equal(scrubText(text), 'before\n[redacted private key]\nafter');
});
