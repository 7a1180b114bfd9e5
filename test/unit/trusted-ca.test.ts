/**
 * A system's caFile: the loader refuses anything but a regular file of at most 1 MiB holding PEM
 * certificates (without ever blocking on a FIFO, and without quoting what it read), the
 * data-plane cache re-reads a file only when it changes, and importCaCertificate stores
 * uploaded certificates where the UI transports allow caFile to point.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { ConfigStore } from '../../electron/agent/config-store.js';
import { createConnectorApi } from '../../electron/agent/connector-api.js';
import { CaFileCache, CaFileError, loadCaFile, loadCaFileSync, MAX_CA_FILE_BYTES, trustedCaDir } from '../../electron/agent/trusted-ca.js';
import type { ConnectorApi } from '../../shared/api.js';
import { isSkybridgeError } from '../../shared/errors.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skybridge-trusted-ca-'));
  dirs.push(dir);
  return dir;
}

/** A self-signed CA made by openssl: its PEM, its key's PEM and openssl's own view of it. */
function makeCa(dir: string, cn: string): { certPem: string; keyPem: string; fingerprint: string } {
  const cert = path.join(dir, `${cn}.crt`);
  const key = path.join(dir, `${cn}.key`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', key, '-out', cert, '-subj', `/O=Skybridge Test/CN=${cn}`, '-days', '30'], { stdio: 'ignore' });
  const fingerprint = execFileSync('openssl', ['x509', '-in', cert, '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' }).split('=')[1]!.trim();
  return { certPem: fs.readFileSync(cert, 'utf8'), keyPem: fs.readFileSync(key, 'utf8'), fingerprint };
}

const work = tempDir();
const rootCa = makeCa(work, 'Corp Root CA');
const otherCa = makeCa(work, 'Corp Issuing CA');

function write(name: string, content: string | Buffer): string {
  const file = path.join(work, name);
  fs.writeFileSync(file, content);
  return file;
}

async function refused(p: Promise<unknown> | (() => unknown), reason: RegExp, mustNotContain?: string): Promise<void> {
  const run = typeof p === 'function' ? Promise.resolve().then(p) : p;
  await assert.rejects(run, (e: unknown) => {
    assert.ok(e instanceof CaFileError, `expected a CaFileError, got ${String(e)}`);
    assert.equal(e.code, 'INVALID_INPUT');
    assert.match(e.reason, reason);
    assert.match(e.message, /^The CA file .+ cannot be used: [^\n]+\.$/, 'one sentence naming the file');
    if (mustNotContain) assert.ok(!e.message.includes(mustNotContain), `the message quotes the file: ${e.message}`);
    return true;
  });
}

describe('loading a CA file', () => {
  test('a good PEM gives the system roots plus its certificate', async () => {
    const file = write('good.pem', rootCa.certPem);
    for (const ca of [await loadCaFile(file), loadCaFileSync(file)]) {
      assert.equal(ca.certificates.length, 1);
      assert.match(ca.certificates[0]!.subject, /CN=Corp Root CA/);
      assert.equal(ca.ca.length, tls.rootCertificates.length + 1);
      assert.equal(ca.ca.at(-1), ca.pem);
    }
  });

  test('a bundle with comments and a private key: every certificate is trusted, nothing else reaches TLS', async () => {
    const file = write('bundle.pem', `Bag Attributes: corp\n${rootCa.certPem}\n# issuing\n${otherCa.certPem}${rootCa.keyPem}`);
    const ca = await loadCaFile(file);
    assert.equal(ca.certificates.length, 2);
    assert.ok(!ca.pem.includes('PRIVATE KEY') && !ca.pem.includes('Bag Attributes'));
  });

  test('a symbolic link to a certificate is followed (administrators keep CAs that way)', async () => {
    const link = path.join(work, 'link.pem');
    fs.symlinkSync(write('target.pem', rootCa.certPem), link);
    assert.equal((await loadCaFile(link)).certificates.length, 1);
  });

  test('a FIFO, also behind a symbolic link, is refused at once, sync and async, without waiting for a writer', () => {
    const fifo = path.join(work, 'fifo.pem');
    execFileSync('mkfifo', [fifo]);
    const link = path.join(work, 'fifo-link.pem');
    fs.symlinkSync(fifo, link);
    // In a child process with a deadline: a loader that opened the FIFO would block forever, and the child would be killed.
    const loader = new URL('../../electron/agent/trusted-ca.js', import.meta.url).href;
    const script = `
      const { loadCaFile, loadCaFileSync } = await import(${JSON.stringify(loader)});
      const out = [];
      for (const f of ${JSON.stringify([fifo, link])}) {
        try { loadCaFileSync(f); out.push('loaded'); } catch (e) { out.push(e.reason); }
        try { await loadCaFile(f); out.push('loaded'); } catch (e) { out.push(e.reason); }
      }
      process.stdout.write(JSON.stringify(out));`;
    const started = Date.now();
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 10_000 });
    assert.deepEqual(JSON.parse(out), Array(4).fill('it is a named pipe (FIFO), not a regular file'));
    assert.ok(Date.now() - started < 10_000);
  });

  test('a directory, a device, a missing file', async () => {
    await refused(loadCaFile(work), /it is a directory/);
    await refused(loadCaFile('/dev/zero'), /it is a device/);
    await refused(() => loadCaFileSync('/dev/zero'), /it is a device/);
    await refused(loadCaFile(path.join(work, 'nope.pem')), /^it does not exist$/);
  });

  test('a file over 1 MiB is refused by its size, before it is read', async () => {
    const big = write('big.pem', Buffer.alloc(2 * MAX_CA_FILE_BYTES, 'A'));
    await refused(loadCaFile(big), /larger than 1 MiB \(2097152 bytes\)/);
    await refused(() => loadCaFileSync(big), /larger than 1 MiB/);
  });

  test('a file without certificates is refused without quoting it', async () => {
    const secret = 'root:$6$saltsalt$hashhashhash:19000:0:99999:7:::';
    await refused(loadCaFile(write('shadow', `${secret}\n`)), /holds no PEM certificate/, secret);
    await refused(loadCaFile(write('key-only.pem', rootCa.keyPem)), /holds no PEM certificate/, 'PRIVATE');
    const garbled = rootCa.certPem.replace(/\n[A-Za-z0-9+/]{20}/, '\nAAAAAAAAAAAAAAAAAAAA');
    await refused(loadCaFile(write('garbled.pem', garbled)), /certificate 1 in it is not a valid X\.509 certificate/);
    await refused(loadCaFile(write('bad-b64.pem', '-----BEGIN CERTIFICATE-----\nnot*base64\n-----END CERTIFICATE-----\n')), /not a valid X\.509/, 'not*base64');
  });
});

describe('the data-plane cache', () => {
  test('hands back the same trust while the file is unchanged, and re-reads it once it changes', () => {
    const file = write('cached.pem', rootCa.certPem);
    const cache = new CaFileCache(0);
    const first = cache.get(file);
    assert.equal(cache.get(file), first, 'no new read for an unchanged file');
    fs.writeFileSync(file, rootCa.certPem + otherCa.certPem);
    const second = cache.get(file);
    assert.notEqual(second, first);
    assert.equal(second.certificates.length, 2);
  });

  test('remembers a broken file, and recovers when it is fixed', () => {
    const file = path.join(work, 'later.pem');
    const cache = new CaFileCache(0);
    assert.throws(() => cache.get(file), (e: unknown) => e instanceof CaFileError && e.reason === 'it does not exist');
    fs.writeFileSync(file, rootCa.certPem);
    assert.equal(cache.get(file).certificates.length, 1);
  });

  test('within the recheck window it does not even look at the disk', () => {
    const file = write('window.pem', rootCa.certPem);
    let now = 1_000;
    const cache = new CaFileCache(1000, () => now);
    const first = cache.get(file);
    fs.rmSync(file);
    assert.equal(cache.get(file), first, 'still the cached trust inside the window');
    now += 1000;
    assert.throws(() => cache.get(file), /does not exist/);
  });
});

function apiFor(dir: string): ConnectorApi {
  return createConnectorApi({ store: new ConfigStore(dir), statusOf: () => ({ state: 'disconnected', reconnects: 0 }), subscribe: () => () => undefined });
}

function siteDir(): string {
  const dir = tempDir();
  const sub = { id: 'acme', name: 'Acme', relayUrl: 'https://127.0.0.1:1', tenantId: 'acme', connectorId: 'c-acme', systems: [] };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ version: 1, subaccounts: [sub] }));
  return dir;
}

async function rejectsInput(p: Promise<unknown>, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSkybridgeError(e), String(e));
    assert.equal(e.code, 'INVALID_INPUT');
    assert.match(e.message, message);
    return true;
  });
}

describe('importCaCertificate', () => {
  test('stores the certificate under trusted-ca/, named by its content, readable by anyone, and describes it', async () => {
    const dir = siteDir();
    const api = apiFor(dir);
    const r = await api.importCaCertificate({ pem: rootCa.certPem });
    assert.equal(path.dirname(r.caFile), path.join(path.resolve(dir), 'trusted-ca'));
    assert.match(path.basename(r.caFile), /^[0-9a-f]{32}\.pem$/);
    assert.equal(r.subject, 'O=Skybridge Test, CN=Corp Root CA');
    assert.equal(r.fingerprintSha256, rootCa.fingerprint);
    assert.ok(Date.parse(r.notAfter) > Date.now() + 29 * 86_400_000);
    assert.equal(r.certificates, 1);
    assert.equal(fs.statSync(r.caFile).mode & 0o777 & ~0o022, 0o644 & ~0o022);
    assert.equal((await loadCaFile(r.caFile)).certificates[0]!.fingerprint256, rootCa.fingerprint);
    assert.deepEqual(fs.readdirSync(trustedCaDir(dir)), [path.basename(r.caFile)], 'no temp file left behind');
  });

  test('the same certificates again, even with other line endings, give the same file and write nothing', async () => {
    const dir = siteDir();
    const api = apiFor(dir);
    const first = await api.importCaCertificate({ pem: rootCa.certPem });
    const before = fs.statSync(first.caFile);
    await new Promise((r) => setTimeout(r, 20));
    const again = await api.importCaCertificate({ pem: `\r\n${rootCa.certPem.replace(/\n/g, '\r\n')}  ` });
    assert.equal(again.caFile, first.caFile);
    assert.equal(fs.statSync(again.caFile).mtimeMs, before.mtimeMs);
    const bundle = await api.importCaCertificate({ pem: rootCa.certPem + otherCa.certPem });
    assert.notEqual(bundle.caFile, first.caFile);
    assert.equal(bundle.certificates, 2);
  });

  test('text that is not a certificate, or that carries a private key, is refused and nothing is stored', async () => {
    const dir = siteDir();
    const api = apiFor(dir);
    await rejectsInput(api.importCaCertificate({ pem: 'hello' }), /^That is not a usable CA certificate: it holds no PEM certificate/);
    await rejectsInput(api.importCaCertificate({ pem: rootCa.certPem + rootCa.keyPem }), /contains a private key/);
    await rejectsInput(api.importCaCertificate({ pem: 'A'.repeat(MAX_CA_FILE_BYTES + 1) }), /pem/);
    assert.equal(fs.existsSync(trustedCaDir(dir)), false);
  });

  test('adding a system whose CA file is unusable is refused, naming the reason, and changes nothing', async () => {
    const dir = siteDir();
    const api = apiFor(dir);
    const configFile = path.join(dir, 'config.json');
    const before = fs.readFileSync(configFile);
    const system = { virtualHost: 'erp.virtual', virtualPort: 443, internalHost: 'erp.corp', internalPort: 8443, protocol: 'https' as const, caFile: work };
    await rejectsInput(api.addSystem({ system }), /cannot be used: it is a directory/);
    assert.deepEqual(fs.readFileSync(configFile), before);
    const ok = await api.addSystem({ system: { ...system, caFile: write('erp-ca.pem', rootCa.certPem) } });
    assert.equal(ok.caFile, path.join(work, 'erp-ca.pem'));
    await rejectsInput(api.updateSystem({ system: 'erp.virtual:443', patch: { caFile: write('empty.pem', '') } }), /holds no PEM certificate/);
  });
});
