import type { Logger } from '../../../common/logger.js';
import { connectorApiSchemas, type ConnectorApi, type ConnectorApiMethod } from '../../../shared/api.js';
import { ErrorCode, isSkybridgeError } from '../../../shared/errors.js';

/** What a transport sends back for one call: the value, or a code and a sentence for people. */
export type ApiReply = { ok: true; value: unknown } | { ok: false; error: { code: string; message: string } };

/** The code of a failure that is the connector's fault, not the caller's; its details stay in the log. */
export const INTERNAL_ERROR = 'INTERNAL';

export function isApiMethod(name: string): name is ConnectorApiMethod {
  return Object.hasOwn(connectorApiSchemas, name);
}

/**
 * Runs one ConnectorApi call for a transport (the desktop shell's messages,
 * the headless UI's HTTP). The reply carries only what the contract allows:
 * the value is parsed with the method's output schema (unknown fields are
 * dropped), and an unexpected failure becomes INTERNAL with a fixed sentence,
 * so no stack trace, path or secret in an exception message reaches the UI.
 */
export async function callApi(api: ConnectorApi, method: string, input: unknown, logger?: Logger): Promise<ApiReply> {
  if (!isApiMethod(method)) {
    const shown = method.replace(/[^\x21-\x7e]/g, '?').slice(0, 60);
    return { ok: false, error: { code: ErrorCode.NotFound, message: `The connector has no API method "${shown}".` } };
  }
  let value: unknown;
  try {
    value = await (api[method] as (input: unknown) => Promise<unknown>)(input ?? {});
  } catch (err) {
    if (isSkybridgeError(err)) return { ok: false, error: { code: err.code, message: err.message } };
    logger?.error({ method, err: err instanceof Error ? (err.stack ?? err.message) : String(err) }, 'API call failed');
    return { ok: false, error: { code: INTERNAL_ERROR, message: `The connector could not complete ${method}; its log has the details.` } };
  }
  const out = connectorApiSchemas[method].output.safeParse(value);
  if (!out.success) {
    logger?.error({ method, issues: out.error.issues.slice(0, 5) }, 'API result does not match its contract');
    return { ok: false, error: { code: INTERNAL_ERROR, message: `The connector gave an unexpected answer to ${method}; its log has the details.` } };
  }
  return { ok: true, value: out.data };
}
