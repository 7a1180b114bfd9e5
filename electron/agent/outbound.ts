import fs from 'node:fs';
import path from 'node:path';
import type https from 'node:https';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { OutboundProxy } from '../../shared/config.js';
import { credentialsDir } from './credentials.js';
import { describeSecret, openSecret, protectionOf, PROXY_PASSWORD_PURPOSE, sealSecret } from './data-protection.js';
import { writeSecretFile } from './pki.js';
import { PROXY_PASSWORD_FILE } from './secret-format.js';

/**
 * The proxy password lives beside the keys (0600; encrypted under the data-protection key in
 * the desktop app), never in config.json, logs or exports.
 */
export { PROXY_PASSWORD_FILE } from './secret-format.js';

/** Undefined when none is saved; throws (SECRET_LOCKED, with the reason) when it is encrypted and cannot be opened here. */
export function readProxyPassword(dataDir: string, subaccountId: string): string | undefined {
  let stored: string;
  try {
    stored = fs.readFileSync(path.join(credentialsDir(dataDir, subaccountId), PROXY_PASSWORD_FILE), 'utf8');
  } catch {
    return undefined;
  }
  return openSecret(stored, protectionOf(dataDir), PROXY_PASSWORD_PURPOSE, describeSecret(subaccountId, PROXY_PASSWORD_FILE)).replace(/\r?\n$/, '');
}

export async function writeProxyPassword(dataDir: string, subaccountId: string, password: string | undefined): Promise<void> {
  const file = path.join(credentialsDir(dataDir, subaccountId), PROXY_PASSWORD_FILE);
  if (password === undefined) fs.rmSync(file, { force: true });
  else await writeSecretFile(file, sealSecret(password, protectionOf(dataDir), PROXY_PASSWORD_PURPOSE));
}

/**
 * An agent that reaches the relay through a corporate HTTP proxy with CONNECT
 * (Basic credentials if configured). TLS to the relay still runs end to end
 * inside the CONNECT tunnel, verified against the pinned CA, so a
 * TLS-inspecting proxy is detected, not trusted.
 */
export function proxyAgent(proxy: OutboundProxy, password: string | undefined): https.Agent {
  const url = new URL(proxy.url);
  if (proxy.username) {
    url.username = encodeURIComponent(proxy.username);
    url.password = encodeURIComponent(password ?? '');
  }
  return new HttpsProxyAgent(url, { keepAlive: false }) as unknown as https.Agent;
}
