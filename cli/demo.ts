import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { ConnectorAgent } from '../electron/agent/agent.js';
import { pairAgent } from '../electron/agent/pair.js';
import { ConfigStore } from '../electron/agent/config-store.js';
import { createConnectorApi } from '../electron/agent/connector-api.js';
import { startRelay, SETTING_TRUST_ANCHOR_FP } from '../relay/relay.js';
import { silentLogger } from '../common/logger.js';
import { action, printValue, say, untilSignal } from './output.js';
import { intOption } from './relay-commands.js';
import { startSampleErp } from './sample-erp.js';
import { startUiForAgent } from './ui-commands.js';

const MARKER = 'skybridge-demo.json';

/** Clears a previous demo's folder, but never a folder the demo did not create. */
function prepareDemoDir(dir: string): void {
  if (fs.existsSync(dir)) {
    if (!fs.existsSync(path.join(dir, MARKER))) {
      throw new Error(`${dir} exists and was not made by the demo; choose another folder with --data-dir.`);
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(dir, MARKER), JSON.stringify({ createdAt: new Date().toISOString() }));
}

export function demoCommand(): Command {
  return new Command('demo')
    .description('run a relay, a sample ERP and a connector paired to the relay, all on this machine, and print a curl command')
    .option('--data-dir <dir>', 'folder for the demo (recreated on each run)', '.skybridge-demo')
    .option('--port <port>', 'relay HTTPS port', intOption(0, 65535), 8443)
    .option('--proxy-port <port>', 'relay HTTP proxy port', intOption(0, 65535), 20003)
    .option('--socks-port <port>', 'relay SOCKS5 proxy port', intOption(0, 65535), 20004)
    .option('--ui-port <port>', 'the web UI (HTTPS, loopback) on this port', intOption(0, 65535), 8444)
    .option('--no-ui', 'do not start the web UI')
    .action(
      action(async (o: { dataDir: string; port: number; proxyPort: number; socksPort: number; uiPort: number; ui: boolean }) => {
        const dir = path.resolve(o.dataDir);
        prepareDemoDir(dir);
        const relayDir = path.join(dir, 'relay');
        const agentDir = path.join(dir, 'agent');
        const quiet = silentLogger();

        const erp = await startSampleErp();
        const relay = await startRelay({ dataDir: relayDir, port: o.port, proxyPort: o.proxyPort, socksPort: o.socksPort, logger: quiet }).catch((err: NodeJS.ErrnoException) => {
          if (err.code === 'EADDRINUSE') throw new Error(`Port ${o.port}, ${o.proxyPort} or ${o.socksPort} is in use; pass --port, --proxy-port and --socks-port to pick others.`);
          throw err;
        });
        const tenant = relay.store.createTenant('demo');
        const { token } = relay.store.createApp(tenant.id, 'demo-app');
        const { code } = relay.store.createPairingCode({ tenantId: tenant.id, location: '', ttlSeconds: 600, relayUrl: relay.url, caFingerprint: relay.store.getSetting(SETTING_TRUST_ANCHOR_FP)! });
        await pairAgent(agentDir, code, { name: 'Demo site' });

        const api = createConnectorApi({ store: new ConfigStore(agentDir), statusOf: () => ({ state: 'disconnected', reconnects: 0 }), subscribe: () => () => undefined });
        await api.addSystem({ system: { virtualHost: 'erp.virtual', virtualPort: 443, internalHost: '127.0.0.1', internalPort: erp.port, protocol: 'http', hostHeader: 'virtual' } });
        await api.addResource({ system: 'erp.virtual:443', resource: { path: '/sap/opu/odata/sap/API_BUSINESS_PARTNER', subPaths: true, methods: ['GET'], websocket: false, enabled: true } });

        const agent = new ConnectorAgent({ dataDir: agentDir, logger: quiet });
        agent.start();
        const connected = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => resolve(false), 15_000);
          const check = () => {
            if (agent.statusOf(tenant.id).state === 'connected') {
              clearTimeout(timer);
              resolve(true);
            }
          };
          agent.api.subscribe(check);
          check();
        });
        if (!connected) throw new Error(`The demo connector did not connect: ${agent.statusOf(tenant.id).lastError ?? 'no reason given'}.`);
        // A throwaway install: its initial password is printed, so the browser is one copy-paste away.
        const ui = o.ui ? await startUiForAgent(agent, agentDir, { uiPort: o.uiPort, uiHost: '127.0.0.1' }, quiet, false) : undefined;

        const proxy = `http://127.0.0.1:${relay.proxyPort}`;
        say(`
Skybridge demo is running (data in ${dir}):
  relay        ${relay.url} (tunnels, pairing)   HTTP proxy for cloud apps: ${proxy}   SOCKS5: 127.0.0.1:${relay.socksPort}
  sample ERP   http://127.0.0.1:${erp.port} (inside the "site"; cloud apps only know it as erp.virtual:443)
  connector    paired to tenant ${tenant.id}, tunnel connected
${ui ? `  web UI       ${ui.url}  user admin, initial password ${ui.initialPassword?.password ?? `in ${ui.initialPassword?.file ?? 'the one you chose'}`}
               (this demo's only; the first sign-in asks for a new one. The certificate is self-signed:
               before accepting the browser's warning, check its SHA-256 fingerprint is
               ${ui.certificate.fingerprint})
` : ''}
A cloud app calls the ERP through the tunnel (allowed: GET below /sap/opu/odata/sap/API_BUSINESS_PARTNER):
`);
        printValue(`curl -x ${proxy} --proxy-header 'Proxy-Authorization: Bearer ${token}' http://erp.virtual:443/sap/opu/odata/sap/API_BUSINESS_PARTNER/A_BusinessPartner`);
        say(`
Refused by the connector's allowlist (403, names the system):
  curl -x ${proxy} --proxy-header 'Proxy-Authorization: Bearer ${token}' http://erp.virtual:443/admin

The app token above is for this demo only. Press Ctrl+C to stop.`);
        await untilSignal();
        await ui?.close();
        await agent.stop();
        await relay.close();
        await erp.close();
      }),
    );
}
