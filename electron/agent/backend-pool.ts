import http from 'node:http';
import https from 'node:https';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';
import type { SystemMapping } from '../../shared/config.js';

/**
 * Keep-alive connection pools per back end. A pool is keyed by everything that
 * changes how we connect, so editing a mapping (new internal host, new CA file)
 * gets a fresh pool while untouched systems keep their warm connections.
 */
export class BackendPools {
  private readonly pools = new Map<string, http.Agent>();

  agentFor(system: SystemMapping): http.Agent {
    const key = [system.protocol, system.internalHost, system.internalPort, system.caFile ?? ''].join('|');
    let agent = this.pools.get(key);
    if (!agent) {
      const common = { keepAlive: true, keepAliveMsecs: 15_000, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const, timeout: 120_000 };
      agent =
        system.protocol === 'https'
          ? new https.Agent({
              ...common,
              // Back-end certificates are verified: against the system trust store, plus the mapping's own CA file if given.
              ca: system.caFile ? [...tls.rootCertificates, readFileSync(system.caFile, 'utf8')] : undefined,
              rejectUnauthorized: true,
            })
          : new http.Agent(common);
      this.pools.set(key, agent);
    }
    return agent;
  }

  /** Drops pools no mapping uses any more. */
  retain(systems: SystemMapping[]): void {
    const live = new Set(systems.map((s) => [s.protocol, s.internalHost, s.internalPort, s.caFile ?? ''].join('|')));
    for (const [key, agent] of this.pools) {
      if (!live.has(key)) {
        agent.destroy();
        this.pools.delete(key);
      }
    }
  }

  destroy(): void {
    for (const agent of this.pools.values()) agent.destroy();
    this.pools.clear();
  }
}
