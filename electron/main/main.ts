/**
 * The desktop shell: one window showing the UI, a tray icon for the whole session, and the
 * tunnel agent supervised in a utility process. Everything that decides something lives in
 * small modules beside this one (supervisor, agent-bridge, ipc, tray-model, notifications,
 * settings-store, web-security…) so it can be tested without Electron; this file only wires
 * them to Electron's objects.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  Notification,
  safeStorage,
  screen,
  session,
  shell,
  utilityProcess,
  type MenuItemConstructorOptions,
} from 'electron';
import Store from 'electron-store';
import { pino } from 'pino';
import { connectorApiSchemas, type ConnectorApiMethod } from '../../shared/api.js';
import { AgentBridge } from './agent-bridge.js';
import { pushEvent, registerIpc } from './ipc.js';
import { electronLoginItem, launchedHidden, linuxAutostart, type LoginItem } from './login-item.js';
import { desktopNotifier, NotificationPolicy } from './notifications.js';
import { agentDataDir, appIconPath, shellPaths, trayIconPath } from './paths.js';
import { KeyFileStore, keyStoreOptions, ShellSettingsStore, settingsStoreOptions, type KeyValueStore } from './settings-store.js';
import { storageStatus } from './secrets.js';
import { forkWithUnlock, keyFileFailure, keyStoreError, openDataKey, unlockMessage, type DataKeyState } from './data-key.js';
import { subaccountsWithEncryptedSecrets } from '../agent/secret-format.js';
import { toPublicError } from './shell-error.js';
import { BundleExporter, createShellHandlers, ShellSettingsService } from './shell-handlers.js';
import { ShellModel } from './shell-state.js';
import { AgentSupervisor, type SupervisorEvent } from './supervisor.js';
import { createTray, destroyTray, trayExists, trayInfo, updateTray } from './tray.js';
import { trayView, type TrayActions } from './tray-model.js';
import { blockRemoteRequests, denyPermissions, guardWebContents, windowWebPreferences } from './web-security.js';
import { CLOSE_TO_TRAY_NOTICE, initialBounds, MIN_SIZE, onCloseRequested } from './window-state.js';

const APP_ID = 'io.skybridge.connector';

/** Calls after which the shell's list of subaccounts (tray, notifications) must be read again. */
const SUBACCOUNT_CHANGING: ReadonlySet<ConnectorApiMethod> = new Set(['pairSubaccount', 'removeSubaccount', 'setSubaccountEnabled']);

// Through the stdout stream, not pino's direct fd writes: a packaged Windows GUI app has no valid fd 1.
const log = pino({ name: 'skybridge-shell', level: process.env.SKYBRIDGE_LOG_LEVEL ?? 'info' }, process.stdout);

// A separate data folder (tests, a second installation) must be set before anything reads userData,
// the single-instance lock included: it is per folder.
if (process.env.SKYBRIDGE_USER_DATA_DIR) app.setPath('userData', path.resolve(process.env.SKYBRIDGE_USER_DATA_DIR));

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
  const where = { appRoot: app.getAppPath(), isPackaged: app.isPackaged, resourcesPath: process.resourcesPath };
  const appIcon = appIconPath(where);
  let window: BrowserWindow | undefined;
  let quitting = false;

  // --- settings --------------------------------------------------------------------
  const electronStore = new Store<Record<string, unknown>>(settingsStoreOptions());
  const keyValue: KeyValueStore = {
    get: (key) => electronStore.get(key),
    set: (key, value) => electronStore.set(key, value),
    delete: (key) => electronStore.delete(key),
  };
  const settingsStore = new ShellSettingsStore(keyValue);
  // Opened in whenReady (safeStorage needs 'ready'), before the first agent is forked.
  let dataKey: DataKeyState | undefined;
  const settings = new ShellSettingsService({
    store: settingsStore,
    loginItem: loginItem(),
    storage: async () => {
      const problem = dataKey && keyStoreError(dataKey);
      return { ...(await storageStatus(safeStorage, process.platform)), ...(problem ? { keyStoreError: problem } : {}) };
    },
    onChange: () => refreshTray(true),
  });

  // --- the agent -------------------------------------------------------------------
  const agentDir = agentDataDir(app.getPath('userData'));
  const model = new ShellModel();
  const supervisor = new AgentSupervisor({
    // The key goes over the port as the first message, never on the command line or in the environment.
    fork: forkWithUnlock(
      () =>
        utilityProcess.fork(paths.agentScript, ['--data-dir', agentDir, '--key-store', 'shell'], {
          serviceName: 'Skybridge agent',
          stdio: 'inherit',
        }),
      // Never undefined here: the supervisor starts only once the key is loaded.
      () => unlockMessage(dataKey ?? { status: 'unreadable', message: '' }),
    ),
    onMessage: (message) => bridge.handleMessage(message),
    onEvent: onSupervisorEvent,
  });
  const bridge = new AgentBridge({
    post: (message) => supervisor.postMessage(message),
    onReady: (pid) => {
      log.info({ pid }, 'agent ready');
      model.setAgent('running');
      void refreshSubaccounts();
    },
    onEvent: (event) => {
      pushEvent(window?.webContents, 'event:agent', event);
      if (event.type === 'subaccount-state' && !model.applyStatus(event.subaccountId, event.status)) void refreshSubaccounts();
      if (event.type === 'config-reloaded') void refreshSubaccounts();
      notifications.observeEvent(event, nameOf);
    },
    onInvalidMessage: (reason) => log.warn(reason),
  });

  function onSupervisorEvent(event: SupervisorEvent): void {
    switch (event.type) {
      case 'started':
        log.info({ attempt: event.attempt }, 'agent started');
        bridge.agentStarted();
        model.setAgent('starting');
        return;
      case 'crashed': {
        log.warn({ agent: event }, 'agent exited unexpectedly; restarting');
        bridge.agentExited('restarting');
        const why = event.code !== undefined ? `stopped unexpectedly (exit code ${event.code})` : `could not start (${(event.reason ?? 'no reason given').slice(0, 200)})`;
        model.setAgent('restarting', `The Skybridge agent ${why}; restarting in ${Math.ceil(event.restartInMs / 1_000)} s.`);
        return;
      }
      case 'stopped':
        log.info('agent stopped');
        bridge.agentExited('stopped');
        model.setAgent('stopped', quitting ? undefined : 'The Skybridge agent was stopped.');
        return;
    }
  }

  let refreshing = false;
  let refreshAgain = false;
  /** Reads the subaccount list again; calls that arrive while one is running coalesce into one more. */
  async function refreshSubaccounts(): Promise<void> {
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    try {
      do {
        refreshAgain = false;
        model.setSubaccounts(connectorApiSchemas.listSubaccounts.output.parse(await bridge.call('listSubaccounts', {})));
      } while (refreshAgain);
    } catch (error) {
      log.warn({ err: toPublicError(error) }, 'could not read the subaccount list');
    } finally {
      refreshing = false;
    }
  }

  function nameOf(subaccountId: string): string {
    return model.subaccounts.find((s) => s.id === subaccountId)?.name ?? subaccountId;
  }

  async function callApi(method: ConnectorApiMethod, input: unknown): Promise<unknown> {
    const value = await bridge.call(method, input);
    if (SUBACCOUNT_CHANGING.has(method)) void refreshSubaccounts();
    return value;
  }

  // --- notifications ---------------------------------------------------------------
  const notify = desktopNotifier(Notification, {
    icon: appIcon,
    onClick: (notice) => (notice.file ? shell.showItemInFolder(notice.file) : showWindow()),
  });
  const notifications = new NotificationPolicy({
    show: notify,
    enabled: () => settings.notificationsOn(),
    timers: { setTimeout: (cb, ms) => setTimeout(cb, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) },
    now: Date.now,
  });
  model.subscribe({
    onState: (state) => {
      pushEvent(window?.webContents, 'event:shell', state);
      refreshTray();
    },
    onSubaccount: (change) => notifications.observe(change),
    onRemoved: (id) => notifications.forget(id),
  });

  // --- IPC -------------------------------------------------------------------------
  const bundles = new BundleExporter({
    askWhere: async (defaultName) => {
      const options = {
        title: 'Save support bundle',
        defaultPath: path.join(app.getPath('downloads'), defaultName),
        filters: [{ name: 'Zip archive', extensions: ['zip'] }],
      };
      const parent = window && !window.isDestroyed() && window.isVisible() ? window : undefined;
      const answer = parent ? await dialog.showSaveDialog(parent, options) : await dialog.showSaveDialog(options);
      return answer.canceled || !answer.filePath ? undefined : answer.filePath;
    },
    callAgent: (method, input) => bridge.call(method, input),
  });
  registerIpc(ipcMain, {
    handlers: {
      api: callApi,
      shell: createShellHandlers({ state: () => model.snapshot(), settings, bundles, showItemInFolder: (file) => shell.showItemInFolder(file) }),
    },
    senders: {
      appUrl: () => appUrl,
      isAppWindow: (sender) => window !== undefined && !window.isDestroyed() && sender === window.webContents,
    },
    onRefused: (channel, code, detail) => log.warn({ channel, code, detail }, 'IPC request refused'),
    onFault: (channel, error) => log.error({ channel, err: error }, 'IPC request failed'),
  });

  // --- tray ------------------------------------------------------------------------
  const trayActions: TrayActions = {
    open: () => showWindow(),
    setSubaccountEnabled: (id, enabled) => {
      callApi('setSubaccountEnabled', { subaccount: id, enabled })
        .then((summary) => model.putSubaccount(connectorApiSchemas.setSubaccountEnabled.output.parse(summary)))
        .catch((error: unknown) => tellFailure(enabled ? 'Could not connect' : 'Could not disconnect', error));
    },
    exportLogs: () => {
      bundles
        .export({})
        .then((saved) => {
          if (saved) notify({ key: 'export', title: 'Support bundle saved', body: `${path.basename(saved.file)}: click to show it in its folder.`, file: saved.file });
        })
        .catch((error: unknown) => tellFailure('Could not export the logs', error));
    },
    setStartAtLogin: (on) => {
      settings.set({ startAtLogin: on }).catch((error: unknown) => tellFailure('Start at login', error));
    },
    quit: () => app.quit(),
  };

  function tellFailure(title: string, error: unknown): void {
    const publicError = toPublicError(error);
    if (publicError.unexpected) log.error({ err: error }, title);
    // A tray action has no window to answer in, so it answers with a notice, setting or not.
    notify({ key: `failure:${title}`, title, body: publicError.message });
    refreshTray(true); // a checkbox Electron flipped on click must flip back
  }

  function currentTrayView() {
    return trayView({ agent: model.agent, subaccounts: model.subaccounts, startAtLogin: settings.startAtLogin() }, trayActions);
  }

  function refreshTray(force = false): void {
    if (trayExists()) updateTray(currentTrayView(), { force });
  }

  // --- the window ------------------------------------------------------------------
  function showWindow(): void {
    if (!app.isReady()) return;
    if (window && !window.isDestroyed()) {
      if (window.isMinimized()) window.restore();
      window.show();
      window.focus();
      return;
    }
    const saved = settingsStore.read('windowBounds');
    const created = new BrowserWindow({
      title: 'Skybridge',
      ...initialBounds(saved, screen.getAllDisplays().map((d) => d.workArea)),
      minWidth: MIN_SIZE.width,
      minHeight: MIN_SIZE.height,
      show: false,
      icon: appIcon,
      webPreferences: windowWebPreferences(paths.preload, app.getVersion()),
    });
    created.once('ready-to-show', () => {
      if (saved?.maximized) created.maximize();
      created.show();
    });
    created.on('close', (event) => {
      saveBounds(created);
      const decision = onCloseRequested({ quitting, trayShown: trayExists(), noticeShown: settingsStore.read('closeToTrayNoticeShown') });
      if (decision.action === 'close') return;
      event.preventDefault();
      created.hide();
      if (decision.notice) {
        notify({ ...CLOSE_TO_TRAY_NOTICE });
        settingsStore.write('closeToTrayNoticeShown', true);
      }
    });
    created.webContents.on('render-process-gone', (_event, details) => log.error({ reason: details.reason, exitCode: details.exitCode }, 'the UI process ended'));
    created.loadURL(appUrl).catch((error: unknown) => log.error({ err: error, page: appUrl }, 'could not load the UI'));
    window = created;
  }

  function saveBounds(win: BrowserWindow): void {
    if (win.isDestroyed() || win.isMinimized()) return;
    const b = win.getNormalBounds();
    try {
      settingsStore.write('windowBounds', { x: b.x, y: b.y, width: b.width, height: b.height, maximized: win.isMaximized() });
    } catch (error) {
      log.warn({ err: error }, 'window position not saved');
    }
  }

  // --- app lifecycle ---------------------------------------------------------------
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

  // With a tray the window only hides; it closes for real only when quitting or when there is no tray.
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin' || !trayExists()) app.quit();
  });

  // Let the agent close its tunnels and flush its audit log before the app goes.
  app.on('before-quit', (event) => {
    quitting = true;
    if (supervisor.state === 'stopped' || supervisor.state === 'idle') return;
    event.preventDefault();
    void supervisor.stop().then(() => app.quit());
  });

  app.on('will-quit', () => {
    notifications.dispose();
    destroyTray();
  });

  app
    .whenReady()
    .then(async () => {
      if (process.platform === 'win32') app.setAppUserModelId(APP_ID);
      denyPermissions(session.defaultSession);
      try {
        blockRemoteRequests(session.defaultSession.webRequest, (url) => log.warn({ host: hostOf(url) }, 'network request from the UI refused'));
      } catch (error) {
        // A second wall only (the CSP is the first): never a reason not to start.
        log.warn({ err: error }, 'could not install the network filter');
      }
      Menu.setApplicationMenu(process.platform === 'darwin' ? Menu.buildFromTemplate(macMenu()) : null);
      createTray(currentTrayView(), {
        iconPath: (state) => trayIconPath(state, where),
        onClick: () => showWindow(),
      });
      const hidden = launchedHidden(process.argv, process.platform === 'darwin' && app.getLoginItemSettings().wasOpenedAtLogin);
      if (!hidden) showWindow();
      // The key store may ask the user to unlock it first; the window is already there meanwhile.
      dataKey = await loadDataKey();
      supervisor.start();
      const storage = await storageStatus(safeStorage, process.platform);
      if (!storage.secureStorage) log.warn({ backend: storage.secureStorageBackend }, 'no OS key store: the key protecting private keys and passwords is only obfuscated');
      if (process.env.SKYBRIDGE_TEST_HOOKS === '1') installTestHooks();
    })
    .catch((error: unknown) => {
      log.fatal({ err: error }, 'shell failed to start');
      app.exit(1);
    });

  /** The agent's data-protection key: its state is logged, the key never. */
  async function loadDataKey(): Promise<DataKeyState> {
    const file = path.join(app.getPath('userData'), `${keyStoreOptions().name}.json`);
    let state: DataKeyState;
    try {
      const keyFile = new Store<Record<string, unknown>>(keyStoreOptions());
      state = await openDataKey({
        safe: safeStorage,
        store: new KeyFileStore({ get: (k) => keyFile.get(k), set: (k, v) => keyFile.set(k, v), delete: (k) => keyFile.delete(k) }),
        file: keyFile.path,
        hasEncryptedSecrets: () => subaccountsWithEncryptedSecrets(agentDir).length > 0,
      });
    } catch (error) {
      state = keyFileFailure(file, error);
    }
    if (state.status === 'ready') log.info({ created: state.created }, 'data-protection key ready');
    else if (state.status === 'no-key-store') log.warn('no OS key store: the agent keeps private keys and passwords as owner-only files');
    else log.error(state.message);
    return state;
  }

  function loginItem(): LoginItem {
    if (process.platform !== 'linux') return electronLoginItem(app, process.platform);
    // AppImage: the image itself, not the temporary mount it runs from; a checkout: electron + the app folder.
    const command = process.env.APPIMAGE ? [process.env.APPIMAGE] : app.isPackaged ? [process.execPath] : [process.execPath, app.getAppPath()];
    return linuxAutostart({ configHome: process.env.XDG_CONFIG_HOME || path.join(os.homedir(), '.config'), command });
  }

  /** For test/e2e/electron.spec.ts only (SKYBRIDGE_TEST_HOOKS=1): what cannot be read from outside. */
  function installTestHooks(): void {
    (globalThis as { __skybridgeTest?: unknown }).__skybridgeTest = {
      tray: () => trayInfo(),
      state: () => model.snapshot(),
      windowVisible: () => (window && !window.isDestroyed() ? window.isVisible() : false),
    };
  }
}

/** macOS expects an app menu (Quit, and Edit for copy and paste); Windows and Linux do without a menu bar. */
function macMenu(): MenuItemConstructorOptions[] {
  return [{ role: 'appMenu' }, { role: 'editMenu' }, { role: 'windowMenu' }];
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return 'unparsable';
  }
}
