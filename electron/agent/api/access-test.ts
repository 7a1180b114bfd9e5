import type { z } from 'zod';
import type { AccessTestResult, accessTestInputSchema } from '../../../shared/api.js';
import { isTcpProtocol, systemKey, type AgentConfig, type Resource, type SystemMapping } from '../../../shared/config.js';
import { ErrorCode, httpStatusFor } from '../../../shared/errors.js';
import { checkAccess, normalizeRequestPath, type AccessRequest } from '../access.js';
import { resolveSubaccount } from '../config-ops.js';
import { checkTcpAccess, findSystemForPort } from '../tcp-access.js';
import { hostPort } from './availability.js';

type AccessTestInput = z.output<typeof accessTestInputSchema>;

function sentence(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function below(r: Resource): string {
  return r.subPaths ? `${r.path} and everything below it` : r.path;
}

/**
 * A resource that would have let the request through but is switched off. The
 * allowlist skips such resources, so a refusal only says "no resource allows";
 * asking checkAccess again with them switched on names the one a person forgot.
 */
function switchedOffMatch(systems: SystemMapping[], system: SystemMapping, req: AccessRequest): Resource | undefined {
  if (system.resources.every((r) => r.enabled)) return undefined;
  const original = new Map<Resource, Resource>();
  const enabled = system.resources.map((r) => {
    const on = { ...r, enabled: true };
    original.set(on, r);
    return on;
  });
  const again = checkAccess(
    systems.map((s) => (s === system ? { ...s, resources: enabled } : s)),
    req,
  );
  const before = again.resource ? original.get(again.resource) : undefined;
  return before && !before.enabled ? before : undefined;
}

/**
 * "Would this request be allowed?": the forwarder's own decision (checkAccess
 * on the same normalised target, method and upgrade), or the SOCKS5 one for a
 * TCP system, explained in a sentence without sending anything anywhere.
 */
export function testAccess(cfg: AgentConfig, input: AccessTestInput): AccessTestResult {
  const sub = resolveSubaccount(cfg, input.subaccount);
  const systems = sub.systems;
  const mapped = findSystemForPort(systems, input.host, input.port);

  if (mapped && isTcpProtocol(mapped.protocol)) {
    const d = checkTcpAccess(systems, { host: input.host, port: input.port });
    const name = `${mapped.virtualHost}:${input.port}`;
    if (!d.allowed) return { allowed: false, reason: sentence(d.reason), system: name, status: httpStatusFor[d.code] };
    return {
      allowed: true,
      system: name,
      reason:
        `System ${name} is a TCP system (protocol ${mapped.protocol}): a connection through the SOCKS5 proxy would be allowed ` +
        `and go to ${hostPort(mapped.internalHost, d.internalPort)}. The connector cannot see methods or paths inside raw TCP, ` +
        'and an HTTP request to it through the HTTP proxy would be refused.',
    };
  }

  const req: AccessRequest = { host: input.host, port: input.port, method: input.method, rawTarget: input.target, ...(input.websocket ? { upgrade: 'websocket' } : {}) };
  const decision = checkAccess(systems, req);
  const normalized = normalizeRequestPath(input.target);
  const path = normalized.ok ? normalized.path : undefined;

  if (decision.allowed) {
    const s = decision.system;
    const r = decision.resource;
    const ws = input.websocket ? ' as a WebSocket upgrade' : '';
    return {
      allowed: true,
      system: systemKey(s),
      resource: r,
      path: decision.path,
      reason: `Allowed by resource ${below(r)} on system ${systemKey(s)}: ${s.protocol}://${hostPort(s.internalHost, s.internalPort)} would receive ${input.method} ${decision.target}${ws}.`,
    };
  }

  let reason = sentence(decision.reason);
  if (decision.system && !decision.resource && decision.code === ErrorCode.AccessDenied) {
    const off = switchedOffMatch(systems, decision.system, req);
    if (off) reason += `; resource ${below(off)} would match it but is switched off`;
  }
  return {
    allowed: false,
    reason,
    ...(decision.system ? { system: systemKey(decision.system) } : {}),
    ...(decision.resource ? { resource: decision.resource } : {}),
    ...(path !== undefined ? { path } : {}),
    status: httpStatusFor[decision.code],
  };
}
