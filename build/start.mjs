#!/usr/bin/env node
// `npm start`: the desktop app where an Electron binary is present, else (or with --headless)
// the headless demo with the same UI in the browser, so the README's first command always
// gives a person something to use. Never fails for lack of Electron.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const UI_PORT = 8444;
export const UI_URL = `https://127.0.0.1:${UI_PORT}/`;

/** An Electron that dies this soon after start (missing system libraries, no GPU…) counts as absent. */
const EARLY_EXIT_MS = 5_000;

const EXECUTABLE = { darwin: 'Electron.app/Contents/MacOS/Electron', win32: 'electron.exe' };

/**
 * The Electron binary `npm start` would run, or undefined. Looked up the way the electron
 * package does it: ELECTRON_OVERRIDE_DIST_PATH, else node_modules/electron/dist, with the
 * executable named in node_modules/electron/path.txt (written by its installer).
 */
export function electronBinary({ env = process.env, root = ROOT, platform = process.platform } = {}) {
  const pkg = path.join(root, 'node_modules', 'electron');
  const pathFile = path.join(pkg, 'path.txt');
  const executable = existsSync(pathFile) ? readFileSync(pathFile, 'utf8').trim() : (EXECUTABLE[platform] ?? 'electron');
  const dist = env.ELECTRON_OVERRIDE_DIST_PATH || path.join(pkg, 'dist');
  const binary = path.join(dist, executable);
  return existsSync(binary) ? binary : undefined;
}

/** Desktop or headless, and the one sentence that says why when it is headless. */
export function chooseMode({ binary, env = process.env, platform = process.platform, args = [] }) {
  if (args.includes('--headless')) return { mode: 'headless', reason: `Starting Skybridge headless as asked: open ${UI_URL} in your browser.` };
  if (!binary) {
    return {
      mode: 'headless',
      reason: `No Electron binary is installed here (see README "Desktop app"), so Skybridge starts headless: open ${UI_URL} in your browser.`,
    };
  }
  if (platform === 'linux' && !env.DISPLAY && !env.WAYLAND_DISPLAY) {
    return { mode: 'headless', reason: `There is no graphical display here, so Skybridge starts headless: open ${UI_URL} in your browser.` };
  }
  return { mode: 'desktop' };
}

/** Runs a child with our terminal, passing on SIGTERM; resolves with its exit code. */
function run(command, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: 'inherit', cwd: ROOT, ...options });
    const forward = () => child.kill('SIGTERM');
    process.on('SIGTERM', forward);
    // Ctrl+C reaches the child through the terminal; the launcher waits for it to finish.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    child.on('error', (error) => {
      process.off('SIGTERM', forward);
      process.off('SIGINT', ignore);
      resolve({ code: 1, error });
    });
    child.on('exit', (code, signal) => {
      process.off('SIGTERM', forward);
      process.off('SIGINT', ignore);
      resolve({ code: code ?? (signal ? 1 : 0) });
    });
  });
}

function headless(extraArgs) {
  return run(process.execPath, [path.join(ROOT, 'bin', 'skybridge.js'), 'demo', '--ui-port', String(UI_PORT), ...extraArgs]);
}

async function main() {
  const args = process.argv.slice(2);
  const passOn = args.filter((a) => a !== '--headless');
  const binary = electronBinary();
  const choice = chooseMode({ binary, args });
  if (choice.mode === 'headless') {
    console.log(choice.reason);
    process.exitCode = (await headless(passOn)).code;
    return;
  }
  const env = { ...process.env };
  delete env.ELECTRON_RUN_AS_NODE; // set, it would turn the app into a plain Node script
  // Chromium refuses to run as root with its sandbox on (containers, CI); the app's own
  // renderer sandbox (app.enableSandbox) still applies.
  const rootFlags = process.platform === 'linux' && process.getuid?.() === 0 ? ['--no-sandbox'] : [];
  const started = Date.now();
  const desktop = await run(binary, [...rootFlags, ROOT, ...passOn], { env });
  if (desktop.code !== 0 && Date.now() - started < EARLY_EXIT_MS) {
    console.log(`The desktop app could not start here (exit code ${desktop.code}), so Skybridge starts headless: open ${UI_URL} in your browser.`);
    process.exitCode = (await headless(passOn)).code;
    return;
  }
  process.exitCode = desktop.code;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  main().catch((error) => {
    console.error(`skybridge: could not start: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = 1;
  });
}
