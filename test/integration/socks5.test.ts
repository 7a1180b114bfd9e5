/**
 * The SOCKS5 proxy end to end: real relay and agent processes set up through
 * the CLI, real curl, raw SOCKS5 conversations that check each reply byte,
 * TCP back ends on loopback. What a cloud app sees (reply codes, data both
 * ways, half-close, timeouts, limits), what the internal network sees
 * (nothing, when a request is refused) and what gets recorded.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import net from 'node:net';
import { silentLogger } from '../../common/logger.js';
import { ConnectorAgent } from '../../electron/agent/agent.js';
import { pairAgent } from '../../electron/agent/pair.js';
import { startRelay as startRelayInProcess, SETTING_TRUST_ANCHOR_FP } from '../../relay/relay.js';
import type { AgentEvent } from '../../shared/api.js';
import {
  blob,
  cleanupAll,
  cliOk,
  onCleanup,
  curl,
  freePort,
  issueCert,
  makeRootCa,
  runCli,
  sha256,
  show,
  sleep,
  startBackend,
  tempDir,
  waitFor,
  type Backend,
  type TestCert,
} from './harness.js';
import {
  drain,
  rawSocks,
  setupTcpSite,
  socksConnect,
  startBannerServer,
  startEchoServer,
  startIdServerRange,
  startResetServer,
  writeAll,
  type TcpBackend,
  type TcpSite,
} from './tcp-harness.js';

after(cleanupAll);

const MB = 1024 * 1024;

describe('SOCKS5 proxy to TCP systems', { timeout: 240_000 }, () => {
  let site: TcpSite;
  let echo: TcpBackend;
  let banner: TcpBackend;
  let resetter: TcpBackend;
  let tlsEcho: TcpBackend;
  let untrustedTls: TcpBackend;
  let idRange: TcpBackend[];
  let web: Backend;
  let root: TestCert;
  let refusedPort: number;

  before(async () => {
    const pki = await tempDir('skybridge-tcp-pki-');
    root = await makeRootCa(pki, 'site-root');
    const leaf = await issueCert(pki, 'backend', root, { san: ['IP:127.0.0.1', 'DNS:localhost'] });
    const otherRoot = await makeRootCa(pki, 'other-root');
    const untrustedLeaf = await issueCert(pki, 'untrusted', otherRoot, { san: ['IP:127.0.0.1'] });
    echo = await startEchoServer();
    banner = await startBannerServer('hello from the back end\n');
    resetter = await startResetServer();
    tlsEcho = await startEchoServer({ tls: { certFile: leaf.certFile, keyFile: leaf.keyFile } });
    untrustedTls = await startEchoServer({ tls: { certFile: untrustedLeaf.certFile, keyFile: untrustedLeaf.keyFile } });
    idRange = await startIdServerRange(3);
    web = await startBackend();
    refusedPort = await freePort();
    const base = idRange[0]!.port;
    site = await setupTcpSite([
      { virtual: 'echo.virtual:7000', internal: `127.0.0.1:${echo.port}`, protocol: 'tcp' },
      { virtual: 'banner.virtual:7001', internal: `127.0.0.1:${banner.port}`, protocol: 'tcp' },
      { virtual: 'reset.virtual:7006', internal: `127.0.0.1:${resetter.port}`, protocol: 'tcp' },
      { virtual: 'web.virtual:8080', internal: `127.0.0.1:${web.port}`, protocol: 'tcp' },
      { virtual: 'erp.virtual:443', internal: `127.0.0.1:${web.port}`, protocol: 'http', resources: ['/api'] },
      { virtual: 'tls.virtual:7443', internal: `127.0.0.1:${tlsEcho.port}`, protocol: 'tcp+tls', caFile: root.certFile },
      { virtual: 'badtls.virtual:7443', internal: `127.0.0.1:${untrustedTls.port}`, protocol: 'tcp+tls', caFile: root.certFile },
      { virtual: 'refused.virtual:7002', internal: `127.0.0.1:${refusedPort}`, protocol: 'tcp' },
      { virtual: 'nxdomain.virtual:7003', internal: 'no-such-host.invalid:7003', protocol: 'tcp' },
      { virtual: 'range.virtual:9000-9002', internal: `127.0.0.1:${base}-${base + 2}`, protocol: 'tcp' },
      { virtual: 'idle.virtual:7004', internal: `127.0.0.1:${echo.port}`, protocol: 'tcp', idleTimeoutMs: 1000 },
      { virtual: 'limited.virtual:7005', internal: `127.0.0.1:${echo.port}`, protocol: 'tcp', maxConnections: 2 },
    ]);
  }, { timeout: 90_000 });

  const connect = (host: string, port: number, extra: { username?: string; password?: string; addressType?: 'domain' | 'ipv4' | 'ipv6' } = {}) =>
    socksConnect(site.relay.socksPort, { username: site.appName, password: site.token, host, port, ...extra });

  test('curl --socks5-hostname reaches a TCP-mapped HTTP server by its virtual name', async () => {
    web.reset();
    const r = await curl(['--socks5-hostname', `127.0.0.1:${site.relay.socksPort}`, '--proxy-user', `${site.appName}:${site.token}`, 'http://web.virtual:8080/any/path?x=1']);
    assert.equal(r.status, 200, show(r));
    const echoed = JSON.parse(r.body.toString()) as { url: string; headers: Record<string, string> };
    assert.equal(echoed.url, '/any/path?x=1');
    assert.equal(echoed.headers.host, 'web.virtual:8080', 'raw TCP: the request arrives exactly as the app sent it');
    // The socks5h:// proxy URL form, which many clients take from ALL_PROXY.
    const viaUrl = await curl(['-x', `socks5h://${site.appName}:${site.token}@127.0.0.1:${site.relay.socksPort}`, 'http://web.virtual:8080/second']);
    assert.equal(viaUrl.status, 200, show(viaUrl));
    assert.deepEqual(web.requests.map((q) => q.url), ['/any/path?x=1', '/second']);
  });

  test('curl sees the refusals as SOCKS5 errors: wrong password, unmapped host', async () => {
    const badAuth = await curl(['--socks5-hostname', `127.0.0.1:${site.relay.socksPort}`, '--proxy-user', `${site.appName}:not-the-token`, 'http://web.virtual:8080/']);
    assert.equal(badAuth.exitCode, 97, show(badAuth));
    assert.match(badAuth.stderr, /User was rejected by the SOCKS5 server/);
    const unmapped = await curl(['--socks5-hostname', `127.0.0.1:${site.relay.socksPort}`, '--proxy-user', `${site.appName}:${site.token}`, 'http://unmapped.virtual:8080/']);
    assert.equal(unmapped.exitCode, 97, show(unmapped));
    assert.match(unmapped.stderr, /Can't complete SOCKS5 connection to unmapped\.virtual\. \(2\)/);
  });

  test('100 MB both ways at once arrive intact (SHA-256), and the half-close after sending still gets the whole echo', async () => {
    const data = blob(100 * MB);
    const o = await connect('echo.virtual', 7000);
    assert.equal(o.reply, 0x00, `reply ${o.reply}`);
    assert.equal(o.replyBytes?.length, 10);
    const sock = o.socket!;
    const received = drain(sock);
    const sent = writeAll(sock, data); // ends with FIN once everything is written
    const [got] = await Promise.all([received, sent]);
    assert.equal(got.bytes, data.length, 'every byte came back');
    assert.equal(got.sha256, sha256(data), 'and in order');
    await waitFor(() => echo.received.find((r) => r.bytes === data.length), 10_000, 'the back end to see the FIN');
    assert.equal(echo.received.find((r) => r.bytes === data.length)?.sha256, sha256(data), 'the back end received exactly what was sent');
    const record = await waitFor(() => site.connectionLog().find((r) => r.virtualHost === 'echo.virtual' && r.bytesToBackend === data.length), 10_000, 'the traffic record');
    assert.equal(record.bytesFromBackend, data.length);
    assert.equal(record.app, site.appName);
    assert.equal(record.outcome, 'allowed');
    assert.equal(record.ended, 'closed');
    assert.equal(record.protocol, 'tcp');
    assert.equal(record.internalPort, echo.port);
    assert.ok(record.durationMs > 0);
  });

  test('half-close the other way: the back end closes its side first and still receives what the app sends afterwards', async () => {
    const o = await connect('banner.virtual', 7001);
    assert.equal(o.reply, 0x00);
    const sock = o.socket!;
    const fromServer = await drain(sock);
    assert.equal(Buffer.concat(fromServer.data).toString(), 'hello from the back end\n', 'banner, then FIN');
    const after = randomBytes(MB);
    await writeAll(sock, after);
    await waitFor(() => banner.received.find((r) => r.bytes === after.length), 10_000, 'the bytes sent after the back end\'s FIN');
    assert.equal(banner.received.find((r) => r.bytes === after.length)?.sha256, sha256(after));
  });

  test('a reset on either side reaches the other side as a reset, and is recorded as such', async () => {
    const o = await connect('reset.virtual', 7006);
    assert.equal(o.reply, 0x00);
    const seen = new Promise<string>((resolve) => {
      o.socket!.once('end', () => resolve('end'));
      o.socket!.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? 'error'));
    });
    o.socket!.write('trigger');
    assert.equal(await seen, 'ECONNRESET', 'the back end\'s reset arrives as a reset, not as a clean end');
    const backendReset = await waitFor(() => site.connectionLog().find((r) => r.virtualHost === 'reset.virtual'), 5000, 'the record');
    assert.deepEqual([backendReset.outcome, backendReset.ended], ['error', 'backend-reset']);

    const before = echo.received.length;
    const e = await connect('echo.virtual', 7000);
    assert.equal(e.reply, 0x00);
    e.socket!.write('half a message');
    await sleep(200);
    e.socket!.resetAndDestroy();
    const cloudReset = await waitFor(() => site.connectionLog().find((r) => r.virtualHost === 'echo.virtual' && r.ended === 'cloud-reset'), 5000, 'the record');
    assert.equal(cloudReset.bytesToBackend, 'half a message'.length);
    await sleep(200);
    assert.equal(echo.received.length, before, 'the back end saw an abort, not a clean end of input (no FIN)');
  });

  test('unmapped host, unmapped port and internal addresses: reply 0x02, nothing reaches the internal network', async () => {
    const before = echo.connections;
    const attempts: Array<[string, number, 'domain' | 'ipv4' | 'ipv6']> = [
      ['unmapped.virtual', 7000, 'domain'],
      ['echo.virtual', 7999, 'domain'],
      ['127.0.0.1', echo.port, 'ipv4'],
      ['localhost', echo.port, 'domain'],
      ['::1', echo.port, 'ipv6'],
    ];
    for (const [host, port, addressType] of attempts) {
      const o = await connect(host, port, { addressType });
      assert.equal(o.stage, 'reply', `${host}:${port}`);
      assert.equal(o.reply, 0x02, `${host}:${port} should be "not allowed by ruleset"`);
      assert.equal(o.closedAfter, true, 'the relay closes after a failure reply');
    }
    assert.equal(echo.connections, before, 'the internal echo server saw no connection');
    const denied = site.connectionLog().filter((r) => r.outcome === 'denied' && r.ended === 'refused');
    assert.ok(denied.some((r) => r.virtualHost === 'unmapped.virtual' && /no such system is mapped/.test(r.reason ?? '')), 'the connector recorded the denial');
    const logged = site.relayRefusals().filter((l) => l.reply === 2);
    assert.ok(logged.some((l) => l.target === 'echo.virtual:7999' && l.app === site.appName), `the relay logged the refusal: ${JSON.stringify(logged)}`);
  });

  test('an HTTP system is not reachable as raw TCP (0x02), and a TCP system not through the HTTP proxy (403)', async () => {
    web.reset();
    const o = await connect('erp.virtual', 443);
    assert.equal(o.reply, 0x02);
    const viaHttp = await curl(['-x', `http://127.0.0.1:${site.relay.proxyPort}`, '--proxy-header', `Proxy-Authorization: Bearer ${site.token}`, 'http://web.virtual:8080/api/x']);
    assert.equal(viaHttp.status, 403, show(viaHttp));
    assert.match(viaHttp.body.toString(), /TCP system \(protocol tcp\), reachable only through the SOCKS5 proxy/);
    assert.equal(web.requests.length, 0, 'neither reached the back end');
    const ok = await curl(['-x', `http://127.0.0.1:${site.relay.proxyPort}`, '--proxy-header', `Proxy-Authorization: Bearer ${site.token}`, 'http://erp.virtual:443/api/x']);
    assert.equal(ok.status, 200, `the HTTP system itself still works: ${show(ok)}`);
  });

  test('back end refuses (0x05), does not resolve (0x04), fails TLS verification (0x04); a verified TLS back end works', async () => {
    const refused = await connect('refused.virtual', 7002);
    assert.equal(refused.reply, 0x05);
    const nx = await connect('nxdomain.virtual', 7003);
    assert.equal(nx.reply, 0x04);
    const badTls = await connect('badtls.virtual', 7443);
    assert.equal(badTls.reply, 0x04);
    assert.equal(untrustedTls.received.length, 0);
    const failures = site.connectionLog().filter((r) => r.outcome === 'error' && r.ended === 'refused');
    assert.ok(failures.some((r) => r.virtualHost === 'badtls.virtual' && /TLS verification failed/.test(r.reason ?? '')), JSON.stringify(failures));
    assert.ok(failures.some((r) => r.virtualHost === 'refused.virtual' && /connection refused/.test(r.reason ?? '')));

    const good = await connect('tls.virtual', 7443);
    assert.equal(good.reply, 0x00);
    const data = randomBytes(4 * MB);
    const [back] = await Promise.all([drain(good.socket!), writeAll(good.socket!, data)]);
    assert.equal(back.sha256, sha256(data), 'the connector speaks TLS to the back end; the app sends and gets plain bytes');
  });

  test('a port range maps each virtual port to the same offset in the internal range', async () => {
    const base = idRange[0]!.port;
    for (const [virtualPort, internal] of [[9000, base], [9001, base + 1], [9002, base + 2]] as const) {
      const o = await connect('range.virtual', virtualPort);
      assert.equal(o.reply, 0x00, `range.virtual:${virtualPort}`);
      const got = await drain(o.socket!);
      assert.equal(Buffer.concat(got.data).toString(), `id ${internal}\n`);
    }
    assert.equal((await connect('range.virtual', 9003)).reply, 0x02, 'one past the range');
  });

  test('authentication: token and app name must belong together; no username/password method, no entry', async () => {
    const wrongToken = await socksConnect(site.relay.socksPort, { username: site.appName, password: 'sbt_wrong', host: 'echo.virtual', port: 7000 });
    assert.deepEqual([wrongToken.stage, wrongToken.authStatus, wrongToken.closedAfter], ['auth', 0x01, true]);
    const wrongName = await socksConnect(site.relay.socksPort, { username: 'payroll', password: site.token, host: 'echo.virtual', port: 7000 });
    assert.deepEqual([wrongName.stage, wrongName.authStatus], ['auth', 0x01]);
    const noAuth = await socksConnect(site.relay.socksPort, { methods: [0x00], host: 'echo.virtual', port: 7000 });
    assert.deepEqual([noAuth.stage, noAuth.method, noAuth.closedAfter], ['method', 0xff, true]);
    const failures = site.relayRefusals().filter((l) => l.msg === 'SOCKS5 authentication failed');
    assert.ok(failures.some((l) => l.username === 'payroll' && l.reason === "the username does not name the token's app"));
    const logText = site.relay.child.stderr();
    assert.ok(!logText.includes(site.token), 'the token never appears in the relay log');
  });

  test('malformed or unsupported requests: closed or answered with the matching reply code', async () => {
    const socks4 = await rawSocks(site.relay.socksPort, Buffer.from([4, 1, 0, 80, 127, 0, 0, 1, 0]));
    assert.deepEqual([socks4.answer.length, socks4.closed], [0, true], 'SOCKS4: closed without an answer');
    const http = await rawSocks(site.relay.socksPort, Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
    assert.deepEqual([http.answer.length, http.closed], [0, true], 'HTTP on the SOCKS port: closed');
    const noMethods = await rawSocks(site.relay.socksPort, Buffer.from([5, 0]));
    assert.deepEqual([noMethods.answer.length, noMethods.closed], [0, true], 'a greeting with no methods');
    const badAuthVersion = await rawSocks(site.relay.socksPort, Buffer.from([5, 1, 2, 5, 1, 0x61, 1, 0x62]));
    assert.deepEqual([...badAuthVersion.answer], [5, 2, 1, 1], 'auth sub-negotiation with version 5: method chosen, then failure');
    const emptyUser = await rawSocks(site.relay.socksPort, Buffer.from([5, 1, 2, 1, 0, 1, 0x62]));
    assert.deepEqual([...emptyUser.answer], [5, 2, 1, 1], 'an empty username fails authentication');
    // Everything in one segment (a pipelining client): greeting, auth, BIND request.
    const u = Buffer.from(site.appName);
    const p = Buffer.from(site.token);
    const auth = Buffer.concat([Buffer.from([1, u.length]), u, Buffer.from([p.length]), p]);
    const bind = await rawSocks(site.relay.socksPort, Buffer.concat([Buffer.from([5, 1, 2]), auth, Buffer.from([5, 2, 0, 1, 127, 0, 0, 1, 0, 80])]));
    assert.deepEqual([...bind.answer], [5, 2, 1, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0], 'BIND: command not supported');
    assert.equal(bind.closed, true);
    const udp = await socksConnect(site.relay.socksPort, { username: site.appName, password: site.token, host: 'echo.virtual', port: 7000, command: 3 });
    assert.equal(udp.reply, 0x07, 'UDP ASSOCIATE: command not supported');
    const badType = await rawSocks(site.relay.socksPort, Buffer.concat([Buffer.from([5, 1, 2]), auth, Buffer.from([5, 1, 0, 9, 1, 2, 3])]));
    assert.deepEqual([...badType.answer.subarray(4)], [5, 8, 0, 1, 0, 0, 0, 0, 0, 0], 'unknown address type: 0x08');
    const badName = await connect('bad_name!.virtual', 7000);
    assert.equal(badName.reply, 0x02, 'a name no mapping could have');
    const port0 = await connect('echo.virtual', 0);
    assert.equal(port0.reply, 0x02);
  });

  test('a greeting that never completes is dropped after the negotiation timeout', { timeout: 20_000 }, async () => {
    const r = await rawSocks(site.relay.socksPort, Buffer.from([5, 3, 2]), 14_000);
    assert.equal(r.closed, true, 'closed');
    assert.equal(r.answer.length, 0);
  });

  test('optimistic data sent right after the request is delivered once the connection is up', async () => {
    const u = Buffer.from(site.appName);
    const p = Buffer.from(site.token);
    const host = Buffer.from('echo.virtual');
    const sock = net.connect(site.relay.socksPort, '127.0.0.1');
    const chunks: Buffer[] = [];
    sock.on('data', (d: Buffer) => chunks.push(d));
    await new Promise<void>((r) => sock.once('connect', r));
    sock.write(Buffer.concat([Buffer.from([5, 1, 2, 1, u.length]), u, Buffer.from([p.length]), p, Buffer.from([5, 1, 0, 3, host.length]), host, Buffer.from([0x1b, 0x58]), Buffer.from('early bytes')]));
    await waitFor(() => Buffer.concat(chunks).length >= 2 + 2 + 10 + 11, 10_000, 'the echo of the early bytes');
    const all = Buffer.concat(chunks);
    assert.deepEqual([...all.subarray(0, 6)], [5, 2, 1, 0, 5, 0]);
    assert.equal(all.subarray(14).toString(), 'early bytes');
    sock.destroy();
  });

  test('an idle connection is closed after the system\'s idle timeout; an active one stays open', { timeout: 30_000 }, async () => {
    const busy = await connect('idle.virtual', 7004);
    const idle = await connect('idle.virtual', 7004);
    assert.equal(busy.reply, 0x00);
    assert.equal(idle.reply, 0x00);
    const idleClosed = new Promise<number>((resolve) => idle.socket!.once('close', () => resolve(Date.now())));
    idle.socket!.on('error', () => undefined);
    idle.socket!.resume();
    const started = Date.now();
    let busyClosed = false;
    busy.socket!.once('close', () => (busyClosed = true));
    busy.socket!.on('error', () => undefined);
    busy.socket!.resume();
    while (Date.now() - started < 2500) {
      busy.socket!.write('ping');
      await sleep(250);
    }
    const closedAt = await Promise.race([idleClosed, sleep(5000).then(() => 0)]);
    assert.ok(closedAt > 0, 'the idle connection was closed');
    assert.ok(closedAt - started >= 900 && closedAt - started < 4000, `after about 1 s of silence (${closedAt - started} ms)`);
    assert.equal(busyClosed, false, 'the busy connection is still open');
    busy.socket!.destroy();
    const record = await waitFor(() => site.connectionLog().find((r) => r.virtualHost === 'idle.virtual' && r.ended === 'idle-timeout'), 5000, 'the idle-timeout record');
    assert.match(record.reason ?? '', /no data in either direction for 1000 ms/);
  });

  test('maxConnections: the connection over the limit gets 0x01 until one closes', async () => {
    const a = await connect('limited.virtual', 7005);
    const b = await connect('limited.virtual', 7005);
    assert.equal(a.reply, 0x00);
    assert.equal(b.reply, 0x00);
    const c = await connect('limited.virtual', 7005);
    assert.equal(c.reply, 0x01, 'over the limit');
    assert.ok(site.connectionLog().some((r) => r.virtualHost === 'limited.virtual' && /maxConnections/.test(r.reason ?? '')));
    a.socket!.destroy();
    const d = await waitFor(async () => {
      const o = await connect('limited.virtual', 7005);
      return o.reply === 0x00 ? o : undefined;
    }, 5000, 'a slot to free up');
    d.socket!.destroy();
    b.socket!.destroy();
  });

  test('a location with no connector online: 0x03, and the same once the connector stops', { timeout: 30_000 }, async () => {
    const elsewhere = await connect('echo.virtual', 7000, { username: `${site.appName};plant-9` });
    assert.equal(elsewhere.reply, 0x03);
    await site.stopAgent();
    const down = await waitFor(async () => {
      const o = await connect('echo.virtual', 7000);
      return o.reply === 0x03 ? o : undefined;
    }, 10_000, 'reply 0x03 after the agent stopped');
    assert.equal(down.closedAfter, true);
    assert.ok(site.relayRefusals().some((l) => l.reply === 3 && l.location === 'plant-9'));
  });
});

describe('CLI: TCP systems and port ranges', () => {
  test('system add takes tcp, tcp+tls, ldap, ldaps and HOST:PORT-PORT; list shows them; bad ranges are refused', async () => {
    const dir = await tempDir('skybridge-agent-cli-');
    // A subaccount is needed: write one by hand, as pairing would.
    const { writeFileSync, mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    writeFileSync(`${dir}/config.json`, JSON.stringify({ version: 1, subaccounts: [{ id: 'acme', relayUrl: 'https://relay.example', tenantId: 't', connectorId: 'c' }] }));
    const add = (...args: string[]) => runCli(['agent', 'system', 'add', '--data-dir', dir, ...args]);
    let r = await add('--virtual', 'db.virtual:5432-5434', '--internal', '10.0.0.7:6432-6434', '--protocol', 'tcp', '--idle-timeout', '60000', '--max-connections', '20');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'db.virtual:5432-5434');
    for (const [v, proto] of [['tls.virtual:7000', 'tcp+tls'], ['ldap.virtual:389', 'ldap'], ['ldaps.virtual:636', 'ldaps']]) {
      r = await add('--virtual', v!, '--internal', '10.0.0.8:1000', '--protocol', proto!);
      assert.equal(r.code, 0, `${proto}: ${r.stderr}`);
    }
    const list = await cliOk(['agent', 'system', 'list', '--data-dir', dir]);
    assert.match(list.stdout, /^db\.virtual:5432-5434\ttcp:\/\/10\.0\.0\.7:6432-6434\tidle=60000ms\tmax=20 connection\(s\)$/m);
    assert.match(list.stdout, /^ldaps\.virtual:636\tldaps:\/\/10\.0\.0\.8:1000/m);

    r = await add('--virtual', 'x.virtual:100-102', '--internal', '10.0.0.7:200-203', '--protocol', 'tcp');
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /internal range must be as long as the virtual one \(3 ports\)/);
    r = await add('--virtual', 'x.virtual:100-102', '--internal', '10.0.0.7:200', '--protocol', 'tcp');
    assert.match(r.stderr, /Give both --virtual and --internal as ranges of the same length/);
    r = await add('--virtual', 'x.virtual:100-102', '--internal', '10.0.0.7:200-202', '--protocol', 'https');
    assert.match(r.stderr, /Port ranges are for TCP systems only/);
    r = await add('--virtual', 'db.virtual:5433', '--internal', '10.0.0.9:1', '--protocol', 'tcp');
    assert.match(r.stderr, /db\.virtual:5433 overlaps db\.virtual:5432-5434/);
    r = await add('--virtual', 'x.virtual:1', '--internal', '10.0.0.9:1', '--protocol', 'smtp');
    assert.notEqual(r.code, 0);
    r = await runCli(['agent', 'resource', 'add', '--data-dir', dir, '--system', 'ldap.virtual:389', '--path', '/x']);
    assert.match(r.stderr, /a TCP system has no resources/);
  });

  test('relay start --help documents the SOCKS5 port', async () => {
    const r = await runCli(['relay', 'start', '--help']);
    assert.match(r.stdout, /--socks-port <port>\s+SOCKS5 proxy port/);
    assert.match(r.stdout, /default: 20004/);
  });
});

describe('traffic events through the ConnectorApi', () => {
  test('each TCP connection becomes one "connection" event: who, which system, bytes each way, duration, how it ended', { timeout: 60_000 }, async () => {
    const echoServer = await startEchoServer();
    const relayDir = await tempDir('skybridge-relay-');
    const agentDir = await tempDir('skybridge-agent-');
    const relay = await startRelayInProcess({ dataDir: relayDir, port: 0, proxyPort: 0, socksPort: 0, logger: silentLogger() });
    onCleanup(() => relay.close());
    const tenant = relay.store.createTenant('acme');
    const { token } = relay.store.createApp(tenant.id, 'reports');
    const { code } = relay.store.createPairingCode({ tenantId: tenant.id, location: '', ttlSeconds: 60, relayUrl: relay.url, caFingerprint: relay.store.getSetting(SETTING_TRUST_ANCHOR_FP)! });
    const sub = await pairAgent(agentDir, code);
    const agent = new ConnectorAgent({ dataDir: agentDir, logger: silentLogger() });
    onCleanup(() => agent.stop());
    await agent.api.addSystem({ system: { virtualHost: 'echo.virtual', virtualPort: 7000, internalHost: '127.0.0.1', internalPort: echoServer.port, protocol: 'tcp' } });
    const events: AgentEvent[] = [];
    agent.api.subscribe((e) => events.push(e));
    agent.start();
    await waitFor(() => agent.statusOf(sub.id).state === 'connected', 20_000, 'the tunnel');

    const o = await socksConnect(relay.socksPort, { username: 'reports', password: token, host: 'echo.virtual', port: 7000 });
    assert.equal(o.reply, 0x00);
    const data = randomBytes(300_000);
    const [back] = await Promise.all([drain(o.socket!), writeAll(o.socket!, data)]);
    assert.equal(back.bytes, data.length);
    const denied = await socksConnect(relay.socksPort, { username: 'reports', password: token, host: 'echo.virtual', port: 7001 });
    assert.equal(denied.reply, 0x02);

    const conns = await waitFor(() => {
      const c = events.filter((e): e is Extract<AgentEvent, { type: 'connection' }> => e.type === 'connection');
      return c.length >= 2 ? c : undefined;
    }, 10_000, 'two connection events');
    const ok = conns.find((e) => e.outcome === 'allowed')!;
    assert.equal(ok.subaccountId, sub.id);
    assert.equal(ok.app, 'reports');
    assert.deepEqual([ok.virtualHost, ok.virtualPort, ok.protocol, ok.internalHost, ok.internalPort], ['echo.virtual', 7000, 'tcp', '127.0.0.1', echoServer.port]);
    assert.deepEqual([ok.bytesToBackend, ok.bytesFromBackend, ok.ended], [data.length, data.length, 'closed']);
    assert.ok(ok.durationMs >= (ok.connectMs ?? 0) && ok.connectMs !== undefined);
    assert.match(ok.connectionId, /^[0-9a-f-]{36}$/);
    const no = conns.find((e) => e.outcome === 'denied')!;
    assert.deepEqual([no.virtualPort, no.ended, no.bytesToBackend], [7001, 'refused', 0]);
    assert.match(no.reason ?? '', /access denied to system echo\.virtual:7001: no such system is mapped/);
  });
});
