import { afterEach, beforeEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigStore } from '../../electron/agent/config-store.js';
import { addSystem } from '../../electron/agent/config-ops.js';
import { agentConfigSchema, type AgentConfig } from '../../shared/config.js';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';

const storeModule = fileURLToPath(new URL('../../electron/agent/config-store.js', import.meta.url));
const opsModule = fileURLToPath(new URL('../../electron/agent/config-ops.js', import.meta.url));

const paired = {
  subaccounts: [{ id: 'acme', relayUrl: 'https://relay.example', tenantId: 't1', connectorId: 'c1' }],
};

function system(port: number) {
  return { virtualHost: 'erp.virtual', virtualPort: port, internalHost: 'erp.internal', internalPort: 8443, protocol: 'https' as const };
}

let dir: string;
let store: ConfigStore;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skybridge-config-'));
  store = new ConfigStore(dir);
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeRaw(text: string): void {
  fs.writeFileSync(store.file, text);
}

function configError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SkybridgeError, String(e));
    assert.equal(e.code, ErrorCode.ConfigInvalid);
    assert.match(e.message, message);
    return true;
  });
}

async function waitFor(what: string, predicate: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ConfigStore.load', () => {
  it('returns the empty default for a missing file without creating it', () => {
    const cfg = store.load();
    assert.deepEqual(cfg.subaccounts, []);
    assert.equal(cfg.tunnel.heartbeatIntervalMs, 10_000);
    assert.equal(store.file, path.join(dir, 'config.json'));
    assert.equal(fs.existsSync(store.file), false);
  });

  it('names the file and where the JSON breaks, on one line', () => {
    const cases: Array<[string, RegExp]> = [
      ['{\n  "version": 1,\n  "subaccounts": [,]\n}\n', /: Unexpected token ',' at line 3, column 19$/],
      ['{\n  "subaccounts": [\n    {"id": "a",}\n  ]\n}', /: Expected double-quoted property name at line 3, column 16$/],
      ['{\n  "subaccounts": [1, 2,]\n}', /: Unexpected token '\]' at line 2, column 24$/],
      ['{"subaccounts": []', /: Expected ',' or '}' after property value at line 1, column 19$/],
      ['', /: Unexpected end of JSON input$/],
    ];
    for (const [text, message] of cases) {
      writeRaw(text);
      const file = store.file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
      configError(() => store.load(), new RegExp(`^${file} is not valid JSON: `));
      configError(() => store.load(), message);
      assert.throws(() => store.load(), (e: Error) => !e.message.includes('\n'));
    }
  });

  it('names every bad field', () => {
    writeRaw(
      JSON.stringify({
        subaccounts: [{ ...paired.subaccounts[0], systems: [system(443), { ...system(0), protocol: 'ftp' }] }],
        tunnel: { heartbeatIntervalMs: 'soon' },
      }),
    );
    configError(() => store.load(), /config\.json is invalid: /);
    configError(() => store.load(), /subaccounts\[0\]\.systems\[1\]\.virtualPort: a port from 1 to 65535/);
    configError(() => store.load(), /subaccounts\[0\]\.systems\[1\]\.protocol/);
    configError(() => store.load(), /tunnel\.heartbeatIntervalMs/);
  });

  it('reports unknown fields, so a typo is not silently ignored', () => {
    writeRaw(JSON.stringify({ subaccounts: [], tunel: {} }));
    configError(() => store.load(), /tunel/);
  });

  it('accepts an editor hint ($schema) and a byte-order mark', () => {
    writeRaw(`\ufeff${JSON.stringify({ $schema: './config.schema.json', ...paired })}`);
    assert.equal(store.load().subaccounts[0]?.id, 'acme');
  });
});

describe('ConfigStore.save', () => {
  it('writes 2-space JSON with defaults and without $schema, keeping the previous file as .bak', () => {
    const first = agentConfigSchema.parse({ $schema: 'x', ...paired });
    store.save(first);
    const written = fs.readFileSync(store.file, 'utf8');
    assert.ok(written.startsWith('{\n  "version": 1,\n  "tunnel": {\n    "heartbeatIntervalMs"'), written);
    assert.ok(written.endsWith('}\n'));
    assert.doesNotMatch(written, /\$schema/);
    assert.equal(fs.existsSync(store.backupFile), false);

    const second = addSystem(first, undefined, system(443)).config;
    store.save(second);
    assert.equal(fs.readFileSync(store.backupFile, 'utf8'), written);
    assert.equal(store.load().subaccounts[0]?.systems[0]?.virtualPort, 443);
    // No temp or lock files left behind.
    assert.deepEqual(fs.readdirSync(dir).sort(), ['config.json', 'config.json.bak']);
  });

  it('never writes an invalid config', () => {
    store.save(agentConfigSchema.parse(paired));
    const before = fs.readFileSync(store.file, 'utf8');
    const bad = structuredClone(store.load());
    bad.subaccounts[0]!.systems.push({ ...system(443), virtualPort: 99999 } as never);
    configError(() => store.save(bad), /not saved.*subaccounts\[0\]\.systems\[0\]\.virtualPort/);
    assert.equal(fs.readFileSync(store.file, 'utf8'), before);
  });

  it('does not rotate the backup when nothing changed', () => {
    const a = agentConfigSchema.parse({});
    const b = agentConfigSchema.parse(paired);
    store.save(a);
    store.save(b);
    store.save(b);
    assert.deepEqual(JSON.parse(fs.readFileSync(store.backupFile, 'utf8')).subaccounts, []);
  });
});

describe('ConfigStore.update', () => {
  it('applies the change and returns the result', () => {
    store.save(agentConfigSchema.parse(paired));
    const added = store.update((cfg) => addSystem(cfg, undefined, system(443)));
    assert.equal(added.virtualPort, 443);
    assert.equal(store.load().subaccounts[0]?.systems.length, 1);
    assert.equal(fs.existsSync(store.lockFile), false);
  });

  it('writes nothing when the mutator throws, and releases the lock', () => {
    store.save(agentConfigSchema.parse(paired));
    const before = fs.readFileSync(store.file, 'utf8');
    assert.throws(() =>
      store.update(() => {
        throw new SkybridgeError(ErrorCode.Conflict, 'no');
      }),
    /no/);
    assert.equal(fs.readFileSync(store.file, 'utf8'), before);
    assert.equal(fs.existsSync(store.lockFile), false);
    assert.equal(store.update((cfg) => ({ config: cfg, result: 'ok' })), 'ok');
  });

  it('refuses to edit an invalid file instead of overwriting it', () => {
    writeRaw('{"subaccounts": 3}');
    configError(() => store.update((cfg) => ({ config: cfg, result: 1 })), /subaccounts/);
    assert.equal(fs.readFileSync(store.file, 'utf8'), '{"subaccounts": 3}');
  });

  it('loses no change when several processes edit at once', async () => {
    store.save(agentConfigSchema.parse(paired));
    const workers = 4;
    const perWorker = 10;
    const script = `
      import { ConfigStore } from ${JSON.stringify(storeModule)};
      import { addSystem } from ${JSON.stringify(opsModule)};
      const [dir, base, n] = process.argv.slice(1).map((v, i) => (i ? Number(v) : v));
      const store = new ConfigStore(dir);
      for (let i = 0; i < n; i++) {
        store.update((cfg) => addSystem(cfg, undefined, {
          virtualHost: 'erp.virtual', virtualPort: base + i, internalHost: 'erp.internal', internalPort: 1, protocol: 'http',
        }));
      }`;
    const runs = Array.from({ length: workers }, (_, w) =>
      new Promise<number | null>((resolve) => {
        const child = spawn(process.execPath, ['--input-type=module', '-e', script, dir, String(1000 + w * 100), String(perWorker)], {
          stdio: ['ignore', 'ignore', 'inherit'],
        });
        child.on('exit', resolve);
      }),
    );
    assert.deepEqual(await Promise.all(runs), Array(workers).fill(0));
    const ports = store.load().subaccounts[0]!.systems.map((s) => s.virtualPort).sort((a, b) => a - b);
    const expected = Array.from({ length: workers }, (_, w) => Array.from({ length: perWorker }, (_, i) => 1000 + w * 100 + i)).flat();
    assert.deepEqual(ports, expected);
  });

  it('waits for a lock held by a live process', () => {
    fs.writeFileSync(store.lockFile, JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
    // A separate process releases it, since this one is blocked inside update.
    const releaser = spawn('sh', ['-c', `sleep 0.4; rm -f '${store.lockFile}'`], { stdio: 'ignore' });
    const started = Date.now();
    store.update((cfg) => ({ config: agentConfigSchema.parse({ ...cfg, ...paired }), result: undefined }));
    assert.ok(Date.now() - started >= 300, `did not wait (${Date.now() - started} ms)`);
    assert.equal(store.load().subaccounts.length, 1);
    releaser.kill();
  });

  it('breaks a lock older than 10 s', () => {
    fs.writeFileSync(store.lockFile, JSON.stringify({ pid: process.pid, at: 'long ago' }));
    const old = new Date(Date.now() - 11_000);
    fs.utimesSync(store.lockFile, old, old);
    const started = Date.now();
    store.save(agentConfigSchema.parse(paired));
    assert.ok(Date.now() - started < 1000);
    assert.equal(fs.existsSync(store.lockFile), false);
  });

  it('breaks a lock whose process has exited', () => {
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    fs.writeFileSync(store.lockFile, JSON.stringify({ pid: Number(dead.stdout), at: new Date().toISOString() }));
    const started = Date.now();
    store.save(agentConfigSchema.parse(paired));
    assert.ok(Date.now() - started < 1000);
  });

  it('gives up after about 5 s with a sentence that says what to do', () => {
    fs.writeFileSync(store.lockFile, JSON.stringify({ pid: process.pid, at: new Date().toISOString() }));
    const started = Date.now();
    assert.throws(
      () => store.save(agentConfigSchema.parse(paired)),
      (e: unknown) =>
        e instanceof SkybridgeError &&
        e.code === ErrorCode.Conflict &&
        e.message.includes(`(pid ${process.pid})`) &&
        e.message.includes(`delete ${store.lockFile}`),
    );
    const waited = Date.now() - started;
    assert.ok(waited >= 4900 && waited < 7000, `waited ${waited} ms`);
    assert.equal(fs.existsSync(store.file), false);
  });
});

describe('ConfigStore.watch', () => {
  it('delivers valid changes once, reports invalid files and keeps quiet about no-op rewrites', async () => {
    store.save(agentConfigSchema.parse(paired));
    const changes: AgentConfig[] = [];
    const errors: SkybridgeError[] = [];
    const stop = store.watch((c) => changes.push(c), (e) => errors.push(e));
    try {
      // Another writer (say, the CLI) adds a system.
      new ConfigStore(dir).update((cfg) => addSystem(cfg, undefined, system(443)));
      await waitFor('the change', () => changes.length === 1);
      assert.equal(changes[0]?.subaccounts[0]?.systems[0]?.virtualPort, 443);

      // An editor saves a broken file: reported, not applied.
      const good = fs.readFileSync(store.file, 'utf8');
      writeRaw(good.replace('"virtualPort": 443', '"virtualPort": 0'));
      await waitFor('the error', () => errors.length === 1);
      assert.equal(errors[0]?.code, ErrorCode.ConfigInvalid);
      assert.match(errors[0]!.message, /config\.json is invalid: subaccounts\[0\]\.systems\[0\]\.virtualPort: a port from 1 to 65535/);

      // Fixing it back to the running content is not a change; reformatting is not either.
      writeRaw(good);
      await pause(300);
      writeRaw(JSON.stringify(JSON.parse(good)));
      await pause(300);
      assert.equal(changes.length, 1);

      // Lock and backup files in the same directory do not trigger reloads.
      fs.writeFileSync(store.lockFile, 'x');
      fs.rmSync(store.lockFile);
      await pause(300);
      assert.equal(changes.length, 1);
      assert.equal(errors.length, 1);
    } finally {
      stop();
    }
  });

  it('debounces a burst of writes into one reload', async () => {
    const changes: AgentConfig[] = [];
    const stop = store.watch((c) => changes.push(c), (e) => assert.fail(e.message));
    try {
      for (let port = 1; port <= 5; port++) {
        const cfg = agentConfigSchema.parse({ subaccounts: [{ ...paired.subaccounts[0], systems: [system(port)] }] });
        store.save(cfg);
      }
      await waitFor('the change', () => changes.length >= 1);
      await pause(300);
      assert.equal(changes.length, 1);
      assert.equal(changes[0]?.subaccounts[0]?.systems[0]?.virtualPort, 5);
    } finally {
      stop();
    }
  });

  it('keeps the running config when the file is removed', async () => {
    store.save(agentConfigSchema.parse(paired));
    const changes: AgentConfig[] = [];
    const errors: SkybridgeError[] = [];
    const stop = store.watch((c) => changes.push(c), (e) => errors.push(e));
    try {
      fs.rmSync(store.file);
      await waitFor('the error', () => errors.length === 1);
      assert.match(errors[0]!.message, /was removed; the running configuration stays in effect/);
      assert.equal(changes.length, 0);
    } finally {
      stop();
    }
  });

  it('stops calling back once stopped', async () => {
    const changes: AgentConfig[] = [];
    const stop = store.watch((c) => changes.push(c), () => undefined);
    stop();
    store.save(agentConfigSchema.parse(paired));
    await pause(300);
    assert.equal(changes.length, 0);
  });
});
