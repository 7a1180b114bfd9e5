import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';
import { decodePairingCode } from '../../shared/pairing-code.js';
import { RelayStore } from '../../relay/store.js';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'skb-store-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const FP = 'ab'.repeat(32);

function codeOpts(tenantId: string, extra: Partial<Parameters<RelayStore['createPairingCode']>[0]> = {}) {
  return { tenantId, location: 'plant-1', ttlSeconds: 600, relayUrl: 'https://relay.example:8443', caFingerprint: FP, ...extra };
}

function errorCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.ok(e instanceof SkybridgeError, `expected a SkybridgeError, got ${String(e)}`);
    return e.code;
  }
  assert.fail('expected an error');
}

/** Everything SQLite has written so far, WAL included. */
function dbBytes(dir: string): Buffer {
  const parts = ['relay.db', 'relay.db-wal'].map((f) => join(dir, f)).filter(existsSync);
  return Buffer.concat(parts.map((p) => readFileSync(p)));
}

describe('RelayStore', () => {
  it('creates tenants with generated ids and refuses duplicate names', () => {
    const store = RelayStore.open(freshDir());
    const t = store.createTenant('acme');
    assert.match(t.id, /^t-[a-z0-9]{12}$/);
    assert.deepEqual(store.getTenant(t.id), t);
    assert.equal(errorCode(() => store.createTenant('acme')), ErrorCode.Conflict);
    store.createTenant('beta');
    assert.deepEqual(store.listTenants().map((x) => x.name), ['acme', 'beta']);
    assert.equal(store.getTenant('t-nope'), undefined);
    store.close();
  });

  it('stores app tokens only as hashes and finds apps by token', () => {
    const dir = freshDir();
    const store = RelayStore.open(dir);
    const t = store.createTenant('acme');
    const { app, token } = store.createApp(t.id, 'billing');
    assert.match(token, /^sbt_[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(store.findAppByToken(token), { ...app, tenantName: 'acme' });
    assert.equal(store.findAppByToken(token + 'x'), undefined);
    assert.equal(store.findAppByToken('sbt_' + 'A'.repeat(43)), undefined);

    const bytes = dbBytes(dir);
    // The hash is there (so this really reads the data), the token is not.
    assert.ok(bytes.includes(createHash('sha256').update(token).digest('hex')));
    assert.ok(!bytes.includes(token));
    assert.ok(!bytes.includes(token.slice(4)));
    store.close();
  });

  it('keeps app names unique per tenant and rejects unknown tenants', () => {
    const store = RelayStore.open(freshDir());
    const a = store.createTenant('a');
    const b = store.createTenant('b');
    store.createApp(a.id, 'crm');
    assert.equal(errorCode(() => store.createApp(a.id, 'crm')), ErrorCode.Conflict);
    store.createApp(b.id, 'crm');
    assert.equal(errorCode(() => store.createApp('t-missing', 'crm')), ErrorCode.NotFound);
    assert.deepEqual(store.listApps(a.id).map((x) => x.name), ['crm']);
    store.close();
  });

  it('issues pairing codes that can be consumed exactly once', () => {
    const dir = freshDir();
    const store = RelayStore.open(dir);
    const t = store.createTenant('acme');
    const issued = store.createPairingCode(codeOpts(t.id));
    const code = decodePairingCode(issued.code);
    assert.equal(code.tenantId, t.id);
    assert.equal(code.location, 'plant-1');
    assert.equal(code.caFingerprint, FP);
    assert.equal(code.url, 'https://relay.example:8443');
    assert.ok(Math.abs(Date.parse(issued.expiresAt) - (Date.now() + 600_000)) < 5_000);
    assert.ok(!dbBytes(dir).includes(code.secret), 'the secret itself must not be stored');

    const usedAt = Date.now();
    assert.deepEqual(store.consumePairingCode(code.secret, usedAt), { tenantId: t.id, location: 'plant-1' });
    assert.throws(
      () => store.consumePairingCode(code.secret),
      (e: unknown) => e instanceof SkybridgeError && e.code === ErrorCode.PairingCodeUsed && e.message.includes(new Date(usedAt).toISOString()),
    );
    store.close();
  });

  it('refuses unknown and expired codes, saying when a code expired', () => {
    const store = RelayStore.open(freshDir());
    const t = store.createTenant('acme');
    assert.equal(errorCode(() => store.consumePairingCode('x'.repeat(32))), ErrorCode.PairingCodeUnknown);

    const issued = store.createPairingCode(codeOpts(t.id, { ttlSeconds: 60 }));
    const { secret } = decodePairingCode(issued.code);
    assert.throws(
      () => store.consumePairingCode(secret, Date.now() + 61_000),
      (e: unknown) => e instanceof SkybridgeError && e.code === ErrorCode.PairingCodeExpired && e.message.includes(issued.expiresAt),
    );
    // An expired attempt does not use the code up: within its lifetime it still works.
    assert.deepEqual(store.consumePairingCode(secret), { tenantId: t.id, location: 'plant-1' });
    assert.equal(errorCode(() => store.createPairingCode(codeOpts('t-missing'))), ErrorCode.NotFound);
    assert.equal(errorCode(() => store.createPairingCode(codeOpts(t.id, { ttlSeconds: 0 }))), ErrorCode.InvalidInput);
    assert.equal(errorCode(() => store.createPairingCode(codeOpts(t.id, { relayUrl: 'http://relay.example' }))), ErrorCode.InvalidInput);
    store.close();
  });

  it('lets exactly one of several concurrent processes consume a code', async () => {
    const dir = freshDir();
    const store = RelayStore.open(dir);
    const t = store.createTenant('acme');
    const { secret } = decodePairingCode(store.createPairingCode(codeOpts(t.id)).code);
    store.close();

    const racers = 4;
    const shared = new SharedArrayBuffer(8);
    const flags = new Int32Array(shared);
    const storeUrl = new URL('../../relay/store.js', import.meta.url).href;
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.storeUrl).then(({ RelayStore }) => {
        const store = RelayStore.open(workerData.dir);
        const flags = new Int32Array(workerData.shared);
        Atomics.add(flags, 1, 1);
        Atomics.wait(flags, 0, 0);
        let result;
        try { store.consumePairingCode(workerData.secret); result = 'won'; } catch (e) { result = e.code || String(e); }
        store.close();
        parentPort.postMessage(result);
      });`;
    const results = Promise.all(
      Array.from({ length: racers }, () => {
        const w = new Worker(source, { eval: true, workerData: { storeUrl, dir, secret, shared } });
        return new Promise<string>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
        });
      }),
    );
    while (Atomics.load(flags, 1) < racers) await new Promise((r) => setTimeout(r, 5));
    Atomics.store(flags, 0, 1);
    Atomics.notify(flags, 0);
    const outcome = (await results).sort();
    assert.deepEqual(outcome, ['PAIRING_CODE_USED', 'PAIRING_CODE_USED', 'PAIRING_CODE_USED', 'won']);
  });

  it('tracks connectors through their certificates, including renewals', () => {
    const store = RelayStore.open(freshDir());
    const t = store.createTenant('acme');
    const other = store.createTenant('other');
    const c = store.createConnector({
      id: 'c-aaaaaaaaaaaa',
      tenantId: t.id,
      location: 'plant-1',
      certFingerprint: '11'.repeat(32),
      certSerial: '01',
      notAfter: '2030-01-01T00:00:00.000Z',
      hostname: 'host-a',
      version: '0.1.0',
    });
    assert.equal(c.tenantId, t.id);
    assert.equal(c.lastSeenAt, undefined);
    assert.equal(c.revokedAt, undefined);
    assert.equal(store.findConnectorByFingerprint('11'.repeat(32))?.id, c.id);
    assert.equal(store.findConnectorByFingerprint('22'.repeat(32)), undefined);

    store.addCertificate(c.id, { fingerprint: '22'.repeat(32), serial: '02', notAfter: '2030-04-01T00:00:00.000Z' });
    assert.equal(store.getConnector(c.id)?.certSerial, '02', 'the newest certificate is the current one');
    assert.equal(store.findConnectorByFingerprint('22'.repeat(32))?.id, c.id);
    assert.equal(store.findConnectorByFingerprint('11'.repeat(32))?.certSerial, '01');
    assert.equal(store.listConnectors(t.id).length, 1, 'a renewal does not duplicate the connector');
    assert.equal(store.listConnectors(other.id).length, 0);
    assert.equal(store.listConnectors().length, 1);

    store.touchConnector(c.id, '2026-01-01T00:00:00.000Z', '0.2.0');
    const touched = store.getConnector(c.id)!;
    assert.equal(touched.lastSeenAt, '2026-01-01T00:00:00.000Z');
    assert.equal(touched.version, '0.2.0');

    store.revokeConnector(c.id);
    assert.ok(store.findConnectorByFingerprint('22'.repeat(32))?.revokedAt);
    assert.equal(errorCode(() => store.revokeConnector('c-missing')), ErrorCode.ConnectorUnknown);
    const again = { id: c.id, tenantId: t.id, location: 'x', certFingerprint: '33'.repeat(32), certSerial: '03', notAfter: c.notAfter, hostname: '', version: '1' };
    assert.equal(errorCode(() => store.createConnector(again)), ErrorCode.Conflict);
    assert.equal(errorCode(() => store.createConnector({ ...again, id: 'c-other', tenantId: 't-missing' })), ErrorCode.NotFound);
    assert.equal(store.findConnectorByFingerprint('33'.repeat(32)), undefined, 'a refused connector leaves no certificate behind');
    assert.equal(
      errorCode(() => store.addCertificate(c.id, { fingerprint: '22'.repeat(32), serial: '03', notAfter: '2030-01-01T00:00:00.000Z' })),
      ErrorCode.Conflict,
    );
    store.close();
  });

  it('keeps settings and sees writes made by another connection', () => {
    const dir = freshDir();
    const relay = RelayStore.open(dir);
    const cli = RelayStore.open(dir);
    assert.equal(relay.getSetting('public_url'), undefined);
    cli.setSetting('public_url', 'https://a');
    cli.setSetting('public_url', 'https://b');
    assert.equal(relay.getSetting('public_url'), 'https://b');
    const t = cli.createTenant('from-cli');
    assert.equal(relay.getTenant(t.id)?.name, 'from-cli');
    cli.close();
    relay.close();

    const reopened = RelayStore.open(dir);
    assert.equal(reopened.getSetting('public_url'), 'https://b');
    reopened.close();
  });
});
