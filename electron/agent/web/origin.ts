import os from 'node:os';
import { isWildcard } from './tls.js';

function bare(hostname: string): string {
  return hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

/**
 * Which Host headers the UI answers, and what its own origin is. Only names the UI can
 * really be reached by are accepted (those its certificate covers, loopback, and with a
 * wildcard bind this machine's addresses), which shuts out DNS-rebinding pages that point
 * a foreign name at the UI. The origin that CSRF checks compare against is then the one
 * the browser itself used: https://<Host>.
 */
export class OriginPolicy {
  private readonly names: Set<string>;
  port = 0;

  constructor(certNames: string[], listenHost: string) {
    this.names = new Set(['localhost', '127.0.0.1', '::1', ...certNames].map(bare));
    if (isWildcard(listenHost)) {
      this.names.add(os.hostname().toLowerCase());
      for (const list of Object.values(os.networkInterfaces())) for (const a of list ?? []) this.names.add(bare(a.address));
    } else {
      this.names.add(bare(listenHost));
    }
  }

  /** The origin for a request's Host header, or undefined when the UI should not answer under that name. */
  ownOrigin(hostHeader: string | undefined): string | undefined {
    if (!hostHeader || !/^[A-Za-z0-9.:[\]-]+$/.test(hostHeader)) return undefined;
    let url: URL;
    try {
      url = new URL(`https://${hostHeader}/`);
    } catch {
      return undefined;
    }
    const port = url.port === '' ? 443 : Number(url.port);
    if (port !== this.port || !this.names.has(bare(url.hostname))) return undefined;
    return url.origin;
  }

  /** True when the Origin header names exactly this origin (a missing header is not the same). */
  static same(originHeader: string | undefined, own: string): boolean {
    if (!originHeader || originHeader === 'null') return false;
    try {
      return new URL(originHeader).origin === own;
    } catch {
      return false;
    }
  }
}
