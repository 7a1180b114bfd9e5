/**
 * The CLI's own contract, as scripts see it: --help everywhere, usage errors
 * exit 2, bad values exit 1 with one `skybridge: …` line that names what is
 * wrong, and the configuration file is never left half-changed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { cleanupAll, cliOk, cliValue, ERP, readAgentConfig, runCli, startRelay, tempDir, type CliResult } from './harness.js';

after(cleanupAll);

const COMMANDS = [
  ['relay', 'start'],
  ['relay', 'tenant', 'create'],
  ['relay', 'app', 'create'],
  ['relay', 'pairing-code'],
  ['agent', 'pair'],
  ['agent', 'system', 'add'],
  ['agent', 'resource', 'add'],
  ['agent', 'start'],
];

function failure(r: CliResult, code: number, pattern?: RegExp): void {
  const what = `exit ${r.code}, stderr ${JSON.stringify(r.stderr)}`;
  assert.equal(r.code, code, what);
  if (pattern) assert.match(r.stderr, pattern, what);
  assert.doesNotMatch(r.stderr, /\n\s+at .+:\d+:\d+/, `a stack trace is not a message: ${what}`);
}

describe('skybridge CLI', { timeout: 120_000 }, () => {
  for (const cmd of COMMANDS) {
    test(`skybridge ${cmd.join(' ')} --help`, { timeout: 20_000 }, async () => {
      const r = await runCli([...cmd, '--help']);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /usage/i, `--help should print usage: ${r.stdout}`);
      assert.match(r.stdout, /--data-dir/, 'every command takes --data-dir');
    });
  }

  test('usage errors exit 2: unknown option, missing --data-dir, unknown command', { timeout: 20_000 }, async () => {
    failure(await runCli(['relay', 'tenant', 'create', 'acme', '--data-dir', await tempDir(), '--no-such-option']), 2);
    failure(await runCli(['relay', 'tenant', 'create', 'acme']), 2, /data-dir/);
    failure(await runCli(['agent', 'frobnicate']), 2);
  });

  describe('with a paired agent', () => {
    let agentDir: string;
    before(async () => {
      const relay = await startRelay(await tempDir('skybridge-relay-'));
      const tenant = await cliValue(['relay', 'tenant', 'create', 'acme', '--data-dir', relay.dir]);
      const code = await cliValue(['relay', 'pairing-code', '--tenant', tenant, '--data-dir', relay.dir]);
      agentDir = await tempDir('skybridge-agent-');
      await cliValue(['agent', 'pair', code, '--data-dir', agentDir]);
      await relay.child.stop();
    }, { timeout: 60_000 });

    test('system and resource add write a config.json that documents them', { timeout: 20_000 }, async () => {
      await cliOk(['agent', 'system', 'add', '--data-dir', agentDir, '--virtual', ERP, '--internal', '127.0.0.1:8080', '--protocol', 'http', '--host-header', 'internal']);
      await cliOk(['agent', 'resource', 'add', '--data-dir', agentDir, '--system', ERP, '--path', '/api', '--sub-paths', '--methods', 'GET,POST']);
      const systems = readAgentConfig(agentDir).subaccounts[0]!.systems as Array<Record<string, unknown>>;
      const erp = systems.find((s) => s.virtualHost === 'erp.virtual');
      assert.ok(erp, JSON.stringify(systems));
      assert.equal(erp.virtualPort, 443);
      assert.equal(erp.internalHost, '127.0.0.1');
      assert.equal(erp.internalPort, 8080);
      assert.equal(erp.hostHeader, 'internal');
      const resources = erp.resources as Array<Record<string, unknown>>;
      assert.equal(resources.length, 1, JSON.stringify(resources));
      assert.equal(resources[0]!.path, '/api');
      assert.equal(resources[0]!.subPaths, true);
      assert.deepEqual(resources[0]!.methods, ['GET', 'POST']);
    });

    test('bad values exit 1 naming what is wrong, and leave config.json unchanged', { timeout: 30_000 }, async () => {
      const file = path.join(agentDir, 'config.json');
      const before = readFileSync(file, 'utf8');
      const sys = (virtual: string, internal = '127.0.0.1:8080') => ['agent', 'system', 'add', '--data-dir', agentDir, '--virtual', virtual, '--internal', internal, '--protocol', 'http'];
      failure(await runCli(sys('bad_host:80')), 1, /^skybridge: .*host/im);
      failure(await runCli(sys('ok.virtual:99999')), 1, /^skybridge: .*port/im);
      failure(await runCli(sys('ok.virtual:80', '127.0.0.1:0')), 1, /^skybridge: .*port/im);
      const res = (p: string) => ['agent', 'resource', 'add', '--data-dir', agentDir, '--system', ERP, '--path', p];
      failure(await runCli(res('/api/../admin')), 1, /^skybridge: /m);
      failure(await runCli(res('/x%2fy')), 1, /^skybridge: /m);
      failure(await runCli(['agent', 'resource', 'add', '--data-dir', agentDir, '--system', 'nope.virtual:1', '--path', '/x']), 1, /nope\.virtual:1/);
      failure(await runCli(['agent', 'resource', 'add', '--data-dir', agentDir, '--system', ERP, '--path', '/y', '--methods', 'GET,FETCH']), 1, /FETCH|method/i);
      assert.equal(readFileSync(file, 'utf8'), before, 'a refused change modified config.json');
    });

    test('adding a virtual system that already exists is refused', { timeout: 20_000 }, async () => {
      const r = await runCli(['agent', 'system', 'add', '--data-dir', agentDir, '--virtual', ERP, '--internal', '127.0.0.1:9090', '--protocol', 'http']);
      failure(r, 1, /erp\.virtual:443/);
    });
  });
});
