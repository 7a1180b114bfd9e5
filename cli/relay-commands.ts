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

/** `90d`, `12h`, `15m`, `30s` (or a bare number of days) as days, possibly fractional. */
export function durationDays(value: string): number {
  const m = /^(\d+(?:\.\d+)?)([dhms]?)$/.exec(value.trim());
  if (!m) throw new InvalidArgumentError('expected a duration such as 90d, 12h, 15m or 30s');
  const n = Number(m[1]);
  const days = m[2] === 'h' ? n / 24 : m[2] === 'm' ? n / 1440 : m[2] === 's' ? n / 86_400 : n;
  if (days * 86_400 < 10 || days > 825) throw new InvalidArgumentError('expected a validity from 10 seconds to 825 days');
  return days;
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
    .description('run the relay: HTTPS for tunnels and pairing, HTTP and SOCKS5 proxies for cloud apps')
    .requiredOption('--data-dir <dir>', 'where the relay keeps its database, CA and TLS files')
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--port <port>', 'HTTPS port for tunnels and pairing', intOption(0, 65535), 8443)
    .option('--proxy-port <port>', 'HTTP proxy port for cloud apps', intOption(0, 65535), 20003)
    .option('--socks-port <port>', 'SOCKS5 proxy port for cloud apps (TCP systems: databases, LDAP)', intOption(0, 65535), 20004)
    .option('--public-url <url>', 'URL connectors use to reach this relay (goes into pairing codes)')
    .option('--cert <file>', 'TLS certificate chain (PEM) instead of the generated one')
    .option('--key <file>', 'TLS private key (PEM) for --cert')
    .option('--cert-ca <file>', 'CA that issued --cert, pinned by connectors (default: last certificate in --cert)')
    .option('--cert-validity <duration>', 'validity of connector certificates, e.g. 90d, 12h, 30s (connectors renew at two thirds)', durationDays, 90)
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (off unless given)', intOption(0, 65535))
    .option('--metrics-host <address>', 'address for --metrics-port; loopback unless you choose otherwise', '127.0.0.1')
    .action(
      action(async (o: { dataDir: string; host: string; port: number; proxyPort: number; socksPort: number; publicUrl?: string; cert?: string; key?: string; certCa?: string; certValidity: number; metricsPort?: number; metricsHost: string }) => {
        const server = await startRelay({
          dataDir: o.dataDir,
          host: o.host,
          port: o.port,
          proxyPort: o.proxyPort,
          socksPort: o.socksPort,
          publicUrl: o.publicUrl,
          certFile: o.cert,
          keyFile: o.key,
          certCaFile: o.certCa,
          certValidityDays: o.certValidity,
          metricsPort: o.metricsPort,
          metricsHost: o.metricsHost,
        });
        if (server.metricsUrl) say(`relay: metrics on ${server.metricsUrl}`);
        say(`relay: tunnels and pairing on ${server.url}, HTTP proxy on http://${o.host}:${server.proxyPort}, SOCKS5 proxy on ${o.host}:${server.socksPort}`);
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
        if (list.length === 0) return say('No connectors are paired yet.');
        say(['ID', 'TENANT', 'LOCATION', 'STATE', 'VERSION', 'CERTIFICATE EXPIRES', 'LAST SEEN'].join('\t'));
        for (const c of list) {
          const state = c.revokedAt ? 'revoked' : c.onlineSince ? 'online' : Date.parse(c.notAfter) < Date.now() ? 'offline (certificate expired)' : 'offline';
          printValue([c.id, c.tenantId, c.location || '(default)', state, c.version, c.notAfter, c.lastSeenAt ?? 'never'].join('\t'));
        }
      }),
    );
  connector
    .command('revoke <id>')
    .description("revoke a connector: its tunnel drops at once and it cannot reconnect or renew")
    .requiredOption('--data-dir <dir>', 'relay data dir')
    .action(
      action((id: string, o: { dataDir: string }) => {
        withStore(o.dataDir, (s) => {
          const c = s.getConnector(id);
          s.revokeConnector(id);
          s.recordEvent({ type: 'connector-revoked', tenantId: c?.tenantId, connectorId: id, message: 'revoked by the relay administrator' });
        });
        say(`Connector ${id} is revoked; a running relay drops its tunnel within a second.`);
      }),
    );

  relay
    .command('events')
    .description('recent relay events: refused connectors, revocations, renewals')
    .requiredOption('--data-dir <dir>', 'relay data dir')
    .option('--tenant <id>', 'only this tenant')
    .option('--limit <n>', 'how many', intOption(1, 10_000), 100)
    .option('--json', 'machine-readable output')
    .action(
      action((o: { dataDir: string; tenant?: string; limit: number; json?: boolean }) => {
        const events = withStore(o.dataDir, (s) => s.listEvents({ tenantId: o.tenant, limit: o.limit }));
        if (o.json) return printJson(events);
        for (const e of events) printValue([e.at, e.type, e.tenantId ?? '-', e.connectorId ?? '-', e.message].join('\t'));
      }),
    );
  return relay;
}
