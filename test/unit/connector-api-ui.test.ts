import 'reflect-metadata';
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, webcrypto, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { silentLogger } from '../../common/logger.js';
import { VERSION } from '../../common/version.js';
import { ConnectorAgent } from '../../electron/agent/agent.js';
import { ADMIN_NOTE_FILE } from '../../electron/agent/audit/actor.js';
import { ConfigStore } from '../../electron/agent/config-store.js';
import { createConnectorApi, type LiveAgent } from '../../electron/agent/connector-api.js';
import type { ConnectorApi, MinuteSample } from '../../shared/api.js';
import type { SystemInput } from '../../shared/config.js';
import { ErrorCode, isSkybridgeError } from '../../shared/errors.js';

x509.cryptoProvider.set(webcrypto);

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const ERP: SystemInput = {
  virtualHost: 'erp.virtual',
  virtualPort: 443,
  internalHost: '10.0.0.5',
  internalPort: 8080,
  protocol: 'http',
  resources: [
    { path: '/api', subPaths: true, methods: ['GET', 'POST'] },
    { path: '/api/admin', subPaths: true, enabled: false },
    { path: '/ws', websocket: true },
  ],
};
const DB: SystemInput = { virtualHost: 'db.virtual', virtualPort: 5432, virtualPortEnd: 5433, internalHost: '10.0.0.7', internalPort: 6432, internalPortEnd: 6433, protocol: 'tcp' };

function dataDir(systems: SystemInput[] = [ERP, DB], extra: Record<string, unknown> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skybridge-api-ui-'));
  dirs.push(dir);
  const sub = { id: 'acme', name: 'Acme', relayUrl: 'https://127.0.0.1:1', tenantId: 'acme', connectorId: 'c-acme', systems, ...extra };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ version: 1, subaccounts: [sub] }));
  return dir;
}

function apiFor(dir: string, live?: LiveAgent): ConnectorApi {
  return createConnectorApi({ store: new ConfigStore(dir), statusOf: () => ({ state: 'disconnected', reconnects: 0 }), subscribe: () => () => undefined, live });
}

async function rejectsCode(p: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSkybridgeError(e), `expected a SkybridgeError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('testAccess: the forwarder decision, explained', () => {
  const api = apiFor(dataDir());

  test('an allowed request names the resource, the system and where it would go', async () => {
    const r = await api.testAccess({ method: 'GET', host: 'ERP.virtual', port: 443, target: '/api/orders/%7e1?x=1' });
    assert.equal(r.allowed, true);
    assert.equal(r.system, 'erp.virtual:443');
    assert.equal(r.resource?.path, '/api');
    assert.equal(r.path, '/api/orders/~1', 'the normalised path is what was checked');
    assert.match(r.reason, /^Allowed by resource \/api and everything below it on system erp\.virtual:443: http:\/\/10\.0\.0\.5:8080 would receive GET \/api\/orders\/~1\?x=1\.$/);
  });

  test('a method the resource does not allow: denied 403, naming the resource that matched', async () => {
    const r = await api.testAccess({ method: 'DELETE', host: 'erp.virtual', port: 443, target: '/api/orders' });
    assert.equal(r.allowed, false);
    assert.equal(r.status, 403);
    assert.equal(r.resource?.path, '/api');
    assert.match(r.reason, /^Access denied to system erp\.virtual:443: method DELETE is not allowed on \/api\/orders \(resource \/api allows GET, POST, HEAD\)/);
  });

  test('a dot segment is a bad request (400), as the forwarder answers it', async () => {
    const r = await api.testAccess({ method: 'GET', host: 'erp.virtual', port: 443, target: '/api/../admin' });
    assert.equal(r.allowed, false);
    assert.equal(r.status, 400);
    assert.equal(r.path, undefined);
    assert.match(r.reason, /"\." or "\.\." segments/);
  });

  test('a switched-off resource below an enabled one changes nothing: the enabled one decides, as in the forwarder', async () => {
    const r = await api.testAccess({ method: 'GET', host: 'erp.virtual', port: 443, target: '/api/admin/users' });
    // /api still allows it: the disabled /api/admin is skipped, so the decision is the forwarder's (allowed).
    assert.equal(r.allowed, true);
    assert.equal(r.resource?.path, '/api');
    const off = await api.testAccess({ method: 'GET', host: 'erp.virtual', port: 443, target: '/other' });
    assert.equal(off.allowed, false);
    assert.doesNotMatch(off.reason, /switched off/, 'no disabled resource covers /other');
  });

  test('a path only a switched-off resource covers is refused with that resource named', async () => {
    const api2 = apiFor(dataDir([{ ...ERP, resources: [{ path: '/reports', subPaths: true, enabled: false }] }]));
    const r = await api2.testAccess({ method: 'GET', host: 'erp.virtual', port: 443, target: '/reports/q1' });
    assert.equal(r.allowed, false);
    assert.equal(r.status, 403);
    assert.match(r.reason, /no resource allows \/reports\/q1; resource \/reports and everything below it would match it but is switched off$/);
  });

  test('WebSocket upgrades only where the resource allows them', async () => {
    assert.equal((await api.testAccess({ method: 'GET', host: 'erp.virtual', port: 443, target: '/ws', websocket: true })).allowed, true);
    const r = await api.testAccess({ method: 'GET', host: 'erp.virtual', port: 443, target: '/api/feed', websocket: true });
    assert.equal(r.allowed, false);
    assert.match(r.reason, /WebSocket upgrade is not allowed on \/api\/feed \(resource \/api\)/);
  });

  test('an unmapped system is refused with 403 and no system', async () => {
    const r = await api.testAccess({ method: 'GET', host: 'nope.virtual', port: 443, target: '/' });
    assert.deepEqual([r.allowed, r.status, r.system], [false, 403, undefined]);
    assert.match(r.reason, /no such system is mapped/);
  });

  test('a TCP system is judged as SOCKS5 does: allowed to the mapped internal port of its range', async () => {
    const r = await api.testAccess({ method: 'GET', host: 'db.virtual', port: 5433, target: '/' });
    assert.equal(r.allowed, true);
    assert.equal(r.system, 'db.virtual:5433');
    assert.match(r.reason, /TCP system \(protocol tcp\): a connection through the SOCKS5 proxy would be allowed and go to 10\.0\.0\.7:6433/);
  });

  test('bad input is refused with INVALID_INPUT', async () => {
    await rejectsCode(api.testAccess({ method: 'BREW' as 'GET', host: 'erp.virtual', port: 443, target: '/' }), ErrorCode.InvalidInput, /method/);
    await rejectsCode(api.testAccess({ host: 'erp.virtual', port: 0, target: '/' }), ErrorCode.InvalidInput, /port/);
  });
});

describe('updateResource', () => {
  test('switches a resource off and on in place; the access test follows', async () => {
    const dir = dataDir();
    const api = apiFor(dir);
    const sys = await api.updateResource({ system: 'erp.virtual:443', path: '/ws', patch: { enabled: false } });
    assert.deepEqual(
      sys.resources.map((r) => [r.path, r.enabled]),
      [['/api', true], ['/api/admin', false], ['/ws', false]],
      'the order is kept',
    );
    assert.equal((await api.testAccess({ host: 'erp.virtual', port: 443, target: '/ws', websocket: true })).allowed, false);
    await api.updateResource({ system: 'erp.virtual:443', path: '/ws', patch: { enabled: true } });
    assert.equal((await api.testAccess({ host: 'erp.virtual', port: 443, target: '/ws', websocket: true })).allowed, true);
  });

  test('an unknown resource or a bad patch changes nothing', async () => {
    const dir = dataDir();
    const api = apiFor(dir);
    const before = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
    await rejectsCode(api.updateResource({ system: 'erp.virtual:443', path: '/nope', patch: { enabled: false } }), ErrorCode.NotFound, /no resource \/nope .*its resources are \/api, \/api\/admin, \/ws/);
    await rejectsCode(api.updateResource({ system: 'erp.virtual:443', path: '/api', patch: { methods: [] } }), ErrorCode.InvalidInput);
    assert.equal(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), before);
  });
});

describe('settings', () => {
  test('defaults: a year of audit files, each subaccount at its level', async () => {
    const api = apiFor(dataDir());
    assert.deepEqual(await api.getSettings({}), { auditRetentionDays: 365, subaccounts: [{ id: 'acme', name: 'Acme', audit: 'security' }] });
  });

  test('audit level and retention are saved to config.json and read back', async () => {
    const dir = dataDir();
    const api = apiFor(dir);
    assert.equal((await api.setAuditLevel({ subaccount: 'acme', level: 'all' })).subaccounts[0]!.audit, 'all');
    assert.equal((await api.setAuditRetention({ days: 30 })).auditRetentionDays, 30);
    const file = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')) as { audit: { retentionDays: number }; subaccounts: { audit: string }[] };
    assert.equal(file.audit.retentionDays, 30);
    assert.equal(file.subaccounts[0]!.audit, 'all');
    assert.deepEqual(await apiFor(dir).getSettings({}), { auditRetentionDays: 30, subaccounts: [{ id: 'acme', name: 'Acme', audit: 'all' }] });
  });

  test('an unknown level, subaccount or retention is refused and nothing changes', async () => {
    const dir = dataDir();
    const api = apiFor(dir);
    const before = fs.readFileSync(path.join(dir, 'config.json'), 'utf8');
    await rejectsCode(api.setAuditLevel({ subaccount: 'acme', level: 'verbose' as 'all' }), ErrorCode.InvalidInput, /level/);
    await rejectsCode(api.setAuditLevel({ subaccount: 'beta', level: 'off' }), ErrorCode.NotFound, /no subaccount "beta"/);
    await rejectsCode(api.setAuditRetention({ days: -1 }), ErrorCode.InvalidInput, /days/);
    await rejectsCode(api.setAuditRetention({ days: 1.5 }), ErrorCode.InvalidInput, /days/);
    assert.equal(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'), before);
  });
});

async function writeCertificate(dir: string, validDays: number): Promise<string> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify']);
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '0a1b2c3d',
    name: [{ CN: ['c-acme'] }, { O: ['Skybridge connector'] }],
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + validDays * 86_400_000 + 3_600_000),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [new x509.SubjectAlternativeNameExtension([{ type: 'url', value: 'urn:skybridge:connector:c-acme' }, { type: 'url', value: 'urn:skybridge:tenant:acme' }])],
  });
  const pem = cert.toString('pem') + '\n';
  const sub = path.join(dir, 'subaccounts', 'acme');
  fs.mkdirSync(sub, { recursive: true });
  fs.writeFileSync(path.join(sub, 'cert.pem'), pem);
  return pem;
}

describe('certificates', () => {
  test('details: subject, issuer, serial, validity, days left, SHA-256 fingerprint and names', async () => {
    const dir = dataDir();
    const pem = await writeCertificate(dir, 40);
    const d = await apiFor(dir).certificateDetails({ subaccount: 'acme' });
    const node = new X509Certificate(pem);
    assert.equal(d.subaccount, 'acme');
    assert.equal(d.subject, 'CN=c-acme, O=Skybridge connector');
    assert.equal(d.issuer, d.subject, 'self-signed here');
    assert.equal(d.serialNumber, '0A1B2C3D');
    assert.equal(d.daysLeft, 40);
    assert.equal(d.notAfter, new Date(node.validTo).toISOString());
    const hex = createHash('sha256').update(node.raw).digest('hex').toUpperCase();
    assert.equal(d.fingerprintSha256, hex.match(/../g)!.join(':'));
    assert.deepEqual(d.subjectAltNames, ['URI:urn:skybridge:connector:c-acme', 'URI:urn:skybridge:tenant:acme']);
  });

  test('no certificate on disk: CERTIFICATE_MISSING, with what to do', async () => {
    await rejectsCode(apiFor(dataDir()).certificateDetails({ subaccount: 'acme' }), ErrorCode.CertificateMissing, /pair it again/);
    await rejectsCode(apiFor(dataDir()).certificateDetails({ subaccount: 'nope' }), ErrorCode.NotFound);
  });

  test('offline renewal refuses while an agent runs with the data dir, and leaves the certificate alone', async () => {
    const dir = dataDir();
    const pem = await writeCertificate(dir, 40);
    fs.writeFileSync(path.join(dir, 'subaccounts', 'acme', 'key.pem'), 'not used');
    fs.writeFileSync(path.join(dir, 'subaccounts', 'acme', 'ca.pem'), 'not used');
    fs.mkdirSync(path.join(dir, 'run'), { recursive: true });
    // The test runner that started this file is alive: it stands in for a running agent.
    fs.writeFileSync(path.join(dir, 'run', 'status.json'), JSON.stringify({ pid: process.ppid, running: true, subaccounts: [] }));
    await rejectsCode(apiFor(dir).renewCertificate({ subaccount: 'acme' }), ErrorCode.Conflict, new RegExp(`agent \\(pid ${process.ppid}\\) is running`));
    assert.equal(fs.readFileSync(path.join(dir, 'subaccounts', 'acme', 'cert.pem'), 'utf8'), pem);
  });

  test('offline renewal with no key on disk fails before anything is sent', async () => {
    const dir = dataDir();
    await rejectsCode(apiFor(dir).renewCertificate({ subaccount: 'acme' }), ErrorCode.CertificateMissing);
  });

  test('with a running agent, renewal goes through it and the answer is the new certificate', async () => {
    const dir = dataDir();
    const renewed: string[] = [];
    const live: LiveAgent = {
      startedAt: () => '2025-01-01T00:00:00.000Z',
      minutes: () => [],
      renewCertificate: async (id) => {
        renewed.push(id);
        await writeCertificate(dir, 90);
      },
    };
    await writeCertificate(dir, 10);
    const d = await apiFor(dir, live).renewCertificate({ subaccount: 'acme' });
    assert.deepEqual(renewed, ['acme']);
    assert.equal(d.daysLeft, 90);
  });
});

describe('dashboard', () => {
  test('without a running agent it says so', async () => {
    await rejectsCode(apiFor(dataDir()).dashboard({}), ErrorCode.AgentNotRunning, /skybridge agent start/);
  });

  test('per subaccount: the summary plus its minutes; the agent start time and version', async () => {
    const minutes: MinuteSample[] = [{ minute: '2025-01-01T00:00:00.000Z', requests: 3, errors: 1, denied: 0, bytesIn: 1, bytesOut: 2 }];
    const live: LiveAgent = { startedAt: () => '2025-01-01T00:00:00.000Z', minutes: (id) => (id === 'acme' ? minutes : []), renewCertificate: async () => undefined };
    const d = await apiFor(dataDir(), live).dashboard({});
    assert.equal(d.agentStartedAt, '2025-01-01T00:00:00.000Z');
    assert.equal(d.version, VERSION);
    assert.equal(d.subaccounts.length, 1);
    assert.equal(d.subaccounts[0]!.id, 'acme');
    assert.equal(d.subaccounts[0]!.systemCount, 2);
    assert.deepEqual(d.subaccounts[0]!.minutes, minutes);
  });
});

describe("the running agent's API", () => {
  test('config changes through it are noted as the local admin via the API', async () => {
    const dir = dataDir();
    const agent = new ConnectorAgent({ dataDir: dir, logger: silentLogger() });
    await agent.api.setAuditRetention({ days: 7 });
    const note = JSON.parse(fs.readFileSync(path.join(dir, ADMIN_NOTE_FILE), 'utf8')) as { via: string };
    assert.equal(note.via, 'api');
    // Reading leaves no note.
    fs.rmSync(path.join(dir, ADMIN_NOTE_FILE));
    await agent.api.getSettings({});
    await agent.api.testAccess({ host: 'erp.virtual', port: 443, target: '/api' });
    assert.equal(fs.existsSync(path.join(dir, ADMIN_NOTE_FILE)), false);
  });

  test('the dashboard of a started agent counts its traffic per minute, zeros included', async () => {
    const dir = dataDir([ERP], { enabled: false });
    const agent = new ConnectorAgent({ dataDir: dir, logger: silentLogger() });
    agent.start();
    try {
      agent.evidence.onEvent({ type: 'request', at: new Date().toISOString(), subaccountId: 'acme', requestId: 'r1', app: 'billing', method: 'GET', virtualHost: 'erp.virtual', virtualPort: 443, path: '/x', status: 403, outcome: 'denied', durationMs: 1 });
      const d = await agent.api.dashboard({});
      const acme = d.subaccounts.find((s) => s.id === 'acme')!;
      assert.equal(acme.minutes.length, 30);
      assert.deepEqual([acme.minutes.at(-1)!.requests, acme.minutes.at(-1)!.denied], [1, 1]);
      assert.ok(Date.now() - Date.parse(d.agentStartedAt) < 60_000);
    } finally {
      await agent.stop();
    }
  });
});
