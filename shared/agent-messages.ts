import { z } from 'zod';
import { agentEventSchema } from './api.js';

/**
 * Messages between the desktop shell (electron/main) and the agent in its utilityProcess
 * (electron/agent/agent-process.ts), over `process.parentPort` / `UtilityProcess.postMessage`.
 * The shell forwards the UI's ConnectorApi calls as `api-call` and gets one `api-result`
 * per call id; the agent pushes its events unasked.
 */

/** 32 random bytes, base64: the key that encrypts the agent's private keys and passwords at rest. */
const DATA_KEY_BASE64 = /^[A-Za-z0-9+/]{43}=$/;

export const shellToAgentSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('api-call'), id: z.int().nonnegative(), method: z.string(), input: z.unknown() }),
  z.object({ type: z.literal('shutdown') }),
  /**
   * The first message to an agent started with `--key-store shell`, which reads no secret before
   * it. `key` is null when the shell has none to give: `reason` says why (the OS offers no key
   * store, or the stored key can no longer be decrypted). Never logged, never on argv or env.
   */
  z.object({
    type: z.literal('unlock'),
    key: z.string().regex(DATA_KEY_BASE64).nullable(),
    reason: z.enum(['no-key-store', 'key-unreadable']).optional(),
  }),
]);
export type ShellToAgent = z.infer<typeof shellToAgentSchema>;

export const agentToShellSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('agent-ready'), pid: z.int() }),
  z.object({ type: z.literal('agent-event'), event: agentEventSchema }),
  z.object({
    type: z.literal('api-result'),
    id: z.int().nonnegative(),
    ok: z.boolean(),
    value: z.unknown().optional(),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
  }),
]);
export type AgentToShell = z.infer<typeof agentToShellSchema>;
