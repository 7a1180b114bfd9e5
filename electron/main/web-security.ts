/**
 * The window shows only our own UI. Anything that would take it elsewhere (a link, a
 * redirect, window.open, an injected <webview>) is refused; a few well-known https links
 * open in the user's browser instead. Pure functions over small interfaces so they can
 * be tested without Electron; main.ts hands in the real objects.
 */

/** Hosts whose https links may open in the user's browser (documentation, issue tracker). */
export const EXTERNAL_LINK_HOSTS: readonly string[] = ['github.com'];

/** Permissions the UI may use; every other request (camera, geolocation, notifications…) is denied. */
export const ALLOWED_PERMISSIONS: ReadonlySet<string> = new Set(['clipboard-sanitized-write']);

function parseUrl(raw: string): URL | undefined {
  try {
    return new URL(raw);
  } catch {
    return undefined;
  }
}

/** https only, default port, no credentials, host exactly on the list. */
export function isAllowedExternalUrl(raw: string, hosts: readonly string[] = EXTERNAL_LINK_HOSTS): boolean {
  const url = parseUrl(raw);
  if (!url) return false;
  return url.protocol === 'https:' && url.port === '' && url.username === '' && url.password === '' && hosts.includes(url.hostname);
}

/**
 * Whether `target` stays inside the app loaded from `appUrl`. file: URLs have an opaque
 * origin, so for them only the app's own page counts (a reload); anything else on disk is out.
 */
export function isSameOrigin(target: string, appUrl: string): boolean {
  const to = parseUrl(target);
  const app = parseUrl(appUrl);
  if (!to || !app) return false;
  if (app.protocol === 'file:') return to.protocol === 'file:' && to.host === app.host && to.pathname === app.pathname;
  return app.origin !== 'null' && to.origin === app.origin;
}

/** The part of Electron's WebContents the guard uses. */
export interface GuardedContents {
  setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void;
  on(event: 'will-navigate', listener: (event: { url: string; preventDefault(): void }) => void): unknown;
  on(event: 'will-attach-webview', listener: (event: { preventDefault(): void }) => void): unknown;
}

export interface GuardOptions {
  /** The URL the app's page was loaded from (read on each navigation, the window may load later). */
  appUrl: () => string;
  openExternal: (url: string) => Promise<void>;
  externalHosts?: readonly string[];
  /** Told about each link that did not open: refused, or the browser could not be started. */
  onBlocked?: (url: string, reason: 'not-allowed' | 'open-failed') => void;
}

export function guardWebContents(contents: GuardedContents, options: GuardOptions): void {
  const hosts = options.externalHosts ?? EXTERNAL_LINK_HOSTS;
  const leave = (url: string): void => {
    if (isAllowedExternalUrl(url, hosts)) {
      options.openExternal(url).catch(() => options.onBlocked?.(url, 'open-failed'));
    } else {
      options.onBlocked?.(url, 'not-allowed');
    }
  };

  contents.setWindowOpenHandler(({ url }) => {
    leave(url);
    return { action: 'deny' };
  });
  contents.on('will-navigate', (event) => {
    if (isSameOrigin(event.url, options.appUrl())) return;
    event.preventDefault();
    leave(event.url);
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** The part of Electron's Session the permission policy uses. */
export interface PermissionSession {
  setPermissionRequestHandler(handler: (webContents: unknown, permission: string, callback: (granted: boolean) => void) => void): void;
  setPermissionCheckHandler(handler: (webContents: unknown, permission: string) => boolean): void;
}

export function denyPermissions(session: PermissionSession, allowed: ReadonlySet<string> = ALLOWED_PERMISSIONS): void {
  session.setPermissionRequestHandler((_webContents, permission, callback) => callback(allowed.has(permission)));
  session.setPermissionCheckHandler((_webContents, permission) => allowed.has(permission));
}

/** How the preload learns the app version: a sandboxed preload cannot read package.json. */
export const VERSION_ARG_PREFIX = '--skybridge-version=';

/**
 * The renderer gets no Node, runs in Chromium's sandbox and sees the preload's bridge only
 * through contextIsolation, so a bug in the UI cannot reach the machine.
 */
export interface LockedDownWebPreferences {
  preload: string;
  contextIsolation: true;
  sandbox: true;
  nodeIntegration: false;
  nodeIntegrationInWorker: false;
  webSecurity: true;
  allowRunningInsecureContent: false;
  webviewTag: false;
  spellcheck: false;
  additionalArguments: string[];
}

export function windowWebPreferences(preload: string, version: string): LockedDownWebPreferences {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    webviewTag: false,
    spellcheck: false,
    additionalArguments: [`${VERSION_ARG_PREFIX}${version}`],
  };
}

/*
 * Content Security Policy: the page's own <meta> CSP (renderer/index.html, first in <head>,
 * before any script) is the policy of the desktop window. No header is added with
 * session.webRequest.onHeadersReceived: Electron does not reliably run header hooks for
 * file:// responses (electron/electron#23485, #45903), and what a header could add over the
 * meta tag (frame-ancestors, sandbox) is covered here: the window never loads anything but
 * this page (guardWebContents), so nothing can frame it.
 */

/**
 * The desktop UI talks to the connector over IPC only, so its session needs no network at
 * all. Refusing every request to a remote scheme is a second wall behind the CSP: a script
 * that got in anyway has nowhere to send what it reads. (The agent runs in its own process
 * with Node's networking, which this does not touch.)
 */
const REMOTE_PROTOCOLS: ReadonlySet<string> = new Set(['http:', 'https:', 'ws:', 'wss:', 'ftp:']);

export function isRemoteUrl(raw: string): boolean {
  const url = parseUrl(raw);
  return url === undefined || REMOTE_PROTOCOLS.has(url.protocol);
}

export interface RequestFilterSession {
  onBeforeRequest(
    filter: { urls: string[] },
    listener: (details: { url: string }, callback: (response: { cancel: boolean }) => void) => void,
  ): void;
}

export function blockRemoteRequests(webRequest: RequestFilterSession, onBlocked?: (url: string) => void): void {
  // '<all_urls>' and a check here rather than per-scheme patterns: Electron throws on a
  // pattern its parser does not take, and the schemes it accepts have changed over versions.
  webRequest.onBeforeRequest({ urls: ['<all_urls>'] }, (details, callback) => {
    const remote = isRemoteUrl(details.url);
    if (remote) onBlocked?.(details.url);
    callback({ cancel: remote });
  });
}
