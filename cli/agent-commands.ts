import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ConnectorAgent, STATUS_FILE } from '../electron/agent/agent.js';
import { ConfigStore } from '../electron/agent/config-store.js';
import { createConnectorApi } from '../electron/agent/connector-api.js';
import { pairAgent } from '../electron/agent/pair.js';
import { HTTP_METHODS, SYSTEM_PROTOCOLS, isTcpProtocol, systemKey, systemLabel, type SystemInput, type SystemProtocol } from '../shared/config.js';
import { ErrorCode, SkybridgeError } from '../shared/errors.js';
import { action, printJson, printValue, say, untilSignal } from './output.js';
import { intOption } from './relay-commands.js';
import { parseHostPortRange } from './host-port-range.js';
import { parseProxyOption, readSecretFile, subaccountCommands } from './subaccount-commands.js';
import { noteAdminChange, withAdminNotes } from '../electron/agent/audit/actor.js';
import { agentLogging } from './agent-logging.js';

/** The API without a running agent: it edits the config file, which a running agent reloads. */
function offlineApi(dataDir: string) {
  // Each change leaves a note, so the audit log names the administrator who made it.
  return withAdminNotes(
    createConnectorApi({
      store: new ConfigStore(dataDir),
      statusOf: () => ({ state: 'disconnected', reconnects: 0 }),
      subscribe: () => () => undefined,
    }),
    dataDir,
    'cli',
  );
}

const dataDirOption = () => new Option('--data-dir <dir>', 'the connector data dir').makeOptionMandatory();
const subaccountOption = () => new Option('--subaccount <id>', 'subaccount id (may be left out while there is only one)');

function methodsList(value: string): string[] {
  const methods = value
    .split(',')
    .map((m) => m.trim().toUpperCase())
    .filter(Boolean);
  const bad = methods.filter((m) => !(HTTP_METHODS as readonly string[]).includes(m));
  if (bad.length) throw new SkybridgeError(ErrorCode.InvalidInput, `Unknown method ${bad.join(', ')}; use some of ${HTTP_METHODS.join(', ')}.`);
  return methods;
}

export function agentCommands(): Command {
  const agent = new Command('agent').description('the connector: pairing, systems and resources, the tunnel agent');

  agent
    .command('pair <code>')
    .description('pair with a relay using a one-time pairing code; prints the subaccount id')
    .addOption(dataDirOption())
    .option('--name <name>', 'a name for this subaccount')
    .option('--proxy <url>', 'reach the relay through this outbound HTTP proxy (http://host:port)')
    .option('--proxy-user <name>', 'proxy user for Basic authentication')
    .option('--proxy-password-file <file>', "file whose first line is the proxy password ('-' reads standard input)")
    .action(
      action(async (code: string, o: { dataDir: string; name?: string; proxy?: string; proxyUser?: string; proxyPasswordFile?: string }) => {
        const proxy = parseProxyOption(o.proxy, o.proxyUser);
        noteAdminChange(o.dataDir, 'cli');
        const sub = await pairAgent(o.dataDir, code, { name: o.name, proxy, proxyPassword: readSecretFile(o.proxyPasswordFile) });
        printValue(sub.id);
        say(`Paired with ${sub.relayUrl} as connector ${sub.connectorId} (location "${sub.location}").`);
      }),
    );

  agent
    .command('start')
    .description('run the tunnel agent until stopped (SIGINT/SIGTERM)')
    .addOption(dataDirOption())
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (off unless given)', intOption(0, 65535))
    .option('--metrics-host <address>', 'address for --metrics-port; loopback unless you choose otherwise', '127.0.0.1')
    .option('--log-file <file>', 'write JSON logs to this file instead of stderr, rotated daily and by size (e.g. /var/log/skybridge/agent.log)')
    .option('--log-max-size <size>', 'rotate the log file at this size (e.g. 10m, 500k)', '10m')
    .option('--log-keep <count>', 'rotated log files to keep', intOption(1, 1000), 14)
    .addOption(new Option('--audit-head-interval <ms>', 'how often the audit chain head goes to the relay').argParser(intOption(100, 3_600_000)).hideHelp())
    .action(
      action(async (o: { dataDir: string; metricsPort?: number; metricsHost: string; logFile?: string; logMaxSize: string; logKeep: number; auditHeadInterval?: number }) => {
        fs.mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
        const logging = await agentLogging(o.dataDir, o);
        const runner = new ConnectorAgent({ dataDir: o.dataDir, logger: logging.logger, metricsPort: o.metricsPort, metricsHost: o.metricsHost, auditHeadIntervalMs: o.auditHeadInterval });
        runner.start();
        const subs = runner.store.load().subaccounts;
        say(subs.length === 0 ? "agent: running, but no subaccount is paired yet; run 'skybridge agent pair CODE'." : `agent: running with ${subs.length} subaccount(s).`);
        await untilSignal();
        await runner.stop();
        logging.close();
      }),
    );

  agent
    .command('status')
    .description("show each subaccount's tunnel state (read from the running agent's status file)")
    .addOption(dataDirOption())
    .option('--json', 'machine-readable output')
    .action(
      action((o: { dataDir: string; json?: boolean }) => {
        const file = path.join(o.dataDir, STATUS_FILE);
        if (!fs.existsSync(file)) throw new SkybridgeError(ErrorCode.NotFound, 'No agent has run with this data dir yet.');
        const status = JSON.parse(fs.readFileSync(file, 'utf8')) as { running: boolean; subaccounts: { id: string; status: { state: string; lastError?: string } }[] };
        if (o.json) return printJson(status);
        for (const s of status.subaccounts) printValue(`${s.id}\t${status.running ? s.status.state : 'agent stopped'}${s.status.lastError ? `\t${s.status.lastError}` : ''}`);
      }),
    );

  agent.addCommand(subaccountCommands());

  const system = agent.command('system').description('system mappings: virtual host:port to internal host:port');
  system
    .command('add')
    .description('map a virtual system to an internal one')
    .addOption(dataDirOption())
    .addOption(subaccountOption())
    .requiredOption('--virtual <host:port>', 'the name cloud apps use; a TCP system may take a port range, HOST:PORT-PORT')
    .requiredOption('--internal <host:port>', 'the real system inside the site; HOST:PORT-PORT for a range as long as the virtual one')
    .addOption(
      new Option('--protocol <protocol>', 'how the connector talks to the back end: http/https (HTTP proxy) or tcp, tcp+tls, ldap, ldaps (SOCKS5)')
        .choices([...SYSTEM_PROTOCOLS])
        .makeOptionMandatory(),
    )
    .addOption(new Option('--host-header <which>', 'Host header the back end sees').choices(['virtual', 'internal']).default('virtual'))
    .option('--ca-file <file>', 'extra CA (PEM) trusted for a TLS back end (https, tcp+tls, ldaps)')
    .option('--idle-timeout <ms>', 'TCP systems: close a connection idle this long (default 1800000)', intOption(1000, 604_800_000))
    .option('--max-connections <n>', 'TCP systems: concurrent connections allowed (default 100)', intOption(1, 100_000))
    .option('--connect-timeout <ms>', 'back-end connect timeout', intOption(100, 600_000))
    .option('--response-timeout <ms>', 'back-end response timeout', intOption(100, 3_600_000))
    .option('--description <text>', 'a note for administrators')
    .action(
      action(async (o: { dataDir: string; subaccount?: string; virtual: string; internal: string; protocol: SystemProtocol; hostHeader: 'virtual' | 'internal'; caFile?: string; connectTimeout?: number; responseTimeout?: number; idleTimeout?: number; maxConnections?: number; description?: string }) => {
        const v = parseHostPortRange(o.virtual);
        const i = parseHostPortRange(o.internal);
        if ((v.portEnd !== undefined || i.portEnd !== undefined) && !isTcpProtocol(o.protocol)) {
          throw new SkybridgeError(ErrorCode.InvalidInput, 'Port ranges are for TCP systems only (--protocol tcp, tcp+tls, ldap or ldaps).');
        }
        if ((v.portEnd === undefined) !== (i.portEnd === undefined)) {
          throw new SkybridgeError(ErrorCode.InvalidInput, 'Give both --virtual and --internal as ranges of the same length, e.g. --virtual db.virtual:5432-5435 --internal 10.0.0.7:6432-6435.');
        }
        if ((o.idleTimeout !== undefined || o.maxConnections !== undefined) && !isTcpProtocol(o.protocol)) {
          throw new SkybridgeError(ErrorCode.InvalidInput, '--idle-timeout and --max-connections are for TCP systems only (--protocol tcp, tcp+tls, ldap or ldaps).');
        }
        const input: SystemInput = {
          virtualHost: v.host,
          virtualPort: v.port,
          internalHost: i.host,
          internalPort: i.port,
          protocol: o.protocol,
          hostHeader: o.hostHeader,
          ...(o.caFile ? { caFile: path.resolve(o.caFile) } : {}),
          ...(o.connectTimeout ? { connectTimeoutMs: o.connectTimeout } : {}),
          ...(o.responseTimeout ? { responseTimeoutMs: o.responseTimeout } : {}),
          ...(v.portEnd !== undefined ? { virtualPortEnd: v.portEnd } : {}),
          ...(i.portEnd !== undefined ? { internalPortEnd: i.portEnd } : {}),
          ...(o.idleTimeout !== undefined ? { idleTimeoutMs: o.idleTimeout } : {}),
          ...(o.maxConnections !== undefined ? { maxConnections: o.maxConnections } : {}),
          ...(o.description ? { description: o.description } : {}),
        };
        if (input.caFile && !fs.existsSync(input.caFile)) throw new SkybridgeError(ErrorCode.InvalidInput, `The CA file ${input.caFile} does not exist.`);
        const saved = await offlineApi(o.dataDir).addSystem({ subaccount: o.subaccount, system: input });
        printValue(systemLabel(saved));
      }),
    );
  system
    .command('list')
    .description('list system mappings')
    .addOption(dataDirOption())
    .addOption(subaccountOption())
    .option('--json', 'machine-readable output')
    .action(
      action(async (o: { dataDir: string; subaccount?: string; json?: boolean }) => {
        const systems = await offlineApi(o.dataDir).listSystems({ subaccount: o.subaccount });
        if (o.json) return printJson(systems);
        for (const s of systems) {
          if (isTcpProtocol(s.protocol)) {
            const internalPorts = s.internalPortEnd !== undefined ? `${s.internalPort}-${s.internalPortEnd}` : String(s.internalPort);
            printValue(`${systemLabel(s)}\t${s.protocol}://${s.internalHost}:${internalPorts}\tidle=${s.idleTimeoutMs ?? 'default'}ms\tmax=${s.maxConnections ?? 'default'} connection(s)`);
            continue;
          }
          printValue(`${systemKey(s)}\t${s.protocol}://${s.internalHost}:${s.internalPort}\thost=${s.hostHeader}\t${s.resources.length} resource(s)`);
        }
      }),
    );
  system
    .command('remove')
    .description('remove a system mapping and its resources')
    .addOption(dataDirOption())
    .addOption(subaccountOption())
    .requiredOption('--virtual <host:port>', 'the virtual system')
    .action(
      action(async (o: { dataDir: string; subaccount?: string; virtual: string }) => {
        await offlineApi(o.dataDir).removeSystem({ subaccount: o.subaccount, system: o.virtual });
      }),
    );

  const resource = agent.command('resource').description('resources: the paths a system exposes');
  resource
    .command('add')
    .description('allow a path on a system')
    .addOption(dataDirOption())
    .addOption(subaccountOption())
    .requiredOption('--system <host:port>', 'the virtual system')
    .requiredOption('--path <path>', 'the path, e.g. /sap/opu/odata')
    .option('--sub-paths', 'also allow everything below the path (whole segments)', false)
    .option('--methods <list>', 'allowed methods, e.g. GET,POST (default: all)')
    .option('--websocket', 'allow WebSocket upgrades', false)
    .option('--disabled', 'add it switched off', false)
    .option('--description <text>', 'a note for administrators')
    .action(
      action(async (o: { dataDir: string; subaccount?: string; system: string; path: string; subPaths: boolean; methods?: string; websocket: boolean; disabled: boolean; description?: string }) => {
        const methods = o.methods === undefined ? undefined : methodsList(o.methods);
        await offlineApi(o.dataDir).addResource({
          subaccount: o.subaccount,
          system: o.system,
          resource: {
            path: o.path,
            subPaths: o.subPaths,
            websocket: o.websocket,
            enabled: !o.disabled,
            ...(methods ? { methods: methods as (typeof HTTP_METHODS)[number][] } : {}),
            ...(o.description ? { description: o.description } : {}),
          },
        });
      }),
    );
  resource
    .command('remove')
    .description('remove a resource from a system')
    .addOption(dataDirOption())
    .addOption(subaccountOption())
    .requiredOption('--system <host:port>', 'the virtual system')
    .requiredOption('--path <path>', 'the resource path')
    .action(
      action(async (o: { dataDir: string; subaccount?: string; system: string; path: string }) => {
        await offlineApi(o.dataDir).removeResource({ subaccount: o.subaccount, system: o.system, path: o.path });
      }),
    );
  return agent;
}
