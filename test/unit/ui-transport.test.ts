/**
 * Through the UI transports (headless HTTP, desktop IPC) a system's caFile may only point at a
 * CA uploaded with importCaCertificate; the CLI's API still takes any local file.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ADMIN_NOTE_FILE, withAdminNotes } from '../../electron/agent/audit/actor.js';
import { ConfigStore } from '../../electron/agent/config-store.js';
import { createConnectorApi } from '../../electron/agent/connector-api.js';
import { isImportedCaFile, restrictToUiTransport, UPLOAD_CA_INSTEAD } from '../../electron/agent/ui-transport.js';
import { forkAgentProcess } from './agent-process-fork.js';
import type { ConnectorApi } from '../../shared/api.js';
import { isSkybridgeError } from '../../shared/errors.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skybridge-ui-transport-'));
  dirs.push(dir);
  return dir;
}

const work = tempDir();
const caPem = (() => {
  const cert = path.join(work, 'ca.crt');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path.join(work, 'ca.key'), '-out', cert, '-subj', '/CN=Transport Test CA', '-days', '30'], { stdio: 'ignore' });
  return fs.readFileSync(cert, 'utf8');
})();
/** A CA an administrator keeps outside the data dir and names on the command line. */
const localCaFile = path.join(work, 'ca.crt');

const ERP = { virtualHost: 'erp.virtual', virtualPort: 443, internalHost: 'erp.corp', internalPort: 8443, protocol: 'https' as const };

function siteDir(systems: unknown[] = []): string {
  const dir = tempDir();
  const sub = { id: 'acme', name: 'Acme', relayUrl: 'https://127.0.0.1:1', tenantId: 'acme', connectorId: 'c-acme', enabled: false, systems };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ version: 1, subaccounts: [sub] }));
  return dir;
}

function cliApi(dir: string): ConnectorApi {
  return createConnectorApi({ store: new ConfigStore(dir), statusOf: () => ({ state: 'disconnected', reconnects: 0 }), subscribe: () => () => undefined });
}

/** As the web server builds it: admin notes inside, the restriction outside. */
function uiApi(dir: string): ConnectorApi {
  return restrictToUiTransport(withAdminNotes(cliApi(dir), dir, 'api', 'admin'), dir);
}

async function refusedWithUploadHint(p: Promise<unknown>): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(isSkybridgeError(e), String(e));
    assert.equal(e.code, 'INVALID_INPUT');
    assert.equal(e.message, UPLOAD_CA_INSTEAD);
    return true;
  });
}

describe('restrictToUiTransport', () => {
  test('a server path in addSystem or updateSystem is refused; config.json stays byte for byte, and no change is noted', async () => {
    const dir = siteDir([{ ...ERP, virtualHost: 'old.virtual' }]);
    const api = uiApi(dir);
    const configFile = path.join(dir, 'config.json');
    const before = fs.readFileSync(configFile);
    const trusted = path.join(dir, 'trusted-ca');
    const outside = [
      '/etc/passwd',
      localCaFile,
      path.join(trusted, '..', 'config.json'),
      `${trusted}/./${'a'.repeat(32)}.pem`,
      path.join(trusted, 'corp-root.pem'),
      path.join(trusted, `${'A'.repeat(32)}.pem`),
      path.join('trusted-ca', `${'a'.repeat(32)}.pem`),
    ];
    for (const caFile of outside) {
      await refusedWithUploadHint(api.addSystem({ system: { ...ERP, caFile } }));
      await refusedWithUploadHint(api.updateSystem({ system: 'old.virtual:443', patch: { caFile } }));
    }
    assert.deepEqual(fs.readFileSync(configFile), before);
    assert.equal(fs.existsSync(path.join(dir, ADMIN_NOTE_FILE)), false, 'a refused call leaves no admin note');
  });

  test('a CA uploaded with importCaCertificate is accepted, and removing the CA (null) is allowed', async () => {
    const dir = siteDir();
    const api = uiApi(dir);
    const { caFile } = await api.importCaCertificate({ pem: caPem });
    assert.ok(isImportedCaFile(dir, caFile));
    const added = await api.addSystem({ system: { ...ERP, caFile } });
    assert.equal(added.caFile, caFile);
    const cleared = await api.updateSystem({ system: 'erp.virtual:443', patch: { caFile: null } });
    assert.equal(cleared.caFile, undefined);
    const again = await api.updateSystem({ system: 'ERP.virtual:443', patch: { caFile } });
    assert.equal(again.caFile, caFile);
  });

  test('an update may resend the CA file the administrator set from the CLI, but not replace it with another path', async () => {
    const dir = siteDir();
    await cliApi(dir).addSystem({ system: { ...ERP, caFile: localCaFile } });
    const api = uiApi(dir);
    const kept = await api.updateSystem({ system: 'erp.virtual:443', patch: { internalPort: 9443, caFile: localCaFile } });
    assert.equal(kept.caFile, localCaFile);
    assert.equal(kept.internalPort, 9443);
    await refusedWithUploadHint(api.updateSystem({ system: 'erp.virtual:443', patch: { caFile: '/etc/ssl/certs/ca-certificates.crt' } }));
  });

  test('input the contract refuses keeps its usual sentence; other methods pass through', async () => {
    const dir = siteDir();
    const api = uiApi(dir);
    await assert.rejects(api.addSystem({ system: { ...ERP, virtualPort: 70000, caFile: '/etc/passwd' } }), /virtualPort/);
    assert.equal((await api.listSubaccounts({}))[0]!.id, 'acme');
  });

  test('the CLI (the unwrapped API) still takes a local file', async () => {
    const dir = siteDir();
    assert.equal((await cliApi(dir).addSystem({ system: { ...ERP, caFile: localCaFile } })).caFile, localCaFile);
  });
});

describe('agent-process.js: desktop IPC calls are restricted too', () => {
  test('addSystem with caFile /etc/passwd over the parent port is INVALID_INPUT and changes nothing', { timeout: 30_000 }, async () => {
    const dir = siteDir();
    const configFile = path.join(dir, 'config.json');
    const before = fs.readFileSync(configFile);
    const { child, messages, exited, waitFor, result } = forkAgentProcess(dir);
    try {
      await waitFor(() => messages.find((m) => m.type === 'agent-ready'), 'agent-ready');
      child.send({ type: 'api-call', id: 1, method: 'addSystem', input: { system: { ...ERP, caFile: '/etc/passwd' } } });
      const refused = await result(1);
      assert.equal(refused.ok, false);
      assert.deepEqual(refused.error, { code: 'INVALID_INPUT', message: UPLOAD_CA_INSTEAD });
      assert.deepEqual(fs.readFileSync(configFile), before);

      child.send({ type: 'api-call', id: 2, method: 'importCaCertificate', input: { pem: caPem } });
      const imported = await result(2);
      assert.equal(imported.ok, true, JSON.stringify(imported.error));
      const { caFile } = imported.value as { caFile: string };
      child.send({ type: 'api-call', id: 3, method: 'addSystem', input: { system: { ...ERP, caFile } } });
      assert.equal((await result(3)).ok, true);
      assert.equal(new ConfigStore(dir).load().subaccounts[0]!.systems[0]!.caFile, caFile);

      child.send({ type: 'shutdown' });
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});
