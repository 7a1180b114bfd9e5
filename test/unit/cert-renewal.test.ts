import 'reflect-metadata';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ensureRelayCa, signConnectorCsr } from '../../relay/ca.js';
import { CertificateRenewer, renewalTime } from '../../electron/agent/cert-renewal.js';
import { writeCredentials, readCredentials, swapInRenewed } from '../../electron/agent/credentials.js';
import { generateKeyAndCsr } from '../../electron/agent/pki.js';
import { silentLogger } from '../../common/logger.js';
import type { AgentEvent } from '../../shared/api.js';

test('renewal is due two thirds into the validity', () => {
  assert.equal(renewalTime(0, 90), 60);
  assert.equal(renewalTime(1000, 4000), 3000);
});

async function shortLivedCredentials(dir: string, validitySeconds: number) {
  const ca = await ensureRelayCa(path.join(dir, 'relay'));
  const { keyPem, csrPem } = await generateKeyAndCsr('c-test');
  const signed = await signConnectorCsr(ca, csrPem, { connectorId: 'c-test', tenantId: 't-test', location: '', validityDays: validitySeconds / 86_400 });
  await writeCredentials(dir, 't-test', { keyPem, certPem: signed.certPem, trustAnchorPem: ca.certPem });
  return { ca, keyPem, certPem: signed.certPem };
}

test('a near expiry warns at once, and renewal that keeps failing warns again, retrying before expiry', { timeout: 30_000 }, async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-renew-'));
  await shortLivedCredentials(dir, 8);
  const events: AgentEvent[] = [];
  const renewer = new CertificateRenewer({
    subaccountId: 't-test',
    connectorId: 'c-test',
    dataDir: dir,
    relayUrl: 'https://127.0.0.1:1', // nothing listens: every renewal fails
    logger: silentLogger(),
    emit: (e) => events.push(e),
  });
  renewer.start();
  const warnings = () => events.filter((e) => e.type === 'certificate-warning') as Extract<AgentEvent, { type: 'certificate-warning' }>[];
  assert.equal(warnings().length, 1, 'expiry under 14 days is reported on start');
  assert.match(warnings()[0]!.message, /expires on/);
  const deadline = Date.now() + 12_000;
  while (warnings().length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  renewer.stop();
  assert.equal(warnings().length, 2, JSON.stringify(events));
  assert.match(warnings()[1]!.message, /renewal keeps failing \(3 attempts\).*could not reach/);
  assert.ok(!events.some((e) => e.type === 'certificate-renewed'));
  fs.rmSync(dir, { recursive: true, force: true });
});

test('a renewal interrupted between its two renames never leaves a mismatched key and certificate', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-swap-'));
  const { ca } = await shortLivedCredentials(dir, 3600);
  const next = await generateKeyAndCsr('c-test');
  const signed = await signConnectorCsr(ca, next.csrPem, { connectorId: 'c-test', tenantId: 't-test', location: '' });
  const sub = path.join(dir, 'subaccounts', 't-test');
  // Simulate a crash after the certificate moved but before the key did.
  await swapInRenewed(dir, 't-test', next.keyPem, signed.certPem);
  fs.renameSync(path.join(sub, 'key.pem'), path.join(sub, 'key.pem.next'));
  fs.writeFileSync(path.join(sub, 'key.pem'), 'stale key that no longer matches\n');
  const creds = readCredentials(dir, 't-test');
  assert.equal(creds.keyPem, next.keyPem, 'the matching new key is completed into place');
  assert.equal(fs.existsSync(path.join(sub, 'key.pem.next')), false);
  fs.rmSync(dir, { recursive: true, force: true });
});
