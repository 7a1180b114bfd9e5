import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { AgentSupervisor, type SupervisorEvent } from '../../electron/main/supervisor.js';
import {
  blockRemoteRequests,
  denyPermissions,
  guardWebContents,
  isAllowedExternalUrl,
  isRemoteUrl,
  isSameOrigin,
  windowWebPreferences,
} from '../../electron/main/web-security.js';
import { agentDataDir, appIconPath, shellPaths, trayIconPath } from '../../electron/main/paths.js';
import { FakeChild, FakeClock } from './electron-fakes.js';

function harness(options: { healthyAfterMs?: number; killAfterMs?: number } = {}) {
  const clock = new FakeClock();
  const children: FakeChild[] = [];
  const events: SupervisorEvent[] = [];
  const messages: unknown[] = [];
  const supervisor = new AgentSupervisor({
    fork: () => {
      const child = new FakeChild();
      children.push(child);
      return child;
    },
    timers: clock.timers,
    now: () => clock.now,
    initialDelayMs: 1_000,
    maxDelayMs: 8_000,
    healthyAfterMs: options.healthyAfterMs ?? 30_000,
    stopTimeoutMs: 5_000,
    killAfterMs: options.killAfterMs ?? 2_000,
    onEvent: (event) => events.push(event),
    onMessage: (message) => messages.push(message),
  });
  const latest = (): FakeChild => {
    const child = children.at(-1);
    assert.ok(child, 'no agent process was forked');
    return child;
  };
  return { clock, children, events, messages, supervisor, latest };
}

function restartDelays(events: SupervisorEvent[]): number[] {
  return events.flatMap((e) => (e.type === 'crashed' ? [e.restartInMs] : []));
}

describe('AgentSupervisor', () => {
  it('restarts a crashing agent with a growing backoff, capped at the maximum', () => {
    const { clock, children, events, supervisor, latest } = harness();
    supervisor.start();
    assert.equal(children.length, 1);

    for (const expected of [1_000, 2_000, 4_000, 8_000, 8_000]) {
      latest().exit(1);
      assert.equal(supervisor.state, 'waiting');
      const forked: number = children.length;
      clock.advance(expected - 1);
      assert.equal(children.length, forked, `restarted before ${expected} ms had passed`);
      clock.advance(1);
      assert.equal(children.length, forked + 1, `not restarted after ${expected} ms`);
    }
    assert.deepEqual(restartDelays(events), [1_000, 2_000, 4_000, 8_000, 8_000]);
    assert.equal(supervisor.attempts, 6);
  });

  it('starts the backoff over after a healthy run', () => {
    const { clock, supervisor, events, latest } = harness({ healthyAfterMs: 30_000 });
    supervisor.start();
    latest().exit(1);
    clock.advance(1_000);
    latest().exit(1);
    clock.advance(2_000);
    clock.advance(45_000); // this run lasts long enough to count as healthy
    latest().exit(1);
    assert.deepEqual(restartDelays(events), [1_000, 2_000, 1_000]);
  });

  it('asks the agent to shut down, does not restart it after stop(), and waits for it to exit', async () => {
    const { clock, children, supervisor, events, latest } = harness();
    supervisor.start();
    const child = latest();
    let stopped = false;
    const stopping = supervisor.stop().then(() => {
      stopped = true;
    });
    assert.deepEqual(child.posted, [{ type: 'shutdown' }], 'stop() must ask the agent to shut down first');
    assert.equal(child.killed, 0, 'killed before the agent had a chance to flush its audit log');
    await Promise.resolve();
    assert.equal(stopped, false, 'stop() resolved before the agent exited');

    child.exit(0);
    await stopping;
    assert.equal(supervisor.state, 'stopped');
    clock.advance(600_000);
    assert.equal(child.killed, 0, 'an agent that exited on request was killed anyway');
    assert.equal(children.length, 1, 'the agent was restarted after stop()');
    assert.deepEqual(events.at(-1), { type: 'stopped' });
  });

  it('kills an agent that ignores the shutdown request after the grace period', async () => {
    const { clock, supervisor, latest } = harness({ killAfterMs: 2_000 });
    supervisor.start();
    const child = latest();
    const stopping = supervisor.stop();
    clock.advance(1_999);
    assert.equal(child.killed, 0);
    clock.advance(1);
    assert.equal(child.killed, 1, 'not killed after the grace period');
    child.exit(0);
    await stopping;
    assert.equal(supervisor.state, 'stopped');
  });

  it('kills at once when the agent cannot be asked (its port is closed)', async () => {
    const { supervisor, latest } = harness();
    supervisor.start();
    const child = latest();
    child.postMessage = () => {
      throw new Error('port closed');
    };
    const stopping = supervisor.stop();
    assert.equal(child.killed, 1);
    child.exit(0);
    await stopping;
  });

  it('posts messages to the running agent only', () => {
    const { clock, supervisor, latest } = harness();
    assert.equal(supervisor.postMessage({ type: 'api-call', id: 1, method: 'dashboard', input: {} }), false, 'posted before any agent ran');
    supervisor.start();
    const first = latest();
    assert.equal(supervisor.postMessage({ type: 'api-call', id: 2, method: 'dashboard', input: {} }), true);
    assert.deepEqual(first.posted, [{ type: 'api-call', id: 2, method: 'dashboard', input: {} }]);
    first.exit(1);
    assert.equal(supervisor.postMessage({ type: 'api-call', id: 3, method: 'dashboard', input: {} }), false, 'posted while waiting for a restart');
    clock.advance(1_000);
    assert.equal(supervisor.postMessage({ type: 'api-call', id: 4, method: 'dashboard', input: {} }), true);
    assert.deepEqual(latest().posted, [{ type: 'api-call', id: 4, method: 'dashboard', input: {} }]);
    assert.equal(first.posted.length, 1, 'a message reached the dead agent');
  });

  it('cancels a pending restart on stop()', async () => {
    const { clock, children, supervisor, latest } = harness();
    supervisor.start();
    latest().exit(1);
    assert.deepEqual(clock.pendingDelays, [1_000]);
    await supervisor.stop();
    clock.advance(60_000);
    assert.equal(children.length, 1);
    assert.equal(supervisor.state, 'stopped');
  });

  it('gives up waiting for an agent that ignores kill() after the stop timeout', async () => {
    const { clock, supervisor, latest } = harness();
    supervisor.start();
    const child = latest();
    const stopping = supervisor.stop();
    clock.advance(5_000);
    assert.equal(child.killed, 1);
    await stopping;
    assert.equal(supervisor.state, 'stopped');
    child.exit(1); // a late exit must not wake anything up
    assert.equal(supervisor.state, 'stopped');
  });

  it('retries when the fork itself throws', () => {
    const clock = new FakeClock();
    let calls = 0;
    const events: SupervisorEvent[] = [];
    const supervisor = new AgentSupervisor({
      fork: () => {
        calls += 1;
        if (calls === 1) throw new Error('utility process could not start');
        return new FakeChild();
      },
      timers: clock.timers,
      now: () => clock.now,
      onEvent: (event) => events.push(event),
    });
    supervisor.start();
    assert.equal(supervisor.state, 'waiting');
    assert.deepEqual(events[0], { type: 'crashed', reason: 'utility process could not start', restartInMs: 1_000 });
    clock.advance(1_000);
    assert.equal(supervisor.state, 'running');
    assert.equal(calls, 2);
  });

  it('passes on state messages from the current agent only', () => {
    const { clock, supervisor, messages, latest } = harness();
    supervisor.start();
    const first = latest();
    first.emit('message', { type: 'state', state: 'connected' });
    first.exit(1);
    clock.advance(1_000);
    first.emit('message', { type: 'state', state: 'stale' });
    latest().emit('message', { type: 'state', state: 'connecting' });
    assert.deepEqual(messages, [
      { type: 'state', state: 'connected' },
      { type: 'state', state: 'connecting' },
    ]);
  });
});

describe('web security', () => {
  it('opens only allowlisted https links externally', () => {
    assert.equal(isAllowedExternalUrl('https://github.com/skybridge/skybridge/issues'), true);
    for (const url of [
      'http://github.com/',
      'https://github.com.evil.example/',
      'https://evil.example/?github.com',
      'https://user:pw@github.com/',
      'https://github.com:8443/',
      'file:///etc/passwd',
      'javascript:alert(1)',
      'not a url',
    ]) {
      assert.equal(isAllowedExternalUrl(url), false, url);
    }
  });

  it('treats only the app page itself as same-origin for file: apps', () => {
    const app = 'file:///opt/Skybridge/resources/app.asar/renderer/index.html';
    assert.equal(isSameOrigin(`${app}#/systems`, app), true);
    assert.equal(isSameOrigin('file:///etc/passwd', app), false);
    assert.equal(isSameOrigin('https://example.com/', app), false);
    assert.equal(isSameOrigin('https://127.0.0.1:8443/systems', 'https://127.0.0.1:8443/'), true);
    assert.equal(isSameOrigin('https://127.0.0.1:9999/', 'https://127.0.0.1:8443/'), false);
  });

  class FakeContents extends EventEmitter {
    windowOpenHandler: ((details: { url: string }) => { action: 'deny' }) | undefined;
    setWindowOpenHandler(handler: (details: { url: string }) => { action: 'deny' }): void {
      this.windowOpenHandler = handler;
    }
  }

  function navigate(contents: FakeContents, url: string): boolean {
    let prevented = false;
    contents.emit('will-navigate', { url, preventDefault: () => (prevented = true) });
    return prevented;
  }

  it('denies new windows, blocks foreign navigation and hands allowlisted links to the browser', async () => {
    const app = 'file:///app/renderer/index.html';
    const opened: string[] = [];
    const blocked: string[] = [];
    const contents = new FakeContents();
    guardWebContents(contents, {
      appUrl: () => app,
      openExternal: async (url) => {
        opened.push(url);
      },
      onBlocked: (url, reason) => blocked.push(`${reason} ${url}`),
    });

    assert.ok(contents.windowOpenHandler, 'no window-open handler installed');
    assert.deepEqual(contents.windowOpenHandler({ url: 'https://github.com/x' }), { action: 'deny' });
    assert.deepEqual(contents.windowOpenHandler({ url: 'https://evil.example/' }), { action: 'deny' });

    assert.equal(navigate(contents, `${app}#/audit`), false, 'navigation inside the app was blocked');
    assert.equal(navigate(contents, 'https://evil.example/phish'), true, 'foreign navigation was allowed');
    assert.equal(navigate(contents, 'https://github.com/docs'), true, 'an allowlisted link replaced the app page');

    let webviewPrevented = false;
    contents.emit('will-attach-webview', { preventDefault: () => (webviewPrevented = true) });
    assert.equal(webviewPrevented, true);

    await Promise.resolve();
    assert.deepEqual(opened, ['https://github.com/x', 'https://github.com/docs']);
    assert.deepEqual(blocked, ['not-allowed https://evil.example/', 'not-allowed https://evil.example/phish']);
  });

  it('denies permission requests and checks', () => {
    let request: ((wc: unknown, permission: string, callback: (granted: boolean) => void) => void) | undefined;
    let check: ((wc: unknown, permission: string) => boolean) | undefined;
    denyPermissions({
      setPermissionRequestHandler: (handler) => (request = handler),
      setPermissionCheckHandler: (handler) => (check = handler),
    });
    assert.ok(request && check);
    for (const permission of ['media', 'geolocation', 'notifications', 'openExternal', 'clipboard-read']) {
      let granted: boolean | undefined;
      request(null, permission, (g) => (granted = g));
      assert.equal(granted, false, permission);
      assert.equal(check(null, permission), false, permission);
    }
    assert.equal(check(null, 'clipboard-sanitized-write'), true, 'copy buttons need clipboard writes');
  });

  it('locks the window down', () => {
    const prefs = windowWebPreferences('/app/dist/electron/preload/preload.cjs', '1.2.3');
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(prefs.webviewTag, false);
    assert.deepEqual(prefs.additionalArguments, ['--skybridge-version=1.2.3']);
  });
});

describe('shell paths', () => {
  const root = path.join(path.sep, 'opt', 'skybridge');

  it('prefers the bundled UI and falls back to the source page', () => {
    const bundled = path.join(root, 'dist', 'renderer', 'index.html');
    assert.equal(shellPaths(root, (f) => f === bundled).rendererHtml, bundled);
    assert.equal(shellPaths(root, () => false).rendererHtml, path.join(root, 'renderer', 'index.html'));
    const paths = shellPaths(root, () => false);
    assert.equal(paths.preload, path.join(root, 'dist', 'electron', 'preload', 'preload.cjs'));
    assert.equal(paths.agentScript, path.join(root, 'dist', 'electron', 'agent', 'agent-process.js'));
  });

  it('keeps agent data apart from the shell settings', () => {
    assert.equal(agentDataDir(path.join(root, 'userData')), path.join(root, 'userData', 'agent'));
  });

  it('finds tray icons in build/ when unpacked and in resources when packaged', () => {
    const resourcesPath = path.join(root, 'resources');
    assert.equal(
      trayIconPath('degraded', { appRoot: root, isPackaged: false, resourcesPath }),
      path.join(root, 'build', 'tray', 'degraded.png'),
    );
    assert.equal(
      trayIconPath('offline', { appRoot: path.join(resourcesPath, 'app.asar'), isPackaged: true, resourcesPath }),
      path.join(resourcesPath, 'tray', 'offline.png'),
    );
  });

  it('names tray and app icons that exist in the checkout', () => {
    const repo = path.resolve(import.meta.dirname, '..', '..', '..');
    const where = { appRoot: repo, isPackaged: false, resourcesPath: '/nowhere' };
    for (const state of ['connected', 'degraded', 'offline'] as const) {
      const file = trayIconPath(state, where);
      assert.ok(existsSync(file), `missing ${file}`);
      assert.ok(existsSync(file.replace(/\.png$/, '@2x.png')), `missing the HiDPI variant of ${file}`);
    }
    assert.ok(existsSync(appIconPath(where)), 'missing the app icon');
    assert.equal(appIconPath({ ...where, isPackaged: true, resourcesPath: '/opt/Skybridge/resources' }), path.join('/opt/Skybridge/resources', 'icon.png'));
  });
});

describe('network filter', () => {
  it('cancels every remote request from the UI session and lets local files through', () => {
    let listener: ((details: { url: string }, callback: (r: { cancel: boolean }) => void) => void) | undefined;
    let filter: { urls: string[] } | undefined;
    const blocked: string[] = [];
    blockRemoteRequests(
      {
        onBeforeRequest: (f, l) => {
          filter = f;
          listener = l;
        },
      },
      (url) => blocked.push(url),
    );
    assert.deepEqual(filter, { urls: ['<all_urls>'] });
    assert.ok(listener);
    const decide = (url: string) => {
      let cancel: boolean | undefined;
      listener?.({ url }, (r) => (cancel = r.cancel));
      return cancel;
    };
    for (const url of ['https://evil.example/steal?d=1', 'http://127.0.0.1:8444/api/call/dashboard', 'wss://relay.example/', 'ws://localhost/']) {
      assert.equal(decide(url), true, url);
    }
    for (const url of ['file:///opt/Skybridge/resources/app.asar/dist/renderer/assets/index.js', 'devtools://devtools/bundled/inspector.html', 'data:image/png;base64,AA==']) {
      assert.equal(decide(url), false, url);
    }
    assert.equal(blocked.length, 4);
    assert.equal(isRemoteUrl('not a url'), true, 'an unparsable URL must not pass as local');
  });
});
