/**
 * PostgreSQL through the tunnel: PostgreSQL 15 from Debian's packages runs as a
 * private cluster on loopback (started here, password authentication), mapped
 * as a TCP system; the real `psql` client reaches it by its virtual name
 * through the relay's SOCKS5 port (via proxychains4), runs a query, commits
 * and rolls back transactions, and copies a large table both ways.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Readable } from 'node:stream';
import { cleanupAll, waitFor } from './harness.js';
import { postgresBinDir, PROXYCHAINS, setupTcpSite, skipUnlessTools, startPostgres, throughSocks, type Postgres, type TcpSite } from './tcp-harness.js';

after(cleanupAll);

const bin = postgresBinDir();
const skip = skipUnlessTools([['postgresql', path.join(bin, 'initdb')], ['postgresql', path.join(bin, 'psql')], ['proxychains4', PROXYCHAINS]]);

/** 1,000,000 rows of `id<TAB>md5-hex` (about 40 MB): COPY's text format, so what comes back must match byte for byte. */
const ROWS = 1_000_000;
function* copyRows(): Generator<Buffer> {
  const lines: string[] = [];
  for (let i = 1; i <= ROWS; i++) {
    lines.push(`${i}\t${createHash('md5').update(String(i)).digest('hex')}\n`);
    if (lines.length === 10_000) {
      yield Buffer.from(lines.join(''));
      lines.length = 0;
    }
  }
  if (lines.length) yield Buffer.from(lines.join(''));
}

describe('PostgreSQL through SOCKS5', { skip, timeout: 300_000 }, () => {
  let pg: Postgres;
  let site: TcpSite;
  let conf: string;

  before(async () => {
    pg = await startPostgres();
    site = await setupTcpSite([{ virtual: 'pg.virtual:5432', internal: `127.0.0.1:${pg.port}`, protocol: 'tcp' }]);
    conf = await site.proxychainsConf();
  }, { timeout: 120_000 });

  /** psql as a cloud app runs it: connecting to the virtual name, every byte through relay and connector. */
  const psql = (args: string[], input?: Buffer | Readable) =>
    throughSocks(conf, path.join(bin, 'psql'), ['-X', '-v', 'ON_ERROR_STOP=1', '-At', 'host=pg.virtual port=5432 user=skybridge dbname=postgres connect_timeout=15', ...args], {
      env: { PGPASSWORD: pg.password },
      input,
      timeoutMs: 180_000,
    });

  test('a query: psql connects to pg.virtual:5432 with a password and gets the server\'s answer', async () => {
    const r = await psql(['-c', "SELECT version(), inet_server_port(), current_user, 6 * 7"]);
    assert.equal(r.code, 0, r.stderr);
    const [version, port, user, answer] = r.stdout.toString().trim().split('|');
    assert.match(version!, /^PostgreSQL 15\./);
    assert.equal(Number(port), pg.port, 'the real server, on its internal port');
    assert.equal(user, 'skybridge');
    assert.equal(answer, '42');
  });

  test('a wrong password is the server\'s refusal, passed through unchanged', async () => {
    const r = await throughSocks(conf, path.join(bin, 'psql'), ['-X', '-At', 'host=pg.virtual port=5432 user=skybridge dbname=postgres', '-c', 'SELECT 1'], {
      env: { PGPASSWORD: 'wrong' },
      timeoutMs: 60_000,
    });
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /password authentication failed for user "skybridge"/);
  });

  test('transactions: a rollback leaves nothing, a commit persists, a failed statement aborts its transaction', async () => {
    const script = `
      CREATE TABLE orders (id int PRIMARY KEY, item text NOT NULL);
      BEGIN; INSERT INTO orders VALUES (1, 'rolled back'); ROLLBACK;
      BEGIN; INSERT INTO orders VALUES (2, 'committed'); INSERT INTO orders VALUES (3, 'also committed'); COMMIT;
      \\set ON_ERROR_STOP 0
      BEGIN; INSERT INTO orders VALUES (4, 'lost'); INSERT INTO orders VALUES (2, 'duplicate'); COMMIT;
      \\set ON_ERROR_STOP 1
      SELECT string_agg(id || ':' || item, ',' ORDER BY id) FROM orders;
    `;
    const r = await psql(['-f', '-'], Buffer.from(script));
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /duplicate key value violates unique constraint "orders_pkey"/);
    const out = r.stdout.toString().trim().split('\n');
    assert.equal(out.at(-1), '2:committed,3:also committed');
    // A second connection sees the same committed state.
    const again = await psql(['-c', 'SELECT count(*) FROM orders']);
    assert.equal(again.stdout.toString().trim(), '2');
  });

  test(`a large COPY both ways (${ROWS.toLocaleString('en')} rows, ~40 MB) arrives byte for byte`, async () => {
    const inHash = createHash('sha256');
    let inBytes = 0;
    const source = Readable.from(
      (function* () {
        for (const chunk of copyRows()) {
          inHash.update(chunk);
          inBytes += chunk.length;
          yield chunk;
        }
      })(),
    );
    await psql(['-c', 'CREATE TABLE big (id bigint PRIMARY KEY, payload text NOT NULL)']).then((r) => assert.equal(r.code, 0, r.stderr));
    const load = await psql(['-c', 'COPY big FROM STDIN'], source);
    assert.equal(load.code, 0, load.stderr);
    assert.equal(load.stdout.toString().trim(), `COPY ${ROWS}`);

    const count = await psql(['-c', "SELECT count(*), sum(id), md5(string_agg(payload, '' ORDER BY id)) = md5(string_agg(md5(id::text), '' ORDER BY id)) FROM big"]);
    assert.equal(count.code, 0, count.stderr);
    assert.equal(count.stdout.toString().trim(), `${ROWS}|${(ROWS * (ROWS + 1)) / 2}|t`, 'the server holds every row as sent');

    const dump = await psql(['-c', 'COPY (SELECT id, payload FROM big ORDER BY id) TO STDOUT']);
    assert.equal(dump.code, 0, dump.stderr);
    assert.equal(dump.stdout.length, inBytes, 'as many bytes come back as went in');
    assert.equal(createHash('sha256').update(dump.stdout).digest('hex'), inHash.digest('hex'), 'and the same bytes');

    const record = await waitFor(() => site.connectionLog().find((r) => r.virtualHost === 'pg.virtual' && r.bytesFromBackend > inBytes), 10_000, 'the traffic record of the COPY TO connection');
    assert.deepEqual([record.app, record.outcome, record.ended, record.protocol], ['billing', 'allowed', 'closed', 'tcp']);
    assert.ok(site.connectionLog().some((r) => r.virtualHost === 'pg.virtual' && r.bytesToBackend > inBytes), 'and of the COPY FROM connection');
  });
});
