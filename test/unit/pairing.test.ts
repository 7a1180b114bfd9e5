import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import tls from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { ErrorCode, SkybridgeError, isSkybridgeError } from '../../shared/errors.js';
import { decodePairingCode, encodePairingCode } from '../../shared/pairing-code.js';
import { CA_PATH, PAIR_PATH, type ApiErrorBody } from '../../shared/tunnel.js';
import { certFingerprint, ensureRelayCa, ensureServerCertificate, parseConnectorIdentity, type RelayCa } from '../../relay/ca.js';
import { PairingService, pairingHttpStatus } from '../../relay/pairing-service.js';
import { RelayStore, type Tenant } from '../../relay/store.js';
import { FailureThrottle } from '../../relay/throttle.js';
import { generateKeyAndCsr, publicKeyMatches } from '../../electron/agent/pki.js';
import { pairWithRelay } from '../../electron/agent/pairing-client.js';

const dirs: string[] = [];
function freshDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'skb-pair-'));
  dirs.push(dir);
  return dir;
}

async function rejectsWith(p: Promise<unknown>, code: ErrorCode): Promise<SkybridgeError> {
  let caught: unknown;
  try {
    await p;
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof SkybridgeError, `expected ${code}, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  return caught;
}

describe('FailureThrottle', () => {
  it('lets three failures pass, then doubles the wait up to 30 s', () => {
    let now = 1_000_000;
    const t = new FailureThrottle({ now: () => now });
    const waits: number[] = [];
    for (let i = 0; i < 10; i++) {
      waits.push(t.delayFor('1.2.3.4'));
      t.fail('1.2.3.4');
      now += 1000;
    }
    assert.deepEqual(waits, [0, 0, 0, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    assert.equal(t.delayFor('5.6.7.8'), 0, 'other addresses are not affected');
    t.succeed('1.2.3.4');
    assert.equal(t.delayFor('1.2.3.4'), 0);
  });

  it('forgets failures after 15 minutes', () => {
    let now = 0;
    const t = new FailureThrottle({ now: () => now });
    for (let i = 0; i < 4; i++) t.fail('a');
    assert.equal(t.delayFor('a'), 2000);
    now += 14 * 60_000;
    t.fail('a');
    now += 60_000 + 1;
    // The four old failures have aged out; the one from a minute ago still counts.
    assert.equal(t.delayFor('a'), 0);
    t.fail('a');
    t.fail('a');
    assert.equal(t.delayFor('a'), 1000);
  });

  it('remembers a bounded number of addresses', () => {
    const t = new FailureThrottle({ now: () => 0, freeFailures: 1, maxKeys: 100 });
    for (let i = 0; i < 1000; i++) t.fail(`10.0.${i >> 8}.${i & 255}`);
    assert.equal(t.size, 100);
    assert.equal(t.delayFor('10.0.0.0'), 0, 'the oldest address was forgotten');
    assert.equal(t.delayFor('10.0.3.231'), 1000, 'the newest is remembered');
  });
});

describe('pairingHttpStatus', () => {
  it('maps refusals to HTTP statuses', () => {
    assert.equal(pairingHttpStatus(ErrorCode.BadRequest), 400);
    assert.equal(pairingHttpStatus(ErrorCode.PairingCodeMalformed), 400);
    assert.equal(pairingHttpStatus(ErrorCode.PairingCodeUnknown), 403);
    assert.equal(pairingHttpStatus(ErrorCode.PairingCodeUsed), 403);
    assert.equal(pairingHttpStatus(ErrorCode.PairingCodeExpired), 403);
    assert.equal(pairingHttpStatus(ErrorCode.PairingCaMismatch), 403);
    assert.equal(pairingHttpStatus(ErrorCode.PairingRateLimited), 429);
    assert.equal(pairingHttpStatus(ErrorCode.TunnelError), 500);
  });
});

interface Relay {
  url: string;
  server: https.Server;
}

/** A minimal relay front: the two routes pairing needs, errors mapped the way the real control API does. */
async function startRelay(tlsCert: { certPem: string; keyPem: string }, caPem: string, service: PairingService): Promise<Relay> {
  const server = https.createServer({ cert: tlsCert.certPem, key: tlsCert.keyPem }, (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'GET' && req.url === CA_PATH) return send(200, { caPem });
    if (req.method === 'POST' && req.url === PAIR_PATH) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        let body: unknown;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
        } catch {
          body = undefined;
        }
        service.pair(body, req.socket.remoteAddress ?? '?').then(
          (answer) => send(200, answer),
          (err: unknown) => {
            const e = isSkybridgeError(err) ? err : new SkybridgeError(ErrorCode.TunnelError, String(err));
            const answer: ApiErrorBody = { error: { code: e.code, message: e.message } };
            send(pairingHttpStatus(e.code), answer);
          },
        );
      });
      return;
    }
    send(404, { error: { code: ErrorCode.NotFound, message: 'no' } });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('pairing end to end', () => {
  let dataDir: string;
  let store: RelayStore;
  let ca: RelayCa;
  let tenant: Tenant;
  let relay: Relay;
  let clock = Date.now();
  const servers: { close(): unknown }[] = [];
  const agent = { agentVersion: '1.2.3', hostname: 'plant-pc-7' };

  const newCode = (location = 'plant-1', ttlSeconds = 600) =>
    store.createPairingCode({ tenantId: tenant.id, location, ttlSeconds, relayUrl: relay.url, caFingerprint: ca.fingerprint }).code;

  before(async () => {
    dataDir = freshDir();
    store = RelayStore.open(dataDir);
    ca = await ensureRelayCa(dataDir);
    tenant = store.createTenant('acme');
    const tlsCert = await ensureServerCertificate(dataDir, ca, ['127.0.0.1', 'localhost']);
    // Plenty of free failures: this suite fails on purpose and should not sleep.
    const service = new PairingService(store, ca, { now: () => clock, throttle: new FailureThrottle({ freeFailures: 1000 }) });
    relay = await startRelay(tlsCert, ca.certPem, service);
    servers.push(relay.server);
  });

  after(() => {
    for (const s of servers) s.close();
    store.close();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('pairs with a good code and binds tenant and location into the certificate', async () => {
    const code = newCode('Werk Süd, Halle 3');
    const result = await pairWithRelay(code, agent);
    const { response } = result;
    assert.match(response.connectorId, /^c-[a-z0-9]{12}$/);
    assert.equal(response.tenantId, tenant.id);
    assert.equal(response.tenantName, 'acme');
    assert.equal(response.location, 'Werk Süd, Halle 3');
    assert.equal(response.caPem, ca.certPem);
    assert.equal(certFingerprint(result.trustAnchorPem), ca.fingerprint);
    assert.ok(publicKeyMatches(response.certificatePem, result.keyPem));
    assert.deepEqual(parseConnectorIdentity(response.certificatePem), {
      connectorId: response.connectorId,
      tenantId: tenant.id,
      location: 'Werk Süd, Halle 3',
    });

    const connector = store.findConnectorByFingerprint(certFingerprint(response.certificatePem));
    assert.ok(connector);
    assert.equal(connector.id, response.connectorId);
    assert.equal(connector.location, 'Werk Süd, Halle 3');
    assert.equal(connector.hostname, 'plant-pc-7');
    assert.equal(connector.version, '1.2.3');
    assert.equal(connector.notAfter, response.notAfter);

    // The certificate works as a TLS client certificate against a server trusting the relay CA.
    const tlsCert = await ensureServerCertificate(dataDir, ca, ['127.0.0.1', 'localhost']);
    const mtls = tls.createServer({ cert: tlsCert.certPem, key: tlsCert.keyPem, ca: [ca.certPem], requestCert: true, rejectUnauthorized: true });
    servers.push(mtls);
    const authorized = new Promise<boolean>((resolve) => mtls.once('secureConnection', (s: tls.TLSSocket) => { resolve(s.authorized); s.end(); }));
    mtls.listen(0, '127.0.0.1');
    await once(mtls, 'listening');
    const client = tls.connect({
      host: '127.0.0.1',
      port: (mtls.address() as AddressInfo).port,
      ca: [result.trustAnchorPem],
      cert: response.certificatePem,
      key: result.keyPem,
    });
    client.on('error', () => {});
    assert.equal(await authorized, true);
    client.destroy();
  });

  it('refuses a code that was already used', async () => {
    const code = newCode();
    await pairWithRelay(code, agent);
    const err = await rejectsWith(pairWithRelay(code, agent), ErrorCode.PairingCodeUsed);
    assert.match(err.message, /already used at \d{4}-/);
  });

  it('refuses an expired code', async () => {
    const code = newCode('plant-1', 60);
    clock = Date.now() + 61_000;
    try {
      const err = await rejectsWith(pairWithRelay(code, agent), ErrorCode.PairingCodeExpired);
      assert.match(err.message, /expired at/);
    } finally {
      clock = Date.now();
    }
  });

  it('stops before sending anything when the relay CA does not match the code', async () => {
    const real = decodePairingCode(newCode());
    const wrong = encodePairingCode({ ...real, caFingerprint: 'ab'.repeat(32) });
    const err = await rejectsWith(pairWithRelay(wrong, agent), ErrorCode.PairingCaMismatch);
    assert.match(err.message, /TLS-inspecting proxy/);
    // The secret never reached the relay, so the real code still works.
    await pairWithRelay(encodePairingCode(real), agent);
  });

  it('detects a man in the middle that relays the right CA but presents its own certificate', async () => {
    const impostorCa = await ensureRelayCa(freshDir());
    const impostorCert = await ensureServerCertificate(freshDir(), impostorCa, ['127.0.0.1']);
    const sink = new PairingService(store, impostorCa);
    const mitm = await startRelay(impostorCert, ca.certPem, sink);
    servers.push(mitm.server);
    const code = decodePairingCode(newCode());
    const viaMitm = encodePairingCode({ ...code, url: mitm.url });
    await rejectsWith(pairWithRelay(viaMitm, agent), ErrorCode.PairingCaMismatch);
    await pairWithRelay(encodePairingCode(code), agent);
  });

  it('refuses codes of another relay, unknown secrets and malformed text', async () => {
    const otherCa = await ensureRelayCa(freshDir());
    const real = decodePairingCode(newCode());
    // Pinned to another relay's CA but sent here: the service itself refuses it.
    const service = new PairingService(store, ca, { throttle: new FailureThrottle({ freeFailures: 1000 }) });
    const { csrPem } = await generateKeyAndCsr('x');
    await rejectsWith(service.pair({ code: encodePairingCode({ ...real, caFingerprint: otherCa.fingerprint }), csrPem, agentVersion: '1' }, 'k'), ErrorCode.PairingCodeUnknown);
    await rejectsWith(pairWithRelay(encodePairingCode({ ...real, secret: 'A'.repeat(32) }), agent), ErrorCode.PairingCodeUnknown);
    await rejectsWith(pairWithRelay('SKB1.garbage!', agent), ErrorCode.PairingCodeMalformed);
    await rejectsWith(service.pair({ code: 'x' }, 'k'), ErrorCode.BadRequest);
    await rejectsWith(service.pair('not an object', 'k'), ErrorCode.BadRequest);
  });

  it('does not burn a code on a CSR it refuses', async () => {
    const code = newCode();
    const service = new PairingService(store, ca, { throttle: new FailureThrottle({ freeFailures: 1000 }) });
    await rejectsWith(service.pair({ code, csrPem: 'junk', agentVersion: '1' }, 'k'), ErrorCode.CertificateInvalid);
    await pairWithRelay(code, agent);
  });

  it('names the relay URL when it cannot be reached', async () => {
    const probe = https.createServer();
    probe.listen(0, '127.0.0.1');
    await once(probe, 'listening');
    const port = (probe.address() as AddressInfo).port;
    probe.close();
    const code = decodePairingCode(newCode());
    const url = `https://127.0.0.1:${port}`;
    const err = await rejectsWith(pairWithRelay(encodePairingCode({ ...code, url }), { ...agent, timeoutMs: 3000 }), ErrorCode.TunnelError);
    assert.ok(err.message.includes(url), err.message);
  });

  it('slows down an address after repeated failures and refuses a pile-up', async () => {
    const throttle = new FailureThrottle({ freeFailures: 1, baseDelayMs: 300 });
    const service = new PairingService(store, ca, { throttle });
    await rejectsWith(service.pair({}, '9.9.9.9'), ErrorCode.BadRequest);
    const started = Date.now();
    const slow = rejectsWith(service.pair({}, '9.9.9.9'), ErrorCode.BadRequest);
    // A second request while the first still waits is refused at once.
    await rejectsWith(service.pair({}, '9.9.9.9'), ErrorCode.PairingRateLimited);
    await slow;
    assert.ok(Date.now() - started >= 290, `waited ${Date.now() - started} ms`);
    // Another address is not slowed down.
    const t0 = Date.now();
    await rejectsWith(service.pair({}, '8.8.8.8'), ErrorCode.BadRequest);
    assert.ok(Date.now() - t0 < 200);
  });
});
