/**
 * Error codes shared by relay, connector, CLI and UI. Every refusal a cloud app
 * or an administrator sees carries one of these, so scripts can act on the code
 * and people can read the sentence.
 */
export const ErrorCode = {
  ProxyAuthRequired: 'PROXY_AUTH_REQUIRED',
  NoConnector: 'NO_CONNECTOR',
  AccessDenied: 'ACCESS_DENIED',
  BackendUnreachable: 'BACKEND_UNREACHABLE',
  BackendTimeout: 'BACKEND_TIMEOUT',
  /** TCP (SOCKS5): the back end actively refused the connection (SOCKS5 reply 0x05). */
  BackendRefused: 'BACKEND_REFUSED',
  /** TCP (SOCKS5): the system's maxConnections are all in use. */
  ConnectionLimit: 'CONNECTION_LIMIT',
  BadRequest: 'BAD_REQUEST',
  MethodNotAllowed: 'METHOD_NOT_ALLOWED',
  TunnelError: 'TUNNEL_ERROR',
  PairingCodeMalformed: 'PAIRING_CODE_MALFORMED',
  PairingCodeUnknown: 'PAIRING_CODE_UNKNOWN',
  PairingCodeUsed: 'PAIRING_CODE_USED',
  PairingCodeExpired: 'PAIRING_CODE_EXPIRED',
  PairingRateLimited: 'PAIRING_RATE_LIMITED',
  PairingCaMismatch: 'PAIRING_CA_MISMATCH',
  CertificateMissing: 'CERTIFICATE_MISSING',
  CertificateInvalid: 'CERTIFICATE_INVALID',
  CertificateExpired: 'CERTIFICATE_EXPIRED',
  ConnectorUnknown: 'CONNECTOR_UNKNOWN',
  ConnectorRevoked: 'CONNECTOR_REVOKED',
  LocationTaken: 'LOCATION_TAKEN',
  ConfigInvalid: 'CONFIG_INVALID',
  NotFound: 'NOT_FOUND',
  Conflict: 'CONFLICT',
  InvalidInput: 'INVALID_INPUT',
  /** `skybridge audit verify` found an edited, removed, inserted, reordered or cut-off entry. */
  AuditTampered: 'AUDIT_TAMPERED',
  /** Asked for something only the running agent has (its live dashboard, for one). */
  AgentNotRunning: 'AGENT_NOT_RUNNING',
  /** Desktop app: the agent process did not answer a call in time. */
  AgentTimeout: 'AGENT_TIMEOUT',
  /** A private key or password on disk is encrypted, and this process does not have the key that opens it. */
  SecretLocked: 'SECRET_LOCKED',
  /** A fault of ours, not of the input; the details are in the log, never in the reply. */
  Internal: 'INTERNAL',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status a cloud app receives for each data-plane refusal. */
export const httpStatusFor: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.ProxyAuthRequired]: 407,
  [ErrorCode.NoConnector]: 503,
  [ErrorCode.AccessDenied]: 403,
  [ErrorCode.BackendUnreachable]: 502,
  [ErrorCode.BackendTimeout]: 504,
  [ErrorCode.BackendRefused]: 502,
  [ErrorCode.ConnectionLimit]: 503,
  [ErrorCode.BadRequest]: 400,
  [ErrorCode.MethodNotAllowed]: 405,
  [ErrorCode.TunnelError]: 502,
};

/** An error with a stable code and a sentence a person can act on. */
export class SkybridgeError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'SkybridgeError';
    this.code = code;
  }
}

export function isSkybridgeError(e: unknown): e is SkybridgeError {
  return e instanceof SkybridgeError;
}
