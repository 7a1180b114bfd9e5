import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AgentToShell } from '../../shared/agent-messages.js';
import { forkAgentProcess, type ForkedAgent } from './agent-process-fork.js';

const dirs: string[] = [];
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-agent-unlock-'));
  dirs.push(dir);
  return dir;
}

const PLAIN_KEY = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** A data dir as a headless agent left it: one disabled subaccount with a plain key and proxy password. */
function dataDir(): string {
  const dir = tempDir();
  const sub = { id: 'acme', relayUrl: 'https://127.0.0.1:1', tenantId: 'acme', connectorId: 'c-acme', enabled: false, systems: [] };
  fs.writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ version: 1, subaccounts: [sub] }));
  const keys = path.join(dir, 'subaccounts', 'acme');
  fs.mkdirSync(keys, { recursive: true, mode: 0o700 });
  fs.writeFileSync(path.join(keys, 'key.pem'), PLAIN_KEY, { mode: 0o600 });
  fs.writeFileSync(path.join(keys, 'proxy-password'), 'pw-acme', { mode: 0o600 });
  return dir;
}

/** The agent as the desktop shell starts it, with its log on (the tests look for the key in it). */
function startAgent(dir: string, args: string[]): ForkedAgent {
  return forkAgentProcess(dir, args, { logLevel: 'debug' });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('agent-process.js with --key-store shell', () => {
  test('reads no secret before the key, then encrypts the plain files with it, and never prints the key', { timeout: 30_000 }, async () => {
    const dir = dataDir();
    const key = randomBytes(32).toString('base64');
    const agent = startAgent(dir, ['--key-store', 'shell']);
    try {
      await sleep(800);
      assert.equal(agent.child.exitCode, null, agent.output());
      assert.ok(!agent.messages.some((m) => m.type === 'agent-ready'), 'ready before it had its key');
      assert.equal(fs.readFileSync(path.join(dir, 'subaccounts', 'acme', 'key.pem'), 'utf8'), PLAIN_KEY, 'touched a secret before the key came');

      agent.child.send({ type: 'api-call', id: 1, method: 'listSubaccounts', input: {} });
      const early = await agent.waitFor(() => agent.messages.find((m) => m.type === 'api-result' && m.id === 1), 'an answer to the early call');
      assert.equal((early as Extract<AgentToShell, { type: 'api-result' }>).error?.code, 'AGENT_NOT_RUNNING');

      agent.child.send({ type: 'unlock', key });
      await agent.waitFor(() => agent.messages.find((m) => m.type === 'agent-ready'), 'agent-ready after unlock');
      const keyFile = fs.readFileSync(path.join(dir, 'subaccounts', 'acme', 'key.pem'), 'utf8');
      assert.match(keyFile, /^-----BEGIN ENCRYPTED PRIVATE KEY-----/);
      assert.match(fs.readFileSync(path.join(dir, 'subaccounts', 'acme', 'proxy-password'), 'utf8'), /^skybridge-sealed:v1:/);

      agent.child.send({ type: 'api-call', id: 2, method: 'listSubaccounts', input: {} });
      const later = (await agent.waitFor(() => agent.messages.find((m) => m.type === 'api-result' && m.id === 2), 'an answer after unlock')) as Extract<
        AgentToShell,
        { type: 'api-result' }
      >;
      assert.equal(later.ok, true);

      // A second key is ignored: the files stay under the first.
      agent.child.send({ type: 'unlock', key: randomBytes(32).toString('base64') });
      agent.child.send({ type: 'shutdown' });
      assert.equal(await agent.exited, 0);
      assert.equal(fs.readFileSync(path.join(dir, 'subaccounts', 'acme', 'key.pem'), 'utf8'), keyFile);
      assert.match(agent.output(), /encrypted with the data-protection key/);
      assert.ok(!agent.output().includes(key), 'the key reached the log');
      assert.ok(!agent.output().includes('pw-acme'), 'a password reached the log');
    } finally {
      if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    }
  });

  test('a shutdown while waiting for the key exits 0 and changes nothing', { timeout: 15_000 }, async () => {
    const dir = dataDir();
    const agent = startAgent(dir, ['--key-store', 'shell']);
    try {
      await sleep(300);
      agent.child.send({ type: 'shutdown' });
      assert.equal(await agent.exited, 0);
      assert.equal(fs.readFileSync(path.join(dir, 'subaccounts', 'acme', 'key.pem'), 'utf8'), PLAIN_KEY);
      assert.ok(!agent.messages.some((m) => m.type === 'agent-ready'));
    } finally {
      if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    }
  });

  test('with no key to give (no key store), the agent starts and keeps the plain files', { timeout: 15_000 }, async () => {
    const dir = dataDir();
    const agent = startAgent(dir, ['--key-store', 'shell']);
    try {
      agent.child.send({ type: 'unlock', key: null, reason: 'no-key-store' });
      await agent.waitFor(() => agent.messages.find((m) => m.type === 'agent-ready'), 'agent-ready');
      agent.child.send({ type: 'shutdown' });
      assert.equal(await agent.exited, 0);
      assert.equal(fs.readFileSync(path.join(dir, 'subaccounts', 'acme', 'key.pem'), 'utf8'), PLAIN_KEY);
    } finally {
      if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
    }
  });

  test('an unknown key store is refused at start with a sentence', { timeout: 15_000 }, async () => {
    const agent = startAgent(dataDir(), ['--key-store', 'keychain']);
    assert.equal(await agent.exited, 2);
    assert.match(agent.output(), /--key-store takes only "shell"/);
  });
});
