/**
 * The relay's own TLS: an operator-supplied certificate chain (`--cert`,
 * `--key`, `--cert-ca`) carries the whole walk from pairing to a proxied
 * request, and the pairing endpoint slows down an address that keeps sending
 * wrong codes without locking out a good one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { execFile } from 'node:child_process';
import tls from 'node:tls';
import { X509Certificate } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodePairingCode, encodePairingCode } from '../../shared/pairing-code.js';
import { CA_PATH, PAIR_PATH } from '../../shared/tunnel.js';
import {
  addResourceArgs,
  addSystemArgs,
  cleanupAll,
  cliOk,
  cliValue,
  curl,
  ERP,
  FAST_TUNNEL,
  freePort,
  httpsGet,
  issueCert,
  makeRootCa,
  readAgentConfig,
  runCli,
  show,
  spawnCli,
  startAgent,
  startBackend,
  startRelay,
  tempDir,
  waitFor,
  writeAgentConfig,
  type TestCert,
} from './harness.js';

after(cleanupAll);

function fingerprint(pem: string): string {
  return new X509Certificate(pem).fingerprint256.replace(/:/g, '').toLowerCase();
}

/** GET over TLS that trusts only `caPem` (and checks the name 127.0.0.1): proves which chain the relay serves. */
function verifiedGet(port: number, urlPath: string, caPem: string): Promise<{ status: number; body: string; authorized: boolean }> {
  return new Promise((resolve, reject) => {
    const req = https.get({ host: '127.0.0.1', port, path: urlPath, ca: [caPem], agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, authorized: (res.socket as tls.TLSSocket).authorized }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
  });
}

describe('relay with an operator-supplied certificate', { timeout: 120_000 }, () => {
  let root: TestCert;
  let server: TestCert;
  let relayDir: string;
  let port: number;
  let proxyPort: number;

  before(
    async () => {
      const pki = await tempDir('skybridge-operator-pki-');
      root = await makeRootCa(pki, 'operator-root');
      // Operators usually get a leaf from an intermediate; the relay must send the chain and connectors pin the root.
      const intermediate = await issueCert(pki, 'operator-intermediate', root, { ca: true });
      server = await issueCert(pki, 'relay', intermediate, { san: ['IP:127.0.0.1', 'DNS:localhost'], cn: '127.0.0.1' });
      assert.notEqual(server.chainFile, server.certFile, 'the server chain file holds leaf and intermediate');

      relayDir = await tempDir('skybridge-relay-');
      port = await freePort();
      proxyPort = await freePort();
      const child = spawnCli('relay', [
        'relay', 'start', '--data-dir', relayDir, '--host', '127.0.0.1', '--port', String(port), '--proxy-port', String(proxyPort), '--socks-port', String(await freePort()),
        '--cert', server.chainFile, '--key', server.keyFile, '--cert-ca', root.certFile,
      ]);
      await waitFor(
        async () => {
          child.assertAlive();
          return (await httpsGet(port, '/healthz', 1000)).status === 200;
        },
        20_000,
        `relay /healthz on port ${port}`,
      );
    },
    { timeout: 60_000 },
  );

  test('the relay serves the operator chain: it verifies against the operator root alone', { timeout: 20_000 }, async () => {
    const r = await verifiedGet(port, '/healthz', root.pem);
    assert.equal(r.status, 200, r.body);
    assert.equal(r.authorized, true);
  });

  test('GET /v1/ca returns the operator CA, not the relay own one', { timeout: 20_000 }, async () => {
    const r = await verifiedGet(port, CA_PATH, root.pem);
    assert.equal(r.status, 200, r.body);
    const { caPem } = JSON.parse(r.body) as { caPem: string };
    assert.equal(fingerprint(caPem), fingerprint(root.pem), 'the trust anchor served is the --cert-ca certificate');
  });

  test('the whole walk works: tenant, app, pairing code, pair, system, resource, agent start, curl 200', { timeout: 60_000 }, async () => {
    const tenantId = await cliValue(['relay', 'tenant', 'create', 'acme', '--data-dir', relayDir]);
    const token = await cliValue(['relay', 'app', 'create', 'billing', '--tenant', tenantId, '--data-dir', relayDir]);
    const code = await cliValue(['relay', 'pairing-code', '--tenant', tenantId, '--data-dir', relayDir]);
    assert.equal(decodePairingCode(code).caFingerprint, fingerprint(root.pem), 'the pairing code pins the operator root');

    const agentDir = await tempDir('skybridge-agent-');
    const subaccountId = await cliValue(['agent', 'pair', code, '--data-dir', agentDir]);
    const pinned = await readFile(path.join(agentDir, 'subaccounts', subaccountId, 'ca.pem'), 'utf8');
    assert.equal(fingerprint(pinned), fingerprint(root.pem), 'the connector pinned the operator root');

    const backend = await startBackend();
    const system = { virtual: ERP, resources: [{ path: '/api', subPaths: true }] };
    await cliOk(addSystemArgs(agentDir, system, backend.port));
    await cliOk(addResourceArgs(agentDir, ERP, system.resources[0]!));
    const config = readAgentConfig(agentDir);
    config.tunnel = { ...((config.tunnel as object | undefined) ?? {}), ...FAST_TUNNEL };
    writeAgentConfig(agentDir, config);
    await startAgent(agentDir);

    const r = await curl(['-x', `http://127.0.0.1:${proxyPort}`, '--proxy-header', `Proxy-Authorization: Bearer ${token}`, `http://${ERP}/api/orders/7`]);
    assert.equal(r.status, 200, show(r));
    assert.equal((JSON.parse(r.body.toString()) as { url: string }).url, '/api/orders/7');
    assert.equal(backend.requests.length, 1);
  });
});

interface PairAnswer {
  status: number;
  code?: string;
  message?: string;
  ms: number;
}

/** POST /v1/pair from this process (127.0.0.1), each on a new connection, timed. */
function postPair(port: number, body: unknown): Promise<PairAnswer> {
  const text = JSON.stringify(body);
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: '127.0.0.1',
        port,
        path: PAIR_PATH,
        method: 'POST',
        rejectUnauthorized: false,
        agent: false,
        timeout: 40_000,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) },
      },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (data += d));
        res.on('end', () => {
          let err: { code?: string; message?: string } = {};
          try {
            err = (JSON.parse(data) as { error?: { code?: string; message?: string } }).error ?? {};
          } catch {
            /* not JSON: status alone tells */
          }
          resolve({ status: res.statusCode ?? 0, code: err.code, message: err.message, ms: Date.now() - started });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer to POST /v1/pair within 40 s')));
    req.on('error', reject);
    req.end(text);
  });
}

describe('pairing slow-down after wrong codes', { timeout: 60_000 }, () => {
  test('three wrong codes answer at once, then each wait grows; a good code still pairs and resets it', { timeout: 45_000 }, async () => {
    const relay = await startRelay(await tempDir('skybridge-relay-'));
    const tenantId = await cliValue(['relay', 'tenant', 'create', 'acme', '--data-dir', relay.dir]);
    const good = await cliValue(['relay', 'pairing-code', '--tenant', tenantId, '--data-dir', relay.dir]);
    const real = decodePairingCode(good);
    let n = 0;
    const forged = () => encodePairingCode({ ...real, secret: `wrong-secret-${++n}-${'x'.repeat(24)}` });

    // A valid CSR, so the only thing wrong is the secret.
    const pki = await tempDir('skybridge-csr-');
    const keyFile = path.join(pki, 'k.pem');
    const csrFile = path.join(pki, 'req.csr');
    await new Promise<void>((resolve, reject) =>
      execFile(
        'openssl',
        ['req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', csrFile, '-subj', '/CN=guesser'],
        (err) => (err ? reject(err) : resolve()),
      ),
    );
    const csrPem = readFileSync(csrFile, 'utf8');
    const attempt = () => postPair(relay.port, { code: forged(), csrPem, agentVersion: '0.0.0-test' });

    const free: PairAnswer[] = [];
    for (let i = 0; i < 3; i++) free.push(await attempt());
    for (const [i, a] of free.entries()) {
      assert.equal(a.status, 403, `wrong code ${i + 1}: ${JSON.stringify(a)}`);
      assert.equal(a.code, 'PAIRING_CODE_UNKNOWN', `wrong code ${i + 1}: ${JSON.stringify(a)}`);
      assert.ok(a.ms < 1000, `wrong code ${i + 1} took ${a.ms} ms; the first three should not be slowed down`);
    }

    const fourth = await attempt();
    assert.ok(
      fourth.ms >= 1000 || fourth.status === 429,
      `the fourth wrong code in a row should wait at least 1 s or be refused as rate limited: ${JSON.stringify(fourth)}`,
    );
    assert.ok(fourth.status === 403 || fourth.status === 429, JSON.stringify(fourth));

    // While one request from an address sleeps off its delay, another one is refused rather than queued.
    const [a, b] = await Promise.all([attempt(), attempt()]);
    const limited = [a, b].filter((x) => x.status === 429);
    assert.equal(limited.length, 1, `one of two parallel wrong codes should get 429: ${JSON.stringify([a, b])}`);
    assert.equal(limited[0]!.code, 'PAIRING_RATE_LIMITED', JSON.stringify(limited[0]));
    assert.match(limited[0]!.message ?? '', /wait \d+ seconds?/, 'the refusal says how long to wait');
    const waited = [a, b].find((x) => x.status !== 429)!;
    assert.ok(waited.ms >= 2000, `the fifth wrong code should wait about 2 s, took ${waited.ms} ms`);

    // The good code from the same address still pairs (after its wait).
    const agentDir = await tempDir('skybridge-agent-');
    const started = Date.now();
    const r = await runCli(['agent', 'pair', good, '--data-dir', agentDir], { timeoutMs: 40_000 });
    assert.equal(r.code, 0, `a good code must still pair after the slow-down (took ${Date.now() - started} ms): ${r.stderr}`);
    assert.equal(readAgentConfig(agentDir).subaccounts.length, 1);

    // Success forgets the failures: the next wrong code is answered at once again.
    const later = await attempt();
    assert.equal(later.status, 403, JSON.stringify(later));
    assert.ok(later.ms < 1000, `after a successful pairing a wrong code took ${later.ms} ms; the slow-down should have been reset`);
  });
});
