import fs from 'node:fs';
import path from 'node:path';
import { Argument, Command, Option } from 'commander';
import { ConnectorAgent, STATUS_FILE } from '../electron/agent/agent.js';
import { ConfigStore } from '../electron/agent/config-store.js';
import { createConnectorApi } from '../electron/agent/connector-api.js';
import { pairAgent } from '../electron/agent/pair.js';
import { HTTP_METHODS, SYSTEM_PROTOCOLS, isTcpProtocol, systemKey, systemLabel, type SystemInput, type SystemProtocol } from '../shared/config.js';
import { ErrorCode, SkybridgeError } from '../shared/errors.js';
import { AUDIT_LEVELS, type AuditLevel } from '../shared/evidence.js';
import { resolveSubaccount } from '../electron/agent/config-ops.js';
import { action, printJson, printValue, say, untilSignal } from './output.js';
import { intOption } from './relay-commands.js';
import { parseHostPortRange } from './host-port-range.js';
import { parseProxyOption, readSecretFile, subaccountCommands } from './subaccount-commands.js';
import { noteAdminChange, withAdminNotes } from '../electron/agent/audit/actor.js';
import { agentLogging } from './agent-logging.js';
import { addUiOptions, describeUi, startUiForAgent, uiCommands, type UiCliOptions } from './ui-commands.js';
import type { HeadlessUi } from '../electron/agent/web/headless-ui.js';

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

  const start = agent
    .command('start')
    .description('run the tunnel agent until stopped (SIGINT/SIGTERM)')
    .addOption(dataDirOption())
    .option('--metrics-port <port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (off unless given)', intOption(0, 65535))
    .option('--metrics-host <address>', 'address for --metrics-port; loopback unless you choose otherwise', '127.0.0.1')
    .option('--log-file <file>', 'write JSON logs to this file instead of stderr, rotated daily and by size (e.g. /var/log/skybridge/agent.log)')
    .option('--log-max-size <size>', 'rotate the log file at this size (e.g. 10m, 500k)', '10m')
    .option('--log-keep <count>', 'rotated log files to keep', intOption(1, 1000), 14)
    .addOption(new Option('--audit-head-interval <ms>', 'how often the audit chain head goes to the relay').argParser(intOption(100, 3_600_000)).hideHelp());
  addUiOptions(start).action(
    action(async (o: { dataDir: string; metricsPort?: number; metricsHost: string; logFile?: string; logMaxSize: string; logKeep: number; auditHeadInterval?: number } & UiCliOptions) => {
      fs.mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
      const logging = await agentLogging(o.dataDir, o);
      const runner = new ConnectorAgent({ dataDir: o.dataDir, logger: logging.logger, metricsPort: o.metricsPort, metricsHost: o.metricsHost, auditHeadIntervalMs: o.auditHeadInterval });
      runner.start();
      let ui: HeadlessUi | undefined;
      if (o.uiPort !== undefined) {
        try {
          ui = await startUiForAgent(runner, o.dataDir, { ...o, uiPort: o.uiPort }, logging.logger, false);
        } catch (err) {
          await runner.stop();
          logging.close();
          throw err;
        }
      }
      const subs = runner.store.load().subaccounts;
      say(subs.length === 0 ? "agent: running, but no subaccount is paired yet; run 'skybridge agent pair CODE'." : `agent: running with ${subs.length} subaccount(s).`);
      if (ui) for (const line of describeUi(ui, o.uiHost)) say(line);
      await untilSignal();
      await ui?.close();
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
  agent.addCommand(uiCommands());

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
  uiParityCommands(agent, system, resource);
  return agent;
}

/** The subaccount a command means: the one named, or the only one paired. */
function subaccountId(dataDir: string, id: string | undefined): string {
  return resolveSubaccount(new ConfigStore(dataDir).load(), id).id;
}

/** What the UI can do, from the command line too: check a system, test access, certificates, settings, switch resources. */
function uiParityCommands(agent: Command, system: Command, resource: Command): void {
  system
    .command('check <host:port>')
    .description('does the internal system answer? HTTP: HEAD / as the connector would send it; TCP: a connect (and TLS handshake); exits 1 when it does not')
    .addOption(dataDirOption())
    .addOption(subaccountOption())
    .option('--json', 'machine-readable output')
    .action(
      action(async (virtual: string, o: { dataDir: string; subaccount?: string; json?: boolean }) => {
        const r = await offlineApi(o.dataDir).checkAvailability({ subaccount: o.subaccount, system: virtual });
        if (o.json) printJson(r);
        else printValue(r.reachable ? 'reachable' : 'unreachable');
        if (!r.reachable) throw new SkybridgeError(ErrorCode.BackendUnreachable, `${r.system} -> ${r.internal} is not reachable from here: ${r.error ?? 'no answer'}`);
        if (!o.json) say(`${r.system} -> ${r.internal}: ${r.status !== undefined ? `HEAD / answered ${r.status}` : 'connected'} in ${r.ms ?? '?'} ms`);
      }),
    );

  for (const [name, enabled] of [['enable', true], ['disable', false]] as const) {
    resource
      .command(name)
      .description(`switch a resource ${enabled ? 'on' : 'off'} (a switched-off resource stays in the file but allows nothing)`)
      .addOption(dataDirOption())
      .addOption(subaccountOption())
      .requiredOption('--system <host:port>', 'the virtual system')
      .requiredOption('--path <path>', 'the resource path')
      .action(
        action(async (o: { dataDir: string; subaccount?: string; system: string; path: string }) => {
          await offlineApi(o.dataDir).updateResource({ subaccount: o.subaccount, system: o.system, path: o.path, patch: { enabled } });
          say(`Resource ${o.path} on ${o.system} is switched ${enabled ? 'on' : 'off'}; a running agent applies it within a second.`);
        }),
      );
  }

  agent
    .command('access')
    .description('would a request be allowed? the same decision the connector makes, without sending anything')
    .command('test')
    .description("prints allowed or denied and says which resource matched or why it was refused; exits 1 when it would be refused")
    .addOption(dataDirOption())
    .addOption(subaccountOption())
    .option('--method <method>', 'HTTP method', 'GET')
    .requiredOption('--host <host>', 'virtual host, as a cloud app names it')
    .requiredOption('--port <port>', 'virtual port', intOption(1, 65535))
    .requiredOption('--path <target>', 'request path, with an optional ?query, as sent')
    .option('--websocket', 'as a WebSocket upgrade')
    .option('--json', 'machine-readable output')
    .action(
      action(async (o: { dataDir: string; subaccount?: string; method: string; host: string; port: number; path: string; websocket?: boolean; json?: boolean }) => {
        const [method, ...more] = methodsList(o.method);
        if (!method || more.length) throw new SkybridgeError(ErrorCode.InvalidInput, `--method takes one method, e.g. GET; got "${o.method}".`);
        const r = await offlineApi(o.dataDir).testAccess({
          subaccount: o.subaccount,
          method: method as (typeof HTTP_METHODS)[number],
          host: o.host,
          port: o.port,
          target: o.path,
          ...(o.websocket ? { websocket: true } : {}),
        });
        if (o.json) printJson(r);
        else printValue(r.allowed ? 'allowed' : 'denied');
        if (!r.allowed) throw new SkybridgeError(r.status === 400 ? ErrorCode.BadRequest : ErrorCode.AccessDenied, r.reason);
        if (!o.json) say(r.reason);
      }),
    );

  const certificate = agent.command('certificate').description("this connector's client certificate for a subaccount");
  certificate
    .command('show')
    .description('subject, issuer, validity, fingerprint and names of the certificate')
    .addOption(dataDirOption())
    .addOption(subaccountOption())
    .option('--json', 'machine-readable output')
    .action(
      action(async (o: { dataDir: string; subaccount?: string; json?: boolean }) => {
        const d = await offlineApi(o.dataDir).certificateDetails({ subaccount: subaccountId(o.dataDir, o.subaccount) });
        if (o.json) return printJson(d);
        const rows: [string, string][] = [
          ['subaccount', d.subaccount],
          ['subject', d.subject],
          ['issuer', d.issuer],
          ['serial', d.serialNumber],
          ['not-before', d.notBefore],
          ['not-after', d.notAfter],
          ['days-left', String(d.daysLeft)],
          ['sha256', d.fingerprintSha256],
          ...d.subjectAltNames.map((n): [string, string] => ['name', n]),
        ];
        for (const [k, v] of rows) printValue(`${k}\t${v}`);
      }),
    );
  certificate
    .command('renew')
    .description('renew now with a new key, without waiting for two thirds of the validity (with the agent stopped: a running agent renews through its UI); prints the new expiry')
    .addOption(dataDirOption())
    .addOption(subaccountOption())
    .option('--json', 'machine-readable output')
    .action(
      action(async (o: { dataDir: string; subaccount?: string; json?: boolean }) => {
        const d = await offlineApi(o.dataDir).renewCertificate({ subaccount: subaccountId(o.dataDir, o.subaccount) });
        if (o.json) return printJson(d);
        printValue(d.notAfter);
        say(`Certificate of subaccount ${d.subaccount} renewed: valid until ${d.notAfter} (${d.daysLeft} days), sha256 ${d.fingerprintSha256}.`);
      }),
    );

  const settings = agent.command('settings').description('audit level per subaccount and audit retention');
  settings
    .command('show')
    .description('the audit retention and each subaccount\'s audit level')
    .addOption(dataDirOption())
    .option('--json', 'machine-readable output')
    .action(
      action(async (o: { dataDir: string; json?: boolean }) => {
        const s = await offlineApi(o.dataDir).getSettings({});
        if (o.json) return printJson(s);
        printValue(`retention-days\t${s.auditRetentionDays}`);
        for (const sub of s.subaccounts) printValue(`audit-level\t${sub.id}\t${sub.audit}`);
      }),
    );
  settings
    .command('audit-level')
    .description('what a subaccount writes to the audit log: security (denials, changes, tunnel and certificate events), all (also every request), off')
    .addArgument(new Argument('<subaccount>', 'subaccount id'))
    .addArgument(new Argument('<level>', 'the audit level').choices([...AUDIT_LEVELS]))
    .addOption(dataDirOption())
    .action(
      action(async (subaccount: string, level: AuditLevel, o: { dataDir: string }) => {
        await offlineApi(o.dataDir).setAuditLevel({ subaccount, level });
        say(`Subaccount ${subaccount} now audits at level ${level}; a running agent applies it within a second.`);
      }),
    );
  settings
    .command('retention')
    .description('remove daily audit files older than this many days (the removal is itself audited); 0 keeps everything')
    .addArgument(new Argument('<days>', 'days to keep').argParser(intOption(0, 36_500)))
    .addOption(dataDirOption())
    .action(
      action(async (days: number, o: { dataDir: string }) => {
        await offlineApi(o.dataDir).setAuditRetention({ days });
        say(days === 0 ? 'Audit files are kept for ever.' : `Audit files are kept for ${days} day(s).`);
      }),
    );
}
