import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { authReply, methodSelection, parseGreeting, parseRequest, parseUserPass, reply, Reply } from '../../relay/socks5-protocol.js';
import { locationFromUsername, SOCKS_REPLY_FOR } from '../../relay/socks5.js';
import { ErrorCode } from '../../shared/errors.js';

const bytes = (...b: number[]) => Buffer.from(b);

function userPass(user: string, pass: string): Buffer {
  const u = Buffer.from(user);
  const p = Buffer.from(pass);
  return Buffer.concat([bytes(1, u.length), u, bytes(p.length), p]);
}

function domainRequest(host: string, port: number, command = 1): Buffer {
  const h = Buffer.from(host, 'latin1');
  const p = Buffer.alloc(2);
  p.writeUInt16BE(port);
  return Buffer.concat([bytes(5, command, 0, 3, h.length), h, p]);
}

/** A message must parse the same however TCP splits it: every proper prefix asks for more. */
function assertNeedsEveryByte(parse: (b: Buffer) => { status: string }, message: Buffer): void {
  for (let i = 0; i < message.length; i++) {
    assert.equal(parse(message.subarray(0, i)).status, 'more', `prefix of ${i} of ${message.length} bytes`);
  }
}

describe('SOCKS5 greeting (RFC 1928 §3)', () => {
  it('returns the offered methods and how many bytes it used, leaving pipelined bytes alone', () => {
    const msg = bytes(5, 2, 0, 2);
    assertNeedsEveryByte(parseGreeting, msg);
    const r = parseGreeting(Buffer.concat([msg, bytes(1, 7)]));
    assert.deepEqual(r, { status: 'ok', value: { methods: [0, 2] }, consumed: 4 });
  });

  it('refuses SOCKS4, HTTP and TLS sent to the SOCKS port by the first byte', () => {
    for (const first of [[4, 1, 0, 80], [...Buffer.from('CONNECT ')], [0x16, 3, 1]]) {
      const r = parseGreeting(Buffer.from(first));
      assert.equal(r.status, 'bad', `first bytes ${first.join(',')}`);
    }
  });

  it('refuses a greeting that offers no method at all', () => {
    assert.deepEqual(parseGreeting(bytes(5, 0)), { status: 'bad', reason: 'the greeting offers no authentication method' });
  });

  it('accepts all 255 methods', () => {
    const all = Buffer.concat([bytes(5, 255), Buffer.from([...Array(255).keys()])]);
    const r = parseGreeting(all);
    assert.equal(r.status, 'ok');
    assert.equal(r.status === 'ok' && r.value.methods.length, 255);
  });
});

describe('username/password sub-negotiation (RFC 1929)', () => {
  it('parses name and password, also across split segments', () => {
    const msg = userPass('billing;plant-7', 'sbt_secret');
    assertNeedsEveryByte(parseUserPass, msg);
    assert.deepEqual(parseUserPass(msg), { status: 'ok', value: { username: 'billing;plant-7', password: 'sbt_secret' }, consumed: msg.length });
  });

  it('handles the longest fields (255 bytes each)', () => {
    const msg = userPass('u'.repeat(255), 'p'.repeat(255));
    const r = parseUserPass(msg);
    assert.equal(r.status, 'ok');
    assert.equal(r.status === 'ok' && r.consumed, 513);
  });

  it('refuses a wrong sub-negotiation version and empty fields without waiting for more bytes', () => {
    assert.equal(parseUserPass(bytes(5, 1, 0x61, 1, 0x62)).status, 'bad');
    assert.equal(parseUserPass(bytes(1, 0)).status, 'bad', 'empty username');
    assert.equal(parseUserPass(bytes(1, 1, 0x61, 0)).status, 'bad', 'empty password');
  });
});

describe('SOCKS5 request (RFC 1928 §4, §5)', () => {
  it('keeps a domain name as sent: the relay never resolves it', () => {
    const msg = domainRequest('DB.Virtual', 5432);
    assertNeedsEveryByte(parseRequest, msg);
    assert.deepEqual(parseRequest(msg), { status: 'ok', value: { command: 1, addressType: 3, host: 'DB.Virtual', port: 5432 }, consumed: msg.length });
  });

  it('parses IPv4 and IPv6 addresses', () => {
    const v4 = bytes(5, 1, 0, 1, 10, 0, 0, 7, 0x15, 0x38);
    assertNeedsEveryByte(parseRequest, v4);
    assert.deepEqual(parseRequest(v4), { status: 'ok', value: { command: 1, addressType: 1, host: '10.0.0.7', port: 5432 }, consumed: 10 });
    const v6 = Buffer.concat([bytes(5, 1, 0, 4), Buffer.from('20010db8000000000000000000000001', 'hex'), bytes(0x01, 0x85)]);
    assertNeedsEveryByte(parseRequest, v6);
    assert.deepEqual(parseRequest(v6), { status: 'ok', value: { command: 1, addressType: 4, host: '2001:db8:0:0:0:0:0:1', port: 389 }, consumed: 22 });
  });

  it('parses BIND and UDP ASSOCIATE so they can be answered "command not supported"', () => {
    for (const cmd of [2, 3, 9]) {
      const r = parseRequest(domainRequest('x.virtual', 1, cmd));
      assert.equal(r.status === 'ok' && r.value.command, cmd);
    }
  });

  it('reports an unknown address type for a 0x08 reply, and refuses a wrong version or an empty name', () => {
    assert.deepEqual(parseRequest(bytes(5, 1, 0, 5, 1, 2)), { status: 'unsupported-address', addressType: 5 });
    assert.equal(parseRequest(bytes(4, 1, 0, 3)).status, 'bad');
    assert.equal(parseRequest(bytes(5, 1, 0, 3, 0, 0, 80)).status, 'bad');
  });

  it('keeps bytes a client sent ahead of the reply (optimistic data) out of the request', () => {
    const msg = domainRequest('pg.virtual', 5432);
    const r = parseRequest(Buffer.concat([msg, Buffer.from('early')]));
    assert.equal(r.status === 'ok' && r.consumed, msg.length);
  });
});

describe('SOCKS5 replies', () => {
  it('are the exact bytes clients expect', () => {
    assert.deepEqual(methodSelection(2), bytes(5, 2));
    assert.deepEqual(methodSelection(0xff), bytes(5, 0xff));
    assert.deepEqual(authReply(true), bytes(1, 0));
    assert.deepEqual(authReply(false), bytes(1, 1));
    assert.deepEqual(reply(Reply.Succeeded), bytes(5, 0, 0, 1, 0, 0, 0, 0, 0, 0));
    assert.deepEqual(reply(Reply.NotAllowed), bytes(5, 2, 0, 1, 0, 0, 0, 0, 0, 0));
  });

  it('map the connector refusals onto the codes the issue names', () => {
    assert.equal(SOCKS_REPLY_FOR[ErrorCode.AccessDenied], 0x02);
    assert.equal(SOCKS_REPLY_FOR[ErrorCode.NoConnector], 0x03);
    assert.equal(SOCKS_REPLY_FOR[ErrorCode.BackendUnreachable], 0x04);
    assert.equal(SOCKS_REPLY_FOR[ErrorCode.BackendTimeout], 0x04);
    assert.equal(SOCKS_REPLY_FOR[ErrorCode.BackendRefused], 0x05);
  });
});

describe('SOCKS5 username: app name and optional location', () => {
  it('takes the location after the app name, and refuses a name that is not the token\'s app', () => {
    assert.equal(locationFromUsername('billing', 'billing'), '');
    assert.equal(locationFromUsername('billing;plant-7', 'billing'), 'plant-7');
    assert.equal(locationFromUsername('billing;', 'billing'), '');
    assert.equal(locationFromUsername('Billing', 'billing'), undefined);
    assert.equal(locationFromUsername('payroll', 'billing'), undefined);
    assert.equal(locationFromUsername('billingx;a', 'billing'), undefined);
  });

  it('works for an app whose own name contains ";"', () => {
    assert.equal(locationFromUsername('a;b', 'a;b'), '');
    assert.equal(locationFromUsername('a;b;site', 'a;b'), 'site');
  });
});
