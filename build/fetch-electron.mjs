#!/usr/bin/env node
// postinstall: fetch the Electron binary, which npm no longer does for us because
// package.json sets "allowScripts": {"electron": false} (electron's own install script
// would fail the whole install on a machine that cannot reach GitHub). The headless
// agent, the relay and the CLI need no binary, so this script never fails the install:
// it says once what went wrong and exits 0. It is quiet when there is nothing to say.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const TIMEOUT_MS = 120_000;
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ELECTRON_DIR = path.join(ROOT, 'node_modules', 'electron');

function flagSet(value) {
  return value !== undefined && value !== '' && value !== '0' && value.toLowerCase() !== 'false';
}

function binaryPresent() {
  try {
    const relative = readFileSync(path.join(ELECTRON_DIR, 'path.txt'), 'utf8').trim();
    return relative !== '' && existsSync(path.join(ELECTRON_DIR, 'dist', relative));
  } catch {
    return false;
  }
}

/** The error's first line, with any proxy credentials (scheme://user:pass@host) blanked. */
function summarise(output) {
  const line = output
    .split(/\r?\n/)
    .map((l) => l.trim())
    .find((l) => l !== '' && !l.startsWith('at '));
  const text = (line ?? '').replace(/(\w+:\/\/)[^\s/@]+@/g, '$1***@');
  return text.length > 200 ? `${text.slice(0, 197)}...` : text;
}

function runInstaller() {
  return new Promise((resolve) => {
    let output = '';
    let settled = false;
    const finish = (reason) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(reason);
    };
    const child = spawn(process.execPath, [path.join(ELECTRON_DIR, 'install.js')], {
      cwd: ELECTRON_DIR,
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const keep = (chunk) => {
      output = (output + chunk).slice(-8_192);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(`timed out after ${TIMEOUT_MS / 1000} s`);
    }, TIMEOUT_MS);
    child.on('error', (error) => finish(`could not run the installer: ${error.message}`));
    child.on('close', (code, signal) => {
      if (code === 0 && binaryPresent()) finish(undefined);
      else if (code === 0) finish('the installer finished but left no binary');
      else finish(summarise(output) || (signal ? `installer killed by ${signal}` : `installer exited with code ${code}`));
    });
  });
}

function warn(reason) {
  console.warn(
    `Electron's binary could not be downloaded (${reason}). ` +
      "The headless agent and the browser UI work without it; see README 'Desktop app'.",
  );
}

async function main() {
  if (flagSet(process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) || flagSet(process.env.CI)) return;
  // A production install (--omit=dev) has no electron package, and wants no binary.
  if (!existsSync(path.join(ELECTRON_DIR, 'install.js'))) return;
  if (binaryPresent()) return;
  const failure = await runInstaller();
  if (failure !== undefined) warn(failure);
}

main()
  .catch((error) => warn(error instanceof Error ? error.message : String(error)))
  .finally(() => {
    process.exitCode = 0;
  });
