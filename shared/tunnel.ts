/**
 * The tunnel protocol between relay and connector (see docs/protocol.md).
 *
 * The connector dials the relay's HTTPS port with its client certificate and
 * sends `GET /v1/tunnel` with `Upgrade: skybridge-tunnel/1`. After the relay's
 * `101`, the TLS socket carries HTTP/2: the connector is the HTTP/2 *server*,
 * the relay the client, and every cloud request is one stream.
 */
export const TUNNEL_PATH = '/v1/tunnel';
export const TUNNEL_UPGRADE_TOKEN = 'skybridge-tunnel/1';
export const PAIR_PATH = '/v1/pair';
export const CA_PATH = '/v1/ca';
/** mTLS: a connector with a valid certificate asks for a new one (new key) before it expires. */
export const RENEW_PATH = '/v1/renew';
export const HEALTH_PATH = '/healthz';

/** Request metadata the relay adds to each stream. Cloud apps cannot set these: the relay strips any incoming `skybridge-*` header first. */
export const MetaHeader = {
  RequestId: 'skybridge-request-id',
  AppId: 'skybridge-app-id',
  AppName: 'skybridge-app',
  /** `websocket` (or another token) when the cloud app asked for an HTTP Upgrade. */
  Upgrade: 'skybridge-upgrade',
  /** Set by the connector on its own refusals; carries an ErrorCode. */
  Error: 'skybridge-error',
  /** Set by the connector when the back end switched protocols; the stream then carries raw bytes both ways. */
  Upgraded: 'skybridge-upgraded',
  /** Milliseconds the connector spent connecting to the back end and waiting for its answer (`connect;response`). */
  Timing: 'skybridge-timing',
  /** Set by the relay: milliseconds it spent on the request (token check, routing) before the stream opened. */
  RelayMs: 'skybridge-relay-ms',
} as const;

export const META_PREFIX = 'skybridge-';

/** Headers a cloud app uses to choose the connector's location. */
export const LOCATION_HEADERS = ['x-skybridge-location', 'sap-connectivity-scc-location_id'] as const;

/**
 * Hop-by-hop and proxy-only headers: never forwarded in either direction
 * (RFC 9110 §7.6.1), and forbidden in HTTP/2 anyway.
 */
export const HOP_BY_HOP_HEADERS = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
  'host',
]);

/** HTTP/2 flow-control windows: large enough for the bandwidth-delay product so one session can fill the link (see docs/protocol.md). */
export const STREAM_WINDOW_BYTES = 8 * 1024 * 1024;
export const SESSION_WINDOW_BYTES = 64 * 1024 * 1024;

/** Body of `POST /v1/pair`. */
export interface PairRequest {
  code: string;
  csrPem: string;
  agentVersion: string;
  hostname?: string;
}

/** Answer of `POST /v1/pair`. */
export interface PairResponse {
  connectorId: string;
  tenantId: string;
  tenantName: string;
  location: string;
  certificatePem: string;
  caPem: string;
  notAfter: string;
}

/** Body of `POST /v1/renew` is `{ csrPem }`; this is the answer. */
export interface RenewResponse {
  certificatePem: string;
  notAfter: string;
}

/** Error answer of the relay's control API. */
export interface ApiErrorBody {
  error: { code: string; message: string };
}
