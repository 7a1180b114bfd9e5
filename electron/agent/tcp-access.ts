import { isTcpProtocol, systemLabel, virtualPortRange, type SystemMapping } from '../../shared/config.js';
import { ErrorCode } from '../../shared/errors.js';

/**
 * The connector's allowlist for raw TCP (SOCKS5 through the relay): deny by
 * default; only TCP-family mappings are reachable this way, because an HTTP
 * system reached as raw TCP would bypass its resource checks. Pure, like
 * access.ts.
 */

export type TcpAccessDecision =
  | { allowed: true; system: SystemMapping; internalPort: number }
  | { allowed: false; code: typeof ErrorCode.AccessDenied; reason: string; system?: SystemMapping };

/** The mapping whose virtual host and port range cover host:port, whatever its protocol. */
export function findSystemForPort(systems: SystemMapping[], host: string, port: number): SystemMapping | undefined {
  const h = host.toLowerCase();
  return systems.find((s) => {
    if (s.virtualHost.toLowerCase() !== h) return false;
    const { first, last } = virtualPortRange(s);
    return port >= first && port <= last;
  });
}

export function checkTcpAccess(systems: SystemMapping[], req: { host: string; port: number }): TcpAccessDecision {
  const system = findSystemForPort(systems, req.host, req.port);
  const name = `${printable(req.host)}:${req.port}`;
  if (!system) return { allowed: false, code: ErrorCode.AccessDenied, reason: `access denied to system ${name}: no such system is mapped` };
  if (!isTcpProtocol(system.protocol)) {
    return {
      allowed: false,
      code: ErrorCode.AccessDenied,
      system,
      reason:
        `access denied to system ${name}: it is an HTTP system (protocol ${system.protocol}), reachable only through the HTTP proxy ` +
        'where its resources are checked; only tcp, tcp+tls, ldap and ldaps systems are reachable through SOCKS5',
    };
  }
  return { allowed: true, system, internalPort: system.internalPort + (req.port - system.virtualPort) };
}

/** How a TCP mapping is named in messages and events: the requested port, and the range when there is one. */
export function tcpSystemName(system: SystemMapping, port: number): string {
  const label = systemLabel(system);
  return label === `${system.virtualHost}:${port}` ? label : `${system.virtualHost}:${port} (mapping ${label})`;
}

function printable(text: string): string {
  const clean = text.replace(/[^\x21-\x7e]/g, '?');
  return clean.length > 200 ? `${clean.slice(0, 200)}…` : clean;
}
