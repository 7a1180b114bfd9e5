import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkAccess, normalizeRequestPath, type AccessRequest } from '../../electron/agent/access.js';
import { systemSchema, type SystemInput, type SystemMapping } from '../../shared/config.js';
import { ErrorCode } from '../../shared/errors.js';

function system(input: Partial<SystemInput> & Pick<SystemInput, 'resources'>): SystemMapping {
  return systemSchema.parse({
    virtualHost: 'erp.virtual',
    virtualPort: 443,
    internalHost: 'erp.internal',
    internalPort: 8443,
    protocol: 'https',
    ...input,
  });
}

const erp = system({
  resources: [
    { path: '/api', subPaths: true, methods: ['GET', 'POST'] },
    { path: '/api/admin', subPaths: false, methods: ['DELETE'] },
    { path: '/api/reports', subPaths: true, methods: ['GET'], enabled: false },
    { path: '/health' },
    { path: '/ws', subPaths: true, websocket: true },
    { path: '/a%7cb' },
  ],
});
const other = system({ virtualHost: 'crm.virtual', virtualPort: 80, protocol: 'http', resources: [{ path: '/', subPaths: true }] });
const systems = [erp, other];

function req(rawTarget: string, extra: Partial<AccessRequest> = {}): AccessRequest {
  return { host: 'erp.virtual', port: 443, method: 'GET', rawTarget, ...extra };
}

function allowed(r: AccessRequest) {
  const d = checkAccess(systems, r);
  assert.equal(d.allowed, true, `expected ${r.method} ${r.rawTarget} to be allowed, got: ${d.allowed ? '' : d.reason}`);
  return d as Extract<typeof d, { allowed: true }>;
}

function denied(r: AccessRequest, code: string = ErrorCode.AccessDenied) {
  const d = checkAccess(systems, r);
  assert.equal(d.allowed, false, `expected ${r.method} ${r.rawTarget} to be denied`);
  const no = d as Extract<typeof d, { allowed: false }>;
  assert.equal(no.code, code, no.reason);
  // One sentence naming the virtual system, so a cloud app's developer knows which mapping refused.
  assert.match(no.reason, /^(access denied|bad request) to system \S+:\d+: /);
  assert.doesNotMatch(no.reason, /\n/);
  assert.equal(no.reason.split('. ').length, 1, `more than one sentence: ${no.reason}`);
  return no;
}

describe('normalizeRequestPath', () => {
  it('splits off the query at the first "?"', () => {
    assert.deepEqual(normalizeRequestPath('/api/x?a=1?b=/../'), { ok: true, path: '/api/x', query: 'a=1?b=/../' });
    assert.deepEqual(normalizeRequestPath('/'), { ok: true, path: '/', query: '' });
  });

  it('decodes escapes of unreserved characters and uppercases the others', () => {
    assert.deepEqual(normalizeRequestPath('/a%70i/%7e%41-%5f'), { ok: true, path: '/api/~A-_', query: '' });
    assert.deepEqual(normalizeRequestPath('/a%7cb%3a'), { ok: true, path: '/a%7Cb%3A', query: '' });
  });

  it('keeps one trailing slash, which makes a different path', () => {
    assert.deepEqual(normalizeRequestPath('/api/'), { ok: true, path: '/api/', query: '' });
  });

  const refused: Array<[string, RegExp]> = [
    ['api', /starting with "\/"/],
    ['*', /starting with "\/"/],
    ['http://erp.virtual/api', /starting with "\/"/],
    ['/api#frag', /fragment/],
    ['/api\\admin', /backslash/],
    ['/api/x y', /printable ASCII/],
    ['/api/\u00e9', /printable ASCII/],
    ['/api/\x00', /printable ASCII/],
    ['/api?x=\r\nHost: evil', /printable ASCII/],
    ['/api%2fadmin', /encoded slash/],
    ['/api%2Fadmin', /encoded slash/],
    ['/api%5cadmin', /encoded slash/],
    ['/api/%2e%2e/admin', /encoded slash/],
    ['/api/%2E/admin', /encoded slash/],
    ['/api/%252e%252e/admin', /encoded slash/],
    ['/api/%zz', /two hex digits/],
    ['/api/%4', /two hex digits/],
    ['/api/%', /two hex digits/],
    ['/api/../admin', /"\." or "\.\." segments/],
    ['/api/./x', /"\." or "\.\." segments/],
    ['/api/..', /"\." or "\.\." segments/],
    ['/api/..;/admin', /"\." or "\.\." segments/],
    ['/api/;x/admin', /only parameters/],
    ['//api', /empty segments/],
    ['/api//x', /empty segments/],
    ['/api//', /empty segments/],
  ];
  for (const [target, reason] of refused) {
    it(`refuses ${JSON.stringify(target)}`, () => {
      const r = normalizeRequestPath(target);
      assert.equal(r.ok, false);
      assert.match((r as { reason: string }).reason, reason);
    });
  }

  it('allows names that merely contain dots', () => {
    assert.equal(normalizeRequestPath('/api/.well-known/x...y/...').ok, true);
  });
});

describe('checkAccess', () => {
  describe('refuses every way around the /api resource', () => {
    const attacks: Array<[string, string]> = [
      ['/api/../admin', ErrorCode.BadRequest],
      ['/api/%2e%2e/admin', ErrorCode.BadRequest],
      ['/api%2fadmin', ErrorCode.BadRequest],
      ['//api', ErrorCode.BadRequest],
      ['/api/./x', ErrorCode.BadRequest],
      ['/api-admin', ErrorCode.AccessDenied],
      ['/API', ErrorCode.AccessDenied],
      ['/apiadmin', ErrorCode.AccessDenied],
      ['/admin', ErrorCode.AccessDenied],
    ];
    for (const [target, code] of attacks) {
      it(target, () => {
        const d = denied(req(target), code);
        assert.equal(d.system, erp);
      });
    }
  });

  it('names the refused path', () => {
    assert.equal(denied(req('/admin')).reason, 'access denied to system erp.virtual:443: no resource allows /admin');
    assert.equal(
      denied(req('/api/../admin'), ErrorCode.BadRequest).reason,
      'bad request to system erp.virtual:443: the path must not contain "." or ".." segments',
    );
  });

  it('allows a sub-path resource itself, with a trailing slash, and below it', () => {
    for (const target of ['/api', '/api/', '/api/x/y', '/a%70i/orders']) {
      const d = allowed(req(target));
      assert.equal(d.resource.path, '/api');
    }
    assert.equal(allowed(req('/a%70i/orders')).path, '/api/orders');
  });

  it('allows an exact resource only exactly', () => {
    assert.equal(allowed(req('/health')).resource.path, '/health');
    denied(req('/health/'));
    denied(req('/health/x'));
    denied(req('/healthz'));
  });

  it('matches escaped characters whatever the case of their hex digits', () => {
    assert.equal(allowed(req('/a%7Cb')).resource.path, '/a%7cb');
    assert.equal(allowed(req('/a%7cb')).resource.path, '/a%7cb');
  });

  it('ignores the query for matching but forwards it', () => {
    const d = allowed(req('/a%70i/x?next=/admin&y=%2e%2e'));
    assert.equal(d.path, '/api/x');
    assert.equal(d.target, '/api/x?next=/admin&y=%2e%2e');
    assert.equal(allowed(req('/api?')).target, '/api?');
    assert.equal(allowed(req('/api')).target, '/api');
    denied(req('/admin?/api'));
  });

  it('enforces the method list of the matching resource', () => {
    allowed(req('/api/x', { method: 'POST' }));
    const d = denied(req('/api/x', { method: 'DELETE' }));
    assert.equal(
      d.reason,
      'access denied to system erp.virtual:443: method DELETE is not allowed on /api/x (resource /api allows GET, POST, HEAD)',
    );
    denied(req('/api/x', { method: 'PUT' }));
  });

  it('allows HEAD wherever GET is allowed', () => {
    allowed(req('/api/x', { method: 'HEAD' }));
    denied(req('/api/admin', { method: 'HEAD' }));
  });

  it('allows every standard method when a resource lists none', () => {
    for (const method of ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']) allowed(req('/health', { method }));
  });

  it('never allows methods outside the standard set, nor lower-case spellings', () => {
    for (const method of ['TRACE', 'CONNECT', 'PROPFIND', 'get', 'GET ']) {
      assert.match(denied(req('/health', { method })).reason, /is never allowed$/);
    }
  });

  it('lets the longest matching resource decide', () => {
    const admin = allowed(req('/api/admin', { method: 'DELETE' }));
    assert.equal(admin.resource.path, '/api/admin');
    denied(req('/api/admin', { method: 'GET' }));
    // /api/admin is exact, so below it /api decides again.
    assert.equal(allowed(req('/api/admin/x')).resource.path, '/api');
    denied(req('/api/admin/x', { method: 'DELETE' }));
  });

  it('does not depend on the order of resources for the longest match', () => {
    const reversed = { ...erp, resources: [...erp.resources].reverse() };
    const d = checkAccess([reversed], req('/api/admin', { method: 'DELETE' }));
    assert.equal(d.allowed, true);
  });

  it('ignores disabled resources', () => {
    // /api/reports (GET only) is switched off, so /api (GET, POST) decides.
    const d = allowed(req('/api/reports/q1', { method: 'POST' }));
    assert.equal(d.resource.path, '/api');
    const off = system({ resources: [{ path: '/x', enabled: false }] });
    assert.equal(checkAccess([off], req('/x')).allowed, false);
  });

  it('allows a WebSocket upgrade only where the resource says so', () => {
    allowed(req('/ws/chat', { upgrade: 'websocket' }));
    allowed(req('/ws/chat', { upgrade: 'WebSocket' }));
    allowed(req('/api/x'));
    const d = denied(req('/api/x', { upgrade: 'websocket' }));
    assert.match(d.reason, /WebSocket upgrade is not allowed on \/api\/x/);
    assert.match(denied(req('/ws/chat', { upgrade: 'h2c' })).reason, /upgrade to "h2c" is not supported/);
    denied(req('/ws/chat', { upgrade: '' }));
  });

  it('refuses an unknown system, naming it', () => {
    const d = denied({ host: 'hr.virtual', port: 443, method: 'GET', rawTarget: '/api' });
    assert.equal(d.reason, 'access denied to system hr.virtual:443: no such system is mapped');
    assert.equal(d.system, undefined);
    // Same host, other port: a different system.
    assert.match(denied(req('/api', { port: 80 })).reason, /erp\.virtual:80: no such system is mapped/);
  });

  it('does not let a host name forge log lines', () => {
    const d = denied({ host: 'x\nERROR forged', port: 1, method: 'GET', rawTarget: '/' });
    assert.equal(d.reason, 'access denied to system x?error?forged:1: no such system is mapped');
  });

  it('finds the system by host case-insensitively', () => {
    const d = allowed(req('/api', { host: 'ERP.Virtual' }));
    assert.equal(d.system, erp);
    assert.equal(allowed({ host: 'crm.virtual', port: 80, method: 'GET', rawTarget: '/anything/below' }).system, other);
  });

  it('denies everything on a system without resources', () => {
    const bare = system({ resources: [] });
    const d = checkAccess([bare], req('/'));
    assert.equal(d.allowed, false);
  });
});
