import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StaticFiles, contentSecurityPolicy, isPlainPath } from '../../electron/agent/web/static-files.js';
import { OriginPolicy } from '../../electron/agent/web/origin.js';
import { BundleFolder, defaultBundleName, isSafeBundleName } from '../../electron/agent/web/bundles.js';
import { SkybridgeError } from '../../shared/errors.js';

function fakeBuild(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'skybridge-static-'));
  fs.mkdirSync(path.join(root, 'assets'));
  fs.writeFileSync(
    path.join(root, 'index.html'),
    `<meta\n  http-equiv="Content-Security-Policy"\n  content="default-src 'none'; script-src 'self'; connect-src 'self' wss: ws:; object-src 'none'"\n/>`,
  );
  fs.writeFileSync(path.join(root, 'assets', 'index-abc.js'), 'console.log(1)');
  fs.writeFileSync(path.join(root, 'assets', 'index-abc.css'), 'body{}');
  fs.writeFileSync(path.join(root, '..', `${path.basename(root)}-secret.txt`), 'secret');
  fs.symlinkSync('/etc/passwd', path.join(root, 'passwd'));
  return root;
}

test('only files of the build are served, with their content types; directories, symlinks and traversal are not', () => {
  const files = new StaticFiles(fakeBuild());
  assert.equal(files.available, true);
  const index = files.lookup('/');
  assert.ok(index && index !== 'bad');
  assert.equal(index.contentType, 'text/html; charset=utf-8');
  assert.equal(index.immutable, false);
  const js = files.lookup('/assets/index-abc.js');
  assert.ok(js && js !== 'bad');
  assert.equal(js.contentType, 'text/javascript; charset=utf-8');
  assert.equal(js.immutable, true);
  assert.equal((files.lookup('/assets/index-abc.css') as { contentType: string }).contentType, 'text/css; charset=utf-8');
  assert.equal(files.lookup('/assets'), undefined, 'no directory listing');
  assert.equal(files.lookup('/assets/'), undefined);
  assert.equal(files.lookup('/passwd'), undefined, 'symlinks are not followed');
  for (const p of ['/../x', '/assets/../index.html', '/%2e%2e/etc/passwd', '/%2E%2E%2Fetc%2Fpasswd', '/assets%2findex-abc.js', '/..%5cindex.html', '//etc/passwd', '/a\\b', '/%00']) {
    assert.equal(files.lookup(p), 'bad', `${p} is refused as ambiguous`);
  }
  assert.equal(isPlainPath('/assets/index-abc.js'), true);
});

test('the Content-Security-Policy header is the renderer\'s own, with connect-src narrowed to this server and framing forbidden', () => {
  const files = new StaticFiles(fakeBuild());
  const csp = contentSecurityPolicy(files.cspTemplate, 'https://127.0.0.1:8444');
  assert.equal(csp, "default-src 'none'; script-src 'self'; connect-src 'self' wss://127.0.0.1:8444; object-src 'none'; frame-ancestors 'none'");
});

test('without a build the server knows it, and still has a strict policy', () => {
  const files = new StaticFiles(path.join(os.tmpdir(), 'skybridge-no-such-build'));
  assert.equal(files.available, false);
  assert.match(files.cspTemplate, /default-src 'none'/);
});

test('the UI answers only under names it can be reached by, and Origin must match exactly', () => {
  const o = new OriginPolicy(['localhost', '127.0.0.1', '::1', 'connector.example'], '127.0.0.1');
  o.port = 8444;
  assert.equal(o.ownOrigin('127.0.0.1:8444'), 'https://127.0.0.1:8444');
  assert.equal(o.ownOrigin('LOCALHOST:8444'), 'https://localhost:8444');
  assert.equal(o.ownOrigin('[::1]:8444'), 'https://[::1]:8444');
  assert.equal(o.ownOrigin('connector.example:8444'), 'https://connector.example:8444');
  assert.equal(o.ownOrigin('evil.example:8444'), undefined, 'a rebinding name is refused');
  assert.equal(o.ownOrigin('127.0.0.1:9999'), undefined);
  assert.equal(o.ownOrigin('127.0.0.1:8444/x'), undefined);
  assert.equal(o.ownOrigin(undefined), undefined);
  assert.equal(OriginPolicy.same('https://127.0.0.1:8444', 'https://127.0.0.1:8444'), true);
  assert.equal(OriginPolicy.same('https://127.0.0.1:8445', 'https://127.0.0.1:8444'), false);
  assert.equal(OriginPolicy.same('http://127.0.0.1:8444', 'https://127.0.0.1:8444'), false);
  assert.equal(OriginPolicy.same('null', 'https://127.0.0.1:8444'), false);
  assert.equal(OriginPolicy.same(undefined, 'https://127.0.0.1:8444'), false);
});

test('bundles from the browser: only bare .zip names inside the exports folder', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'skybridge-exports-'));
  const folder = new BundleFolder(dir);
  assert.match(defaultBundleName(new Date('2026-03-04T05:06:07.890Z')), /^skybridge-support-2026-03-04T05-06-07Z\.zip$/);
  assert.equal(isSafeBundleName(defaultBundleName()), true);
  const t = folder.target(undefined);
  assert.equal(path.dirname(t.file), dir);
  assert.equal(folder.target('mine.zip').file, path.join(dir, 'mine.zip'));
  for (const bad of ['../x.zip', '/etc/x.zip', 'a/b.zip', '.hidden.zip', 'x.txt', 'a..zip', 'x.zip\n', 42]) {
    assert.throws(() => folder.target(bad), SkybridgeError, `${String(bad)} refused`);
  }
});
