/**
 * WebSocket through relay and connector: a cloud app upgrades through the
 * relay's HTTP proxy (absolute form, app token), the connector lets the
 * upgrade through only on resources marked `--websocket`, and then the
 * connection is a plain byte pipe both ways that closes end to end.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import type net from 'node:net';
import { randomBytes } from 'node:crypto';
import { WebSocketServer } from 'ws';
import {
  cleanupAll,
  ERP,
  header,
  onCleanup,
  openWsThroughProxy,
  rawHttp,
  refusalProblems,
  setupSite,
  show,
  waitFor,
  type Site,
  type WsOutcome,
} from './harness.js';

after(cleanupAll);

interface WsBackend {
  port: number;
  /** Request target of every upgrade request that reached the back end. */
  upgrades: Array<{ url: string; headers: http.IncomingHttpHeaders }>;
  /** Request target of every ordinary HTTP request. */
  requests: string[];
  /** The back end's side of each accepted WebSocket, with when its TCP socket closed and the close code it saw. */
  connections: Array<{ url: string; socket: net.Socket; closedAt?: number; closeCode?: number }>;
  reset(): void;
}

/** An echo server: every message comes back as sent (text as text, binary as binary); it greets each new client first. */
async function startWsBackend(): Promise<WsBackend> {
  const upgrades: WsBackend['upgrades'] = [];
  const requests: string[] = [];
  const connections: WsBackend['connections'] = [];
  const server = http.createServer((req, res) => {
    requests.push(req.url ?? '');
    const body = `plain answer for ${req.url}`;
    res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  // Registered before ws's own listener, so every upgrade is seen even if ws rejected it.
  server.on('upgrade', (req: http.IncomingMessage) => upgrades.push({ url: req.url ?? '', headers: req.headers }));
  const wss = new WebSocketServer({ server, maxPayload: 64 * 1024 * 1024, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    const entry: WsBackend['connections'][number] = { url: req.url ?? '', socket: req.socket };
    connections.push(entry);
    req.socket.on('close', () => (entry.closedAt = Date.now()));
    ws.on('close', (code) => (entry.closeCode = code));
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
    ws.send(`hello ${req.url}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('WebSocket back end has no port');
  onCleanup(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    port: addr.port,
    upgrades,
    requests,
    connections,
    reset() {
      upgrades.length = 0;
      requests.length = 0;
      connections.length = 0;
    },
  };
}

function describeOutcome(o: WsOutcome): string {
  if (o.ws) return 'opened (101)';
  if (o.error) return `error: ${o.error}`;
  return `status ${o.status} [Skybridge-Error: ${o.headers?.['skybridge-error']?.[0]}] body ${JSON.stringify(o.body)}`;
}

/** Refusals seen by the ws client, in the shape refusalProblems() checks. */
function asResponse(o: WsOutcome): { status: number; headers: Record<string, string[]>; body: string } {
  return { status: o.status ?? 0, headers: o.headers ?? {}, body: o.body ?? '' };
}

describe('WebSocket through the tunnel', { timeout: 120_000 }, () => {
  let site: Site;
  let backend: WsBackend;

  const open = (urlPath: string, token: string | null = site.token) => openWsThroughProxy(site.relay.proxyPort, ERP, urlPath, token);

  before(
    async () => {
      backend = await startWsBackend();
      site = await setupSite({
        systems: [
          {
            virtual: ERP,
            internalPort: backend.port,
            resources: [
              { path: '/ws', websocket: true },
              { path: '/plain', subPaths: true },
            ],
          },
        ],
      });
    },
    { timeout: 60_000 },
  );

  test('an upgrade on a --websocket resource opens; text and a 1 MB binary message echo intact both ways', { timeout: 30_000 }, async () => {
    backend.reset();
    const o = await open('/ws');
    assert.ok(o.ws, `upgrade through the proxy should give 101: ${describeOutcome(o)}`);
    const ws = o.ws;

    const greeting = await o.inbox.next();
    assert.equal(greeting.data.toString(), 'hello /ws', 'the back end can speak first (back end → cloud app)');
    assert.equal(greeting.isBinary, false);

    const texts = ['one', 'zwei', 'trois ✓', 'x'.repeat(70_000)];
    for (const t of texts) ws.send(t);
    for (const t of texts) {
      const m = await o.inbox.next();
      assert.equal(m.isBinary, false, 'a text message comes back as text');
      assert.equal(m.data.toString('utf8'), t, 'text messages come back in order and unchanged');
    }

    const big = randomBytes(1024 * 1024);
    ws.send(big, { binary: true });
    const echoed = await o.inbox.next(20_000);
    assert.equal(echoed.isBinary, true, 'a binary message comes back as binary');
    assert.equal(echoed.data.length, big.length, 'the 1 MB message comes back whole');
    assert.ok(echoed.data.equals(big), 'the 1 MB message comes back byte for byte');

    // And once more after the big one, so the pipe is still in step.
    ws.send('after');
    assert.equal((await o.inbox.next()).data.toString(), 'after');

    assert.deepEqual(
      backend.upgrades.map((u) => u.url),
      ['/ws'],
      'the back end saw exactly one upgrade, on /ws',
    );
    const seen = backend.upgrades[0]!.headers;
    assert.equal(seen.upgrade?.toLowerCase(), 'websocket');
    assert.equal(seen.host, ERP, 'Host is the virtual host:port, as for plain HTTP');
    assert.equal(seen['proxy-authorization'], undefined, 'Proxy-Authorization leaked to the back end');
    ws.close();
  });

  test('a clean close from the cloud app reaches the back end with its close code', { timeout: 20_000 }, async () => {
    backend.reset();
    const o = await open('/ws');
    assert.ok(o.ws, describeOutcome(o));
    await o.inbox.next(); // greeting
    const closed = new Promise<number>((resolve) => o.ws!.once('close', (code) => resolve(code)));
    o.ws.close(4001, 'bye');
    const code = await closed;
    assert.equal(code, 4001, 'the back end echoes the close frame, which must come back to the client');
    await waitFor(() => backend.connections[0]?.closeCode !== undefined, 5000, 'back end to see the close');
    assert.equal(backend.connections[0]!.closeCode, 4001, 'the back end got the cloud app close code');
    await waitFor(() => backend.connections[0]?.closedAt !== undefined, 5000, 'back-end TCP socket to close');
  });

  test('a cloud app that drops its connection (no close frame) has the back-end socket closed within a few seconds', { timeout: 20_000 }, async () => {
    backend.reset();
    const o = await open('/ws');
    assert.ok(o.ws, describeOutcome(o));
    await o.inbox.next(); // greeting: the back end's socket is certainly open now
    assert.equal(backend.connections.length, 1);
    const dropped = Date.now();
    o.ws.terminate(); // destroys the TCP socket to the proxy; nothing else tells the back end
    await waitFor(() => backend.connections[0]?.closedAt !== undefined, 5000, 'the back-end socket to close after the cloud app dropped');
    const took = backend.connections[0]!.closedAt! - dropped;
    assert.ok(took < 5000, `back-end socket closed ${took} ms after the client dropped`);
  });

  test('an upgrade on a resource without --websocket is refused with 403 and never reaches the back end', { timeout: 20_000 }, async () => {
    backend.reset();
    const o = await open('/plain/chat');
    assert.equal(o.ws, undefined, 'the upgrade must not succeed');
    assert.deepEqual(refusalProblems(asResponse(o), 403, 'ACCESS_DENIED', ERP), [], describeOutcome(o));
    assert.match(o.body ?? '', /websocket/i, 'the refusal says the WebSocket upgrade is what is not allowed');
    assert.deepEqual(backend.upgrades, [], 'the refused upgrade reached the back end');
    assert.deepEqual(backend.requests, [], 'the refused upgrade reached the back end as a plain request');
    // The same path as plain HTTP is allowed: the refusal is about the upgrade only.
    const plain = await site.proxyCurl([`http://${ERP}/plain/chat`]);
    assert.equal(plain.status, 200, show(plain));
    assert.equal(plain.body.toString(), 'plain answer for /plain/chat');
  });

  test('an upgrade without an app token gets 407 with Proxy-Authenticate; a wrong token too; neither reaches the back end', { timeout: 20_000 }, async () => {
    backend.reset();
    const none = await open('/ws', null);
    assert.equal(none.ws, undefined, 'an upgrade without a token must not succeed');
    assert.deepEqual(refusalProblems(asResponse(none), 407, 'PROXY_AUTH_REQUIRED'), [], describeOutcome(none));
    assert.ok(header(asResponse(none), 'proxy-authenticate'), '407 should carry Proxy-Authenticate');
    const wrong = await open('/ws', 'skb_not-a-real-token-0000000000');
    assert.equal(wrong.ws, undefined, 'an upgrade with a wrong token must not succeed');
    assert.equal(wrong.status, 407, describeOutcome(wrong));
    assert.deepEqual(backend.upgrades, []);
  });

  test('an upgrade to another protocol than websocket is refused with 403, even on a --websocket resource', { timeout: 20_000 }, async () => {
    backend.reset();
    const r = await rawHttp(
      site.relay.proxyPort,
      `GET http://${ERP}/ws HTTP/1.1\r\nHost: ${ERP}\r\nProxy-Authorization: Bearer ${site.token}\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n`,
    );
    assert.notEqual(r.status, 101, `an h2c upgrade was switched: ${r.raw.slice(0, 300)}`);
    assert.equal(r.status, 403, r.raw.slice(0, 300));
    assert.deepEqual(backend.upgrades, []);
  });
});
