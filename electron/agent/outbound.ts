import fs from 'node:fs';
import path from 'node:path';
import type https from 'node:https';
import { HttpsProxyAgent } from 'https-proxy-agent';
import type { OutboundProxy } from '../../shared/config.js';
import { credentialsDir } from './credentials.js';
import { writeSecretFile } from './pki.js';

/** The proxy password lives beside the keys (0600), never in config.json, logs or exports. */
export const PROXY_PASSWORD_FILE = 'proxy-password';

export function readProxyPassword(dataDir: string, subaccountId: string): string | undefined {
  try {
    return fs.readFileSync(path.join(credentialsDir(dataDir, subaccountId), PROXY_PASSWORD_FILE), 'utf8').replace(/\r?\n$/, '');
  } catch {
    return undefined;
  }
}

export async function writeProxyPassword(dataDir: string, subaccountId: string, password: string | undefined): Promise<void> {
  const file = path.join(credentialsDir(dataDir, subaccountId), PROXY_PASSWORD_FILE);
  if (password === undefined) fs.rmSync(file, { force: true });
  else await writeSecretFile(file, password);
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
