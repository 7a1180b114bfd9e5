import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  addResource,
  addSystem,
  checkAgentConfig,
  parseHostPort,
  removeResource,
  removeSystem,
  resolveSubaccount,
  updateResource,
  updateSystem,
} from '../../electron/agent/config-ops.js';
import { agentConfigSchema, type AgentConfig, type SystemInput } from '../../shared/config.js';
import { ErrorCode, SkybridgeError } from '../../shared/errors.js';

function subaccount(id: string, systems: SystemInput[] = []) {
  return { id, relayUrl: 'https://relay.example:8443', tenantId: `t-${id}`, connectorId: `c-${id}`, systems };
}

const erpInput: SystemInput = {
  virtualHost: 'erp.virtual',
  virtualPort: 443,
  internalHost: 'erp.internal',
  internalPort: 8443,
  protocol: 'https',
  resources: [{ path: '/api', subPaths: true }],
};

function config(...subs: ReturnType<typeof subaccount>[]): AgentConfig {
  return agentConfigSchema.parse({ subaccounts: subs });
}

const one = config(subaccount('acme', [erpInput]));
const two = config(subaccount('acme'), subaccount('beta'));

function throwsCode(fn: () => unknown, code: string, message?: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof SkybridgeError, `expected a SkybridgeError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    if (message) assert.match(e.message, message);
    return true;
  });
}

describe('parseHostPort', () => {
  it('reads HOST:PORT and lowercases the host', () => {
    assert.deepEqual(parseHostPort('ERP.virtual:443'), { host: 'erp.virtual', port: 443 });
    assert.deepEqual(parseHostPort(' db:5432 '), { host: 'db', port: 5432 });
  });

  for (const bad of ['erp.virtual', 'erp.virtual:', ':443', 'erp.virtual:0', 'erp.virtual:65536', 'erp.virtual:44a', 'erp_x:80', 'a:b:80', 'https://erp:443']) {
    it(`refuses ${JSON.stringify(bad)}`, () => {
      throwsCode(() => parseHostPort(bad), ErrorCode.InvalidInput, /expected HOST:PORT, e\.g\. erp\.virtual:443/);
    });
  }
});

describe('resolveSubaccount', () => {
  it('takes the only subaccount when no id is given', () => {
    assert.equal(resolveSubaccount(one).id, 'acme');
  });

  it('tells the user to pair first when there is none', () => {
    throwsCode(() => resolveSubaccount(config()), ErrorCode.NotFound, /^no subaccount is paired yet; run 'skybridge agent pair CODE' first$/);
  });

  it('asks for --subaccount when several are paired, naming them', () => {
    throwsCode(() => resolveSubaccount(two), ErrorCode.InvalidInput, /\(acme, beta\); pass --subaccount/);
    assert.equal(resolveSubaccount(two, 'beta').id, 'beta');
  });

  it('names the known subaccounts when the id is wrong', () => {
    throwsCode(() => resolveSubaccount(two, 'gamma'), ErrorCode.NotFound, /no subaccount "gamma".*acme, beta/);
  });
});

describe('addSystem', () => {
  const crm: SystemInput = { virtualHost: 'CRM.virtual', virtualPort: 80, internalHost: '10.0.0.5', internalPort: 8080, protocol: 'http' };

  it('adds a system with defaults filled in and leaves the input config alone', () => {
    const before = JSON.stringify(one);
    const { config: next, result } = addSystem(one, undefined, crm);
    assert.equal(JSON.stringify(one), before);
    assert.equal(result.virtualHost, 'crm.virtual');
    assert.equal(result.hostHeader, 'virtual');
    assert.equal(result.connectTimeoutMs, 10_000);
    assert.deepEqual(result.resources, []);
    assert.deepEqual(
      next.subaccounts[0]?.systems.map((s) => `${s.virtualHost}:${s.virtualPort}`),
      ['erp.virtual:443', 'crm.virtual:80'],
    );
  });

  it('adds to the chosen subaccount only', () => {
    const { config: next } = addSystem(two, 'beta', crm);
    assert.equal(next.subaccounts[0]?.systems.length, 0);
    assert.equal(next.subaccounts[1]?.systems.length, 1);
  });

  it('refuses a virtual host:port that is already mapped, whatever its case', () => {
    throwsCode(() => addSystem(one, 'acme', { ...crm, virtualHost: 'ERP.VIRTUAL', virtualPort: 443 }), ErrorCode.Conflict, /erp\.virtual:443 is already mapped in subaccount "acme"/);
  });

  it('names each bad field', () => {
    throwsCode(
      () => addSystem(one, 'acme', { ...crm, virtualPort: 70000, internalHost: 'bad host' }),
      ErrorCode.InvalidInput,
      /^the system is invalid: .*virtualPort: a port from 1 to 65535.*; .*internalHost/,
    );
  });

  it('stores resource paths in canonical form and refuses duplicates among them', () => {
    const { result } = addSystem(one, 'acme', { ...crm, resources: [{ path: '/a%70i' }, { path: '/x%7cy' }] });
    assert.deepEqual(result.resources.map((r) => r.path), ['/api', '/x%7Cy']);
    throwsCode(
      () => addSystem(one, 'acme', { ...crm, resources: [{ path: '/api' }, { path: '/a%70i' }] }),
      ErrorCode.InvalidInput,
      /resources\[1\]\.path: \/api is already listed as resources\[0\]/,
    );
  });
});

describe('updateSystem', () => {
  it('changes only the given fields and keeps the resources', () => {
    const { config: next, result } = updateSystem(one, undefined, 'ERP.virtual:443', { internalPort: 9443, description: 'ERP' });
    assert.equal(result.internalPort, 9443);
    assert.equal(result.internalHost, 'erp.internal');
    assert.equal(result.description, 'ERP');
    assert.deepEqual(result.resources.map((r) => r.path), ['/api']);
    assert.equal(next.subaccounts[0]?.systems[0]?.internalPort, 9443);
    assert.equal(one.subaccounts[0]?.systems[0]?.internalPort, 8443);
  });

  it('clears an optional setting with null', () => {
    const withCa = updateSystem(one, undefined, 'erp.virtual:443', { caFile: '/etc/ca.pem' }).config;
    const { result } = updateSystem(withCa, undefined, 'erp.virtual:443', { caFile: null });
    assert.equal('caFile' in result, false);
  });

  it('refuses to change the identity or unknown fields', () => {
    throwsCode(
      () => updateSystem(one, undefined, 'erp.virtual:443', { virtualPort: 8443 } as never),
      ErrorCode.InvalidInput,
      /"virtualPort" cannot be changed.*remove the system and add it again/,
    );
  });

  it('names the bad field', () => {
    throwsCode(() => updateSystem(one, undefined, 'erp.virtual:443', { connectTimeoutMs: 5 }), ErrorCode.InvalidInput, /connectTimeoutMs/);
  });

  it('says which system is missing', () => {
    throwsCode(() => updateSystem(one, undefined, 'hr.virtual:443', { internalPort: 1 }), ErrorCode.NotFound, /no system hr\.virtual:443 is mapped in subaccount "acme"/);
  });
});

describe('removeSystem', () => {
  it('removes it and returns what was removed', () => {
    const { config: next, result } = removeSystem(one, undefined, 'erp.virtual:443');
    assert.equal(result.virtualHost, 'erp.virtual');
    assert.equal(next.subaccounts[0]?.systems.length, 0);
    assert.equal(one.subaccounts[0]?.systems.length, 1);
    throwsCode(() => removeSystem(next, undefined, 'erp.virtual:443'), ErrorCode.NotFound);
  });
});

describe('resources', () => {
  it('adds a resource with defaults', () => {
    const { config: next, result } = addResource(one, undefined, 'erp.virtual:443', { path: '/odata', methods: ['GET'] });
    const added = result.resources.find((r) => r.path === '/odata');
    assert.deepEqual(added, { path: '/odata', subPaths: false, methods: ['GET'], websocket: false, enabled: true });
    assert.equal(next.subaccounts[0]?.systems[0]?.resources.length, 2);
    assert.equal(one.subaccounts[0]?.systems[0]?.resources.length, 1);
  });

  it('refuses the same path twice, also in another spelling', () => {
    throwsCode(() => addResource(one, undefined, 'erp.virtual:443', { path: '/api' }), ErrorCode.Conflict, /resource \/api already exists on system erp\.virtual:443/);
    throwsCode(() => addResource(one, undefined, 'erp.virtual:443', { path: '/a%70i' }), ErrorCode.Conflict);
  });

  it('refuses ambiguous paths, naming the field', () => {
    throwsCode(() => addResource(one, undefined, 'erp.virtual:443', { path: '/api/../x' }), ErrorCode.InvalidInput, /^the resource is invalid: path: /);
    throwsCode(() => addResource(one, undefined, 'erp.virtual:443', { path: '/api/' }), ErrorCode.InvalidInput, /path: a path without a trailing slash/);
    throwsCode(() => addResource(one, undefined, 'erp.virtual:443', { path: '/x/..;' }), ErrorCode.InvalidInput, /path: the path must not contain "\." or "\.\." segments/);
    throwsCode(() => addResource(one, undefined, 'erp.virtual:443', { path: '/x', methods: ['TRACE'] as never }), ErrorCode.InvalidInput, /methods\[0\]/);
  });

  it('switches a resource off and on in place', () => {
    const off = updateResource(one, undefined, 'erp.virtual:443', '/api', { enabled: false });
    assert.equal(off.result.resources[0]?.enabled, false);
    assert.equal(off.result.resources[0]?.subPaths, true);
    const on = updateResource(off.config, undefined, 'erp.virtual:443', '/api', { enabled: true, methods: ['GET'] });
    assert.deepEqual(on.result.resources[0]?.methods, ['GET']);
    const all = updateResource(on.config, undefined, 'erp.virtual:443', '/api', { methods: null });
    assert.equal(all.result.resources[0]?.methods, undefined);
  });

  it('removes a resource by path and says when it is not there', () => {
    const { result } = removeResource(one, undefined, 'erp.virtual:443', '/api');
    assert.deepEqual(result.resources, []);
    throwsCode(() => removeResource(one, undefined, 'erp.virtual:443', '/odata'), ErrorCode.NotFound, /no resource \/odata on system erp\.virtual:443; its resources are \/api/);
  });
});

describe('checkAgentConfig', () => {
  it('finds duplicates that the field schema cannot see', () => {
    const r = checkAgentConfig({
      subaccounts: [subaccount('acme', [erpInput, { ...erpInput, virtualHost: 'ERP.virtual' }]), subaccount('acme')],
      tunnel: { reconnectMinMs: 5000, reconnectMaxMs: 1000 },
    });
    assert.equal(r.ok, false);
    const issues = (r as { issues: string }).issues;
    assert.match(issues, /subaccounts\[0\]\.systems\[1\]\.virtualHost: erp\.virtual:443 is already mapped by systems\[0\]/);
    assert.match(issues, /subaccounts\[1\]\.id: "acme" is already used by subaccounts\[0\]/);
    assert.match(issues, /tunnel\.reconnectMinMs: must not exceed tunnel\.reconnectMaxMs/);
  });
});
