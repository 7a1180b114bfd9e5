/**
 * Pairing with real CLI processes: a good code pairs once, bad codes fail with
 * a message a person can act on, and the tunnel endpoint refuses anyone
 * without a certificate from the relay's CA.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import { decodePairingCode, encodePairingCode } from '../../shared/pairing-code.js';
import { TUNNEL_PATH, TUNNEL_UPGRADE_TOKEN } from '../../shared/tunnel.js';
import { cleanupAll, cliValue, readAgentConfig, runCli, sleep, startRelay, tempDir, type CliResult, type RelayHandle } from './harness.js';

after(cleanupAll);

/** The CLI contract for a failure: exit 1, one line `skybridge: …` on stderr, no stack trace. */
function assertCliFailure(r: CliResult, pattern: RegExp): void {
  const what = `exit ${r.code}, stderr ${JSON.stringify(r.stderr)}, stdout ${JSON.stringify(r.stdout)}`;
  assert.equal(r.code, 1, what);
  assert.match(r.stderr, pattern, what);
  assert.match(r.stderr, /^skybridge: /m, `error should read 'skybridge: <sentence>': ${what}`);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, `a stack trace is not a message: ${what}`);
  assert.equal(r.stdout.trim(), '', `nothing on stdout on failure: ${what}`);
}

/** A failed pairing must leave no subaccount behind. */
function assertNotPaired(agentDir: string): void {
  if (!existsSync(path.join(agentDir, 'config.json'))) return;
  assert.deepEqual(readAgentConfig(agentDir).subaccounts ?? [], [], 'a failed pairing left a subaccount in config.json');
}

function run(file: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => execFile(file, args, (err, _o, stderr) => (err ? reject(new Error(`${file}: ${stderr}`)) : resolve())));
}

interface TunnelAttempt {
  status: number;
  head: string;
  tlsError?: string;
}

/** Dials the tunnel endpoint like a connector would, with or without a client certificate. */
function tunnelAttempt(port: number, creds: { cert?: Buffer; key?: Buffer } = {}): Promise<TunnelAttempt> {
  return new Promise((resolve) => {
    let data = '';
    let settled = false;
    const done = (r: TunnelAttempt) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const sock = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...creds }, () => {
      sock.write(
        `GET ${TUNNEL_PATH} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: ${TUNNEL_UPGRADE_TOKEN}\r\n\r\n`,
      );
    });
    const timer = setTimeout(() => done({ status: 0, head: data, tlsError: 'no answer within 5 s' }), 5000);
    sock.setEncoding('utf8');
    sock.on('data', (d: string) => {
      data += d;
      const end = data.indexOf('\r\n\r\n');
      if (end >= 0) done({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0), head: data.slice(0, end) });
    });
    sock.on('error', (e) => done({ status: 0, head: data, tlsError: e.message }));
    sock.on('close', () => done({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(data)?.[1] ?? 0), head: data, tlsError: 'closed' }));
  });
}

describe('pairing', { timeout: 180_000 }, () => {
  let relay: RelayHandle;
  let tenantId: string;
  const code = (extra: string[] = []) => cliValue(['relay', 'pairing-code', '--tenant', tenantId, '--data-dir', relay.dir, ...extra]);

  before(async () => {
    relay = await startRelay(await tempDir('skybridge-relay-'));
    tenantId = await cliValue(['relay', 'tenant', 'create', 'acme', '--data-dir', relay.dir]);
  }, { timeout: 60_000 });

  test('a good code pairs: id printed, recorded in config.json, private key owner-only and never printed', { timeout: 30_000 }, async () => {
    const agentDir = await tempDir('skybridge-agent-');
    const c = await code(['--location', 'plant1']);
    const r = await runCli(['agent', 'pair', c, '--data-dir', agentDir]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => l.trim());
    assert.equal(lines.length, 1, `one value on one line, got ${JSON.stringify(r.stdout)}`);
    const id = lines[0]!.trim();
    assert.match(id, /^[A-Za-z0-9_-]{1,64}$/);
    assert.doesNotMatch(r.stdout + r.stderr, /PRIVATE KEY|BEGIN CERTIFICATE/, 'key material printed');
    assert.ok(!(r.stdout + r.stderr).includes(decodePairingCode(c).secret), 'the pairing secret was printed');

    const cfg = readAgentConfig(agentDir);
    const sub = cfg.subaccounts.find((s) => s.id === id);
    assert.ok(sub, `config.json has no subaccount ${id}: ${JSON.stringify(cfg)}`);
    assert.equal(sub.tenantId, tenantId);
    assert.equal(sub.location, 'plant1');
    assert.equal(new URL(String(sub.relayUrl)).port, String(relay.port));
    assert.doesNotMatch(readFileSync(path.join(agentDir, 'config.json'), 'utf8'), /PRIVATE KEY/, 'config.json must hold no secrets');

    const keyFile = path.join(agentDir, 'subaccounts', id, 'key.pem');
    assert.ok(existsSync(keyFile), `${keyFile} missing`);
    assert.equal((statSync(keyFile).mode & 0o777).toString(8), '600', 'key.pem must be readable by its owner only');
    assert.match(readFileSync(keyFile, 'utf8'), /PRIVATE KEY/);
  });

  test('a reused code fails with "already used"', { timeout: 30_000 }, async () => {
    const c = await code();
    const first = await runCli(['agent', 'pair', c, '--data-dir', await tempDir('skybridge-agent-')]);
    assert.equal(first.code, 0, first.stderr);
    const agentDir = await tempDir('skybridge-agent-');
    assertCliFailure(await runCli(['agent', 'pair', c, '--data-dir', agentDir]), /already used/i);
    assertNotPaired(agentDir);
  });

  test('an expired code fails with "expired"', { timeout: 30_000 }, async () => {
    const c = await code(['--ttl', '1']);
    await sleep(2000);
    const agentDir = await tempDir('skybridge-agent-');
    assertCliFailure(await runCli(['agent', 'pair', c, '--data-dir', agentDir]), /expired/i);
    assertNotPaired(agentDir);
  });

  test('a well-formed code with an unknown secret fails with "not recognised"', { timeout: 30_000 }, async () => {
    const real = decodePairingCode(await code());
    const forged = encodePairingCode({ ...real, secret: 'A'.repeat(32) });
    const agentDir = await tempDir('skybridge-agent-');
    assertCliFailure(await runCli(['agent', 'pair', forged, '--data-dir', agentDir]), /not recogni[sz]ed/i);
    assertNotPaired(agentDir);
  });

  test('garbage instead of a code fails with a clear message', { timeout: 30_000 }, async () => {
    const agentDir = await tempDir('skybridge-agent-');
    const r = await runCli(['agent', 'pair', 'hello-world', '--data-dir', agentDir]);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /^skybridge: .*pairing code/im, `expected a message about the pairing code: ${JSON.stringify(r.stderr)}`);
    assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, 'a stack trace is not a message');
    assertNotPaired(agentDir);
  });

  test('a code whose CA fingerprint does not match the relay fails, and does not burn the real code', { timeout: 30_000 }, async () => {
    const c = await code();
    const real = decodePairingCode(c);
    const tampered = encodePairingCode({ ...real, caFingerprint: '0'.repeat(64) });
    const agentDir = await tempDir('skybridge-agent-');
    const r = await runCli(['agent', 'pair', tampered, '--data-dir', agentDir]);
    assert.equal(r.code, 1, `pairing with a relay whose CA does not match the code must fail: ${r.stdout} ${r.stderr}`);
    assertNotPaired(agentDir);
    // The connector must check the pin before it sends the secret, so the real code still works.
    const ok = await runCli(['agent', 'pair', c, '--data-dir', await tempDir('skybridge-agent-')]);
    assert.equal(ok.code, 0, `the genuine code should still pair after the tampered attempt: ${ok.stderr}`);
  });

  test('the tunnel endpoint answers 401 to a client without a certificate, never 101', { timeout: 30_000 }, async () => {
    const r = await tunnelAttempt(relay.port);
    assert.notEqual(r.status, 101, `tunnel opened without a certificate: ${r.head}`);
    assert.equal(r.status, 401, `expected 401, got ${JSON.stringify(r)}`);
  });

  test('the tunnel endpoint refuses a self-signed client certificate, never 101', { timeout: 30_000 }, async () => {
    const dir = await tempDir('skybridge-evil-');
    const keyFile = path.join(dir, 'key.pem');
    const certFile = path.join(dir, 'cert.pem');
    await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '1', '-subj', '/CN=evil-connector']);
    const r = await tunnelAttempt(relay.port, { cert: readFileSync(certFile), key: readFileSync(keyFile) });
    assert.notEqual(r.status, 101, `tunnel opened with a self-signed certificate: ${r.head}`);
    // The contract says 401/403; a TLS-level refusal would also keep the attacker out, but is reported distinctly.
    assert.ok(r.status === 401 || r.status === 403, `expected 401 or 403, got ${JSON.stringify(r)}`);
  });
});
