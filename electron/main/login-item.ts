/**
 * "Start at login". macOS and Windows have app.setLoginItemSettings; Linux has no such API in
 * Electron, so there it is an XDG autostart entry (~/.config/autostart/skybridge.desktop),
 * which GNOME, KDE, Xfce and the others read. Launched at login, the app starts with
 * `--hidden`: straight to the tray, no window in the user's face.
 *
 * The operating system is the truth (the user may remove the entry in its settings), so
 * isEnabled() asks it every time rather than trusting the settings file.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const HIDDEN_ARG = '--hidden';

export interface LoginItem {
  isEnabled(): boolean;
  setEnabled(on: boolean): void;
}

/** The part of Electron's app used on macOS and Windows. */
export interface LoginItemApp {
  getLoginItemSettings(options?: { args?: string[] }): { openAtLogin: boolean };
  setLoginItemSettings(settings: { openAtLogin: boolean; args?: string[] }): void;
}

export function electronLoginItem(app: LoginItemApp, platform: NodeJS.Platform): LoginItem {
  // Windows keeps the arguments with the entry and must be asked with the same ones.
  const args = platform === 'win32' ? [HIDDEN_ARG] : undefined;
  return {
    isEnabled: () => app.getLoginItemSettings(args ? { args } : undefined).openAtLogin,
    setEnabled: (on) => app.setLoginItemSettings({ openAtLogin: on, ...(args ? { args } : {}) }),
  };
}

/** Quotes one Exec argument as the Desktop Entry spec asks (double quotes; \\ " ` $ escaped). */
export function desktopExecArg(arg: string): string {
  if (/^[\w/.,:=+@-]+$/.test(arg)) return arg;
  return `"${arg.replace(/[\\"`$]/g, (c) => `\\${c}`)}"`;
}

export function autostartEntry(command: readonly string[]): string {
  // In a .desktop file a literal % must be written %%; a bare one starts a field code.
  const exec = command.map((a) => desktopExecArg(a).replace(/%/g, '%%')).join(' ');
  return [
    '[Desktop Entry]',
    'Type=Application',
    'Name=Skybridge',
    'Comment=Keeps the Skybridge connector running in the tray',
    `Exec=${exec}`,
    'Icon=skybridge',
    'Terminal=false',
    'X-GNOME-Autostart-enabled=true',
    '',
  ].join('\n');
}

export interface LinuxAutostartOptions {
  /** $XDG_CONFIG_HOME, or ~/.config. */
  configHome: string;
  /** The command that starts this app, without --hidden (e.g. [$APPIMAGE] or [execPath, appPath] in a checkout). */
  command: readonly string[];
}

export function linuxAutostart(options: LinuxAutostartOptions): LoginItem {
  const file = path.join(options.configHome, 'autostart', 'skybridge.desktop');
  return {
    isEnabled: () => {
      if (!existsSync(file)) return false;
      // Desktop settings switch an entry off by adding Hidden=true rather than deleting it.
      const text = readFileSync(file, 'utf8');
      return !/^Hidden\s*=\s*true\s*$/m.test(text) && !/^X-GNOME-Autostart-enabled\s*=\s*false\s*$/m.test(text);
    },
    setEnabled: (on) => {
      if (!on) {
        rmSync(file, { force: true });
        return;
      }
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, autostartEntry([...options.command, HIDDEN_ARG]), { mode: 0o644 });
    },
  };
}

/** Whether this launch came from the login item (start in the tray, no window). */
export function launchedHidden(argv: readonly string[], macWasOpenedAtLogin: boolean): boolean {
  return argv.includes(HIDDEN_ARG) || macWasOpenedAtLogin;
}
