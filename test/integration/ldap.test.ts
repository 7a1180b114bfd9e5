/**
 * An LDAP directory through the tunnel: OpenLDAP's slapd from Debian's
 * packages runs with its own slapd.conf and a small directory (loaded with
 * slapadd), on loopback, plain and with TLS. The real `ldapsearch` reaches it
 * by its virtual name through the relay's SOCKS5 port (via proxychains4):
 * protocol `ldap` passes LDAP through, protocol `ldaps` has the connector
 * speak TLS to the directory and verify its certificate.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupAll, issueCert, makeRootCa, tempDir, waitFor } from './harness.js';
import { LDAPSEARCH, PROXYCHAINS, setupTcpSite, skipUnlessTools, SLAPADD, SLAPD, startSlapd, throughSocks, type Slapd, type TcpSite } from './tcp-harness.js';

after(cleanupAll);

const skip = skipUnlessTools([['slapd', SLAPD], ['slapd', SLAPADD], ['ldap-utils', LDAPSEARCH], ['proxychains4', PROXYCHAINS]]);

describe('OpenLDAP through SOCKS5', { skip, timeout: 180_000 }, () => {
  let ldap: Slapd;
  let site: TcpSite;
  let conf: string;

  before(async () => {
    const pki = await tempDir('skybridge-ldap-pki-');
    const root = await makeRootCa(pki, 'directory-root');
    const cert = await issueCert(pki, 'slapd', root, { san: ['IP:127.0.0.1', 'DNS:localhost'] });
    ldap = await startSlapd({ people: 50, tls: { certFile: cert.certFile, keyFile: cert.keyFile } });
    site = await setupTcpSite([
      { virtual: 'ldap.virtual:389', internal: `127.0.0.1:${ldap.port}`, protocol: 'ldap' },
      { virtual: 'ldaps.virtual:636', internal: `127.0.0.1:${ldap.tlsPort}`, protocol: 'ldaps', caFile: root.certFile },
      // The same directory, but the connector is not told to trust its CA.
      { virtual: 'untrusted.virtual:636', internal: `127.0.0.1:${ldap.tlsPort}`, protocol: 'ldaps' },
    ]);
    conf = await site.proxychainsConf();
  }, { timeout: 120_000 });

  const search = (url: string, args: string[]) => throughSocks(conf, LDAPSEARCH, ['-x', '-o', 'nettimeout=15', '-H', url, '-b', ldap.baseDn, '-LLL', ...args], { timeoutMs: 60_000 });

  test('ldapsearch finds an entry by its attributes through ldap.virtual:389', async () => {
    const r = await search('ldap://ldap.virtual:389', ['(uid=alice)', 'cn', 'mail']);
    assert.equal(r.code, 0, r.stderr);
    const out = r.stdout.toString();
    assert.match(out, /^dn: uid=alice,ou=people,dc=example,dc=org$/m);
    assert.match(out, /^cn: Alice Example$/m);
    assert.match(out, /^mail: alice@example\.org$/m);
  });

  test('a simple bind as the directory administrator and a search over all people', async () => {
    const r = await search('ldap://ldap.virtual:389', ['-D', ldap.adminDn, '-w', ldap.adminPassword, '(objectClass=inetOrgPerson)', 'uid']);
    assert.equal(r.code, 0, r.stderr);
    const uids = r.stdout.toString().match(/^uid: /gm) ?? [];
    assert.equal(uids.length, ldap.people, 'every person in the directory');
    const badBind = await search('ldap://ldap.virtual:389', ['-D', ldap.adminDn, '-w', 'wrong', '(uid=alice)']);
    assert.equal(badBind.code, 49, 'invalid credentials (49) from the directory itself');
  });

  test('protocol ldaps: the connector speaks TLS to the directory and verifies it; the app speaks plain LDAP to the virtual name', async () => {
    const r = await search('ldap://ldaps.virtual:636', ['(uid=user007)', 'mail']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout.toString(), /^mail: user007@example\.org$/m);
    const record = await waitFor(() => site.connectionLog().find((c) => c.virtualHost === 'ldaps.virtual' && c.ended === 'closed'), 10_000, 'the traffic record');
    assert.equal(record.protocol, 'ldaps');
    assert.ok(record.bytesFromBackend > 0 && record.bytesToBackend > 0);
  });

  test('an ldaps directory whose certificate the connector does not trust is not reached', async () => {
    const r = await search('ldap://untrusted.virtual:636', ['(uid=alice)']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /Can't contact LDAP server/);
    const record = await waitFor(() => site.connectionLog().find((c) => c.virtualHost === 'untrusted.virtual'), 10_000, 'the record');
    assert.equal(record.outcome, 'error');
    assert.match(record.reason ?? '', /TLS verification failed/);
  });
});
