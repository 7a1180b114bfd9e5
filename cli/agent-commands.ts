import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'commander';
import { ConnectorAgent, STATUS_FILE } from '../electron/agent/agent.js';
import { ConfigStore } from '../electron/agent/config-store.js';
import { createConnectorApi } from '../electron/agent/connector-api.js';
import { parseHostPort } from '../electron/agent/config-ops.js';
import { pairAgent } from '../electron/agent/pair.js';
import { HTTP_METHODS, systemKey, type SystemInput } from '../shared/config.js';
import { ErrorCode, SkybridgeError } from '../shared/errors.js';
import { action, printJson, printValue, say, untilSignal } from './output.js';
import { intOption } from './relay-commands.js';

/** The API without a running agent: it edits the config file, which a running agent reloads. */
function offlineApi(dataDir: string) {
  return createConnectorApi({
    store: new ConfigStore(dataDir),
    statusOf: () => ({ state: 'disconnected', reconnects: 0 }),
    subscribe: () => () => undefined,
  });
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
    .action(
      action(async (code: string, o: { dataDir: string; name?: string }) => {
        const sub = await pairAgent(o.dataDir, code, { name: o.name });
        printValue(sub.id);
        say(`Paired with ${sub.relayUrl} as connector ${sub.connectorId} (location "${sub.location}").`);
      }),
    );

  agent
    .command('start')
    .description('run the tunnel agent until stopped (SIGINT/SIGTERM)')
    .addOption(dataDirOption())
    .action(
      action(async (o: { dataDir: string }) => {
        fs.mkdirSync(o.dataDir, { recursive: true, mode: 0o700 });
        const runner = new ConnectorAgent({ dataDir: o.dataDir });
        runner.start();
        const subs = runner.store.load().subaccounts;
        say(subs.length === 0 ? "agent: running, but no subaccount is paired yet; run 'skybridge agent pair CODE'." : `agent: running with ${subs.length} subaccount(s).`);
        await untilSignal();
        await runner.stop();
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

  const system = agent.command('system').description('system mappings: virtual host:port to internal host:port');
  system
    .command('add')
    .description('map a virtual system to an internal one')
    .addOption(dataDirOption())
    .addOption(subaccountOption())
    .requiredOption('--virtual <host:port>', 'the name cloud apps use')
    .requiredOption('--internal <host:port>', 'the real system inside the site')
    .addOption(new Option('--protocol <protocol>', 'how the connector talks to the back end').choices(['http', 'https']).makeOptionMandatory())
    .addOption(new Option('--host-header <which>', 'Host header the back end sees').choices(['virtual', 'internal']).default('virtual'))
    .option('--ca-file <file>', 'extra CA (PEM) trusted for an https back end')
    .option('--connect-timeout <ms>', 'back-end connect timeout', intOption(100, 600_000))
    .option('--response-timeout <ms>', 'back-end response timeout', intOption(100, 3_600_000))
    .option('--description <text>', 'a note for administrators')
    .action(
      action(async (o: { dataDir: string; subaccount?: string; virtual: string; internal: string; protocol: 'http' | 'https'; hostHeader: 'virtual' | 'internal'; caFile?: string; connectTimeout?: number; responseTimeout?: number; description?: string }) => {
        const v = parseHostPort(o.virtual);
        const i = parseHostPort(o.internal);
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
          ...(o.description ? { description: o.description } : {}),
        };
        if (input.caFile && !fs.existsSync(input.caFile)) throw new SkybridgeError(ErrorCode.InvalidInput, `The CA file ${input.caFile} does not exist.`);
        const saved = await offlineApi(o.dataDir).addSystem({ subaccount: o.subaccount, system: input });
        printValue(systemKey(saved));
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
