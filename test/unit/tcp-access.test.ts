import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkAccess } from '../../electron/agent/access.js';
import { addResource, addSystem, checkAgentConfig } from '../../electron/agent/config-ops.js';
import { checkTcpAccess } from '../../electron/agent/tcp-access.js';
import { splitAuthority } from '../../electron/agent/tcp-forwarder.js';
import { agentConfigSchema, systemSchema, type AgentConfig, type SystemInput, type SystemMapping } from '../../shared/config.js';
import { ErrorCode } from '../../shared/errors.js';

const sys = (input: Partial<SystemInput>): SystemMapping =>
  systemSchema.parse({ virtualHost: 'db.virtual', virtualPort: 5432, internalHost: '10.0.0.7', internalPort: 6432, protocol: 'tcp', ...input });

const pg = sys({});
const ldapRange = sys({ virtualHost: 'ldap.virtual', virtualPort: 389, virtualPortEnd: 391, internalPort: 10389, internalPortEnd: 10391, protocol: 'ldap' });
const erp = sys({ virtualHost: 'erp.virtual', virtualPort: 443, internalPort: 8443, protocol: 'https', resources: [{ path: '/', subPaths: true }] });
const systems = [pg, ldapRange, erp];

describe('checkTcpAccess: who may open a raw TCP connection', () => {
  it('allows a mapped TCP system and names the internal port', () => {
    const d = checkTcpAccess(systems, { host: 'DB.virtual', port: 5432 });
    assert.equal(d.allowed, true);
    assert.equal(d.allowed && d.internalPort, 6432);
  });

  it('maps each port of a range onto the same offset of the internal range', () => {
    for (const [v, i] of [[389, 10389], [390, 10390], [391, 10391]] as const) {
      const d = checkTcpAccess(systems, { host: 'ldap.virtual', port: v });
      assert.equal(d.allowed && d.internalPort, i, `virtual ${v}`);
    }
    assert.equal(checkTcpAccess(systems, { host: 'ldap.virtual', port: 392 }).allowed, false);
    assert.equal(checkTcpAccess(systems, { host: 'ldap.virtual', port: 388 }).allowed, false);
  });

  it('refuses unmapped hosts, ports and IP addresses: deny by default', () => {
    for (const req of [{ host: 'other.virtual', port: 5432 }, { host: 'db.virtual', port: 5433 }, { host: '10.0.0.7', port: 6432 }, { host: '2001:db8::1', port: 5432 }]) {
      const d = checkTcpAccess(systems, req);
      assert.equal(d.allowed, false, JSON.stringify(req));
      assert.equal(!d.allowed && d.code, ErrorCode.AccessDenied);
      assert.match(!d.allowed ? d.reason : '', /no such system is mapped/);
    }
  });

  it('refuses an HTTP system: raw TCP would bypass its resource checks', () => {
    const d = checkTcpAccess(systems, { host: 'erp.virtual', port: 443 });
    assert.equal(d.allowed, false);
    assert.match(!d.allowed ? d.reason : '', /access denied to system erp\.virtual:443: it is an HTTP system \(protocol https\)/);
  });
});

describe('checkAccess (HTTP proxy) and TCP systems', () => {
  it('refuses an HTTP request to a TCP system, even one given resources by hand', () => {
    const withResources = { ...pg, resources: [{ path: '/', subPaths: true, websocket: false, enabled: true }] };
    for (const list of [systems, [withResources]]) {
      const d = checkAccess(list, { host: 'db.virtual', port: 5432, method: 'GET', rawTarget: '/' });
      assert.equal(d.allowed, false);
      assert.match(!d.allowed ? d.reason : '', /TCP system \(protocol tcp\), reachable only through the SOCKS5 proxy/);
    }
    const inRange = checkAccess(systems, { host: 'ldap.virtual', port: 390, method: 'GET', rawTarget: '/' });
    assert.match(!inRange.allowed ? inRange.reason : '', /TCP system/);
  });
});

describe('splitAuthority', () => {
  it('reads host:port and [v6]:port', () => {
    assert.deepEqual(splitAuthority('db.virtual:5432'), { host: 'db.virtual', port: 5432 });
    assert.deepEqual(splitAuthority('[2001:db8::1]:389'), { host: '2001:db8::1', port: 389 });
    assert.deepEqual(splitAuthority('nonsense'), { host: 'nonsense', port: 0 });
  });
});

function configWith(systemsIn: SystemInput[]): AgentConfig {
  return agentConfigSchema.parse({ subaccounts: [{ id: 'acme', relayUrl: 'https://relay.example', tenantId: 't', connectorId: 'c', systems: systemsIn }] });
}

const base: SystemInput = { virtualHost: 'db.virtual', virtualPort: 5432, internalHost: '10.0.0.7', internalPort: 6432, protocol: 'tcp' };

function issues(systemsIn: SystemInput[]): string {
  const r = checkAgentConfig(configWith(systemsIn));
  return r.ok ? '' : r.issues;
}

describe('TCP mappings in the configuration', () => {
  it('accepts every TCP protocol, ranges of equal length and the TCP settings', () => {
    assert.equal(issues([
      base,
      { ...base, virtualHost: 'tls.virtual', protocol: 'tcp+tls', caFile: '/etc/ca.pem' },
      { ...base, virtualHost: 'ldap.virtual', virtualPort: 389, virtualPortEnd: 399, internalPort: 1389, internalPortEnd: 1399, protocol: 'ldap', idleTimeoutMs: 60_000, maxConnections: 5 },
      { ...base, virtualHost: 'ldaps.virtual', virtualPort: 636, internalPort: 636, protocol: 'ldaps' },
    ]), '');
  });

  it('refuses ranges of different lengths, half a range and a backwards range, naming the field', () => {
    assert.match(issues([{ ...base, virtualPortEnd: 5434, internalPortEnd: 6433 }]), /systems\[0\]\.internalPortEnd: the internal range must be as long as the virtual one \(3 ports\): internalPortEnd 6434/);
    assert.match(issues([{ ...base, virtualPortEnd: 5434 }]), /systems\[0\]\.internalPortEnd: a port range needs both/);
    assert.match(issues([{ ...base, virtualPortEnd: 5400, internalPortEnd: 6400 }]), /virtualPortEnd: must not be below virtualPort/);
  });

  it('refuses overlapping mappings on one virtual host', () => {
    const r = issues([{ ...base, virtualPortEnd: 5440, internalPortEnd: 6440 }, { ...base, virtualPort: 5435, internalPort: 7000 }]);
    assert.match(r, /systems\[1\]\.virtualPort: db\.virtual:5435 overlaps db\.virtual:5432-5440 \(systems\[0\]\)/);
    assert.equal(issues([base, { ...base, virtualHost: 'other.virtual' }]), '', 'another host may use the same port');
  });

  it('refuses TCP settings on HTTP systems, resources on TCP systems and caFile without TLS', () => {
    assert.match(issues([{ ...base, protocol: 'http', idleTimeoutMs: 5000 }]), /idleTimeoutMs: applies only to TCP systems/);
    assert.match(issues([{ ...base, protocol: 'https', virtualPortEnd: 5433, internalPortEnd: 6433 }]), /virtualPortEnd: applies only to TCP systems/);
    assert.match(issues([{ ...base, resources: [{ path: '/' }] }]), /resources: a TCP system has no resources/);
    assert.match(issues([{ ...base, protocol: 'ldap', caFile: '/etc/ca.pem' }]), /caFile: applies only to protocols with TLS/);
  });

  it('leaves existing HTTP configurations valid and unchanged', () => {
    const http: SystemInput = { virtualHost: 'erp.virtual', virtualPort: 443, internalHost: 'erp', internalPort: 8443, protocol: 'https', caFile: '/x.pem', resources: [{ path: '/api' }] };
    const cfg = configWith([http]);
    assert.equal(checkAgentConfig(cfg).ok, true);
    assert.equal('idleTimeoutMs' in cfg.subaccounts[0]!.systems[0]!, false, 'no TCP defaults are written into HTTP systems');
  });

  it('refuses adding a resource to a TCP system through the API', () => {
    const { config } = addSystem(configWith([]), undefined, base);
    assert.throws(() => addResource(config, undefined, 'db.virtual:5432', { path: '/' }), /a TCP system has no resources/);
  });
});
