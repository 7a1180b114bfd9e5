import { z } from 'zod';
import { resourceSchema, systemSchema, portSchema } from './config.js';
import {
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

/** Inputs: `subaccount` may be left out while there is only one. */
export const connectorApiSchemas = {
  listSubaccounts: { input: z.object({}), output: z.array(subaccountSummarySchema) },
  listSystems: { input: subaccountRef, output: z.array(systemSchema) },
  addSystem: { input: subaccountRef.extend({ system: systemSchema }), output: systemSchema },
  updateSystem: {
    input: systemRef.extend({
      patch: systemSchema.pick({
        internalHost: true,
        internalPort: true,
        protocol: true,
        hostHeader: true,
        caFile: true,
        connectTimeoutMs: true,
        responseTimeoutMs: true,
        description: true,
      }).partial(),
    }),
    output: systemSchema,
  },
  removeSystem: { input: systemRef, output: z.object({ removed: z.literal(true) }) },
  addResource: { input: systemRef.extend({ resource: resourceSchema }), output: systemSchema },
  removeResource: { input: systemRef.extend({ path: z.string() }), output: systemSchema },
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

