import { z } from 'zod';
import { agentEventSchema, connectorApiSchemas, subaccountStateSchema, type ConnectorApiMethod } from './api.js';

/**
 * The desktop app's IPC contract: one map from channel name to the zod schemas of its
 * request and response. Main validates every request against it (and checks the sender);
 * the preload exposes one function per channel and nothing else; the renderer's typed
 * client is derived from the same map, so the three cannot drift apart.
 *
 * Channels `api:<method>` carry the ConnectorApi (main forwards them to the agent process);
 * channels `shell:<name>` are what only the desktop shell can do (start at login, the tray's
 * export, the OS key store).
 */

export const shellStateSchema = z.object({
  /** Overall state the tray shows: every enabled subaccount connected, some not, or none. */
  overall: z.enum(['connected', 'degraded', 'offline', 'idle']),
  agent: z.enum(['starting', 'running', 'restarting', 'stopped']),
  /** Set while the agent is being restarted after a crash. */
  agentError: z.string().optional(),
});
export type ShellState = z.infer<typeof shellStateSchema>;

export const shellSettingsSchema = z.object({
  startAtLogin: z.boolean(),
  /** Desktop notifications when a subaccount goes down or comes back, or a certificate nears expiry. */
  notifications: z.boolean(),
  /** False where the OS offers no real key store (Linux without a keyring): secrets are then only obfuscated. */
  secureStorage: z.boolean(),
  /** The key store Electron's safeStorage uses (e.g. gnome_libsecret, kwallet5, basic_text; keychain/dpapi elsewhere). */
  secureStorageBackend: z.string(),
  /**
   * Set when the key that encrypts the connector's private keys and passwords cannot be read
   * (the OS key store was reset, its file is damaged): a sentence saying what to do.
   */
  keyStoreError: z.string().optional(),
});
export type ShellSettings = z.infer<typeof shellSettingsSchema>;

export const shellChannels = {
  'shell:getState': { input: z.object({}), output: shellStateSchema },
  'shell:getSettings': { input: z.object({}), output: shellSettingsSchema },
  'shell:setSettings': {
    input: z.object({ startAtLogin: z.boolean().optional(), notifications: z.boolean().optional() }),
    output: shellSettingsSchema,
  },
  /** Asks where to save (native dialog) and writes a support bundle there; null when cancelled. */
  'shell:exportBundle': {
    input: z.object({ from: z.string().optional(), to: z.string().optional() }),
    output: z.object({ file: z.string(), bytes: z.int(), auditEntries: z.int() }).nullable(),
  },
  /** Shows a saved file in the OS file manager (only files the shell itself wrote). */
  'shell:showItemInFolder': { input: z.object({ file: z.string().min(1) }), output: z.object({ shown: z.boolean() }) },
} as const;

export type ShellChannel = keyof typeof shellChannels;
export type ApiChannel = `api:${ConnectorApiMethod}`;
export type IpcChannel = ApiChannel | ShellChannel;

export const API_METHODS = Object.keys(connectorApiSchemas) as ConnectorApiMethod[];
export const SHELL_CHANNELS = Object.keys(shellChannels) as ShellChannel[];
/** Every invokable channel, in a fixed order (the preload keeps an identical literal list; a unit test compares them). */
export const IPC_CHANNELS: readonly IpcChannel[] = [...API_METHODS.map((m) => `api:${m}` as ApiChannel), ...SHELL_CHANNELS];

/** Main → renderer pushes (not invokable). */
export const IPC_EVENT_CHANNELS = {
  'event:agent': agentEventSchema,
  'event:shell': shellStateSchema,
} as const;
export type IpcEventChannel = keyof typeof IPC_EVENT_CHANNELS;

export function channelSchemas(channel: IpcChannel): { input: z.ZodType; output: z.ZodType } {
  if (channel.startsWith('api:')) return connectorApiSchemas[channel.slice(4) as ConnectorApiMethod];
  return shellChannels[channel as ShellChannel];
}

export type ChannelInput<C extends IpcChannel> = C extends `api:${infer M extends ConnectorApiMethod}`
  ? z.input<(typeof connectorApiSchemas)[M]['input']>
  : C extends ShellChannel
    ? z.input<(typeof shellChannels)[C]['input']>
    : never;
export type ChannelOutput<C extends IpcChannel> = C extends `api:${infer M extends ConnectorApiMethod}`
  ? z.output<(typeof connectorApiSchemas)[M]['output']>
  : C extends ShellChannel
    ? z.output<(typeof shellChannels)[C]['output']>
    : never;

/**
 * Every reply over IPC is wrapped, so a refusal reaches the UI as a code and a sentence
 * rather than Electron's "Error invoking remote method" prefix.
 */
export type IpcResult<T> = { ok: true; value: T } | { ok: false; error: { code: string; message: string } };

type ShellMethodName<C extends ShellChannel> = C extends `shell:${infer N}` ? N : never;

/**
 * What the preload puts on `window.skybridge`: one function per channel (no generic invoke,
 * no raw ipcRenderer), each resolving to an IpcResult.
 */
export interface DesktopBridge {
  readonly version: string;
  readonly platform: string;
  readonly api: { readonly [M in ConnectorApiMethod]: (input: ChannelInput<`api:${M}`>) => Promise<IpcResult<ChannelOutput<`api:${M}`>>> };
  readonly shell: { readonly [C in ShellChannel as ShellMethodName<C>]: (input: ChannelInput<C>) => Promise<IpcResult<ChannelOutput<C>>> };
  /** Returns the function that unsubscribes. */
  on<E extends IpcEventChannel>(channel: E, listener: (payload: z.output<(typeof IPC_EVENT_CHANNELS)[E]>) => void): () => void;
}

export { subaccountStateSchema };
