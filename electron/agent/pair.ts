import os from 'node:os';
import { VERSION } from '../../common/version.js';
import { outboundProxySchema, type OutboundProxy, type Subaccount } from '../../shared/config.js';
import { proxyAgent, writeProxyPassword } from './outbound.js';
import { ConfigStore } from './config-store.js';
import { writeCredentials } from './credentials.js';
import { pairWithRelay } from './pairing-client.js';

/**
 * Pairs this connector with a relay tenant: keys are made here, the relay signs
 * a certificate, the relay's CA is pinned. A subaccount paired before (same
 * tenant on the same relay, e.g. after its certificate expired) keeps its
 * systems and resources; only its identity is replaced.
 */
export async function pairAgent(dataDir: string, code: string, opts: { name?: string; proxy?: OutboundProxy; proxyPassword?: string } = {}): Promise<Subaccount> {
  const store = new ConfigStore(dataDir);
  store.load(); // refuse to pair into a broken config before spending the one-time code
  const proxy = opts.proxy ? outboundProxySchema.parse(opts.proxy) : undefined;
  const viaProxy = proxy ? () => proxyAgent(proxy, opts.proxyPassword) : undefined;
  const result = await pairWithRelay(code, { agentVersion: VERSION, hostname: os.hostname(), viaProxy });
  const id = result.response.tenantId.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
  await writeCredentials(dataDir, id, { keyPem: result.keyPem, certPem: result.response.certificatePem, trustAnchorPem: result.trustAnchorPem });
  if (proxy) await writeProxyPassword(dataDir, id, opts.proxyPassword);
  return store.update((cfg) => {
    const existing = cfg.subaccounts.find((s) => s.id === id);
    const sub: Subaccount = {
      id,
      name: opts.name ?? existing?.name ?? result.response.tenantName,
      relayUrl: result.code.url,
      tenantId: result.response.tenantId,
      location: result.response.location,
      connectorId: result.response.connectorId,
      enabled: existing?.enabled ?? true,
      audit: existing?.audit ?? 'security',
      ...(proxy ? { proxy } : existing?.proxy ? { proxy: existing.proxy } : {}),
      systems: existing?.systems ?? [],
    };
    const subaccounts = existing ? cfg.subaccounts.map((s) => (s.id === id ? sub : s)) : [...cfg.subaccounts, sub];
    return { config: { ...cfg, subaccounts }, result: sub };
  });
}
