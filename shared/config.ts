import { z } from 'zod';

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
export const systemProtocolSchema = z.enum(HTTP_PROTOCOLS);

export const systemSchema = z.strictObject({
  virtualHost: hostnameSchema,
  virtualPort: portSchema,
  internalHost: internalHostSchema,
  internalPort: portSchema,
  protocol: systemProtocolSchema,
  /** Which name the back end sees in Host; with `internal`, the virtual one goes in X-Forwarded-Host. */
  hostHeader: z.enum(['virtual', 'internal']).default('virtual'),
  /** PEM file of extra CAs trusted for an https back end (in addition to the system's store). */
  caFile: z.string().min(1).optional(),
  connectTimeoutMs: z.int().min(100).max(600_000).default(10_000),
  responseTimeoutMs: z.int().min(100).max(3_600_000).default(60_000),
  description: z.string().max(500).optional(),
  resources: z.array(resourceSchema).default([]),
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
  systems: z.array(systemSchema).default([]),
});

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
});

export type Resource = z.infer<typeof resourceSchema>;
export type ResourceInput = z.input<typeof resourceSchema>;
export type SystemMapping = z.infer<typeof systemSchema>;
export type SystemInput = z.input<typeof systemSchema>;
export type Subaccount = z.infer<typeof subaccountSchema>;
export type TunnelSettings = z.infer<typeof tunnelSettingsSchema>;
export type AgentConfig = z.infer<typeof agentConfigSchema>;

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
