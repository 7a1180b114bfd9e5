/**
 * The desktop shell: one window showing the UI, and the tunnel agent supervised in a
 * utility process. Everything that decides something lives in small modules beside this
 * one (supervisor, web-security, paths) so it can be tested without Electron; this file
 * only wires them to Electron's objects.
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { app, BrowserWindow, session, shell, utilityProcess } from 'electron';
import { pino } from 'pino';
import { agentDataDir, shellPaths } from './paths.js';
import { AgentSupervisor } from './supervisor.js';
import { denyPermissions, guardWebContents, windowWebPreferences } from './web-security.js';

const APP_ID = 'io.skybridge.connector';

// Through the stdout stream, not pino's direct fd writes: a packaged Windows GUI app has no valid fd 1.
const log = pino({ name: 'skybridge-shell' }, process.stdout);

// Must precede 'ready': turns the sandbox on for every renderer, whatever its options say.
app.enableSandbox();

if (app.requestSingleInstanceLock()) {
  runShell();
} else {
  // Another copy owns the agent and its data folder; it shows its window on 'second-instance'.
  app.quit();
}

function runShell(): void {
  const paths = shellPaths(app.getAppPath(), existsSync);
  const appUrl = pathToFileURL(paths.rendererHtml).href;
  let window: BrowserWindow | undefined;

  const supervisor = new AgentSupervisor({
    fork: () =>
      utilityProcess.fork(paths.agentScript, ['--data-dir', agentDataDir(app.getPath('userData'))], {
        serviceName: 'Skybridge agent',
        stdio: 'inherit',
      }),
    onEvent: (event) => {
      if (event.type === 'crashed') log.warn({ agent: event }, 'agent exited unexpectedly; restarting');
      else log.info({ agent: event }, `agent ${event.type}`);
    },
  });

  function showWindow(): void {
    if (!app.isReady()) return;
    if (window && !window.isDestroyed()) {
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
      return;
    }
    const created = new BrowserWindow({
      title: 'Skybridge',
      width: 1100,
      height: 760,
      minWidth: 720,
      minHeight: 480,
      show: false,
      webPreferences: windowWebPreferences(paths.preload, app.getVersion()),
    });
    created.once('ready-to-show', () => created.show());
    created.loadURL(appUrl).catch((error: unknown) => log.error({ err: error, page: appUrl }, 'could not load the UI'));
    window = created;
  }

  app.on('web-contents-created', (_event, contents) => {
    guardWebContents(contents, {
      appUrl: () => appUrl,
      openExternal: (url) => shell.openExternal(url),
      // Host only: a refused URL may carry tokens in its query.
      onBlocked: (url, reason) => log.warn({ host: hostOf(url), reason }, 'link not opened'),
    });
  });

  app.on('second-instance', () => showWindow());
  app.on('activate', () => showWindow());

  // No tray yet, so a closed window would leave the agent running with no way back to it.
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // Let the agent close its tunnels and flush its audit log before the app goes.
  app.on('before-quit', (event) => {
    if (supervisor.state === 'stopped' || supervisor.state === 'idle') return;
    event.preventDefault();
    void supervisor.stop().then(() => app.quit());
  });

  app
    .whenReady()
    .then(() => {
      if (process.platform === 'win32') app.setAppUserModelId(APP_ID);
      denyPermissions(session.defaultSession);
      supervisor.start();
      showWindow();
    })
    .catch((error: unknown) => {
      log.fatal({ err: error }, 'shell failed to start');
      app.exit(1);
    });
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'unparsable';
  }
}
