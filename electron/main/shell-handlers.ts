/**
 * What only the desktop shell can do for the UI: its own state, its settings (start at login,
 * notifications, the key-store report), and exporting a support bundle to a place the user
 * picked in the native save dialog. The tray's "Export logs…" uses the same export.
 *
 * No `electron` import: main.ts hands in the dialog, the agent call and the rest.
 */
import path from 'node:path';
import type { ConnectorApiMethod } from '../../shared/api.js';
import { bundleSummarySchema } from '../../shared/evidence.js';
import { ErrorCode } from '../../shared/errors.js';
import type { ShellSettings, ShellState } from '../../shared/ipc.js';
import type { ShellHandlers } from './ipc.js';
import type { LoginItem } from './login-item.js';
import type { StorageStatus } from './secrets.js';
import type { ShellSettingsStore } from './settings-store.js';
import { ShellError } from './shell-error.js';

export interface ShellSettingsServiceOptions {
  store: ShellSettingsStore;
  loginItem: LoginItem;
  storage: () => Promise<StorageStatus>;
  /** Told after a change, so the tray's checkbox follows. */
  onChange?: (settings: ShellSettings) => void;
}

export class ShellSettingsService {
  readonly #options: ShellSettingsServiceOptions;

  constructor(options: ShellSettingsServiceOptions) {
    this.#options = options;
  }

  /** The OS decides whether the app starts at login; the file only remembers the last choice. */
  startAtLogin(): boolean {
    try {
      return this.#options.loginItem.isEnabled();
    } catch {
      return this.#options.store.read('startAtLogin');
    }
  }

  notificationsOn(): boolean {
    return this.#options.store.read('notifications');
  }

  async get(): Promise<ShellSettings> {
    const storage = await this.#options.storage();
    return { startAtLogin: this.startAtLogin(), notifications: this.notificationsOn(), ...storage };
  }

  async set(patch: { startAtLogin?: boolean | undefined; notifications?: boolean | undefined }): Promise<ShellSettings> {
    if (patch.startAtLogin !== undefined) {
      try {
        this.#options.loginItem.setEnabled(patch.startAtLogin);
      } catch {
        throw new ShellError(
          ErrorCode.ConfigInvalid,
          patch.startAtLogin ? 'Skybridge could not add itself to the programs started at login.' : 'Skybridge could not remove itself from the programs started at login.',
        );
      }
      this.#options.store.write('startAtLogin', patch.startAtLogin);
    }
    if (patch.notifications !== undefined) this.#options.store.write('notifications', patch.notifications);
    const settings = await this.get();
    this.#options.onChange?.(settings);
    return settings;
  }
}

export interface BundleExporterOptions {
  /** The native save dialog; undefined when the user cancelled. */
  askWhere: (defaultName: string) => Promise<string | undefined>;
  callAgent: (method: ConnectorApiMethod, input: unknown) => Promise<unknown>;
  now?: () => Date;
}

export interface ExportedBundle {
  file: string;
  bytes: number;
  auditEntries: number;
}

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}`;
}

export class BundleExporter {
  readonly #options: BundleExporterOptions;
  /** Files this shell wrote; only these may be shown in the file manager. */
  readonly #written = new Set<string>();

  constructor(options: BundleExporterOptions) {
    this.#options = options;
  }

  /** Null when the user cancelled the dialog. */
  async export(range: { from?: string | undefined; to?: string | undefined }): Promise<ExportedBundle | null> {
    const now = (this.#options.now ?? (() => new Date()))();
    const picked = await this.#options.askWhere(`skybridge-support-${stamp(now)}.zip`);
    if (!picked) return null;
    // Linux save dialogs do not add the extension the filter names.
    const out = path.extname(picked).toLowerCase() === '.zip' ? picked : `${picked}.zip`;
    const input: { out: string; from?: string; to?: string } = { out };
    if (range.from !== undefined) input.from = range.from;
    if (range.to !== undefined) input.to = range.to;
    const summary = bundleSummarySchema.parse(await this.#options.callAgent('exportSupportBundle', input));
    this.#written.add(path.resolve(summary.file));
    return { file: summary.file, bytes: summary.bytes, auditEntries: summary.auditEntries };
  }

  wrote(file: string): boolean {
    return this.#written.has(path.resolve(file));
  }
}

export interface ShellHandlerDeps {
  state: () => ShellState;
  settings: ShellSettingsService;
  bundles: BundleExporter;
  showItemInFolder: (file: string) => void;
}

export function createShellHandlers(deps: ShellHandlerDeps): ShellHandlers {
  return {
    'shell:getState': async () => deps.state(),
    'shell:getSettings': () => deps.settings.get(),
    'shell:setSettings': (input) => deps.settings.set(input),
    'shell:exportBundle': (input) => deps.bundles.export(input),
    'shell:showItemInFolder': async ({ file }) => {
      // The page names the file; only ones this shell saved (through the user's dialog) are shown.
      if (!path.isAbsolute(file) || !deps.bundles.wrote(file)) {
        throw new ShellError(ErrorCode.InvalidInput, 'Only files Skybridge saved in this session can be shown in the folder.');
      }
      deps.showItemInFolder(path.resolve(file));
      return { shown: true };
    },
  };
}
