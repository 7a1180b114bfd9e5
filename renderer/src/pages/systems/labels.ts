import type { SystemProtocol } from '../../../../shared/config.js';

/** How each protocol is named in the form and the table. */
export const PROTOCOL_LABELS: Record<SystemProtocol, string> = {
  http: 'HTTP',
  https: 'HTTPS',
  tcp: 'TCP',
  'tcp+tls': 'TCP with TLS to the back end',
  ldap: 'LDAP (TCP)',
  ldaps: 'LDAPS (TCP with TLS)',
};

export const HOST_HEADER_LABELS = {
  virtual: 'Virtual host',
  internal: 'Internal host',
} as const;

/** "path only" vs "path and everything below it", as the resource list says it. */
export function matchLabel(subPaths: boolean): string {
  return subPaths ? 'Path and everything below it' : 'Path only';
}
