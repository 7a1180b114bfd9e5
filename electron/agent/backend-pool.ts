import http from 'node:http';
import https from 'node:https';
import type { SystemMapping } from '../../shared/config.js';
import { caFileCache, type CaFileCache, type TrustedCa } from './trusted-ca.js';

/**
 * Keep-alive connection pools per back end. A pool is keyed by everything that
 * changes how we connect, so editing a mapping (new internal host, new CA file)
 * gets a fresh pool while untouched systems keep their warm connections.
 */
export class BackendPools {
  private readonly pools = new Map<string, { agent: http.Agent; trust?: TrustedCa }>();

  constructor(private readonly caFiles: CaFileCache = caFileCache) {}

  /** Throws a CaFileError when the mapping's CA file cannot be used; nothing is connected then. */
  agentFor(system: SystemMapping): http.Agent {
    const key = [system.protocol, system.internalHost, system.internalPort, system.caFile ?? ''].join('|');
    const trust = system.protocol === 'https' && system.caFile ? this.caFiles.get(system.caFile) : undefined;
    let entry = this.pools.get(key);
    // A CA file rewritten in place is a new trust object: new connections use it. The old pool is left
    // to finish its requests; its idle sockets close by their timeout.
    if (!entry || entry.trust !== trust) {
      const common = { keepAlive: true, keepAliveMsecs: 15_000, maxSockets: 256, maxFreeSockets: 64, scheduling: 'lifo' as const, timeout: 120_000 };
      const agent =
        system.protocol === 'https'
          ? new https.Agent({
              ...common,
              // Back-end certificates are verified: against the system trust store, plus the mapping's own CA file if given.
              ca: trust?.ca,
              rejectUnauthorized: true,
            })
          : new http.Agent(common);
      entry = { agent, trust };
      this.pools.set(key, entry);
    }
    return entry.agent;
  }

  /** Drops pools no mapping uses any more. */
  retain(systems: SystemMapping[]): void {
    const live = new Set(systems.map((s) => [s.protocol, s.internalHost, s.internalPort, s.caFile ?? ''].join('|')));
    for (const [key, { agent }] of this.pools) {
      if (!live.has(key)) {
        agent.destroy();
        this.pools.delete(key);
      }
    }
  }

  destroy(): void {
    for (const { agent } of this.pools.values()) agent.destroy();
    this.pools.clear();
  }
}
