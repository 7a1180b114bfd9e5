/**
 * A cloud app calls an internal HTTP system through relay + connector with real
 * `curl -x`: bodies intact both ways, and every refusal is the one the contract names.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createReadStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  blob,
  cleanupAll,
  curl,
  ERP,
  freePort,
  header,
  refusalProblems,
  setupSite,
  sha256,
  show,
  tempDir,
  type Site,
} from './harness.js';

const MB50 = 50 * 1024 * 1024;
const CRM = 'crm.virtual:8080';
const DOWN = 'down.virtual:80';
const SLOW = 'slow.virtual:80';

function fileSha256(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(file)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });
}

after(cleanupAll);

describe('HTTP through the tunnel', { timeout: 240_000 }, () => {
  let site: Site;
  let uploadFile: string;
  let uploadSha: string;

  before(
    async () => {
      const closedPort = await freePort();
      site = await setupSite({
        systems: [
          {
            virtual: ERP,
            resources: [
              { path: '/api', subPaths: true },
              { path: '/readonly', subPaths: true, methods: ['GET'] },
            ],
          },
          { virtual: CRM, hostHeader: 'internal', resources: [{ path: '/api', subPaths: true }] },
          { virtual: DOWN, internalPort: closedPort, resources: [{ path: '/', subPaths: true }] },
          { virtual: SLOW, responseTimeoutMs: 1000, resources: [{ path: '/', subPaths: true }] },
        ],
      });
      const dir = await tempDir();
      uploadFile = path.join(dir, 'upload.bin');
      const data = blob(MB50);
      await writeFile(uploadFile, data);
      uploadSha = sha256(data);
    },
    { timeout: 60_000 },
  );

  test('an allowed GET returns the back end answer intact, query included', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const r = await site.proxyCurl([`http://${ERP}/api/orders/42?expand=items&x=1`]);
    assert.equal(r.status, 200, show(r));
    const echo = JSON.parse(r.body.toString()) as { method: string; url: string };
    assert.equal(echo.method, 'GET');
    assert.equal(echo.url, '/api/orders/42?expand=items&x=1', 'the back end should get the origin-form path and query unchanged');
    assert.equal(site.backend.requests.length, 1, 'exactly one request reaches the back end');
  });

  test('a 50 MB upload with Content-Length arrives intact (SHA-256 on the back end)', { timeout: 90_000 }, async () => {
    site.backend.reset();
    const r = await site.proxyCurl(['-X', 'POST', '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${uploadFile}`, `http://${ERP}/api/upload`], { timeoutMs: 80_000 });
    assert.equal(r.status, 200, show(r));
    const echo = JSON.parse(r.body.toString()) as { bodyLength: number; bodySha256: string };
    assert.equal(echo.bodyLength, MB50, 'back end received the whole body');
    assert.equal(echo.bodySha256, uploadSha, 'back end received the same bytes');
  });

  test('a 50 MB chunked upload arrives intact (SHA-256 on the back end)', { timeout: 90_000 }, async () => {
    site.backend.reset();
    const r = await site.proxyCurl(
      ['-X', 'POST', '-H', 'Transfer-Encoding: chunked', '-H', 'Content-Type: application/octet-stream', '--data-binary', `@${uploadFile}`, `http://${ERP}/api/upload`],
      { timeoutMs: 80_000 },
    );
    assert.equal(r.status, 200, show(r));
    const echo = JSON.parse(r.body.toString()) as { bodyLength: number; bodySha256: string };
    assert.equal(echo.bodyLength, MB50, 'back end received the whole body');
    assert.equal(echo.bodySha256, uploadSha, 'back end received the same bytes');
  });

  test('a 50 MB download with Content-Length arrives intact (SHA-256 on the client)', { timeout: 90_000 }, async () => {
    const r = await site.proxyCurl([`http://${ERP}/api/download?size=${MB50}`], { timeoutMs: 80_000, keepBodyOnDisk: true });
    assert.equal(r.status, 200, `status ${r.status}, curl: ${r.stderr}`);
    assert.equal(header(r, 'content-length'), String(MB50), 'Content-Length is passed on');
    assert.equal(await fileSha256(r.bodyFile), sha256(blob(MB50)), 'client received the same bytes');
  });

  test('a 50 MB chunked download arrives intact (SHA-256 on the client)', { timeout: 90_000 }, async () => {
    const r = await site.proxyCurl([`http://${ERP}/api/download?size=${MB50}&chunked=1`], { timeoutMs: 80_000, keepBodyOnDisk: true });
    assert.equal(r.status, 200, `status ${r.status}, curl: ${r.stderr}`);
    assert.equal(await fileSha256(r.bodyFile), sha256(blob(MB50)), 'client received the same bytes');
  });

  test('a path outside the resources is refused with 403 naming the system, and never reaches the back end', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const r = await site.proxyCurl([`http://${ERP}/admin/users`]);
    assert.deepEqual(refusalProblems(r, 403, 'ACCESS_DENIED', ERP), [], show(r));
    assert.equal(site.backend.requests.length, 0);
  });

  test('an unmapped virtual system is refused with 403 naming it', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const r = await site.proxyCurl(['http://other.virtual:8000/api/x']);
    assert.deepEqual(refusalProblems(r, 403, 'ACCESS_DENIED', 'other.virtual:8000'), [], show(r));
    assert.equal(site.backend.requests.length, 0);
  });

  test('a method outside the resource method list is refused with 403; a listed one passes', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const post = await site.proxyCurl(['-X', 'POST', '--data-binary', 'x=1', `http://${ERP}/readonly/doc`]);
    assert.deepEqual(refusalProblems(post, 403, undefined, ERP), [], show(post));
    const del = await site.proxyCurl(['-X', 'DELETE', `http://${ERP}/readonly/doc`]);
    assert.equal(del.status, 403, show(del));
    assert.equal(site.backend.requests.length, 0, 'refused methods never reach the back end');
    const get = await site.proxyCurl([`http://${ERP}/readonly/doc`]);
    assert.equal(get.status, 200, show(get));
  });

  test('no token and a wrong token get 407 and never reach the back end', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const none = await site.proxyCurl([`http://${ERP}/api/x`], { token: null });
    assert.deepEqual(refusalProblems(none, 407, 'PROXY_AUTH_REQUIRED'), [], show(none));
    assert.ok(header(none, 'proxy-authenticate'), '407 should carry Proxy-Authenticate (RFC 9110 §11.7.1)');
    const wrong = await site.proxyCurl([`http://${ERP}/api/x`], { token: 'skb_not-a-real-token-0000000000' });
    assert.deepEqual(refusalProblems(wrong, 407, 'PROXY_AUTH_REQUIRED'), [], show(wrong));
    const basic = await site.proxyCurl(['--proxy-header', 'Proxy-Authorization: Basic dXNlcjpwYXNz', `http://${ERP}/api/x`], { token: null });
    assert.equal(basic.status, 407, `Basic credentials are not an app token: ${show(basic)}`);
    assert.equal(site.backend.requests.length, 0);
  });

  test('the app token given as an origin Authorization header is not accepted as proxy credentials', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const r = await site.proxyCurl(['-H', `Authorization: Bearer ${site.token}`, `http://${ERP}/api/x`], { token: null });
    assert.equal(r.status, 407, show(r));
    assert.equal(site.backend.requests.length, 0);
  });

  test('end-to-end headers reach the back end; proxy-only headers do not; Host is the virtual one by default', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const r = await site.proxyCurl([
      '-H', 'Proxy-Connection: keep-alive',
      '-H', 'X-Skybridge-Location;', // empty value = the default location
      '-H', 'Authorization: Basic dXNlcjpwYXNz',
      '-H', 'X-Custom-Thing: 42',
      `http://${ERP}/api/headers`,
    ]);
    assert.equal(r.status, 200, show(r));
    const seen = site.backend.requests[0]?.headers ?? {};
    assert.equal(seen['proxy-authorization'], undefined, 'Proxy-Authorization leaked to the back end');
    assert.equal(seen['proxy-connection'], undefined, 'Proxy-Connection leaked to the back end');
    assert.equal(seen['x-skybridge-location'], undefined, 'X-Skybridge-Location leaked to the back end');
    assert.equal(seen['authorization'], 'Basic dXNlcjpwYXNz', 'Authorization is end-to-end and must reach the back end');
    assert.equal(seen['x-custom-thing'], '42');
    assert.equal(seen['host'], ERP, 'Host should be the virtual host:port');
    const leaked = Object.values(seen).flat().filter((v) => typeof v === 'string' && v.includes(site.token));
    assert.deepEqual(leaked, [], 'the app token reached the back end');
  });

  test('with --host-header internal the back end sees its own host:port and X-Forwarded-Host carries the virtual one', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const r = await site.proxyCurl([`http://${CRM}/api/who`]);
    assert.equal(r.status, 200, show(r));
    const seen = site.backend.requests[0]?.headers ?? {};
    assert.equal(seen['host'], `127.0.0.1:${site.backend.port}`);
    assert.equal(seen['x-forwarded-host'], CRM);
  });

  test('a redirect to the internal address comes back as the virtual one', { timeout: 20_000 }, async () => {
    const r = await site.proxyCurl([`http://${ERP}/api/redirect`]);
    assert.equal(r.status, 302, show(r));
    assert.equal(header(r, 'location'), `http://${ERP}/api/target?from=redirect`);
  });

  test('an unreachable back end gives 502 with a sentence', { timeout: 30_000 }, async () => {
    const r = await site.proxyCurl([`http://${DOWN}/anything`]);
    assert.deepEqual(refusalProblems(r, 502, 'BACKEND_UNREACHABLE'), [], show(r));
  });

  test('a back end slower than the response timeout gives 504, in about that time', { timeout: 30_000 }, async () => {
    const r = await site.proxyCurl([`http://${SLOW}/slow?ms=8000`], { timeoutMs: 20_000 });
    assert.deepEqual(refusalProblems(r, 504, 'BACKEND_TIMEOUT'), [], show(r));
    assert.ok(r.timeMs < 6000, `504 took ${r.timeMs} ms with a 1000 ms response timeout`);
    const fast = await site.proxyCurl([`http://${SLOW}/slow?ms=10`]);
    assert.equal(fast.status, 200, `a quick answer on the same system passes: ${show(fast)}`);
  });

  test('several requests on one keep-alive client connection all succeed', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const r = await site.proxyCurl([`http://${ERP}/api/a`, '--next', ...proxyArgs(site), `http://${ERP}/api/b`]);
    assert.equal(r.exitCode, 0, r.stderr);
    assert.deepEqual(
      site.backend.requests.map((q) => q.url),
      ['/api/a', '/api/b'],
    );
  });
});

/** curl's `--next` resets options, so the second URL needs the proxy options again. */
function proxyArgs(site: Site): string[] {
  return ['-sS', '-o', '/dev/null', '-x', `http://127.0.0.1:${site.relay.proxyPort}`, '--proxy-header', `Proxy-Authorization: Bearer ${site.token}`];
}

describe('location headers', { timeout: 60_000 }, () => {
  let site: Site;
  before(async () => {
    site = await setupSite({ location: 'plant1' });
  }, { timeout: 60_000 });

  test('both location headers choose the connector and neither reaches the back end', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const viaX = await site.proxyCurl([`http://${ERP}/api/x`]); // proxyCurl sends X-Skybridge-Location: plant1
    assert.equal(viaX.status, 200, show(viaX));
    const proxy = `http://127.0.0.1:${site.relay.proxyPort}`;
    const viaSap = await curl(['-x', proxy, '--proxy-header', `Proxy-Authorization: Bearer ${site.token}`, '-H', 'SAP-Connectivity-SCC-Location_ID: plant1', `http://${ERP}/api/y`]);
    assert.equal(viaSap.status, 200, show(viaSap));
    for (const q of site.backend.requests) {
      assert.equal(q.headers['x-skybridge-location'], undefined, `X-Skybridge-Location leaked on ${q.url}`);
      assert.equal(q.headers['sap-connectivity-scc-location_id'], undefined, `SAP-Connectivity-SCC-Location_ID leaked on ${q.url}`);
    }
    const other = await curl(['-x', proxy, '--proxy-header', `Proxy-Authorization: Bearer ${site.token}`, '-H', 'X-Skybridge-Location: plant2', `http://${ERP}/api/z`]);
    assert.deepEqual(refusalProblems(other, 503, 'NO_CONNECTOR'), [], `a location with no connector: ${show(other)}`);
    const none = await curl(['-x', proxy, '--proxy-header', `Proxy-Authorization: Bearer ${site.token}`, `http://${ERP}/api/z`]);
    assert.equal(none.status, 503, `the default (empty) location has no connector here: ${show(none)}`);
    assert.equal(site.backend.requests.length, 2);
  });
});
