import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';

interface Launcher {
  UI_URL: string;
  electronBinary(o: { env?: NodeJS.ProcessEnv; root?: string; platform?: string }): string | undefined;
  chooseMode(o: { binary: string | undefined; env?: NodeJS.ProcessEnv; platform?: string; args?: string[] }): { mode: 'desktop' | 'headless'; reason?: string };
}

// build/start.mjs is not compiled; from dist/test/unit it is three folders up.
const launcher = (await import(pathToFileURL(path.resolve(import.meta.dirname, '..', '..', '..', 'build', 'start.mjs')).href)) as Launcher;

describe('npm start launcher', () => {
  const root = mkdtempSync(path.join(os.tmpdir(), 'skybridge-launcher-'));
  after(() => rmSync(root, { recursive: true, force: true }));

  it('finds no Electron where only the npm package (types) is installed', () => {
    mkdirSync(path.join(root, 'node_modules', 'electron'), { recursive: true });
    assert.equal(launcher.electronBinary({ root, env: {}, platform: 'linux' }), undefined);
  });

  it('finds the binary the electron package downloaded, or the one ELECTRON_OVERRIDE_DIST_PATH points to', () => {
    const dist = path.join(root, 'node_modules', 'electron', 'dist');
    mkdirSync(dist, { recursive: true });
    writeFileSync(path.join(root, 'node_modules', 'electron', 'path.txt'), 'electron');
    writeFileSync(path.join(dist, 'electron'), '');
    assert.equal(launcher.electronBinary({ root, env: {}, platform: 'linux' }), path.join(dist, 'electron'));

    const override = path.join(root, 'custom-electron');
    mkdirSync(override);
    assert.equal(launcher.electronBinary({ root, env: { ELECTRON_OVERRIDE_DIST_PATH: override }, platform: 'linux' }), undefined, 'an empty override folder has no binary');
    writeFileSync(path.join(override, 'electron'), '');
    assert.equal(launcher.electronBinary({ root, env: { ELECTRON_OVERRIDE_DIST_PATH: override }, platform: 'linux' }), path.join(override, 'electron'));
  });

  it('starts headless with one sentence and the URL when there is no Electron or no display', () => {
    for (const choice of [
      launcher.chooseMode({ binary: undefined, env: { DISPLAY: ':0' }, platform: 'linux' }),
      launcher.chooseMode({ binary: '/x/electron', env: {}, platform: 'linux' }),
      launcher.chooseMode({ binary: '/x/electron', env: { DISPLAY: ':0' }, platform: 'linux', args: ['--headless'] }),
    ]) {
      assert.equal(choice.mode, 'headless');
      assert.ok(choice.reason?.includes(launcher.UI_URL), choice.reason);
      assert.equal(choice.reason?.split(/[.:] [A-Z]/).length, 1, `more than one sentence: ${choice.reason}`);
    }
    assert.match(launcher.chooseMode({ binary: undefined, env: {}, platform: 'linux' }).reason ?? '', /No Electron binary/);
  });

  it('starts the desktop app where Electron and a display are present', () => {
    assert.deepEqual(launcher.chooseMode({ binary: '/x/electron', env: { WAYLAND_DISPLAY: 'wayland-0' }, platform: 'linux' }), { mode: 'desktop' });
    assert.deepEqual(launcher.chooseMode({ binary: 'C:\\electron.exe', env: {}, platform: 'win32' }), { mode: 'desktop' });
  });
});
