/**
 * The only bridge between the sandboxed UI and the shell. It hands the page plain values,
 * never ipcRenderer itself, so a compromised page can call nothing we did not expose.
 * Sandboxed preloads are CommonJS and may require only 'electron', hence .cts and no
 * imports from our own modules (the version arrives on the command line from main.ts).
 */
import { contextBridge } from 'electron';

// Keep in step with VERSION_ARG_PREFIX in electron/main/web-security.ts.
const VERSION_ARG_PREFIX = '--skybridge-version=';

const versionArg = process.argv.find((arg) => arg.startsWith(VERSION_ARG_PREFIX));
const version = versionArg?.slice(VERSION_ARG_PREFIX.length) ?? '';

contextBridge.exposeInMainWorld(
  'skybridge',
  Object.freeze({
    version: /^\d+\.\d+\.\d+[\w.+-]*$/.test(version) ? version : 'unknown',
  }),
);
