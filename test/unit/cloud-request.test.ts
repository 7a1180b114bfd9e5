import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { cloudResponseHeaders, tunnelRequestHeaders } from '../../relay/cloud-request.js';
import type { App } from '../../relay/store.js';

const app: App = { id: 'a-1', tenantId: 't-1', tenantName: 'acme', name: 'invoicing', createdAt: '2026-01-01T00:00:00Z' };
const target = { ok: true as const, host: 'erp.virtual', port: 443, pathAndQuery: '/api/../x?q=1' };

function fakeRequest(method: string, raw: string[]): IncomingMessage {
  const headers: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) headers[raw[i]!.toLowerCase()] = raw[i + 1]!;
  return { method, rawHeaders: raw, headers } as unknown as IncomingMessage;
}

test('proxy-only, hop-by-hop and spoofed metadata headers never go down the tunnel', () => {
  const req = fakeRequest('POST', [
    'Host', 'erp.virtual:443',
    'Proxy-Authorization', 'Bearer sbt_secret',
    'Proxy-Connection', 'keep-alive',
    'Connection', 'keep-alive, X-Drop-Me',
    'X-Drop-Me', '1',
    'X-Skybridge-Location', 'berlin',
    'SAP-Connectivity-SCC-Location_ID', 'berlin',
    'Skybridge-App', 'forged-app',
    'skybridge-request-id', 'forged-id',
    'Transfer-Encoding', 'chunked',
    'Expect', '100-continue',
    'Accept', 'application/json',
    'Cookie', 'a=1',
    'Cookie', 'b=2',
  ]);
  const h = tunnelRequestHeaders(req, target, app, 'req-123');
  for (const gone of ['host', 'proxy-authorization', 'proxy-connection', 'connection', 'x-drop-me', 'x-skybridge-location', 'sap-connectivity-scc-location_id', 'transfer-encoding', 'expect']) {
    assert.equal(h[gone], undefined, `${gone} must not be forwarded`);
  }
  assert.equal(h['skybridge-app'], 'invoicing', 'the relay sets the app name, the client cannot');
  assert.equal(h['skybridge-request-id'], 'req-123');
  assert.equal(h['skybridge-app-id'], 'a-1');
  assert.equal(h.accept, 'application/json');
  assert.deepEqual(h.cookie, ['a=1', 'b=2']);
  assert.equal(h[':path'], '/api/../x?q=1', 'the raw target goes to the connector unchanged, to be judged there');
  assert.equal(h[':authority'], 'erp.virtual:443');
  assert.equal(h[':method'], 'POST');
});

test('tunnel responses lose pseudo, hop-by-hop and internal headers before reaching the cloud app', () => {
  const out = cloudResponseHeaders({
    ':status': '200',
    'content-type': 'text/plain',
    'transfer-encoding': 'chunked',
    'skybridge-timing': 'connect=1;response=2',
    'skybridge-upgraded': '101',
    'skybridge-error': 'ACCESS_DENIED',
    'set-cookie': ['a=1', 'b=2'],
  });
  assert.deepEqual(out, { 'content-type': 'text/plain', 'skybridge-error': 'ACCESS_DENIED', 'set-cookie': ['a=1', 'b=2'] });
});
