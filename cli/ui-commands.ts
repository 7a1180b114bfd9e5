import os from 'node:os';
import { Command, Option } from 'commander';
import type { ConnectorAgent } from '../electron/agent/agent.js';
import { AdminAuth } from '../electron/agent/web/admin-auth.js';
import { isLoopback, startHeadlessUi, type HeadlessUi } from '../electron/agent/web/headless-ui.js';
import { isWildcard } from '../electron/agent/web/tls.js';
import { ADMIN_USER } from '../shared/web-api.js';
import type { Logger } from '../common/logger.js';
import { action, say } from './output.js';
import { intOption } from './relay-commands.js';

export interface UiCliOptions {
  uiPort?: number;
  uiHost: string;
  uiCert?: string;
  uiKey?: string;
  uiSessionIdle?: number;
  uiSessionMax?: number;
}

/** The headless-UI options of `agent start` (the demo has its own port option). */
export function addUiOptions(cmd: Command, portHelp = 'serve the web UI over HTTPS on this port (off unless given; e.g. 8444)'): Command {
  return cmd
    .option('--ui-port <port>', portHelp, intOption(0, 65535))
    .option('--ui-host <address>', 'address for the web UI; loopback unless you choose otherwise', '127.0.0.1')
    .option('--ui-cert <file>', 'TLS certificate (PEM) for the web UI instead of the self-signed one')
    .option('--ui-key <file>', 'private key (PEM) of --ui-cert')
    .addOption(new Option('--ui-session-idle <ms>', 'end web UI sessions idle this long').argParser(intOption(1000, 86_400_000)).hideHelp())
    .addOption(new Option('--ui-session-max <ms>', 'end web UI sessions this long after sign-in').argParser(intOption(1000, 7 * 86_400_000)).hideHelp());
}

/** What a person sees when the UI comes up: where it is, how to check the certificate, where the first password is. */
export function describeUi(ui: HeadlessUi, host: string): string[] {
  const lines = [`ui: ${ui.url} (sign in as "${ADMIN_USER}")`];
  if (isWildcard(host)) lines.push(`ui: from other machines: https://${os.hostname()}:${ui.port}/ or this machine's address`);
  if (!isLoopback(host)) {
    lines.push(
      `ui: WARNING: listening on ${host}, not only on this machine: anyone who can reach port ${ui.port} gets the sign-in page.`,
      `ui:   Prefer the default --ui-host 127.0.0.1 with an SSH tunnel (ssh -L ${ui.port}:127.0.0.1:${ui.port} this-host), or at least a firewall.`,
    );
  }
  if (ui.certificate.selfSigned) {
    lines.push(
      `ui: self-signed certificate ${ui.certificate.generated ? '(new) ' : ''}${ui.certificate.certFile}; before accepting the browser's warning, check its SHA-256 fingerprint is`,
      `ui:   ${ui.certificate.fingerprint}`,
    );
  } else {
    lines.push(`ui: certificate ${ui.certificate.certFile}, SHA-256 ${ui.certificate.fingerprint}`);
  }
  if (!ui.rendererAvailable) lines.push("ui: the UI's pages are not built (dist/renderer is missing); run 'npm run build'. The API works meanwhile.");
  if (ui.initialPassword) lines.push(`ui: the initial password is in ${ui.initialPassword.file} (readable only by you); the first sign-in must change it.`);
  return lines;
}

/** Starts the headless UI next to a running agent and prints how to reach it. */
export async function startUiForAgent(runner: ConnectorAgent, dataDir: string, o: UiCliOptions & { uiPort: number }, logger: Logger, print = true): Promise<HeadlessUi> {
  const ui = await startHeadlessUi({
    dataDir,
    api: runner.api,
    audit: (draft) => runner.evidence.recordAudit(draft),
    logger,
    host: o.uiHost,
    port: o.uiPort,
    certFile: o.uiCert,
    keyFile: o.uiKey,
    sessions: { idleMs: o.uiSessionIdle, absoluteMs: o.uiSessionMax },
  });
  if (print) for (const line of describeUi(ui, o.uiHost)) say(line);
  return ui;
}

/** `skybridge agent ui …`: the headless UI's local admin account. */
export function uiCommands(): Command {
  const ui = new Command('ui').description('the headless web UI (agent start --ui-port): its local admin account');
  ui.command('reset-password')
    .description('forgotten the UI password? make a new random one that must be changed at the next sign-in; ends every UI session')
    .addOption(new Option('--data-dir <dir>', 'the connector data dir').makeOptionMandatory())
    .action(
      action(async (o: { dataDir: string }) => {
        const auth = new AdminAuth(o.dataDir);
        await auth.reset();
        say(`A new initial password for "${ADMIN_USER}" is in ${auth.initialPasswordFile} (readable only by you).`);
        say('Sign in with it and choose a new one; every open web UI session has ended (a running agent notices by itself).');
      }),
    );
  return ui;
}
