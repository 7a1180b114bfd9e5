import fs from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { STATUS_FILE } from '../electron/agent/agent.js';
import { ConfigStore } from '../electron/agent/config-store.js';
import { createConnectorApi } from '../electron/agent/connector-api.js';
import { resolveSubaccount } from '../electron/agent/config-ops.js';
import { writeProxyPassword } from '../electron/agent/outbound.js';
import type { TunnelStatus } from '../shared/api.js';
import { outboundProxySchema, formatIssues } from '../shared/config.js';
import { ErrorCode, SkybridgeError } from '../shared/errors.js';
import { action, printJson, printValue, say } from './output.js';

/** The running agent's view of its tunnels, if one is running for this data dir. */
function statusFromFile(dataDir: string): (id: string) => TunnelStatus {
  let file: { pid: number; running: boolean; subaccounts: { id: string; status: TunnelStatus }[] } | undefined;
  try {
    file = JSON.parse(fs.readFileSync(path.join(dataDir, STATUS_FILE), 'utf8'));
    if (file && file.running) process.kill(file.pid, 0); // throws when that agent is gone
  } catch {
    file = undefined;
  }
  return (id) => (file?.running ? file.subaccounts.find((s) => s.id === id)?.status : undefined) ?? { state: 'disconnected', reconnects: 0 };
}

function api(dataDir: string) {
  return createConnectorApi({ store: new ConfigStore(dataDir), statusOf: statusFromFile(dataDir), subscribe: () => () => undefined });
}

/** Reads a secret from a file (first line), so it never appears in the process list or shell history. */
export function readSecretFile(file: string | undefined): string | undefined {
  if (file === undefined) return undefined;
  try {
    return fs.readFileSync(file === '-' ? 0 : file, 'utf8').split(/\r?\n/)[0];
  } catch (err) {
    throw new SkybridgeError(ErrorCode.InvalidInput, `Cannot read the password file ${file}: ${(err as Error).message}.`);
  }
}

export function parseProxyOption(url: string | undefined, user: string | undefined) {
  if (url === undefined) return undefined;
  const parsed = outboundProxySchema.safeParse({ url, ...(user ? { username: user } : {}) });
  if (!parsed.success) throw new SkybridgeError(ErrorCode.InvalidInput, `--proxy: ${formatIssues(parsed.error)}`);
  return parsed.data;
}

export function subaccountCommands(): Command {
  const sub = new Command('subaccount').description('subaccounts this connector is paired with: state, connect, disconnect, remove');
  const dataDir = (c: Command) => c.requiredOption('--data-dir <dir>', 'the connector data dir');

  dataDir(sub.command('list').description("each subaccount with its tunnel state (from the running agent)"))
    .option('--json', 'machine-readable output')
    .action(
      action(async (o: { dataDir: string; json?: boolean }) => {
        const list = await api(o.dataDir).listSubaccounts({});
        if (o.json) return printJson(list);
        if (list.length === 0) return say("No subaccount is paired yet; run 'skybridge agent pair CODE'.");
        for (const s of list) {
          const state = s.enabled ? s.status.state : 'disconnected (by choice)';
          const detail = s.status.lastError ? `\t${s.status.lastError}` : '';
          printValue(`${s.id}\t${s.name}\t${s.location || '(default)'}\t${s.relayUrl}\t${state}\tcertificate until ${s.certificateNotAfter ?? '?'}${detail}`);
        }
      }),
    );

  for (const [name, enabled] of [['connect', true], ['disconnect', false]] as const) {
    dataDir(sub.command(`${name} <id>`).description(`${name} one subaccount; the choice survives restarts`))
      .option('--json', 'machine-readable output')
      .action(
        action(async (id: string, o: { dataDir: string; json?: boolean }) => {
          const s = await api(o.dataDir).setSubaccountEnabled({ subaccount: id, enabled });
          if (o.json) return printJson(s);
          say(`Subaccount ${s.id} will be ${enabled ? 'connected' : 'disconnected'}; a running agent applies it within a second.`);
        }),
      );
  }

  dataDir(sub.command('remove <id>').description('remove a subaccount with its systems and key material'))
    .option('--yes', 'confirm the removal (required)')
    .action(
      action(async (id: string, o: { dataDir: string; yes?: boolean }) => {
        const store = new ConfigStore(o.dataDir);
        const s = resolveSubaccount(store.load(), id);
        if (!o.yes) {
          throw new SkybridgeError(ErrorCode.InvalidInput, `Removing subaccount ${s.id} deletes its ${s.systems.length} system(s) and its keys; run again with --yes to confirm.`);
        }
        await api(o.dataDir).removeSubaccount({ subaccount: s.id, confirm: s.id });
        say(`Subaccount ${s.id} removed, with its systems and key material.`);
      }),
    );

  dataDir(sub.command('set-proxy <id>').description('reach the relay through an outbound HTTP proxy (CONNECT), or directly with --none'))
    .option('--proxy <url>', 'http://host:port of the proxy')
    .option('--proxy-user <name>', 'proxy user for Basic authentication')
    .option('--proxy-password-file <file>', "file whose first line is the proxy password ('-' reads standard input)")
    .option('--none', 'connect directly again')
    .action(
      action(async (id: string, o: { dataDir: string; proxy?: string; proxyUser?: string; proxyPasswordFile?: string; none?: boolean }) => {
        if (!o.none && !o.proxy) throw new SkybridgeError(ErrorCode.InvalidInput, 'Give --proxy http://host:port, or --none to connect directly.');
        const proxy = o.none ? undefined : parseProxyOption(o.proxy, o.proxyUser);
        const password = readSecretFile(o.proxyPasswordFile);
        const store = new ConfigStore(o.dataDir);
        const target = resolveSubaccount(store.load(), id);
        await writeProxyPassword(o.dataDir, target.id, proxy ? password : undefined);
        store.update((cfg) => {
          const next = { ...target, ...(proxy ? { proxy } : {}) };
          if (!proxy) delete next.proxy;
          return { config: { ...cfg, subaccounts: cfg.subaccounts.map((s) => (s.id === target.id ? next : s)) }, result: next };
        });
        say(proxy ? `Subaccount ${target.id} reaches its relay through ${proxy.url}.` : `Subaccount ${target.id} connects to its relay directly.`);
      }),
    );
  return sub;
}
