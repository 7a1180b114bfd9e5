/**
 * The SOCKS5 wire format the relay speaks (RFC 1928, CONNECT only, with the
 * username/password sub-negotiation of RFC 1929). Pure functions over bytes:
 * each parser looks at what has arrived so far and says "need more", "done,
 * consumed N bytes" or "malformed", so a message split across TCP segments,
 * or several messages in one segment, parse the same way.
 *
 * Written by hand: the npm SOCKS *server* libraries we looked at (socksv5,
 * unmaintained since 2015; @pondwader/socks5-server) send success before the
 * target is reached or cannot send the failure codes we need, skip version
 * checks, and hang on zero-length fields. The protocol is small; the tests in
 * test/unit/socks5-protocol.test.ts cover it byte by byte.
 */

export const SOCKS_VERSION = 0x05;
export const AUTH_VERSION = 0x01;

export const Method = {
  NoAuth: 0x00,
  UserPass: 0x02,
  NoAcceptable: 0xff,
} as const;

export const Command = {
  Connect: 0x01,
  Bind: 0x02,
  UdpAssociate: 0x03,
} as const;

export const AddressType = {
  IPv4: 0x01,
  Domain: 0x03,
  IPv6: 0x04,
} as const;

/** RFC 1928 §6 reply codes. */
export const Reply = {
  Succeeded: 0x00,
  GeneralFailure: 0x01,
  NotAllowed: 0x02,
  NetworkUnreachable: 0x03,
  HostUnreachable: 0x04,
  ConnectionRefused: 0x05,
  TtlExpired: 0x06,
  CommandNotSupported: 0x07,
  AddressTypeNotSupported: 0x08,
} as const;
export type ReplyCode = (typeof Reply)[keyof typeof Reply];

export type Parsed<T> = { status: 'more' } | { status: 'ok'; value: T; consumed: number } | { status: 'bad'; reason: string };

const more = { status: 'more' } as const;
const bad = (reason: string) => ({ status: 'bad', reason }) as const;

/** Version identifier/method selection message: VER NMETHODS METHODS… */
export function parseGreeting(buf: Buffer): Parsed<{ methods: number[] }> {
  if (buf.length < 1) return more;
  if (buf[0] !== SOCKS_VERSION) return bad(`not a SOCKS5 greeting (first byte 0x${buf[0]!.toString(16).padStart(2, '0')})`);
  if (buf.length < 2) return more;
  const n = buf[1]!;
  if (n === 0) return bad('the greeting offers no authentication method');
  if (buf.length < 2 + n) return more;
  return { status: 'ok', value: { methods: [...buf.subarray(2, 2 + n)] }, consumed: 2 + n };
}

/** Username/password request (RFC 1929): VER ULEN UNAME PLEN PASSWD. */
export function parseUserPass(buf: Buffer): Parsed<{ username: string; password: string }> {
  if (buf.length < 1) return more;
  if (buf[0] !== AUTH_VERSION) return bad(`unknown username/password version 0x${buf[0]!.toString(16).padStart(2, '0')}`);
  if (buf.length < 2) return more;
  const ulen = buf[1]!;
  if (ulen === 0) return bad('the username is empty');
  if (buf.length < 2 + ulen + 1) return more;
  const plen = buf[2 + ulen]!;
  if (plen === 0) return bad('the password is empty');
  const end = 3 + ulen + plen;
  if (buf.length < end) return more;
  return {
    status: 'ok',
    value: { username: buf.subarray(2, 2 + ulen).toString('utf8'), password: buf.subarray(3 + ulen, end).toString('utf8') },
    consumed: end,
  };
}

export type ConnectRequest = {
  command: number;
  addressType: number;
  /** A domain name exactly as sent, a dotted IPv4 or a full lower-case IPv6 (no brackets). */
  host: string;
  port: number;
};

/**
 * Request: VER CMD RSV ATYP DST.ADDR DST.PORT. Parses any command and known
 * address type, so the caller can answer "command not supported" in the
 * protocol; an unknown address type cannot be parsed past (its length is
 * unknown), so it comes back as `unsupported-address` for a 0x08 reply.
 */
export function parseRequest(buf: Buffer): Parsed<ConnectRequest> | { status: 'unsupported-address'; addressType: number } {
  if (buf.length < 1) return more;
  if (buf[0] !== SOCKS_VERSION) return bad(`the request has version 0x${buf[0]!.toString(16).padStart(2, '0')}, not 0x05`);
  if (buf.length < 4) return more;
  const command = buf[1]!;
  const addressType = buf[3]!;
  let host: string;
  let at: number;
  if (addressType === AddressType.IPv4) {
    if (buf.length < 4 + 4 + 2) return more;
    host = [...buf.subarray(4, 8)].join('.');
    at = 8;
  } else if (addressType === AddressType.IPv6) {
    if (buf.length < 4 + 16 + 2) return more;
    const groups: string[] = [];
    for (let i = 0; i < 8; i++) groups.push(buf.readUInt16BE(4 + i * 2).toString(16));
    host = groups.join(':');
    at = 20;
  } else if (addressType === AddressType.Domain) {
    if (buf.length < 5) return more;
    const len = buf[4]!;
    if (len === 0) return bad('the domain name is empty');
    if (buf.length < 5 + len + 2) return more;
    host = buf.subarray(5, 5 + len).toString('latin1');
    at = 5 + len;
  } else {
    return { status: 'unsupported-address', addressType };
  }
  return { status: 'ok', value: { command, addressType, host, port: buf.readUInt16BE(at) }, consumed: at + 2 };
}

export function methodSelection(method: number): Buffer {
  return Buffer.from([SOCKS_VERSION, method]);
}

export function authReply(ok: boolean): Buffer {
  return Buffer.from([AUTH_VERSION, ok ? 0x00 : 0x01]);
}

/**
 * A reply with BND.ADDR 0.0.0.0:0: the relay's own outgoing address means
 * nothing to the cloud app (the real connection starts at the connector), and
 * CONNECT clients ignore it.
 */
export function reply(code: ReplyCode): Buffer {
  return Buffer.from([SOCKS_VERSION, code, 0x00, AddressType.IPv4, 0, 0, 0, 0, 0, 0]);
}

/** What a SOCKS client shows for each reply (curl and proxychains word them much the same). */
export const REPLY_TEXT: Record<number, string> = {
  [Reply.Succeeded]: 'succeeded',
  [Reply.GeneralFailure]: 'general SOCKS server failure',
  [Reply.NotAllowed]: 'connection not allowed by ruleset',
  [Reply.NetworkUnreachable]: 'network unreachable',
  [Reply.HostUnreachable]: 'host unreachable',
  [Reply.ConnectionRefused]: 'connection refused',
  [Reply.TtlExpired]: 'TTL expired',
  [Reply.CommandNotSupported]: 'command not supported',
  [Reply.AddressTypeNotSupported]: 'address type not supported',
};
