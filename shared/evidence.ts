import { z } from 'zod';

/**
 * Contracts for the connector's evidence: the audit log, the traffic record,
 * its aggregates and usage statistics (docs/audit.md). The UI, the CLI and the
 * agent read and write these shapes; nothing here touches a disk.
 */

/** `security`: denials, configuration, pairing, certificates, tunnel up/down, logins. `all`: also every allowed request. */
export const AUDIT_LEVELS = ['security', 'all', 'off'] as const;
export const auditLevelSchema = z.enum(AUDIT_LEVELS);
export type AuditLevel = z.infer<typeof auditLevelSchema>;

export const AUDIT_TYPES = [
  'access-denied',
  'request',
  'connection',
  'config-change',
  'pairing',
  'certificate',
  'tunnel-connected',
  'tunnel-disconnected',
  'admin-login',
  'audit-started',
  'audit-stopped',
  'audit-purged',
  'audit-recovered',
] as const;
export const auditTypeSchema = z.enum(AUDIT_TYPES);
export type AuditType = z.infer<typeof auditTypeSchema>;

/** Only these are written at level `all` and not at `security`. */
export const ALL_LEVEL_TYPES: ReadonlySet<AuditType> = new Set<AuditType>(['request', 'connection']);

export const auditActorSchema = z.discriminatedUnion('kind', [
  /** A cloud application (and the user it acted for, once identity propagation knows one). */
  z.object({ kind: z.literal('cloud-app'), app: z.string(), appId: z.string().optional(), user: z.string().optional() }),
  /** A person on the site: through the CLI, the API (UI) or by editing config.json directly. */
  z.object({ kind: z.literal('local-admin'), user: z.string(), via: z.enum(['cli', 'api', 'file']) }),
  /** The connector itself (tunnel state, audit housekeeping). */
  z.object({ kind: z.literal('connector') }),
]);
export type AuditActor = z.infer<typeof auditActorSchema>;

export const auditTargetSchema = z.object({
  /** Virtual system `host:port` as cloud apps name it. */
  virtual: z.string().optional(),
  /** Internal `host:port` it maps to. */
  internal: z.string().optional(),
  method: z.string().optional(),
  path: z.string().optional(),
  /** What a configuration entry is about, e.g. `system erp.virtual:443`. */
  object: z.string().optional(),
  relay: z.string().optional(),
});
export type AuditTarget = z.infer<typeof auditTargetSchema>;

export const configChangeSchema = z.object({
  /** Where in config.json, with arrays keyed by id (`subaccounts[acme].systems[erp.virtual:443].internalPort`). */
  path: z.string(),
  before: z.unknown().optional(),
  after: z.unknown().optional(),
});
export type ConfigChange = z.infer<typeof configChangeSchema>;

export const AUDIT_OUTCOMES = ['allowed', 'denied', 'error', 'success', 'failure', 'info'] as const;

/** An entry as written (one JSON line); `prev` and `mac` chain it to the entry before (docs/audit.md). */
export const auditEntrySchema = z.object({
  seq: z.int().min(1),
  time: z.string(),
  /** Empty for events of the whole installation. */
  subaccount: z.string(),
  type: auditTypeSchema,
  actor: auditActorSchema,
  target: auditTargetSchema,
  outcome: z.enum(AUDIT_OUTCOMES),
  reason: z.string().optional(),
  status: z.int().optional(),
  requestId: z.string().optional(),
  changes: z.array(configChangeSchema).optional(),
  detail: z.record(z.string(), z.unknown()).optional(),
  prev: z.string(),
  mac: z.string(),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

/** What a recorder hands to the log; seq, prev and mac are added there. */
export type AuditDraft = Omit<AuditEntry, 'seq' | 'prev' | 'mac' | 'time'> & { time?: string };

export const auditQuerySchema = z.object({
  /** ISO time or date, inclusive. */
  from: z.string().optional(),
  /** ISO time or date, exclusive. */
  to: z.string().optional(),
  types: z.array(auditTypeSchema).optional(),
  subaccount: z.string().optional(),
  /** Case-insensitive substring of the entry's JSON. */
  text: z.string().optional(),
  /** Newest entries first when a limit cuts the list. */
  limit: z.int().min(1).max(100_000).optional(),
});
export type AuditQuery = z.infer<typeof auditQuerySchema>;

export const AUDIT_PROBLEMS = ['edited', 'removed', 'inserted', 'reordered', 'truncated', 'rewritten', 'misplaced', 'unreadable', 'key'] as const;

export const auditProblemSchema = z.object({
  kind: z.enum(AUDIT_PROBLEMS),
  /** File name inside the audit folder, when the problem has a place. */
  file: z.string().optional(),
  /** 1-based line number (or first line of a range). */
  line: z.int().optional(),
  lastLine: z.int().optional(),
  seq: z.int().optional(),
  message: z.string(),
});
export type AuditProblem = z.infer<typeof auditProblemSchema>;

export const auditVerifyReportSchema = z.object({
  ok: z.boolean(),
  files: z.int(),
  entries: z.int(),
  firstSeq: z.int().optional(),
  lastSeq: z.int().optional(),
  headMac: z.string().optional(),
  problems: z.array(auditProblemSchema),
  /** Things worth knowing that are not tampering (an unclean shutdown, a relay that could not be asked). */
  warnings: z.array(z.string()),
  /** Relays whose copy of the chain head was compared. */
  relaysChecked: z.array(z.object({ subaccount: z.string(), relay: z.string(), heads: z.int() })),
});
export type AuditVerifyReport = z.infer<typeof auditVerifyReportSchema>;

/** Latency buckets of the traffic histogram, upper bounds in ms; one more bucket holds everything slower. */
export const LATENCY_BUCKETS_MS = [10, 25, 50, 100, 250, 500, 1000, 2500, 5000] as const;

/** Per-request detail beyond the core request event: where it went, how much, and where the time went. */
export const requestDetailShape = {
  user: z.string().optional(),
  internalHost: z.string().optional(),
  internalPort: z.int().optional(),
  /** The configured resource path that allowed the request. */
  resource: z.string().optional(),
  bytesIn: z.int().optional(),
  bytesOut: z.int().optional(),
  timing: z
    .object({
      /** At the relay before the request entered the tunnel (token check, routing). */
      relayMs: z.number().optional(),
      /** One tunnel round trip, from the latest heartbeat. */
      tunnelMs: z.number().optional(),
      /** Connecting to the back end (0 on a reused connection). */
      connectMs: z.number().optional(),
      /** From connected until the back end's answer started. */
      backendMs: z.number().optional(),
      /** Relay + tunnel + everything at the connector until the answer was sent. */
      totalMs: z.number(),
    })
    .optional(),
};

export const trafficRecordSchema = z.object({
  /** Absent for HTTP; `tcp` for a connection through SOCKS5 (method CONNECT, status 0, requestId the connection id). */
  kind: z.enum(['http', 'tcp']).optional(),
  at: z.string(),
  subaccountId: z.string(),
  requestId: z.string(),
  app: z.string(),
  method: z.string(),
  virtualHost: z.string(),
  virtualPort: z.int(),
  path: z.string(),
  status: z.int(),
  outcome: z.enum(['allowed', 'denied', 'error']),
  reason: z.string().optional(),
  durationMs: z.number(),
  ...requestDetailShape,
});
export type TrafficRecord = z.infer<typeof trafficRecordSchema>;

export const trafficQuerySchema = z.object({
  subaccount: z.string().optional(),
  /** Virtual `host:port`. */
  system: z.string().optional(),
  app: z.string().optional(),
  outcome: z.enum(['allowed', 'denied', 'error']).optional(),
  /** e.g. 200, or 5 for every 5xx. */
  status: z.int().optional(),
  /** Case-insensitive substring of path, app or reason. */
  text: z.string().optional(),
  since: z.string().optional(),
  limit: z.int().min(1).max(100_000).optional(),
});
export type TrafficQuery = z.infer<typeof trafficQuerySchema>;

export const trafficAggregateSchema = z.object({
  subaccount: z.string(),
  system: z.string(),
  /** Absent on the per-system row. */
  resource: z.string().optional(),
  count: z.int(),
  errors: z.int(),
  denied: z.int(),
  bytesIn: z.int(),
  bytesOut: z.int(),
  totalMs: z.number(),
  maxMs: z.number(),
  /** Counts per LATENCY_BUCKETS_MS bucket, then one for slower than the last bound. */
  histogram: z.array(z.int()),
});
export type TrafficAggregate = z.infer<typeof trafficAggregateSchema>;

export const trafficStatsSchema = z.object({
  since: z.string(),
  bucketsMs: z.array(z.number()),
  systems: z.array(trafficAggregateSchema),
  resources: z.array(trafficAggregateSchema),
  /** Resources by total time spent, largest first. */
  topConsumers: z.array(trafficAggregateSchema),
  /** The slowest requests still in the recent history. */
  slowest: z.array(trafficRecordSchema),
});
export type TrafficStats = z.infer<typeof trafficStatsSchema>;

export const usageRowSchema = z.object({
  subaccount: z.string(),
  system: z.string(),
  /** Absent on the per-system row. */
  resource: z.string().optional(),
  calls: z.int(),
  bytesIn: z.int(),
  bytesOut: z.int(),
  lastAccess: z.string().optional(),
  /** Still in the configuration (false: a mapping that was removed but had traffic). */
  configured: z.boolean(),
});
export type UsageRow = z.infer<typeof usageRowSchema>;

export const bundleRequestSchema = z.object({
  out: z.string().min(1),
  from: z.string().optional(),
  to: z.string().optional(),
});

export const bundleSummarySchema = z.object({
  file: z.string(),
  bytes: z.int(),
  files: z.array(z.string()),
  auditEntries: z.int(),
});
export type BundleSummary = z.infer<typeof bundleSummarySchema>;

/** The relay's mTLS endpoint for chain heads: POST one head, GET the heads it has recorded for this connector. */
export const AUDIT_HEAD_PATH = '/v1/audit-head';

/** A chain head as the connector reports it: the newest entry that is on disk. */
export const auditHeadSchema = z.object({
  seq: z.int().min(1),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
  time: z.string().max(40),
});
export type AuditHeadReport = z.infer<typeof auditHeadSchema>;

export const auditHeadListSchema = z.object({
  heads: z.array(auditHeadSchema.extend({ receivedAt: z.string() })),
  /** More heads follow; ask again with `after` = the last seq. */
  more: z.boolean(),
});
export type AuditHeadList = z.infer<typeof auditHeadListSchema>;
