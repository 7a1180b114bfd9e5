import type { ClientHttp2Session } from 'node:http2';

/** One connector's live tunnel, as the relay sees it. */
export interface LiveTunnel {
  readonly connectorId: string;
  readonly tenantId: string;
  readonly location: string;
  readonly session: ClientHttp2Session;
  readonly connectedAt: Date;
  readonly remoteAddress: string;
  readonly agentVersion: string;
}

const keyOf = (tenantId: string, location: string) => `${tenantId}\u0000${location}`;

/**
 * Which connector serves which tenant and location. One connector per pair:
 * a second, different connector is refused; the same connector coming back
 * (after a network blip the relay has not noticed yet) replaces its old tunnel.
 */
export class TunnelRegistry {
  private readonly tunnels = new Map<string, LiveTunnel>();

  /** Returns the tunnel it replaced, or refuses with the tunnel already serving. */
  register(t: LiveTunnel): { ok: true; replaced?: LiveTunnel } | { ok: false; current: LiveTunnel } {
    const key = keyOf(t.tenantId, t.location);
    const current = this.tunnels.get(key);
    if (current && !current.session.destroyed && current.connectorId !== t.connectorId) return { ok: false, current };
    this.tunnels.set(key, t);
    return current && current !== t ? { ok: true, replaced: current } : { ok: true };
  }

  get(tenantId: string, location: string): LiveTunnel | undefined {
    const t = this.tunnels.get(keyOf(tenantId, location));
    if (t && (t.session.destroyed || t.session.closed)) {
      this.tunnels.delete(keyOf(tenantId, location));
      return undefined;
    }
    return t;
  }

  /** Removes the tunnel only if it is still the registered one. */
  remove(t: LiveTunnel): void {
    const key = keyOf(t.tenantId, t.location);
    if (this.tunnels.get(key) === t) this.tunnels.delete(key);
  }

  byConnector(connectorId: string): LiveTunnel[] {
    return [...this.tunnels.values()].filter((t) => t.connectorId === connectorId);
  }

  all(): LiveTunnel[] {
    return [...this.tunnels.values()];
  }
}
