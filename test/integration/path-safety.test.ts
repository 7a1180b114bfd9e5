/**
 * Deny by default: ambiguous paths and malformed or ambiguous requests never
 * reach the back end. Paths go through real curl with --path-as-is; what curl
 * refuses to send goes over a raw socket to the proxy port.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, ERP, header, rawHttp, setupSite, show, sleep, type RawResponse, type Site } from './harness.js';

after(cleanupAll);

function rawShow(r: RawResponse): string {
  return `status ${r.status}, Skybridge-Error ${header(r, 'skybridge-error') ?? '(none)'}, response ${JSON.stringify(r.raw.slice(0, 400))}`;
}

describe('path safety against a resource /api with sub-paths', { timeout: 180_000 }, () => {
  let site: Site;
  before(async () => {
    site = await setupSite({ systems: [{ virtual: ERP, resources: [{ path: '/api', subPaths: true }] }] });
  }, { timeout: 60_000 });

  test('control: /api, /api/x and a query containing dots do reach the back end', { timeout: 20_000 }, async () => {
    site.backend.reset();
    for (const p of ['/api', '/api/orders/1', '/api/x?next=../admin&p=%2e%2e']) {
      const r = await site.proxyCurl(['--path-as-is', `http://${ERP}${p}`]);
      assert.equal(r.status, 200, `${p}: ${show(r)}`);
    }
    assert.deepEqual(
      site.backend.requests.map((q) => q.url),
      ['/api', '/api/orders/1', '/api/x?next=../admin&p=%2e%2e'],
    );
  });

  const evil = [
    '/api/../admin',
    '/api/%2e%2e/admin',
    '/api/%2E%2E/admin',
    '/api/.%2e/admin',
    '/api/./admin',
    '/api/x/../../admin',
    '/api%2fadmin',
    '/api%2Fadmin',
    '/api/..%2fadmin',
    '/api%5c..%5cadmin',
    '//api',
    '//api/x',
    '/api-admin',
    '/apiadmin',
    '/API/x',
    '/api%00/x',
  ];
  for (const p of evil) {
    test(`${p} never reaches the back end`, { timeout: 20_000 }, async () => {
      site.backend.reset();
      const r = await site.proxyCurl(['--path-as-is', `http://${ERP}${p}`]);
      await sleep(100);
      assert.deepEqual(site.backend.requests.map((q) => q.url), [], `back end saw the request; client got ${show(r)}`);
      assert.ok(r.status === 400 || r.status === 403, `expected 400 or 403, got ${show(r)}`);
      assert.ok(header(r, 'skybridge-error'), `refusal without Skybridge-Error header: ${show(r)}`);
    });
  }

  test('a backslash path sent raw never reaches the back end', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const r = await rawHttp(site.relay.proxyPort, req('GET', `http://${ERP}/api\\..\\admin`, [], site.token));
    await sleep(200);
    assert.deepEqual(site.backend.requests, []);
    assert.ok(r.status >= 400 && r.status < 500, rawShow(r));
  });
});

function req(method: string, target: string, extra: string[], token: string, body = ''): string {
  return [`${method} ${target} HTTP/1.1`, `Host: ${ERP}`, `Proxy-Authorization: Bearer ${token}`, ...extra].join('\r\n') + '\r\n\r\n' + body;
}

describe('malformed and ambiguous requests', { timeout: 180_000 }, () => {
  let site: Site;
  before(async () => {
    site = await setupSite({ systems: [{ virtual: ERP, resources: [{ path: '/api', subPaths: true }] }] });
  }, { timeout: 60_000 });

  test('control: a well-formed raw request passes', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const r = await rawHttp(site.relay.proxyPort, req('POST', `http://${ERP}/api/x`, ['Content-Length: 5'], site.token, 'hello'));
    assert.equal(r.status, 200, rawShow(r));
    assert.equal(site.backend.requests[0]?.bodyLength, 5);
  });

  test('Content-Length and Transfer-Encoding together: 400, and neither request of a smuggling attempt reaches the back end', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const smuggled = req('GET', `http://${ERP}/api/smuggled`, [], site.token);
    const body = `0\r\n\r\n${smuggled}`;
    const r = await rawHttp(
      site.relay.proxyPort,
      req('POST', `http://${ERP}/api/x`, [`Content-Length: ${body.length}`, 'Transfer-Encoding: chunked'], site.token, body),
    );
    await sleep(500);
    assert.deepEqual(site.backend.requests.map((q) => q.url), [], `back end saw requests; client got ${rawShow(r)}`);
    assert.equal(r.status, 400, rawShow(r));
    assert.equal(header(r, 'skybridge-error'), 'BAD_REQUEST', rawShow(r));
    assert.ok((header(r, 'content-type') ?? '').startsWith('text/plain'), rawShow(r));
    assert.ok(!/HTTP\/1\.1 200/.test(r.raw), 'a second (smuggled) response came back');
  });

  test('Transfer-Encoding first, then Content-Length: 400', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const r = await rawHttp(
      site.relay.proxyPort,
      req('POST', `http://${ERP}/api/x`, ['Transfer-Encoding: chunked', 'Content-Length: 3'], site.token, '5\r\nhello\r\n0\r\n\r\n'),
    );
    await sleep(300);
    assert.deepEqual(site.backend.requests, []);
    assert.equal(r.status, 400, rawShow(r));
  });

  test('duplicate Content-Length (equal values): 400, back end sees nothing', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const r = await rawHttp(site.relay.proxyPort, req('POST', `http://${ERP}/api/x`, ['Content-Length: 5', 'Content-Length: 5'], site.token, 'hello'));
    await sleep(300);
    assert.deepEqual(site.backend.requests, []);
    assert.equal(r.status, 400, rawShow(r));
    assert.equal(header(r, 'skybridge-error'), 'BAD_REQUEST', rawShow(r));
  });

  test('duplicate Content-Length (different values): 400, back end sees nothing', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const r = await rawHttp(site.relay.proxyPort, req('POST', `http://${ERP}/api/x`, ['Content-Length: 5', 'Content-Length: 2'], site.token, 'hello'));
    await sleep(300);
    assert.deepEqual(site.backend.requests, []);
    assert.equal(r.status, 400, rawShow(r));
  });

  test('headers over 64 KB: 400, back end sees nothing', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const big = 'x'.repeat(70 * 1024);
    const r = await rawHttp(site.relay.proxyPort, req('GET', `http://${ERP}/api/x`, [`X-Big: ${big}`], site.token));
    await sleep(300);
    assert.deepEqual(site.backend.requests, []);
    assert.equal(r.status, 400, rawShow(r));
    assert.equal(header(r, 'skybridge-error'), 'BAD_REQUEST', rawShow(r));
  });

  test('headers well under 64 KB (32 KB) are accepted', { timeout: 20_000 }, async () => {
    site.backend.reset();
    const big = 'y'.repeat(32 * 1024);
    const r = await rawHttp(site.relay.proxyPort, req('GET', `http://${ERP}/api/x`, [`X-Big: ${big}`], site.token));
    assert.equal(r.status, 200, rawShow(r));
    assert.equal(site.backend.requests[0]?.headers['x-big'], big);
  });

  const badTargets = [
    `https://${ERP}/api/x`,
    'ftp://erp.virtual:443/api/x',
    'http://[zz]/api/x',
    'http:///api/x',
    'http://erp.virtual:99999/api/x',
  ];
  for (const target of badTargets) {
    test(`request target ${target}: 4xx, back end sees nothing`, { timeout: 20_000 }, async () => {
      site.backend.reset();
      const r = await rawHttp(site.relay.proxyPort, req('GET', target, [], site.token));
      await sleep(200);
      assert.deepEqual(site.backend.requests, []);
      assert.ok(r.status >= 400 && r.status < 500 && r.status !== 407, `expected a 4xx other than 407 with a valid token, got ${rawShow(r)}`);
    });
  }
});
