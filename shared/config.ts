import { z } from 'zod';
import { auditLevelSchema } from './evidence.js';

/**
 * The connector's configuration file (`config.json` in its data dir), documented
 * in docs/configuration.md. It holds no secrets: keys and certificates live in
 * `subaccounts/<id>/` beside it with owner-only permissions.
 */

/** Host names as cloud apps and resolvers accept them: letters, digits, hyphens and dots (no underscores: some HTTP clients reject them). */
export const hostnameSchema = z
  .string()
  .min(1, 'a host name is required')
  .max(253)
  .regex(
    /^(?=.{1,253}$)([a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/,
    'a host name of letters, digits, hyphens and dots (no underscores, no scheme, no port)',
  )
  .transform((h) => h.toLowerCase());

/** The internal side may also be an IPv4 or a bracket-less IPv6 literal. */
export const internalHostSchema = z.union([hostnameSchema, z.ipv4(), z.ipv6()]);

export const portSchema = z.int('a whole number').min(1, 'a port from 1 to 65535').max(65535, 'a port from 1 to 65535');

export const HTTP_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
export const httpMethodSchema = z.enum(HTTP_METHODS);

/**
 * A resource path: absolute, already in canonical form (no dot segments, no
 * empty segments, no trailing slash except for `/` itself, no percent-encoding
 * of `/`, `.` or `%`, no query or fragment).
 */
export const resourcePathSchema = z
  .string()
  .min(1)
  .max(2048)
  .refine((p) => p.startsWith('/'), 'a path starting with /')
  .refine((p) => !/[?#]/.test(p), 'a path without query or fragment')
  .refine((p) => p === '/' || !p.endsWith('/'), 'a path without a trailing slash')
  .refine((p) => !p.split('/').slice(1).some((s) => s === '' || s === '.' || s === '..') || p === '/', 'a path without empty, "." or ".." segments')
  .refine((p) => !/%(2f|2e|25|5c)/i.test(p) && !p.includes('\\'), 'a path without encoded slashes, dots, percent signs or backslashes')
  .refine((p) => /^[\x21-\x7e]+$/.test(p), 'a path of printable ASCII without spaces (percent-encode other characters)');

export const resourceSchema = z.strictObject({
  path: resourcePathSchema,
  /** true: the path and everything below it (whole segments); false: the path only. */
  subPaths: z.boolean().default(false),
  /** Allowed methods; absent means all of HTTP_METHODS. */
  methods: z.array(httpMethodSchema).min(1).optional(),
  /** Allow HTTP Upgrade to WebSocket on this resource. */
  websocket: z.boolean().default(false),
  /** A switched-off resource stays in the file but allows nothing. */
  enabled: z.boolean().default(true),
  description: z.string().max(500).optional(),
});

export const HTTP_PROTOCOLS = ['http', 'https'] as const;
/** Reached through the relay's SOCKS5 proxy as raw TCP; the connector opens TLS itself for `tcp+tls` and `ldaps`. */
export const TCP_PROTOCOLS = ['tcp', 'tcp+tls', 'ldap', 'ldaps'] as const;
export const SYSTEM_PROTOCOLS = [...HTTP_PROTOCOLS, ...TCP_PROTOCOLS] as const;
export const systemProtocolSchema = z.enum(SYSTEM_PROTOCOLS);
export type SystemProtocol = z.infer<typeof systemProtocolSchema>;
export type TcpProtocol = (typeof TCP_PROTOCOLS)[number];

export const systemSchema = z.strictObject({
  virtualHost: hostnameSchema,
  virtualPort: portSchema,
  internalHost: internalHostSchema,
  internalPort: portSchema,
  protocol: systemProtocolSchema,
  /** Which name the back end sees in Host; with `internal`, the virtual one goes in X-Forwarded-Host. */
  hostHeader: z.enum(['virtual', 'internal']).default('virtual'),
  /** PEM file of extra CAs trusted for a TLS back end (https, tcp+tls, ldaps), in addition to the system's store. */
  caFile: z.string().min(1).optional(),
  connectTimeoutMs: z.int().min(100).max(600_000).default(10_000),
  responseTimeoutMs: z.int().min(100).max(3_600_000).default(60_000),
  description: z.string().max(500).optional(),
  resources: z.array(resourceSchema).default([]),
  // TCP systems only (checked by systemMappingIssues). Optional without defaults, so HTTP systems and older files stay as they are.
  /** Last virtual port of a range starting at virtualPort; goes with internalPortEnd, same length. */
  virtualPortEnd: portSchema.optional(),
  internalPortEnd: portSchema.optional(),
  /** A connection with no byte in either direction for this long is closed (default DEFAULT_TCP_IDLE_TIMEOUT_MS). */
  idleTimeoutMs: z.int().min(1000).max(604_800_000).optional(),
  /** Concurrent connections to this system; more are refused (default DEFAULT_TCP_MAX_CONNECTIONS). */
  maxConnections: z.int().min(1).max(100_000).optional(),
});

export const outboundProxySchema = z.strictObject({
  url: z.url({ protocol: /^http$/, error: 'an http:// proxy URL such as http://proxy.example:3128' }).refine((u) => !/@/.test(u), 'no credentials in the URL; use username and the proxy password file'),
  username: z.string().min(1).max(200).optional(),
});

export const subaccountSchema = z.strictObject({
  /** Local id of the subaccount; the relay's tenant id. */
  id: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'an id of letters, digits, "_" and "-"'),
  name: z.string().max(200).default(''),
  relayUrl: z.url({ protocol: /^https$/ }),
  tenantId: z.string().min(1),
  location: z.string().max(100).default(''),
  connectorId: z.string().min(1),
  /** The administrator's choice to keep this subaccount connected; survives restarts. */
  enabled: z.boolean().default(true),
  /** Outbound HTTP proxy to reach the relay (CONNECT). Its password, if any, is in subaccounts/<id>/proxy-password, never here. */
  proxy: outboundProxySchema.optional(),
  /** What this subaccount writes to the audit log (docs/audit.md); the default keeps older files valid. */
  audit: auditLevelSchema.default('security'),
  systems: z.array(systemSchema).default([]),
});

/** Installation-wide audit settings; optional, so files and code from before it stay valid. */
export const auditSettingsSchema = z.strictObject({
  /** Daily audit files older than this many days are removed (and the removal is itself audited); 0 keeps everything. */
  retentionDays: z.int().min(0).max(36_500).default(365),
});
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;

export const tunnelSettingsSchema = z.strictObject({
  heartbeatIntervalMs: z.int().min(200).max(300_000).default(10_000),
  /** A tunnel is declared dead when a heartbeat goes unanswered this long *and* nothing else arrived meanwhile. */
  heartbeatTimeoutMs: z.int().min(500).max(600_000).default(30_000),
  reconnectMinMs: z.int().min(50).max(60_000).default(500),
  reconnectMaxMs: z.int().min(100).max(3_600_000).default(30_000),
});

export const agentConfigSchema = z.strictObject({
  $schema: z.string().optional(),
  version: z.literal(1).default(1),
  tunnel: tunnelSettingsSchema.default(() => tunnelSettingsSchema.parse({})),
  subaccounts: z.array(subaccountSchema).default([]),
  audit: auditSettingsSchema.optional(),
});

export type Resource = z.infer<typeof resourceSchema>;
export type ResourceInput = z.input<typeof resourceSchema>;
export type SystemMapping = z.infer<typeof systemSchema>;
export type SystemInput = z.input<typeof systemSchema>;
export type Subaccount = z.infer<typeof subaccountSchema>;
export type TunnelSettings = z.infer<typeof tunnelSettingsSchema>;
export type OutboundProxy = z.infer<typeof outboundProxySchema>;
export type AgentConfig = z.infer<typeof agentConfigSchema>;

// --- TCP system mappings (SOCKS5)

export const DEFAULT_TCP_IDLE_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_TCP_MAX_CONNECTIONS = 100;

export function isTcpProtocol(protocol: string): protocol is TcpProtocol {
  return (TCP_PROTOCOLS as readonly string[]).includes(protocol);
}

/** Protocols for which the connector itself opens TLS to the back end and verifies it. */
export function usesTls(protocol: SystemProtocol): boolean {
  return protocol === 'https' || protocol === 'tcp+tls' || protocol === 'ldaps';
}

/** The virtual ports a mapping covers, both ends included. */
export function virtualPortRange(s: Pick<SystemMapping, 'virtualPort' | 'virtualPortEnd'>): { first: number; last: number } {
  return { first: s.virtualPort, last: s.virtualPortEnd ?? s.virtualPort };
}

/** `host:port` or `host:first-last`, as shown to people. */
export function systemLabel(s: Pick<SystemMapping, 'virtualHost' | 'virtualPort' | 'virtualPortEnd'>): string {
  const { first, last } = virtualPortRange(s);
  return last === first ? `${s.virtualHost}:${first}` : `${s.virtualHost}:${first}-${last}`;
}

/** True when two mappings claim the same virtual host and at least one common port. */
export function virtualPortsOverlap(a: SystemMapping, b: SystemMapping): boolean {
  if (a.virtualHost.toLowerCase() !== b.virtualHost.toLowerCase()) return false;
  const x = virtualPortRange(a);
  const y = virtualPortRange(b);
  return x.first <= y.last && y.first <= x.last;
}

/** Rules across the fields of one mapping that zod cannot express field by field; empty when the mapping is sound. */
export function systemMappingIssues(s: SystemMapping): { path: string[]; message: string }[] {
  const issues: { path: string[]; message: string }[] = [];
  const tcp = isTcpProtocol(s.protocol);
  if (!tcp) {
    for (const field of ['virtualPortEnd', 'internalPortEnd', 'idleTimeoutMs', 'maxConnections'] as const) {
      if (s[field] !== undefined) issues.push({ path: [field], message: `applies only to TCP systems (protocol ${TCP_PROTOCOLS.join(', ')})` });
    }
    return issues;
  }
  if (s.resources.length > 0) {
    issues.push({ path: ['resources'], message: 'a TCP system has no resources: the connector cannot look inside raw TCP, so the whole system is reachable' });
  }
  if (s.caFile !== undefined && !usesTls(s.protocol)) issues.push({ path: ['caFile'], message: 'applies only to protocols with TLS to the back end (https, tcp+tls, ldaps)' });
  if ((s.virtualPortEnd === undefined) !== (s.internalPortEnd === undefined)) {
    issues.push({ path: [s.virtualPortEnd === undefined ? 'virtualPortEnd' : 'internalPortEnd'], message: 'a port range needs both virtualPortEnd and internalPortEnd' });
  } else if (s.virtualPortEnd !== undefined && s.internalPortEnd !== undefined) {
    if (s.virtualPortEnd < s.virtualPort) issues.push({ path: ['virtualPortEnd'], message: `must not be below virtualPort (${s.virtualPort})` });
    else if (s.internalPortEnd < s.internalPort) issues.push({ path: ['internalPortEnd'], message: `must not be below internalPort (${s.internalPort})` });
    else if (s.virtualPortEnd - s.virtualPort !== s.internalPortEnd - s.internalPort) {
      issues.push({
        path: ['internalPortEnd'],
        message: `the internal range must be as long as the virtual one (${s.virtualPortEnd - s.virtualPort + 1} ports): internalPortEnd ${s.internalPort + s.virtualPortEnd - s.virtualPort}`,
      });
    }
  }
  return issues;
}

/** `host:port` as used on the CLI and in messages. */
export function systemKey(s: { virtualHost: string; virtualPort: number }): string {
  return `${s.virtualHost}:${s.virtualPort}`;
}

/** Formats a zod error as `field.path: message` lines, so a bad file names the field. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path
        .map((p, idx) => (typeof p === 'number' ? `[${p}]` : idx === 0 ? String(p) : `.${String(p)}`))
        .join('');
      return `${path || '(top level)'}: ${i.message}`;
    })
    .join('\n');
}
