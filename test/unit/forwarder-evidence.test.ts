import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../common/logger.js';
import { systemSchema, type SystemMapping } from '../../shared/config.js';
import type { AgentEvent } from '../../shared/api.js';
import { MetaHeader } from '../../shared/tunnel.js';
import { BackendPools } from '../../electron/agent/backend-pool.js';
import { handleTunnelStream } from '../../electron/agent/forwarder.js';

type RequestEvent = Extract<AgentEvent, { type: 'request' }>;

let backend: http.Server;
let h2: http2.Http2Server;
let client: http2.ClientHttp2Session;
let systems: SystemMapping[];
const events: RequestEvent[] = [];
let hold: Promise<void> = Promise.resolve();
const pools = new BackendPools();

before(async () => {
  backend = http.createServer((req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => (n += c.length));
    req.on('end', () => {
      const body = JSON.stringify({ got: n });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  systems = [
    systemSchema.parse({
      virtualHost: 'erp.virtual',
      virtualPort: 443,
      internalHost: '127.0.0.1',
      internalPort: (backend.address() as AddressInfo).port,
      protocol: 'http',
      resources: [{ path: '/api', subPaths: true }],
    }),
  ];
  h2 = http2.createServer();
  h2.on('stream', (stream, headers) =>
    handleTunnelStream(stream, headers, {
      subaccountId: 'acme',
      systems: () => systems,
      pools,
      logger: silentLogger(),
      emit: (e) => {
        if (e.type === 'request') events.push(e);
      },
      beforeDenial: () => hold,
    }),
  );
  await new Promise<void>((r) => h2.listen(0, '127.0.0.1', r));
  client = http2.connect(`http://127.0.0.1:${(h2.address() as AddressInfo).port}`);
});

after(async () => {
  client.close();
  pools.destroy();
  await new Promise((r) => h2.close(r));
  await new Promise((r) => backend.close(r));
});

function send(path: string, body?: string): Promise<{ status: number; body: string; at: number }> {
  return new Promise((resolve, reject) => {
    const req = client.request({ ':method': body ? 'POST' : 'GET', ':path': path, ':authority': 'erp.virtual:443', [MetaHeader.AppName]: 'billing', [MetaHeader.RelayMs]: '0.75' });
    let status = 0;
    let text = '';
    req.on('response', (h) => (status = Number(h[':status'])));
    req.setEncoding('utf8');
    req.on('data', (d: string) => (text += d));
    req.on('end', () => resolve({ status, body: text, at: Date.now() }));
    req.on('error', reject);
    req.end(body);
  });
}

test('a denial is answered only after the audit hook says its entry is on disk', async () => {
  let release!: () => void;
  hold = new Promise<void>((r) => (release = r));
  const answered = send('/admin');
  const early = await Promise.race([answered.then(() => 'answered'), new Promise((r) => setTimeout(() => r('waiting'), 300))]);
  assert.equal(early, 'waiting', 'the 403 must wait for the audit write');
  const releasedAt = Date.now();
  release();
  const r = await answered;
  assert.equal(r.status, 403);
  assert.ok(r.at >= releasedAt);
  hold = Promise.resolve();
});

test('a failing audit write does not hold a denial forever', async () => {
  hold = Promise.reject(new Error('disk full'));
  hold.catch(() => undefined);
  const r = await send('/admin');
  assert.equal(r.status, 403);
  hold = Promise.resolve();
});

test('an allowed request reports where it went, the bytes each way and the timing split', async () => {
  events.length = 0;
  const r = await send('/api/orders?x=1', 'x'.repeat(1000));
  assert.equal(r.status, 200);
  const e = await new Promise<RequestEvent>((resolve) => {
    const poll = () => (events.length ? resolve(events[0]!) : setTimeout(poll, 10));
    poll();
  });
  assert.equal(e.outcome, 'allowed');
  assert.equal(e.path, '/api/orders');
  assert.equal(e.internalHost, '127.0.0.1');
  assert.equal(e.resource, '/api');
  assert.equal(e.bytesIn, 1000);
  assert.equal(e.bytesOut, r.body.length);
  assert.equal(e.timing?.relayMs, 0.75);
  assert.ok(e.timing!.backendMs! >= 0);
  assert.ok(e.timing!.totalMs >= e.durationMs + 0.75 - 0.01);
});
