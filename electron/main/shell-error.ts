import { ErrorCode, SkybridgeError } from '../../shared/errors.js';

/**
 * A refusal the shell passes on to the UI as `{ code, message }`. The code is a string, not
 * only an ErrorCode: calls answered by the agent keep whatever code the agent chose.
 */
export class ShellError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ShellError';
  }
}

/** Refusals longer than this are cut: a message is a sentence for a person, not a dump. */
const MAX_MESSAGE = 1_000;

/**
 * What the UI sees of any failure. Our own refusals (and the agent's, which the bridge turns
 * into ShellErrors) keep their sentence. Anything else, Node's errors included, is a fault of
 * ours, reported without its text or stack, which may hold paths or secrets: the log has them.
 */
export function toPublicError(error: unknown): { code: string; message: string; unexpected: boolean } {
  if (error instanceof ShellError || error instanceof SkybridgeError) {
    return { code: error.code, message: error.message.slice(0, MAX_MESSAGE), unexpected: false };
  }
  return {
    code: ErrorCode.Internal,
    message: 'The desktop app could not do that because of an internal error; the details are in its log.',
    unexpected: true,
  };
}
