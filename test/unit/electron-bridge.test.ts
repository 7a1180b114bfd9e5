import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentBridge } from '../../electron/main/agent-bridge.js';
import { ShellError } from '../../electron/main/shell-error.js';
import { AgentSupervisor } from '../../electron/main/supervisor.js';
import type { ShellToAgent } from '../../shared/agent-messages.js';
import type { AgentEvent } from '../../shared/api.js';
import { FakeChild, FakeClock } from './electron-fakes.js';

/** The bridge wired to a real supervisor over fake utility processes, as main.ts wires them. */
function wired() {
  const clock = new FakeClock();
  const children: FakeChild[] = [];
  const events: AgentEvent[] = [];
  const invalid: string[] = [];
  const bridge: AgentBridge = new AgentBridge({
    post: (message) => supervisor.postMessage(message),
    timers: clock.timers,
    timeoutMs: (method) => (method === 'exportSupportBundle' ? 60_000 : 5_000),
    onEvent: (event) => events.push(event),
    onInvalidMessage: (reason) => invalid.push(reason),
  });
  const supervisor = new AgentSupervisor({
    fork: () => {
      const child = new FakeChild();
      children.push(child);
      return child;
    },
    timers: clock.timers,
    now: () => clock.now,
    initialDelayMs: 1_000,
    onMessage: (message) => bridge.handleMessage(message),
    onEvent: (event) => {
      if (event.type === 'started') bridge.agentStarted();
      if (event.type === 'crashed') bridge.agentExited('restarting');
      if (event.type === 'stopped') bridge.agentExited('stopped');
    },
  });
  const latest = (): FakeChild => {
    const child = children.at(-1);
    assert.ok(child, 'no agent process');
    return child;
  };
  const calls = (child: FakeChild) => child.posted.filter((m): m is Extract<ShellToAgent, { type: 'api-call' }> => (m as ShellToAgent).type === 'api-call');
  const ready = (child: FakeChild) => child.emit('message', { type: 'agent-ready', pid: 4242 });
  return { clock, children, events, invalid, bridge, supervisor, latest, calls, ready };
}

/** Settles a promise into a value or the ShellError it rejected with, without unhandled rejections. */
function outcome<T>(promise: Promise<T>) {
  const box: { value?: T; error?: ShellError; done: boolean } = { done: false };
  promise.then(
    (value) => Object.assign(box, { value, done: true }),
    (error: ShellError) => Object.assign(box, { error, done: true }),
  );
  return box;
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('AgentBridge', () => {
  it('matches results to calls by id, whatever order they come back in', async () => {
    const { bridge, supervisor, latest, calls, ready } = wired();
    supervisor.start();
    ready(latest());
    const first = outcome(bridge.call('listSubaccounts', {}));
    const second = outcome(bridge.call('dashboard', {}));
    const [a, b] = calls(latest());
    assert.ok(a && b);
    assert.equal(a.method, 'listSubaccounts');
    assert.equal(b.method, 'dashboard');
    assert.notEqual(a.id, b.id);

    latest().emit('message', { type: 'api-result', id: b.id, ok: true, value: { which: 'dashboard' } });
    latest().emit('message', { type: 'api-result', id: a.id, ok: false, error: { code: 'NOT_FOUND', message: 'No such subaccount.' } });
    await tick();
    assert.deepEqual(second.value, { which: 'dashboard' });
    assert.ok(first.error instanceof ShellError);
    assert.equal(first.error.code, 'NOT_FOUND');
    assert.equal(first.error.message, 'No such subaccount.');
    assert.equal(bridge.pendingCount, 0);
  });

  it('holds calls made while the agent starts and sends them once it is ready', async () => {
    const { bridge, supervisor, latest, calls, ready } = wired();
    supervisor.start();
    const pending = outcome(bridge.call('listSystems', { subaccount: 'erp' }));
    assert.equal(calls(latest()).length, 0, 'sent before agent-ready');
    ready(latest());
    const [sent] = calls(latest());
    assert.deepEqual(sent, { type: 'api-call', id: sent?.id, method: 'listSystems', input: { subaccount: 'erp' } });
    latest().emit('message', { type: 'api-result', id: sent?.id, ok: true, value: [] });
    await tick();
    assert.deepEqual(pending.value, []);
  });

  it('times out a call the agent never answers, with a sentence that says so', async () => {
    const { bridge, clock, supervisor, latest, ready } = wired();
    supervisor.start();
    ready(latest());
    const slow = outcome(bridge.call('dashboard', {}));
    const export_ = outcome(bridge.call('exportSupportBundle', { out: '/tmp/x.zip' }));
    clock.advance(4_999);
    await tick();
    assert.equal(slow.done, false);
    clock.advance(1);
    await tick();
    assert.equal(slow.error?.code, 'AGENT_TIMEOUT');
    assert.match(slow.error?.message ?? '', /did not answer within 5 seconds/);
    assert.equal(export_.done, false, 'slow methods get their own, longer timeout');

    // A result arriving after the timeout changes nothing and throws nothing.
    latest().emit('message', { type: 'api-result', id: 1, ok: true, value: 'late' });
    assert.equal(bridge.pendingCount, 1);
  });

  it('refuses calls the dead agent had received when it restarts, and keeps the unsent ones for the next agent', async () => {
    const { bridge, clock, supervisor, latest, calls, ready, children } = wired();
    supervisor.start();
    ready(latest());
    const inFlight = outcome(bridge.call('setSubaccountEnabled', { subaccount: 'erp', enabled: false }));
    latest().exit(1); // crash
    await tick();
    assert.equal(inFlight.error?.code, 'AGENT_NOT_RUNNING');
    assert.match(inFlight.error?.message ?? '', /the agent restarted/i);

    const queued = outcome(bridge.call('listSubaccounts', {}));
    clock.advance(1_000); // the supervisor starts a new agent
    assert.equal(children.length, 2);
    assert.equal(calls(latest()).length, 0, 'sent before the new agent was ready');
    ready(latest());
    const [sent] = calls(latest());
    assert.equal(sent?.method, 'listSubaccounts');
    latest().emit('message', { type: 'api-result', id: sent?.id, ok: true, value: [] });
    await tick();
    assert.deepEqual(queued.value, []);
  });

  it('tells a caller waiting for an agent that never comes back that it is not running', async () => {
    const { bridge, clock, supervisor, latest } = wired();
    supervisor.start();
    latest().exit(1);
    const waiting = outcome(bridge.call('dashboard', {}));
    clock.advance(5_000);
    await tick();
    assert.equal(waiting.error?.code, 'AGENT_NOT_RUNNING');
    assert.match(waiting.error?.message ?? '', /not running yet/);
  });

  it('refuses everything once the agent is stopped for good', async () => {
    const { bridge, supervisor, latest, ready } = wired();
    supervisor.start();
    ready(latest());
    const pending = outcome(bridge.call('dashboard', {}));
    const stopping = supervisor.stop();
    latest().exit(0);
    await stopping;
    await tick();
    assert.equal(pending.error?.code, 'AGENT_NOT_RUNNING');
    await assert.rejects(bridge.call('dashboard', {}), (e: ShellError) => e.code === 'AGENT_NOT_RUNNING');
  });

  it('passes agent events on and ignores messages that do not fit the contract', () => {
    const { events, invalid, supervisor, latest, ready, bridge } = wired();
    supervisor.start();
    ready(latest());
    const event: AgentEvent = { type: 'config-reloaded', at: '2025-01-01T00:00:00.000Z' };
    latest().emit('message', { type: 'agent-event', event });
    latest().emit('message', { type: 'agent-event', event: { type: 'made-up' } });
    latest().emit('message', { type: 'api-result', id: -1, ok: true });
    latest().emit('message', 'hello');
    assert.deepEqual(events, [event]);
    assert.equal(invalid.length, 3);
    assert.equal(bridge.link, 'ready');
  });
});
