import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ESLint } from 'eslint';

/** The repo root: the nearest folder above this file that holds eslint.config.js (works from dist/ too). */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!existsSync(path.join(dir, 'eslint.config.js'))) {
    const parent = path.dirname(dir);
    assert.notEqual(parent, dir, 'eslint.config.js not found above the test');
    dir = parent;
  }
  return dir;
}

const BOUNDARY_RULES = new Set(['@typescript-eslint/no-restricted-imports', 'skybridge/import-boundaries', 'no-restricted-globals']);

let eslint: ESLint;
let root: string;

before(() => {
  root = repoRoot();
  eslint = new ESLint({ cwd: root });
});

/** Lints `code` as if it were the file at `file` (repo-relative); returns the boundary errors. */
async function boundaryErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  assert.ok(result);
  const fatal = result.messages.find((m) => m.fatal);
  assert.equal(fatal, undefined, `${file} did not parse: ${fatal?.message}`);
  return result.messages.filter((m) => m.severity === 2 && m.ruleId && BOUNDARY_RULES.has(m.ruleId)).map((m) => m.message);
}

async function assertBlocked(file: string, code: string, count = 1): Promise<void> {
  const errors = await boundaryErrors(file, code);
  assert.equal(errors.length, count, `${file}: expected ${count} boundary error(s) for\n${code}\ngot: ${JSON.stringify(errors)}`);
}

async function assertAllowed(file: string, code: string): Promise<void> {
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  assert.ok(result);
  const errors = result.messages.filter((m) => m.severity === 2);
  assert.deepEqual(errors.map((m) => `${m.ruleId}: ${m.message}`), [], `${file} should lint clean`);
}

describe('lint: only the Electron shell imports electron', () => {
  const useApp = "import { app } from 'electron';\nexport const name = app.name;\n";

  it('allows electron in electron/main and electron/preload', async () => {
    await assertAllowed('electron/main/x.ts', useApp);
    await assertAllowed('electron/preload/x.cts', "import { contextBridge } from 'electron';\ncontextBridge.exposeInMainWorld('x', {});\n");
  });

  for (const file of ['electron/agent/x.ts', 'relay/x.ts', 'cli/x.ts', 'shared/x.ts', 'renderer/src/x.tsx', 'test/unit/x.ts']) {
    it(`refuses electron in ${file}`, async () => {
      await assertBlocked(file, useApp);
    });
  }

  it('catches subpath, re-export, require-style and dynamic imports', async () => {
    await assertBlocked('relay/x.ts', "import { ipcRenderer } from 'electron/renderer';\nexport { ipcRenderer };\n");
    await assertBlocked('cli/x.ts', "export { app } from 'electron';\n");
    await assertBlocked('electron/agent/x.ts', "import electron = require('electron');\nexport const e = electron;\n");
    await assertBlocked('electron/agent/x.ts', "export const electron = await import('electron');\n");
  });
});

describe('lint: shared/ and renderer/ use no Node built-ins', () => {
  for (const file of ['shared/x.ts', 'renderer/src/x.tsx']) {
    it(`refuses node modules in ${file}`, async () => {
      await assertBlocked(file, "import fs from 'node:fs';\nexport { fs };\n");
      await assertBlocked(file, "import path from 'path';\nexport { path };\n");
      await assertBlocked(file, "import { readFile } from 'fs/promises';\nexport { readFile };\n");
      await assertBlocked(file, "import { test } from 'node:test';\nexport { test };\n");
      await assertBlocked(file, "export const crypto = await import('node:crypto');\n");
    });
  }

  it('still lets the agent, relay and CLI use them', async () => {
    for (const file of ['electron/agent/x.ts', 'relay/x.ts', 'cli/x.ts']) {
      await assertAllowed(file, "import fs from 'node:fs';\nexport const read = fs.readFileSync;\n");
    }
  });
});

describe('lint: shared/ is environment-neutral', () => {
  it('refuses imports that leave shared/', async () => {
    await assertBlocked('shared/x.ts', "export { relayThing } from '../relay/thing.js';\n");
    await assertBlocked('shared/deep/x.ts', "export { relayThing } from '../../relay/thing.js';\n");
    await assertAllowed('shared/x.ts', "export { ErrorCode } from './errors.js';\n");
    await assertAllowed('shared/deep/x.ts', "export { ErrorCode } from '../errors.js';\n");
  });

  it('refuses DOM and Node-only globals but allows what every runtime has', async () => {
    await assertBlocked('shared/x.ts', 'export const title = document.title;\n');
    await assertBlocked('shared/x.ts', 'export const here = window.location.href;\n');
    await assertBlocked('shared/x.ts', "export const saved = localStorage.getItem('k');\n");
    await assertBlocked('shared/x.ts', 'export const env = process.env;\n');
    await assertBlocked('shared/x.ts', "export const bytes = Buffer.from('x');\n");
    await assertAllowed('shared/x.ts', "export const u = new URL('https://relay.example/');\nexport const b = new TextEncoder().encode(u.host);\n");
  });
});

describe('lint: renderer/ reaches only shared/ and itself', () => {
  it('refuses the agent, relay, CLI and shell', async () => {
    for (const target of ['electron/agent/tunnel.js', 'electron/main/main.js', 'relay/server.js', 'cli/main.js']) {
      await assertBlocked('renderer/src/x.tsx', `export * from '../../${target}';\n`);
    }
  });

  it('allows shared/ and its own files', async () => {
    await assertAllowed(
      'renderer/src/x.tsx',
      "import { ErrorCode } from '../../shared/errors.js';\nimport { App } from './App.js';\nexport { App, ErrorCode };\nexport const title = document.title;\n",
    );
  });
});

describe('lint: agent and relay stay apart', () => {
  it('keeps the agent out of relay/, cli/, renderer/ and the shell', async () => {
    for (const target of ['../../relay/x.js', '../../cli/x.js', '../../renderer/src/App.js', '../main/main.js']) {
      await assertBlocked('electron/agent/x.ts', `export * from '${target}';\n`);
    }
    await assertAllowed('electron/agent/x.ts', "export * from '../../shared/config.js';\nexport * from './tunnel.js';\n");
  });

  it('keeps the relay out of electron/, cli/ and renderer/', async () => {
    for (const target of ['../electron/agent/x.js', '../cli/x.js', '../renderer/src/App.js']) {
      await assertBlocked('relay/x.ts', `export * from '${target}';\n`);
    }
    await assertAllowed('relay/x.ts', "export * from '../shared/tunnel.js';\nexport * from './ca.js';\n");
  });
});

describe('lint: house rules', () => {
  it('allows _-prefixed unused arguments and flags other unused ones', async () => {
    await assertAllowed('relay/x.ts', 'export function f(_unused: number): number {\n  return 1;\n}\n');
    const [result] = await eslint.lintText('export function f(unused: number): number {\n  return 1;\n}\n', {
      filePath: path.join(root, 'relay/x.ts'),
    });
    assert.deepEqual(result?.messages.map((m) => m.ruleId), ['@typescript-eslint/no-unused-vars']);
  });

  it('ignores build output', async () => {
    for (const file of ['dist/x.js', 'node_modules/x/index.js', 'release/x.js', 'test-results/x.js']) {
      assert.equal(await eslint.isPathIgnored(path.join(root, file)), true, file);
    }
  });
});
