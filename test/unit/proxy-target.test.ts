import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseProxyTarget } from '../../relay/proxy-target.js';

test('absolute http targets keep their raw path', () => {
  assert.deepEqual(parseProxyTarget('http://erp.virtual:443/api/../admin?x=1'), { ok: true, host: 'erp.virtual', port: 443, pathAndQuery: '/api/../admin?x=1' });
  assert.deepEqual(parseProxyTarget('http://ERP.Virtual/a%2fb'), { ok: true, host: 'erp.virtual', port: 80, pathAndQuery: '/a%2fb' });
  assert.deepEqual(parseProxyTarget('http://erp.virtual:8080'), { ok: true, host: 'erp.virtual', port: 8080, pathAndQuery: '/' });
  assert.deepEqual(parseProxyTarget('http://10.0.0.1:8080?q'), { ok: true, host: '10.0.0.1', port: 8080, pathAndQuery: '/?q' });
});

test('https targets get 405 with a reason', () => {
  const r = parseProxyTarget('https://erp.virtual:443/x');
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.status, 405);
});

test('malformed targets are refused with 400', () => {
  for (const t of ['/origin/form', 'http://user:pw@erp.virtual/x', 'http://erp_virtual/x', 'http://erp.virtual:99999/', 'http://erp.virtual/x#frag', 'ftp://x/', 'http:///x', 'http://erp.virtual:44a/']) {
    const r = parseProxyTarget(t);
    assert.equal(r.ok, false, t);
    assert.equal(!r.ok && r.status, 400, t);
  }
});
