import { parseHostPort } from '../electron/agent/config-ops.js';
import { ErrorCode, SkybridgeError } from '../shared/errors.js';

/** `HOST:PORT` or `HOST:FIRST-LAST` (a TCP mapping's port range), as typed on the command line. */
export function parseHostPortRange(text: string): { host: string; port: number; portEnd?: number } {
  const m = /^(.*):(\d{1,5})-(\d{1,5})$/.exec(text.trim());
  if (!m) return parseHostPort(text);
  const { host, port } = parseHostPort(`${m[1]}:${m[2]}`);
  const end = parseHostPort(`${m[1]}:${m[3]}`).port;
  if (end < port) throw new SkybridgeError(ErrorCode.InvalidInput, `"${text}" is not a port range: ${end} is below ${port}`);
  return end === port ? { host, port } : { host, port, portEnd: end };
}
