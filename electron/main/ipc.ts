/**
 * The main-process side of the IPC contract in shared/ipc.ts: one `ipcMain.handle` per
 * channel. Every request is checked twice before anything runs: it must come from our own
 * window showing our own page, and its payload must fit the channel's zod schema. Replies are
 * always an IpcResult; a refusal carries a code and a sentence, never an exception's text or
 * stack.
 *
 * No `electron` import: main.ts hands in ipcMain and the sender test.
 */
import type { z } from 'zod';
import type { ConnectorApiMethod } from '../../shared/api.js';
import { ErrorCode } from '../../shared/errors.js';
import {
  IPC_CHANNELS,
  channelSchemas,
  type ChannelOutput,
  type IpcChannel,
  type IpcResult,
  type ShellChannel,
  type shellChannels,
} from '../../shared/ipc.js';
import { toPublicError } from './shell-error.js';
import { isSameOrigin } from './web-security.js';

/** The parts of Electron's IpcMainInvokeEvent the checks read. */
export interface InvokeEventLike {
  sender: unknown;
  senderFrame: { url: string; parent: unknown } | null;
}

export interface IpcMainLike {
  handle(channel: string, listener: (event: InvokeEventLike, ...args: unknown[]) => Promise<unknown>): void;
}

/**
 * Channels the renderer may not use although the contract has them, with the reason it gets.
 * exportSupportBundle takes an output path: a page that could pick any path could make the
 * agent overwrite any file the user can write. The desktop UI uses `shell:exportBundle`,
 * where the path comes from the native save dialog the user answered.
 */
export const BLOCKED_CHANNELS: ReadonlyMap<IpcChannel, string> = new Map([
  ['api:exportSupportBundle', 'In the desktop app, export support bundles with shell:exportBundle, which asks where to save the file.'],
]);

/** One function per shell channel; its input has been validated (and defaulted) already. */
export type ShellHandlers = { [C in ShellChannel]: (input: z.output<(typeof shellChannels)[C]['input']>) => Promise<ChannelOutput<C>> };

export interface IpcHandlers {
  /** Forwards to the agent (AgentBridge.call). */
  api(method: ConnectorApiMethod, input: unknown): Promise<unknown>;
  shell: ShellHandlers;
}

export interface SenderPolicy {
  /** The URL the app's page was loaded from. */
  appUrl(): string;
  /** Whether these are the webContents of the app's main window. */
  isAppWindow(sender: unknown): boolean;
}

export interface RegisterIpcOptions {
  handlers: IpcHandlers;
  senders: SenderPolicy;
  /** Told about refusals and faults, for the log (payloads are not passed: they may hold secrets). */
  onRefused?: (channel: string, code: string, detail: string) => void;
  onFault?: (channel: string, error: unknown) => void;
}

/**
 * Our page in our window, from its top frame. A frame the page did not load (the CSP allows
 * none) or a window opened some other way gets nothing.
 */
export function isTrustedSender(event: InvokeEventLike, senders: SenderPolicy): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  if (!isSameOrigin(frame.url, senders.appUrl())) return false;
  return senders.isAppWindow(event.sender);
}

/** "system.internalPort: Too big: expected number to be <=65535" — the field and what is wrong with it. */
export function describeIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 3).map((issue) => (issue.path.length > 0 ? `${issue.path.map(String).join('.')}: ${issue.message}` : issue.message));
  const more = error.issues.length > 3 ? ` (and ${error.issues.length - 3} more)` : '';
  return `${parts.join('; ')}${more}`;
}

function refuse(code: string, message: string): IpcResult<never> {
  return { ok: false, error: { code, message } };
}

/** Handles one request on one channel; exported for tests, registerIpc wires it to ipcMain. */
export async function handleInvoke(channel: IpcChannel, event: InvokeEventLike, args: unknown[], options: RegisterIpcOptions): Promise<IpcResult<unknown>> {
  if (!isTrustedSender(event, options.senders)) {
    options.onRefused?.(channel, ErrorCode.AccessDenied, `sender ${describeFrame(event)}`);
    return refuse(ErrorCode.AccessDenied, 'This request did not come from the Skybridge window, so it was refused.');
  }
  const blocked = BLOCKED_CHANNELS.get(channel);
  if (blocked) {
    options.onRefused?.(channel, ErrorCode.AccessDenied, 'blocked channel');
    return refuse(ErrorCode.AccessDenied, blocked);
  }
  if (args.length > 1) {
    options.onRefused?.(channel, ErrorCode.InvalidInput, `${args.length} arguments`);
    return refuse(ErrorCode.InvalidInput, 'The request was refused: it must be a single object.');
  }
  const schemas = channelSchemas(channel);
  const input = schemas.input.safeParse(args[0]);
  if (!input.success) {
    const detail = describeIssues(input.error);
    options.onRefused?.(channel, ErrorCode.InvalidInput, detail);
    return refuse(ErrorCode.InvalidInput, `The request was refused: ${detail}.`);
  }
  try {
    const value = channel.startsWith('api:')
      ? await options.handlers.api(channel.slice(4) as ConnectorApiMethod, input.data)
      : await (options.handlers.shell[channel as ShellChannel] as (input: unknown) => Promise<unknown>)(input.data);
    // Also strips fields the contract does not name, so nothing unplanned reaches the page.
    const output = schemas.output.safeParse(value);
    if (!output.success) {
      options.onFault?.(channel, new Error(`reply does not fit the contract: ${describeIssues(output.error)}`));
      return refuse(ErrorCode.Internal, 'The Skybridge agent sent a reply the app does not understand; the details are in the log.');
    }
    return { ok: true, value: output.data };
  } catch (error) {
    const publicError = toPublicError(error);
    if (publicError.unexpected) options.onFault?.(channel, error);
    return refuse(publicError.code, publicError.message);
  }
}

function describeFrame(event: InvokeEventLike): string {
  const frame = event.senderFrame;
  if (!frame) return 'gone';
  try {
    const url = new URL(frame.url);
    // Scheme and host only: a path or query may carry something private.
    return `${url.protocol}//${url.host}${frame.parent === null ? '' : ' (subframe)'}`;
  } catch {
    return 'unparsable URL';
  }
}

/** Registers every invokable channel of the contract, and nothing else. */
export function registerIpc(ipcMain: IpcMainLike, options: RegisterIpcOptions): readonly IpcChannel[] {
  for (const channel of IPC_CHANNELS) {
    ipcMain.handle(channel, (event, ...args) => handleInvoke(channel, event, args, options));
  }
  return IPC_CHANNELS;
}

/** The part of WebContents used to push events. */
export interface EventTarget {
  isDestroyed(): boolean;
  send(channel: 'event:agent' | 'event:shell', payload: unknown): void;
}

/** Sends one event to the window if it is still there; a window being torn down is skipped. */
export function pushEvent(target: EventTarget | undefined, channel: 'event:agent' | 'event:shell', payload: unknown): boolean {
  if (!target || target.isDestroyed()) return false;
  try {
    target.send(channel, payload);
    return true;
  } catch {
    return false;
  }
}
