/**
 * Issue 3: several subaccounts and locations, connect/disconnect on their own,
 * one connector per tenant and location, and a certificate can only ever serve
 * the tenant it was issued for.
 */
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { once } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import {
  cleanupAll,
  cliOk,
  cliValue,
  curl,
  FAST_TUNNEL,
  onCleanup,
  readAgentConfig,
  readAgentStatus,
  runCli,
  show,
  spawnCli,
  startRelay,
  tempDir,
  waitFor,
  writeAgentConfig,
  type Child,
  type RelayHandle,
} from './harness.js';

after(cleanupAll);

/** A back end that says which site it is, so a test can tell which connector served a request. */
async function labelledBackend(label: string): Promise<number> {
  const server = http.createServer((_req, res) => res.end(label));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  onCleanup(() => new Promise<void>((r) => server.close(() => r())));
  return (server.address() as AddressInfo).port;
}

async function pairInto(relay: RelayHandle, agentDir: string, tenant: string, location: string, backendPort: number): Promise<string> {
  const code = await cliValue(['relay', 'pairing-code', '--tenant', tenant, '--location', location, '--data-dir', relay.dir]);
  const id = await cliValue(['agent', 'pair', code, '--data-dir', agentDir]);
  await cliOk(['agent', 'system', 'add', '--data-dir', agentDir, '--subaccount', id, '--virtual', 'erp.virtual:443', '--internal', `127.0.0.1:${backendPort}`, '--protocol', 'http']);
  await cliOk(['agent', 'resource', 'add', '--data-dir', agentDir, '--subaccount', id, '--system', 'erp.virtual:443', '--path', '/', '--sub-paths']);
  return id;
}

function fastTunnel(agentDir: string): void {
  const cfg = readAgentConfig(agentDir);
  writeAgentConfig(agentDir, { ...cfg, tunnel: { ...(cfg.tunnel as object), ...FAST_TUNNEL } });
}

function stateOf(agentDir: string, id: string): string | undefined {
  return readAgentStatus(agentDir)?.subaccounts.find((s) => s.id === id)?.status.state;
}

async function waitState(agentDir: string, id: string, state: string, ms = 15_000): Promise<void> {
  await waitFor(() => stateOf(agentDir, id) === state, ms, `${id} to be ${state} (is ${stateOf(agentDir, id)})`);
}

function call(relay: RelayHandle, token: string, location?: string) {
  const args = ['-x', `http://127.0.0.1:${relay.proxyPort}`, '--proxy-header', `Proxy-Authorization: Bearer ${token}`];
  if (location !== undefined) args.push('-H', `X-Skybridge-Location: ${location}`);
  return curl([...args, 'http://erp.virtual:443/who']);
}

test('two tenants with two locations each: every app reaches exactly the connector it chose', { timeout: 120_000 }, async () => {
  const relay = await startRelay(await tempDir());
  const tA = await cliValue(['relay', 'tenant', 'create', 'tenant-a', '--data-dir', relay.dir]);
  const tB = await cliValue(['relay', 'tenant', 'create', 'tenant-b', '--data-dir', relay.dir]);
  const appA = await cliValue(['relay', 'app', 'create', 'app-a', '--tenant', tA, '--data-dir', relay.dir]);
  const appB = await cliValue(['relay', 'app', 'create', 'app-b', '--tenant', tB, '--data-dir', relay.dir]);

  // Connector X serves A@"" and B@"plant"; connector Y serves A@"plant" and B@"".
  const x = await tempDir();
  const y = await tempDir();
  const ids = {
    aDefault: await pairInto(relay, x, tA, '', await labelledBackend('A-default')),
    bPlant: await pairInto(relay, x, tB, 'plant', await labelledBackend('B-plant')),
    aPlant: await pairInto(relay, y, tA, 'plant', await labelledBackend('A-plant')),
    bDefault: await pairInto(relay, y, tB, '', await labelledBackend('B-default')),
  };
  assert.notEqual(ids.aDefault, ids.bPlant);
  fastTunnel(x);
  fastTunnel(y);
  const ax = spawnCli('agent-x', ['agent', 'start', '--data-dir', x]);
  const ay = spawnCli('agent-y', ['agent', 'start', '--data-dir', y]);
  for (const [dir, id] of [[x, ids.aDefault], [x, ids.bPlant], [y, ids.aPlant], [y, ids.bDefault]] as const) await waitState(dir, id, 'connected');

  const expect = async (token: string, location: string | undefined, body: string) => {
    const r = await call(relay, token, location);
    assert.equal(r.status, 200, show(r));
    assert.equal(r.body.toString(), body, `token of ${body.split('-')[0]}, location ${JSON.stringify(location)}`);
  };
  await expect(appA, undefined, 'A-default');
  await expect(appA, '', 'A-default');
  await expect(appA, 'plant', 'A-plant');
  await expect(appB, undefined, 'B-default');
  await expect(appB, 'plant', 'B-plant');
  const viaSap = await curl(['-x', `http://127.0.0.1:${relay.proxyPort}`, '--proxy-header', `Proxy-Authorization: Bearer ${appB}`, '-H', 'SAP-Connectivity-SCC-Location_ID: plant', 'http://erp.virtual:443/who']);
  assert.equal(viaSap.body.toString(), 'B-plant', show(viaSap));

  // A location that exists only for another tenant is no way in.
  const tC = await cliValue(['relay', 'tenant', 'create', 'tenant-c', '--data-dir', relay.dir]);
  const z = await tempDir();
  const cOnly = await pairInto(relay, z, tC, 'c-only', await labelledBackend('C-only'));
  fastTunnel(z);
  const az = spawnCli('agent-z', ['agent', 'start', '--data-dir', z]);
  await waitState(z, cOnly, 'connected');
  const cross = await call(relay, appA, 'c-only');
  assert.equal(cross.status, 503, show(cross));
  assert.match(cross.body.toString(), /No connector is online/);

  // A certificate issued for tenant A cannot serve tenant B, whatever the connector's config claims.
  await ax.stop();
  const forged = await tempDir();
  fs.cpSync(path.join(x, 'subaccounts', ids.aDefault), path.join(forged, 'subaccounts', tB), { recursive: true });
  const cfg = readAgentConfig(x);
  const a = cfg.subaccounts.find((s) => s.id === ids.aDefault)!;
  writeAgentConfig(forged, { ...cfg, subaccounts: [{ ...a, id: tB, tenantId: tB, name: 'claims to be B' }] });
  const bBefore = await call(relay, appB, undefined);
  assert.equal(bBefore.body.toString(), 'B-default');
  await ay.stop();
  const af = spawnCli('agent-forged', ['agent', 'start', '--data-dir', forged]);
  await waitState(forged, tB, 'connected');
  const asB = await call(relay, appB, undefined);
  assert.equal(asB.status, 503, `tenant B must not be served by tenant A's certificate: ${show(asB)}`);
  const asA = await call(relay, appA, undefined);
  assert.equal(asA.status, 200, `the relay files the tunnel under the certificate's tenant (A): ${show(asA)}`);
  await Promise.all([af.stop(), az.stop()]);
});

test('a second connector for a location already online is refused, and the relay records it', { timeout: 60_000 }, async () => {
  const relay = await startRelay(await tempDir());
  const t = await cliValue(['relay', 'tenant', 'create', 'acme', '--data-dir', relay.dir]);
  const one = await tempDir();
  const two = await tempDir();
  const port = await labelledBackend('one');
  const id1 = await pairInto(relay, one, t, 'hall-1', port);
  const id2 = await pairInto(relay, two, t, 'hall-1', port);
  fastTunnel(one);
  fastTunnel(two);
  const a1 = spawnCli('first', ['agent', 'start', '--data-dir', one]);
  await waitState(one, id1, 'connected');
  const a2 = spawnCli('second', ['agent', 'start', '--data-dir', two]);
  await waitState(two, id2, 'failed');
  const status = readAgentStatus(two)!.subaccounts[0]!.status as { lastError?: string };
  assert.match(status.lastError ?? '', /already online .*hall-1.*different location/i);
  const events = JSON.parse((await cliOk(['relay', 'events', '--data-dir', relay.dir, '--json'])).stdout) as { type: string; message: string }[];
  assert.ok(events.some((e) => e.type === 'location-taken'), JSON.stringify(events));
  const list = (await cliOk(['relay', 'connector', 'list', '--tenant', t, '--data-dir', relay.dir])).stdout;
  assert.match(list, /hall-1\tonline/);
  assert.match(list, /hall-1\toffline/);
  await Promise.all([a1.stop(), a2.stop()]);
});

test('connect and disconnect one subaccount while the other keeps serving; the choice survives a restart; remove needs --yes', { timeout: 90_000 }, async () => {
  const relay = await startRelay(await tempDir());
  const tA = await cliValue(['relay', 'tenant', 'create', 'a', '--data-dir', relay.dir]);
  const tB = await cliValue(['relay', 'tenant', 'create', 'b', '--data-dir', relay.dir]);
  const appA = await cliValue(['relay', 'app', 'create', 'app', '--tenant', tA, '--data-dir', relay.dir]);
  const appB = await cliValue(['relay', 'app', 'create', 'app', '--tenant', tB, '--data-dir', relay.dir]);
  const dir = await tempDir();
  const a = await pairInto(relay, dir, tA, '', await labelledBackend('A'));
  const b = await pairInto(relay, dir, tB, '', await labelledBackend('B'));
  fastTunnel(dir);
  let agent: Child = spawnCli('agent', ['agent', 'start', '--data-dir', dir]);
  await waitState(dir, a, 'connected');
  await waitState(dir, b, 'connected');

  await cliOk(['agent', 'subaccount', 'disconnect', a, '--data-dir', dir]);
  await waitState(dir, a, 'disconnected', 5000);
  assert.equal((await call(relay, appA)).status, 503);
  const bStill = await call(relay, appB);
  assert.equal(bStill.status, 200, show(bStill));
  const listed = JSON.parse((await cliOk(['agent', 'subaccount', 'list', '--data-dir', dir, '--json'])).stdout) as { id: string; enabled: boolean; status: { state: string } }[];
  assert.deepEqual(listed.map((s) => [s.id, s.enabled, s.status.state]).sort(), [[a, false, 'disconnected'], [b, true, 'connected']].sort());

  await agent.stop();
  agent = spawnCli('agent', ['agent', 'start', '--data-dir', dir]);
  await waitState(dir, b, 'connected');
  assert.equal(stateOf(dir, a), 'disconnected', 'a disconnected subaccount stays disconnected after a restart');

  await cliOk(['agent', 'subaccount', 'connect', a, '--data-dir', dir]);
  await waitState(dir, a, 'connected');
  assert.equal((await call(relay, appA)).status, 200);

  const refused = await runCli(['agent', 'subaccount', 'remove', a, '--data-dir', dir]);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /--yes/);
  assert.ok(fs.existsSync(path.join(dir, 'subaccounts', a, 'key.pem')));
  await cliOk(['agent', 'subaccount', 'remove', a, '--yes', '--data-dir', dir]);
  assert.equal(fs.existsSync(path.join(dir, 'subaccounts', a)), false, 'key material is deleted');
  await waitFor(async () => (await call(relay, appA)).status === 503, 5000, 'the removed subaccount to go offline');
  assert.equal((await call(relay, appB)).status, 200);
  await agent.stop();
});
