import { Command, InvalidArgumentError } from 'commander';
import { startRelay, SETTING_PUBLIC_URL, SETTING_TRUST_ANCHOR_FP } from '../relay/relay.js';
import { RelayStore } from '../relay/store.js';
import { ErrorCode, SkybridgeError } from '../shared/errors.js';
import { action, printJson, printValue, say, untilSignal } from './output.js';

export function intOption(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    return n;
  };
}

function withStore<T>(dataDir: string, fn: (store: RelayStore) => T): T {
  const store = RelayStore.open(dataDir);
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

export function relayCommands(): Command {
  const relay = new Command('relay').description('the cloud side: tenants, apps, pairing, tunnel endpoint and proxies');

  relay
    .command('start')
    .description('run the relay: HTTPS for tunnels and pairing, HTTP proxy for cloud apps')
    .requiredOption('--data-dir <dir>', 'where the relay keeps its database, CA and TLS files')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'HTTPS port for tunnels and pairing', intOption(0, 65535), 8443)
    .option('--proxy-port <port>', 'HTTP proxy port for cloud apps', intOption(0, 65535), 20003)
    .option('--public-url <url>', 'URL connectors use to reach this relay (goes into pairing codes)')
    .option('--cert <file>', 'TLS certificate chain (PEM) instead of the generated one')
    .option('--key <file>', 'TLS private key (PEM) for --cert')
    .option('--cert-ca <file>', 'CA that issued --cert, pinned by connectors (default: last certificate in --cert)')
    .option('--cert-validity-days <days>', 'validity of connector certificates', intOption(1, 825), 90)
    .action(
      action(async (o: { dataDir: string; host: string; port: number; proxyPort: number; publicUrl?: string; cert?: string; key?: string; certCa?: string; certValidityDays: number }) => {
        const server = await startRelay({
          dataDir: o.dataDir,
          host: o.host,
          port: o.port,
          proxyPort: o.proxyPort,
          publicUrl: o.publicUrl,
          certFile: o.cert,
          keyFile: o.key,
          certCaFile: o.certCa,
          certValidityDays: o.certValidityDays,
        });
        say(`relay: tunnels and pairing on ${server.url}, HTTP proxy on http://${o.host}:${server.proxyPort}`);
        await untilSignal();
        await server.close();
      }),
    );

  const tenant = relay.command('tenant').description('tenants (subaccounts)');
  tenant
    .command('create <name>')
    .description('create a tenant; prints its id')
    .requiredOption('--data-dir <dir>', 'relay data dir')
    .action(action((name: string, o: { dataDir: string }) => printValue(withStore(o.dataDir, (s) => s.createTenant(name)).id)));
  tenant
    .command('list')
    .description('list tenants')
    .requiredOption('--data-dir <dir>', 'relay data dir')
    .option('--json', 'machine-readable output')
    .action(
      action((o: { dataDir: string; json?: boolean }) => {
        const tenants = withStore(o.dataDir, (s) => s.listTenants());
        if (o.json) return printJson(tenants);
        for (const t of tenants) printValue(`${t.id}\t${t.name}`);
      }),
    );

  const app = relay.command('app').description('cloud apps and their tokens');
  app
    .command('create <name>')
    .description('create a cloud app; prints its token, shown only this once')
    .requiredOption('--tenant <id>', 'tenant id')
    .requiredOption('--data-dir <dir>', 'relay data dir')
    .action(
      action((name: string, o: { tenant: string; dataDir: string }) => {
        const { token } = withStore(o.dataDir, (s) => s.createApp(o.tenant, name));
        printValue(token);
        say('Store this token now: the relay keeps only its hash and cannot show it again.');
      }),
    );

  relay
    .command('pairing-code')
    .description('create a one-time pairing code for a connector (valid 10 minutes)')
    .requiredOption('--tenant <id>', 'tenant id')
    .option('--location <id>', 'location ID of the connector', '')
    .option('--ttl <seconds>', 'validity in seconds', intOption(1, 600), 600)
    .requiredOption('--data-dir <dir>', 'relay data dir')
    .action(
      action((o: { tenant: string; location: string; ttl: number; dataDir: string }) => {
        const { code } = withStore(o.dataDir, (s) => {
          const relayUrl = s.getSetting(SETTING_PUBLIC_URL);
          const caFingerprint = s.getSetting(SETTING_TRUST_ANCHOR_FP);
          if (!relayUrl || !caFingerprint) {
            throw new SkybridgeError(ErrorCode.NotFound, "The relay has not been started with this data dir yet; run 'skybridge relay start' once so pairing codes can name its URL and CA.");
          }
          return s.createPairingCode({ tenantId: o.tenant, location: o.location, ttlSeconds: o.ttl, relayUrl, caFingerprint });
        });
        printValue(code);
      }),
    );

  const connector = relay.command('connector').description('paired connectors');
  connector
    .command('list')
    .description('list connectors')
    .requiredOption('--data-dir <dir>', 'relay data dir')
    .option('--tenant <id>', 'only this tenant')
    .option('--json', 'machine-readable output')
    .action(
      action((o: { dataDir: string; tenant?: string; json?: boolean }) => {
        const list = withStore(o.dataDir, (s) => s.listConnectors(o.tenant));
        if (o.json) return printJson(list);
        for (const c of list) printValue([c.id, c.tenantId, c.location || '(default)', c.notAfter, c.lastSeenAt ?? 'never', c.revokedAt ? 'revoked' : 'active'].join('\t'));
      }),
    );
  return relay;
}
