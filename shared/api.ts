import { z } from 'zod';
import { resourceSchema, systemSchema, portSchema, httpMethodSchema, resourcePathSchema } from './config.js';
import {
  auditLevelSchema,
  auditEntrySchema,
  auditQuerySchema,
  auditVerifyReportSchema,
  bundleRequestSchema,
  bundleSummarySchema,
  requestDetailShape,
  trafficQuerySchema,
  trafficRecordSchema,
  trafficStatsSchema,
  usageRowSchema,
} from './evidence.js';

/**
 * The connector's typed API. The desktop UI calls it over IPC, the headless UI
 * over HTTP + WebSocket, the CLI in-process. One contract: every method's input
 * and output has a zod schema here, so each transport validates the same way.
 */

export const SUBACCOUNT_STATES = ['disconnected', 'connecting', 'connected', 'reconnecting', 'failed'] as const;
export const subaccountStateSchema = z.enum(SUBACCOUNT_STATES);
export type SubaccountStateName = z.infer<typeof subaccountStateSchema>;

/** The words people see for each tunnel state (tray, UI, and the e2e tests that look for them). */
export const SUBACCOUNT_STATE_LABELS: Record<SubaccountStateName, string> = {
  connected: 'Connected',
  connecting: 'Connecting',
  reconnecting: 'Reconnecting',
  disconnected: 'Disconnected',
  failed: 'Failed',
};

export const tunnelStatusSchema = z.object({
  state: subaccountStateSchema,
  /** Set while reconnecting or failed: what went wrong, in a sentence. */
  lastError: z.string().optional(),
  /** ISO time of the next attempt while reconnecting. */
  nextRetryAt: z.string().optional(),
  /** ISO time the current tunnel came up. */
  connectedSince: z.string().optional(),
  /** Last heartbeat round-trip time. */
  rttMs: z.number().optional(),
  reconnects: z.int(),
});
export type TunnelStatus = z.infer<typeof tunnelStatusSchema>;

export const subaccountSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  relayUrl: z.string(),
  tenantId: z.string(),
  location: z.string(),
  connectorId: z.string(),
  enabled: z.boolean(),
  systemCount: z.int(),
  certificateNotAfter: z.string().optional(),
  status: tunnelStatusSchema,
});
export type SubaccountSummary = z.infer<typeof subaccountSummarySchema>;

const subaccountRef = z.object({ subaccount: z.string().optional() });
const systemRef = subaccountRef.extend({ system: z.string().regex(/^[^:\s]+:\d{1,5}$/, 'a virtual system as HOST:PORT') });

/** The connector's own client certificate for one subaccount, as shown on the Pairing page. */
export const certificateDetailsSchema = z.object({
  subaccount: z.string(),
  subject: z.string(),
  issuer: z.string(),
  serialNumber: z.string(),
  notBefore: z.string(),
  notAfter: z.string(),
  /** Whole days until notAfter (negative once expired). */
  daysLeft: z.number(),
  /** SHA-256 of the DER, upper-case hex pairs separated by colons. */
  fingerprintSha256: z.string(),
  /** Subject alternative names (the relay's tenant and location URIs). */
  subjectAltNames: z.array(z.string()),
});
export type CertificateDetails = z.infer<typeof certificateDetailsSchema>;

/** Result of "check availability": does the internal host answer? (HTTP: HEAD /; TCP: a connect, plus TLS where the system uses it.) */
export const availabilitySchema = z.object({
  system: z.string(),
  internal: z.string(),
  reachable: z.boolean(),
  /** HTTP status of HEAD / for HTTP systems. */
  status: z.int().optional(),
  ms: z.number().optional(),
  /** One sentence on what failed (refused, timed out, certificate not trusted…). */
  error: z.string().optional(),
  checkedAt: z.string(),
});
export type Availability = z.infer<typeof availabilitySchema>;

/** "Would this request be allowed?": the same decision the forwarder makes, without sending anything. */
export const accessTestInputSchema = subaccountRef.extend({
  method: httpMethodSchema.default('GET'),
  /** Virtual host and port, as a cloud app would name them. */
  host: z.string().min(1),
  port: portSchema,
  /** Request target as sent: path and optional query. */
  target: z.string().min(1).max(8192),
  /** Ask as if the request were a WebSocket upgrade. */
  websocket: z.boolean().optional(),
});
export const accessTestResultSchema = z.object({
  allowed: z.boolean(),
  /** Why it was refused, or which rule let it through, in a sentence. */
  reason: z.string(),
  /** The matched system (`host:port`), when one matched. */
  system: z.string().optional(),
  /** The resource that matched, when one did. */
  resource: resourceSchema.optional(),
  /** The normalised path that was checked. */
  path: z.string().optional(),
  /** HTTP status the cloud app would get when refused (400 or 403). */
  status: z.int().optional(),
});
export type AccessTestResult = z.infer<typeof accessTestResultSchema>;

/** Largest PEM text importCaCertificate takes (a CA is a few kilobytes; the agent reads no larger CA file). */
export const MAX_CA_PEM_CHARS = 1024 * 1024;

/** What importCaCertificate stored: the path to put in a system's caFile, and the first certificate's details. */
export const importedCaSchema = z.object({
  /** Absolute path on the agent's machine, inside <dataDir>/trusted-ca/. */
  caFile: z.string(),
  subject: z.string(),
  /** SHA-256 of the DER, upper-case hex pairs separated by colons. */
  fingerprintSha256: z.string(),
  notAfter: z.string(),
  /** How many certificates the PEM held (a CA bundle may hold several; the details above are the first's). */
  certificates: z.int().min(1),
});
export type ImportedCa = z.infer<typeof importedCaSchema>;

/** One minute of traffic for the dashboard chart. */
export const minuteSampleSchema = z.object({
  /** ISO start of the minute. */
  minute: z.string(),
  requests: z.int(),
  errors: z.int(),
  denied: z.int(),
  bytesIn: z.int(),
  bytesOut: z.int(),
});
export type MinuteSample = z.infer<typeof minuteSampleSchema>;

export const dashboardSchema = z.object({
  /** When the agent process started (ISO). */
  agentStartedAt: z.string(),
  version: z.string(),
  subaccounts: z.array(
    subaccountSummarySchema.extend({
      /** The last 30 minutes, oldest first, one entry per minute (zeros included). */
      minutes: z.array(minuteSampleSchema),
    }),
  ),
});
export type Dashboard = z.infer<typeof dashboardSchema>;

/** Installation settings the UI edits (desktop-only ones such as start-at-login live in the shell). */
export const agentSettingsSchema = z.object({
  auditRetentionDays: z.int().min(0).max(36_500),
  subaccounts: z.array(z.object({ id: z.string(), name: z.string(), audit: auditLevelSchema })),
});
export type AgentSettings = z.infer<typeof agentSettingsSchema>;

/**
 * A patch names only what changes. The file schemas fill defaults in, which in a patch would
 * silently reset every field it leaves out (a switched-off resource losing its WebSocket flag),
 * so patches use the fields without their defaults.
 */
const systemPatchSchema = z
  .object({
    internalHost: systemSchema.shape.internalHost,
    internalPort: systemSchema.shape.internalPort,
    protocol: systemSchema.shape.protocol,
    hostHeader: systemSchema.shape.hostHeader.unwrap(),
    caFile: systemSchema.shape.caFile,
    connectTimeoutMs: systemSchema.shape.connectTimeoutMs.unwrap(),
    responseTimeoutMs: systemSchema.shape.responseTimeoutMs.unwrap(),
    description: systemSchema.shape.description,
  })
  .partial();
const resourcePatchSchema = z
  .object({
    subPaths: resourceSchema.shape.subPaths.unwrap(),
    methods: resourceSchema.shape.methods,
    websocket: resourceSchema.shape.websocket.unwrap(),
    enabled: resourceSchema.shape.enabled.unwrap(),
    description: resourceSchema.shape.description,
  })
  .partial();

/** Inputs: `subaccount` may be left out while there is only one. */
export const connectorApiSchemas = {
  listSubaccounts: { input: z.object({}), output: z.array(subaccountSummarySchema) },
  listSystems: { input: subaccountRef, output: z.array(systemSchema) },
  addSystem: { input: subaccountRef.extend({ system: systemSchema }), output: systemSchema },
  updateSystem: {
    input: systemRef.extend({
      patch: systemPatchSchema.extend({
        /** null removes the setting (config-ops SystemPatch), e.g. a CA file no longer needed. */
        caFile: z.string().min(1).nullable().optional(),
        description: z.string().max(500).nullable().optional(),
      }),
    }),
    output: systemSchema,
  },
  removeSystem: { input: systemRef, output: z.object({ removed: z.literal(true) }) },
  addResource: { input: systemRef.extend({ resource: resourceSchema }), output: systemSchema },
  removeResource: { input: systemRef.extend({ path: z.string() }), output: systemSchema },
  /** Switch one resource on or off without deleting it, or change its flags. */
  updateResource: {
    input: systemRef.extend({
      path: resourcePathSchema,
      patch: resourcePatchSchema,
    }),
    output: systemSchema,
  },
  checkAvailability: { input: systemRef, output: availabilitySchema },
  testAccess: { input: accessTestInputSchema, output: accessTestResultSchema },
  /**
   * Stores PEM certificates the UI uploaded as a CA file the agent owns; put the returned `caFile`
   * into a system. The UI transports accept no other caFile (the browser cannot name server paths).
   */
  importCaCertificate: { input: z.object({ pem: z.string().min(1).max(MAX_CA_PEM_CHARS) }), output: importedCaSchema },
  // Pairing and certificates.
  /** Pair with a relay using a one-time code; `name` labels the subaccount locally. */
  pairSubaccount: {
    input: z.object({ code: z.string().min(1).max(4096), name: z.string().max(200).optional() }),
    output: subaccountSummarySchema,
  },
  certificateDetails: { input: z.object({ subaccount: z.string() }), output: certificateDetailsSchema },
  /** Renew now, without waiting for two thirds of the validity. */
  renewCertificate: { input: z.object({ subaccount: z.string() }), output: certificateDetailsSchema },
  // Dashboard and settings.
  dashboard: { input: z.object({}), output: dashboardSchema },
  getSettings: { input: z.object({}), output: agentSettingsSchema },
  setAuditLevel: { input: z.object({ subaccount: z.string(), level: auditLevelSchema }), output: agentSettingsSchema },
  setAuditRetention: { input: z.object({ days: z.int().min(0).max(36_500) }), output: agentSettingsSchema },
  /** Connect (true) or disconnect (false) one subaccount; the choice is saved and survives restarts. */
  setSubaccountEnabled: { input: z.object({ subaccount: z.string(), enabled: z.boolean() }), output: subaccountSummarySchema },
  /** Removes a subaccount, its systems and its key material. `confirm` must be the subaccount id. */
  removeSubaccount: { input: z.object({ subaccount: z.string(), confirm: z.string() }), output: z.object({ removed: z.literal(true) }) },
  // Evidence (docs/audit.md): audit log, traffic, usage, support bundle.
  listAudit: { input: auditQuerySchema, output: z.array(auditEntrySchema) },
  /** `offline`: do not ask the relays for their copy of the chain head. */
  verifyAudit: { input: z.object({ offline: z.boolean().optional() }), output: auditVerifyReportSchema },
  recentTraffic: { input: trafficQuerySchema, output: z.array(trafficRecordSchema) },
  trafficStats: { input: subaccountRef, output: trafficStatsSchema },
  usageStats: { input: subaccountRef, output: z.array(usageRowSchema) },
  exportSupportBundle: { input: bundleRequestSchema, output: bundleSummarySchema },
} as const;

export type ConnectorApiMethod = keyof typeof connectorApiSchemas;
export type ApiInput<M extends ConnectorApiMethod> = z.input<(typeof connectorApiSchemas)[M]['input']>;
export type ApiOutput<M extends ConnectorApiMethod> = z.output<(typeof connectorApiSchemas)[M]['output']>;

export const agentEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('subaccount-state'), subaccountId: z.string(), status: tunnelStatusSchema }),
  z.object({ type: z.literal('config-reloaded'), at: z.string() }),
  z.object({ type: z.literal('certificate-renewed'), at: z.string(), subaccountId: z.string(), notAfter: z.string() }),
  /** Renewal keeps failing, or expiry is near: a person should look. */
  z.object({ type: z.literal('certificate-warning'), at: z.string(), subaccountId: z.string(), notAfter: z.string(), message: z.string() }),
  z.object({ type: z.literal('config-error'), at: z.string(), message: z.string() }),
  z.object({
    type: z.literal('request'),
    at: z.string(),
    subaccountId: z.string(),
    requestId: z.string(),
    app: z.string(),
    method: z.string(),
    virtualHost: z.string(),
    virtualPort: portSchema,
    path: z.string(),
    status: z.int(),
    outcome: z.enum(['allowed', 'denied', 'error']),
    reason: z.string().optional(),
    durationMs: z.number(),
    ...requestDetailShape,
  }),
  /** An entry that has just been written to the audit log. */
  z.object({ type: z.literal('audit'), entry: auditEntrySchema }),
  /** One TCP connection through SOCKS5, recorded when it is over (or when it was refused). */
  z.object({
    type: z.literal('connection'),
    at: z.string(),
    subaccountId: z.string(),
    connectionId: z.string(),
    app: z.string(),
    virtualHost: z.string(),
    virtualPort: z.int().min(0).max(65535),
    /** Of the mapping that matched, when one did. */
    protocol: z.string().optional(),
    internalHost: z.string().optional(),
    internalPort: portSchema.optional(),
    outcome: z.enum(['allowed', 'denied', 'error']),
    /** refused: never connected (see reason); closed: both sides finished; the others: who cut it off. */
    ended: z.enum(['refused', 'closed', 'idle-timeout', 'cloud-reset', 'backend-reset']),
    reason: z.string().optional(),
    bytesToBackend: z.int(),
    bytesFromBackend: z.int(),
    connectMs: z.number().optional(),
    durationMs: z.number(),
  }),
]);
export type AgentEvent = z.infer<typeof agentEventSchema>;

/** What every transport implements. */
export type ConnectorApi = {
  [M in ConnectorApiMethod]: (input: ApiInput<M>) => Promise<ApiOutput<M>>;
} & {
  subscribe(listener: (event: AgentEvent) => void): () => void;
};

