/**
 * HTTPS back ends: the connector verifies the internal system's certificate
 * (system trust store plus the mapping's `--ca-file`), so a private CA works
 * only where it is given, and a certificate for another name never does.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import https from 'node:https';
import { readFile } from 'node:fs/promises';
import { WebSocketServer } from 'ws';
import {
  blob,
  cleanupAll,
  cliOk,
  header,
  issueCert,
  makeRootCa,
  onCleanup,
  openWsThroughProxy,
  refusalProblems,
  setupSite,
  sha256,
  show,
  tempDir,
  type Site,
  type TestCert,
} from './harness.js';

after(cleanupAll);

const SECURE = 'secure.virtual:443';
const NO_CA = 'noca.virtual:443';
const WRONG_NAME = 'wrongname.virtual:443';
const BLOB_SIZE = 256 * 1024;

interface HttpsBackend {
  port: number;
  /** Request line targets that reached the server (only after a completed TLS handshake). */
  requests: Array<{ method: string; url: string; host: string | undefined }>;
  /** Paths of WebSocket upgrades the server accepted. */
  sockets: string[];
}

/** An https server on 127.0.0.1 with the given certificate: `/files/blob` sends blob(BLOB_SIZE), anything else echoes as JSON. */
async function startHttpsBackend(cert: TestCert): Promise<HttpsBackend> {
  const requests: HttpsBackend['requests'] = [];
  const sockets: string[] = [];
  const server = https.createServer({ key: await readFile(cert.keyFile), cert: await readFile(cert.chainFile) }, (req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host });
    let length = 0;
    req.on('data', (d: Buffer) => (length += d.length));
    req.on('end', () => {
      if (req.url === '/files/blob') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(BLOB_SIZE) });
        res.end(blob(BLOB_SIZE));
        return;
      }
      const body = JSON.stringify({ method: req.method, url: req.url, host: req.headers.host, bodyLength: length, tls: true });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) });
      res.end(body);
    });
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: false });
  wss.on('connection', (ws, req) => {
    sockets.push(req.url ?? '');
    ws.on('error', () => undefined);
    ws.on('message', (data, isBinary) => ws.send(data as Buffer, { binary: isBinary }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('https back end has no port');
  onCleanup(async () => {
    for (const c of wss.clients) c.terminate();
    wss.close();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: addr.port, requests, sockets };
}

describe('HTTPS back ends', { timeout: 120_000 }, () => {
  let site: Site;
  let good: HttpsBackend;
  let misnamed: HttpsBackend;

  before(
    async () => {
      const dir = await tempDir('skybridge-pki-');
      const ca = await makeRootCa(dir, 'backend-ca');
      good = await startHttpsBackend(await issueCert(dir, 'erp', ca, { san: ['IP:127.0.0.1'] }));
      misnamed = await startHttpsBackend(await issueCert(dir, 'other', ca, { san: ['DNS:other.example'], cn: 'other.example' }));

      site = await setupSite({ systems: [], noAgent: true });
      const add = async (virtual: string, port: number, caFile: string | undefined, resources: Array<{ path: string; websocket?: boolean }>) => {
        const args = ['agent', 'system', 'add', '--data-dir', site.agentDir, '--virtual', virtual, '--internal', `127.0.0.1:${port}`, '--protocol', 'https'];
        if (caFile) args.push('--ca-file', caFile);
        await cliOk(args);
        for (const r of resources) {
          const rargs = ['agent', 'resource', 'add', '--data-dir', site.agentDir, '--system', virtual, '--path', r.path, '--sub-paths'];
          if (r.websocket) rargs.push('--websocket');
          await cliOk(rargs);
        }
      };
      await add(SECURE, good.port, ca.certFile, [{ path: '/files' }, { path: '/api' }, { path: '/ws', websocket: true }]);
      await add(NO_CA, good.port, undefined, [{ path: '/files' }]);
      await add(WRONG_NAME, misnamed.port, ca.certFile, [{ path: '/files' }]);
      await site.startAgent();
    },
    { timeout: 60_000 },
  );

  test('with --ca-file the back end certificate verifies: GET and POST pass, bodies intact', { timeout: 20_000 }, async () => {
    good.requests.length = 0;
    const r = await site.proxyCurl([`http://${SECURE}/files/blob`]);
    assert.equal(r.status, 200, show(r));
    assert.equal(r.body.length, BLOB_SIZE, 'the whole body arrives');
    assert.equal(sha256(r.body), sha256(blob(BLOB_SIZE)), 'the body arrives byte for byte');
    assert.equal(header(r, 'skybridge-error'), undefined);

    const post = await site.proxyCurl(['-X', 'POST', '--data-binary', 'a=1&b=2', `http://${SECURE}/api/orders?x=1`]);
    assert.equal(post.status, 200, show(post));
    const echo = JSON.parse(post.body.toString()) as { method: string; url: string; host: string; bodyLength: number };
    assert.deepEqual(echo, { method: 'POST', url: '/api/orders?x=1', host: SECURE, bodyLength: 7, tls: true });
    assert.equal(good.requests.length, 2, 'both requests reached the https back end');
  });

  test('without --ca-file the same back end is refused with 502 naming TLS verification, and serves nothing', { timeout: 20_000 }, async () => {
    // A verified connection to this very host:port is pooled now; it must not be reused for a mapping without the CA.
    const warm = await site.proxyCurl([`http://${SECURE}/files/blob`]);
    assert.equal(warm.status, 200, show(warm));
    good.requests.length = 0;
    const r = await site.proxyCurl([`http://${NO_CA}/files/blob`]);
    assert.deepEqual(refusalProblems(r, 502, 'BACKEND_UNREACHABLE', NO_CA), [], show(r));
    assert.match(r.body.toString(), /TLS|certificate/i, `the 502 should say certificate verification failed: ${show(r)}`);
    assert.deepEqual(good.requests, [], 'the request was served over an unverified connection');
  });

  test('a back end whose certificate names another host is refused with 502 even with the right CA', { timeout: 20_000 }, async () => {
    misnamed.requests.length = 0;
    const r = await site.proxyCurl([`http://${WRONG_NAME}/files/blob`]);
    assert.deepEqual(refusalProblems(r, 502, 'BACKEND_UNREACHABLE', WRONG_NAME), [], show(r));
    assert.match(r.body.toString(), /TLS|certificate|altname|other\.example/i, `the 502 should say the certificate does not fit: ${show(r)}`);
    assert.deepEqual(misnamed.requests, [], 'the request reached a back end whose certificate names another host');
  });

  test('a WebSocket to an https back end verifies it with --ca-file and echoes', { timeout: 20_000 }, async () => {
    good.sockets.length = 0;
    const o = await openWsThroughProxy(site.relay.proxyPort, SECURE, '/ws/feed', site.token);
    assert.ok(o.ws, `upgrade to an https back end should give 101: ${o.error ?? `status ${o.status} ${o.body}`}`);
    o.ws.send('over tls');
    const m = await o.inbox.next();
    assert.equal(m.data.toString(), 'over tls');
    assert.deepEqual(good.sockets, ['/ws/feed']);
    o.ws.close();
  });
});
