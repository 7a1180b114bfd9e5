/**
 * The API behind the UI's new pages, against real servers: "check availability"
 * on loopback HTTP, HTTPS, TCP and TLS back ends (and the same probe in the
 * support bundle's diagnostics), pairing through the API into a running agent,
 * renewing through it (and without it), and the dashboard counting real traffic.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import path from 'node:path';
import tls from 'node:tls';
import { silentLogger } from '../../common/logger.js';
import { ConnectorAgent } from '../../electron/agent/agent.js';
import { ConfigStore } from '../../electron/agent/config-store.js';
import { createConnectorApi } from '../../electron/agent/connector-api.js';
import { collectDiagnostics } from '../../electron/agent/diagnostics.js';
import { startRelay as startRelayInProcess, SETTING_TRUST_ANCHOR_FP, type RelayServer } from '../../relay/relay.js';
import type { AgentEvent, ConnectorApi } from '../../shared/api.js';
import type { SystemInput } from '../../shared/config.js';
import { isSkybridgeError } from '../../shared/errors.js';
import { cleanupAll, curl, freePort, issueCert, makeRootCa, onCleanup, runCli, show, startBackend, tempDir, waitFor } from './harness.js';

after(cleanupAll);

/** Listens on a loopback port; cleanup also cuts the connections a probe left half-open (TLS servers keep them). */
function listen(server: net.Server): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  onCleanup(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** A data dir with one subaccount and these systems; no relay is needed to check back ends. */
async function siteWith(systems: SystemInput[]): Promise<{ dir: string; api: ConnectorApi }> {
  const dir = await tempDir('skybridge-avail-');
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ version: 1, subaccounts: [{ id: 'acme', relayUrl: 'https://127.0.0.1:1', tenantId: 'acme', connectorId: 'c-acme', systems }] }));
  const api = createConnectorApi({ store: new ConfigStore(dir), statusOf: () => ({ state: 'disconnected', reconnects: 0 }), subscribe: () => () => undefined });
  return { dir, api };
}

const sys = (virtual: string, port: number, protocol: SystemInput['protocol'], extra: Partial<SystemInput> = {}): SystemInput => {
  const [host, vport] = virtual.split(':');
  return { virtualHost: host!, virtualPort: Number(vport), internalHost: '127.0.0.1', internalPort: port, protocol, ...extra };
};

describe('check availability against real back ends', () => {
  test('HTTP: HEAD / with the Host header the forwarder sends; a closed port is "connection refused"', async () => {
    const seen: { method?: string; host?: string }[] = [];
    const port = await listen(
      http.createServer((req, res) => {
        seen.push({ method: req.method, host: req.headers.host });
        res.writeHead(204).end();
      }),
    );
    const closed = await freePort();
    const { api } = await siteWith([sys('erp.virtual:443', port, 'http'), sys('gone.virtual:80', closed, 'http', { hostHeader: 'internal' })]);

    const ok = await api.checkAvailability({ system: 'erp.virtual:443' });
    assert.deepEqual([ok.system, ok.internal, ok.reachable, ok.status, ok.error], ['erp.virtual:443', `127.0.0.1:${port}`, true, 204, undefined]);
    assert.ok(typeof ok.ms === 'number' && ok.ms >= 0 && Date.parse(ok.checkedAt) > 0);
    assert.deepEqual(seen, [{ method: 'HEAD', host: 'erp.virtual:443' }]);

    const down = await api.checkAvailability({ system: 'gone.virtual:80' });
    assert.deepEqual([down.reachable, down.status, down.error], [false, undefined, 'connection refused']);
  });

  test('HTTP: a back end that accepts but never answers times out after the response timeout', async () => {
    const port = await listen(http.createServer(() => undefined));
    const { api } = await siteWith([sys('slow.virtual:80', port, 'http', { responseTimeoutMs: 300 })]);
    const r = await api.checkAvailability({ system: 'slow.virtual:80' });
    assert.equal(r.reachable, false);
    assert.equal(r.error, 'connected, but HEAD / got no answer within 300 ms');
    assert.ok(r.ms! >= 250 && r.ms! < 5000, `took ${r.ms} ms`);
  });

  test('HTTPS: trusted through the mapping CA file; without it the certificate is not trusted', async () => {
    const certs = await tempDir('skybridge-avail-certs-');
    const ca = await makeRootCa(certs, 'ca');
    const leaf = await issueCert(certs, 'erp', ca, { san: ['IP:127.0.0.1', 'DNS:localhost'] });
    const port = await listen(https.createServer({ key: fs.readFileSync(leaf.keyFile), cert: fs.readFileSync(leaf.certFile) }, (_req, res) => res.writeHead(200).end()));
    const { api, dir } = await siteWith([
      sys('erp.virtual:443', port, 'https', { caFile: ca.certFile }),
      sys('byname.virtual:443', port, 'https', { caFile: ca.certFile, internalHost: 'localhost' }),
      sys('untrusted.virtual:443', port, 'https'),
    ]);
    assert.deepEqual([(await api.checkAvailability({ system: 'erp.virtual:443' })).reachable, (await api.checkAvailability({ system: 'erp.virtual:443' })).status], [true, 200]);
    assert.equal((await api.checkAvailability({ system: 'byname.virtual:443' })).reachable, true, 'verified against the internal name');
    const bad = await api.checkAvailability({ system: 'untrusted.virtual:443' });
    assert.equal(bad.reachable, false);
    assert.match(bad.error ?? '', /^TLS verification failed: /);

    // The support bundle's diagnostics run the very same probe.
    const diag = await collectDiagnostics(dir, new ConfigStore(dir).load());
    const byVirtual = new Map(diag.subaccounts[0]!.systems.map((s) => [s.virtual, s]));
    assert.equal(byVirtual.get('erp.virtual:443')?.reachable, true);
    assert.equal(byVirtual.get('untrusted.virtual:443')?.error, bad.error);
  });

  test('TCP: a connect; tcp+tls and ldaps also complete a verified TLS handshake', async () => {
    const certs = await tempDir('skybridge-avail-certs-');
    const ca = await makeRootCa(certs, 'ca');
    const leaf = await issueCert(certs, 'db', ca, { san: ['IP:127.0.0.1'] });
    const plain = await listen(net.createServer((s) => s.end()));
    const secure = await listen(tls.createServer({ key: fs.readFileSync(leaf.keyFile), cert: fs.readFileSync(leaf.certFile) }, (s) => s.end()));
    // Accepts TCP but never speaks TLS: the handshake can only time out.
    const mute = await listen(net.createServer(() => undefined));
    const { api } = await siteWith([
      sys('db.virtual:5432', plain, 'tcp', { virtualPortEnd: 5433, internalPortEnd: plain + 1 }),
      sys('db-tls.virtual:5432', secure, 'tcp+tls', { caFile: ca.certFile }),
      sys('ldap.virtual:636', secure, 'ldaps'),
      sys('mute.virtual:636', mute, 'ldaps', { connectTimeoutMs: 300 }),
    ]);
    const tcp = await api.checkAvailability({ system: 'db.virtual:5432' });
    assert.deepEqual([tcp.reachable, tcp.status, tcp.internal], [true, undefined, `127.0.0.1:${plain}`]);
    const ranged = await api.checkAvailability({ system: 'db.virtual:5433' });
    assert.equal(ranged.internal, `127.0.0.1:${plain + 1}`, 'the second port of the range maps to the second internal port');
    assert.equal((await api.checkAvailability({ system: 'db-tls.virtual:5432' })).reachable, true);
    const untrusted = await api.checkAvailability({ system: 'ldap.virtual:636' });
    assert.equal(untrusted.reachable, false);
    assert.match(untrusted.error ?? '', /^TLS verification failed: /);
    const silent = await api.checkAvailability({ system: 'mute.virtual:636' });
    assert.equal(silent.error, 'no connection and TLS handshake within 300 ms');
  });

  test('an unmapped system is NOT_FOUND', async () => {
    const { api } = await siteWith([]);
    await assert.rejects(api.checkAvailability({ system: 'nope.virtual:1' }), (e: unknown) => isSkybridgeError(e) && e.code === 'NOT_FOUND' && /no system nope\.virtual:1 is mapped/.test(e.message));
  });

  test('CLI: `agent system check` prints reachable (exit 0) or unreachable (exit 1, with the reason and code)', async () => {
    const port = await listen(http.createServer((_req, res) => res.writeHead(200).end()));
    const closed = await freePort();
    const { dir } = await siteWith([sys('erp.virtual:443', port, 'http'), sys('gone.virtual:80', closed, 'http')]);
    const ok = await runCli(['agent', 'system', 'check', 'erp.virtual:443', '--data-dir', dir]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(ok.stdout, 'reachable\n');
    assert.match(ok.stderr, new RegExp(`erp\\.virtual:443 -> 127\\.0\\.0\\.1:${port}: HEAD / answered 200 in \\d+ ms`));
    const down = await runCli(['agent', 'system', 'check', 'gone.virtual:80', '--data-dir', dir]);
    assert.equal(down.code, 1);
    assert.equal(down.stdout, 'unreachable\n');
    assert.match(down.stderr, /gone\.virtual:80 -> 127\.0\.0\.1:\d+ is not reachable from here: connection refused \[BACKEND_UNREACHABLE\]/);
    const json = await runCli(['agent', 'system', 'check', 'erp.virtual:443', '--data-dir', dir, '--json']);
    assert.equal((JSON.parse(json.stdout) as { status: number }).status, 200);
  });
});

describe('CLI parity with the UI', () => {
  test('access test, resource enable/disable and settings: values on stdout, reasons on stderr, exit 1 on a refusal', async () => {
    const { dir } = await siteWith([sys('erp.virtual:443', 8080, 'http', { resources: [{ path: '/api', subPaths: true, websocket: true }] })]);
    const cli = (...args: string[]) => runCli(['agent', ...args, '--data-dir', dir]);
    let r = await cli('access', 'test', '--host', 'erp.virtual', '--port', '443', '--path', '/api/x?y=1');
    assert.deepEqual([r.code, r.stdout], [0, 'allowed\n'], r.stderr);
    assert.match(r.stderr, /Allowed by resource \/api and everything below it/);
    r = await cli('access', 'test', '--host', 'erp.virtual', '--port', '443', '--path', '/a/../b');
    assert.deepEqual([r.code, r.stdout], [1, 'denied\n']);
    assert.match(r.stderr, /\[BAD_REQUEST\]/);

    r = await cli('resource', 'disable', '--system', 'erp.virtual:443', '--path', '/api');
    assert.equal(r.code, 0, r.stderr);
    r = await cli('access', 'test', '--host', 'erp.virtual', '--port', '443', '--path', '/api/x', '--json');
    assert.equal(r.code, 1);
    const result = JSON.parse(r.stdout) as { allowed: boolean; status: number; reason: string };
    assert.deepEqual([result.allowed, result.status], [false, 403]);
    assert.match(result.reason, /switched off/);
    r = await cli('resource', 'enable', '--system', 'erp.virtual:443', '--path', '/api');
    assert.equal(r.code, 0, r.stderr);
    const resource = (new ConfigStore(dir).load().subaccounts[0]!.systems[0]!.resources[0])!;
    assert.deepEqual([resource.enabled, resource.websocket, resource.subPaths], [true, true, true], 'switching it back on kept its other flags');

    assert.equal((await cli('settings', 'audit-level', 'acme', 'all')).code, 0);
    assert.equal((await cli('settings', 'retention', '30')).code, 0);
    r = await cli('settings', 'audit-level', 'acme', 'loud');
    assert.equal(r.code, 2, 'a usage error');
    assert.match(r.stderr, /Allowed choices are security, all, off/);
    r = await cli('settings', 'show');
    assert.equal(r.stdout, 'retention-days\t30\naudit-level\tacme\tall\n');
    const note = JSON.parse(fs.readFileSync(path.join(dir, 'run', 'admin-change.json'), 'utf8')) as { via: string };
    assert.equal(note.via, 'cli', 'the CLI leaves its note for the audit log');
  });
});

describe('pairing, certificates and the dashboard through a running agent', () => {
  let relay: RelayServer;
  let tenantId: string;

  async function pairingCode(): Promise<string> {
    return relay.store.createPairingCode({ tenantId, location: '', ttlSeconds: 60, relayUrl: relay.url, caFingerprint: relay.store.getSetting(SETTING_TRUST_ANCHOR_FP)! }).code;
  }

  test('pair, renew, count traffic, renew while disconnected, then renew with the agent stopped', { timeout: 120_000 }, async () => {
    relay = await startRelayInProcess({ dataDir: await tempDir('skybridge-relay-'), port: 0, proxyPort: 0, socksPort: 0, logger: silentLogger() });
    onCleanup(() => relay.close());
    tenantId = relay.store.createTenant('acme').id;
    const { token } = relay.store.createApp(tenantId, 'billing');
    const backend = await startBackend();
    const dir = await tempDir('skybridge-agent-');
    const agent = new ConnectorAgent({ dataDir: dir, logger: silentLogger() });
    onCleanup(() => agent.stop());
    const events: AgentEvent[] = [];
    agent.api.subscribe((e) => events.push(e));
    agent.start();

    // Pairing through the API: the running agent picks the new subaccount up and connects.
    const code = await pairingCode();
    const sub = await agent.api.pairSubaccount({ code: `  ${code}\n`, name: 'Plant 1' });
    assert.deepEqual([sub.name, sub.relayUrl, sub.enabled, sub.systemCount], ['Plant 1', relay.url, true, 0]);
    assert.ok(sub.certificateNotAfter && Date.parse(sub.certificateNotAfter) > Date.now());
    await waitFor(() => agent.statusOf(sub.id).state === 'connected', 20_000, 'the new subaccount to connect');
    const pairing = await waitFor(async () => (await agent.api.listAudit({ types: ['pairing'] }))[0], 10_000, 'a pairing audit entry');
    assert.equal(pairing.actor.kind, 'local-admin');
    assert.equal((pairing.actor as { via: string }).via, 'api', 'credited to the administrator through the API');

    const again = await agent.api.pairSubaccount({ code }).catch((e: unknown) => e);
    assert.ok(isSkybridgeError(again) && again.code === 'PAIRING_CODE_USED', `a used code is refused: ${String(again)}`);

    // Certificate details, then renewal through the agent's own renewer.
    const before = await agent.api.certificateDetails({ subaccount: sub.id });
    assert.ok(before.subjectAltNames.some((n) => n.includes(tenantId)), before.subjectAltNames.join(', '));
    assert.match(before.fingerprintSha256, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const after1 = await agent.api.renewCertificate({ subaccount: sub.id });
    assert.notEqual(after1.serialNumber, before.serialNumber);
    assert.notEqual(after1.fingerprintSha256, before.fingerprintSha256);
    assert.ok(events.some((e) => e.type === 'certificate-renewed' && e.subaccountId === sub.id), 'the renewal is an event (and so audited)');
    await waitFor(async () => (await agent.api.listAudit({ types: ['certificate'] })).length >= 1, 10_000, 'a certificate audit entry');

    // Traffic through the relay shows up in the dashboard's current minute.
    await agent.api.addSystem({ system: { virtualHost: 'erp.virtual', virtualPort: 443, internalHost: '127.0.0.1', internalPort: backend.port, protocol: 'http' } });
    await agent.api.addResource({ system: 'erp.virtual:443', resource: { path: '/api', subPaths: true } });
    const proxy = ['-x', `http://127.0.0.1:${relay.proxyPort}`, '--proxy-header', `Proxy-Authorization: Bearer ${token}`];
    await waitFor(async () => (await curl([...proxy, 'http://erp.virtual:443/api/x'], { timeoutMs: 5000 })).status === 200, 10_000, 'the new system to serve');
    const denied = await curl([...proxy, 'http://erp.virtual:443/admin'], { timeoutMs: 5000 });
    assert.equal(denied.status, 403, show(denied));
    const dash = await agent.api.dashboard({});
    const row = dash.subaccounts.find((s) => s.id === sub.id)!;
    assert.equal(row.status.state, 'connected');
    assert.equal(row.minutes.length, 30);
    const now = row.minutes.slice(-2).reduce((a, m) => ({ requests: a.requests + m.requests, denied: a.denied + m.denied, bytesOut: a.bytesOut + m.bytesOut }), { requests: 0, denied: 0, bytesOut: 0 });
    assert.ok(now.requests >= 2 && now.denied >= 1 && now.bytesOut > 0, JSON.stringify(row.minutes.slice(-2)));

    // Disconnected by choice: no renewer runs, yet renewal still works and is still an event.
    await agent.api.setSubaccountEnabled({ subaccount: sub.id, enabled: false });
    await waitFor(() => agent.statusOf(sub.id).state === 'disconnected', 10_000, 'the subaccount to disconnect');
    const renewedEvents = events.filter((e) => e.type === 'certificate-renewed').length;
    const after2 = await agent.api.renewCertificate({ subaccount: sub.id });
    assert.notEqual(after2.serialNumber, after1.serialNumber);
    assert.equal(events.filter((e) => e.type === 'certificate-renewed').length, renewedEvents + 1);

    // While the agent runs, renewal belongs to it: the CLI refuses rather than swap keys under it.
    const busy = await runCli(['agent', 'certificate', 'renew', '--data-dir', dir]);
    assert.equal(busy.code, 1);
    assert.match(busy.stderr, new RegExp(`the agent \\(pid ${process.pid}\\) is running with this data dir.*\\[CONFLICT\\]`));

    // With the agent stopped, the CLI's API renews by itself and writes the audit entry the agent would have.
    await agent.stop();
    const offline = createConnectorApi({ store: new ConfigStore(dir), statusOf: () => ({ state: 'disconnected', reconnects: 0 }), subscribe: () => () => undefined });
    const after3 = await offline.renewCertificate({ subaccount: sub.id });
    assert.notEqual(after3.serialNumber, after2.serialNumber);
    const entries = await offline.listAudit({ types: ['certificate'] });
    const mine = entries.find((e) => e.actor.kind === 'local-admin');
    assert.ok(mine, JSON.stringify(entries.map((e) => e.actor)));
    assert.equal((mine.actor as { via: string }).via, 'cli');
    assert.match(mine.reason ?? '', /certificate renewed on request, valid until/);
    const verify = await offline.verifyAudit({ offline: true });
    assert.equal(verify.ok, true, JSON.stringify(verify.problems));
    await assert.rejects(offline.dashboard({}), (e: unknown) => isSkybridgeError(e) && e.code === 'AGENT_NOT_RUNNING');

    const renewed = await runCli(['agent', 'certificate', 'renew', '--data-dir', dir]);
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.match(renewed.stdout, /^\d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
    const shown = await runCli(['agent', 'certificate', 'show', '--data-dir', dir, '--json']);
    const details = JSON.parse(shown.stdout) as { notAfter: string; serialNumber: string };
    assert.equal(details.notAfter, renewed.stdout.trim());
    assert.notEqual(details.serialNumber, after3.serialNumber);
  });
});
