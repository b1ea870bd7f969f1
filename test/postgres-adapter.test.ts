/**
 * PostgreSQL-specific behaviour (the shared behaviour is in test/conformance): `?` → `$n`
 * rewriting, credentials never shown or logged, statement timeouts, configurable isolation,
 * deadlock retries, SKIP LOCKED claims across handles.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { PostgresDatabase } from '../adapters/postgres/database.js';
import { describePostgres } from '../adapters/postgres/describe.js';
import { openPostgres, type PostgresOptions } from '../adapters/postgres/open.js';
import { rewritePlaceholders } from '../adapters/postgres/placeholders.js';
import type { Database } from '../core/database.js';
import { hasCode } from '../core/errors.js';
import { spawnChild } from './helpers/child.js';
import { tempDir } from './helpers/tmp.js';
import { PG_SKIP, PG_URL } from './helpers/pg.js';

const URL_ = PG_URL;
const SKIP = PG_SKIP;
const CHILD = fileURLToPath(new URL('./fixtures/pg-child.js', import.meta.url));
let seq = 0;

/** A handle on a fresh schema of its own, dropped after the test. */
async function fresh(t: TestContext, opts: PostgresOptions = {}): Promise<{ db: Database; open: (o?: PostgresOptions) => Promise<Database> }> {
  const schema = `bolt_pg_${process.pid}_${++seq}`;
  const handles: Database[] = [];
  t.after(async () => {
    await Promise.all(handles.map((h) => h.close()));
    const admin = await openPostgres(URL_!, { maxConnections: 1 });
    await admin.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.close();
  });
  const open = async (o: PostgresOptions = {}): Promise<Database> => {
    const h = await openPostgres(URL_!, { schema, ...opts, ...o });
    handles.push(h);
    return h;
  };
  return { db: await open(), open };
}

/** `URL_` with a password added (the test server trusts local connections, so it is ignored). */
function withPassword(url: string, password: string): string {
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

describe('placeholder rewriting', () => {
  test('? becomes $n outside strings, identifiers and comments', { timeout: 5_000 }, () => {
    const cases: Array<[string, string, number]> = [
      ['SELECT ?, ?', 'SELECT $1, $2', 2],
      ["SELECT '?', ? FROM t WHERE a = 'it''s ?'", "SELECT '?', $1 FROM t WHERE a = 'it''s ?'", 1],
      ['SELECT "we?ird" FROM t WHERE x = ?', 'SELECT "we?ird" FROM t WHERE x = $1', 1],
      ['SELECT ? -- why?\n, ?', 'SELECT $1 -- why?\n, $2', 2],
      ['SELECT /* a ? /* nested ? */ still? */ ?', 'SELECT /* a ? /* nested ? */ still? */ $1', 1],
      ["SELECT E'\\'?', ?", "SELECT E'\\'?', $1", 1],
      ['SELECT $$ ? $$, $tag$ ?$ $tag$, ?', 'SELECT $$ ? $$, $tag$ ?$ $tag$, $1', 1],
      ['SELECT $1', 'SELECT $1', 0],
      // A name goes on through characters beyond ASCII and `$` (PostgreSQL's lexer): neither `$a$` nor `E'` starts a string there.
      ['SELECT 1 AS é$a$, ? AS b, 2 AS é$a$', 'SELECT 1 AS é$a$, $1 AS b, 2 AS é$a$', 1],
      ["SELECT 1 AS éE'?', ?", "SELECT 1 AS éE'?', $1", 1],
      ['SELECT $é$ ? $é$, ?', 'SELECT $é$ ? $é$, $1', 1],
      // A string goes on after a line break and a quote, in its own kind: E'a'\n'\'?' is one E'' string.
      ["SELECT E'a'\n'\\'?' AS v, ?", "SELECT E'a'\n'\\'?' AS v, $1", 1],
      ["SELECT e'a' -- c?\r\n\t'\\'?', ?", "SELECT e'a' -- c?\r\n\t'\\'?', $1", 1],
      ["SELECT 'a'\n'b?' AS v, ?", "SELECT 'a'\n'b?' AS v, $1", 1],
      // $n stands apart from the characters of a name or number next to it.
      ['SELECT ?a, ?1, b?, ??, ?é$, ?$a$x$a$', 'SELECT $1 a, $2 1, b $3, $4 $5, $6 é$, $7 $a$x$a$', 7],
    ];
    for (const [input, sql, count] of cases) {
      const r = rewritePlaceholders(input);
      assert.deepEqual({ sql: r.sql, count: r.count, statements: r.statements }, { sql, count, statements: 1 }, input);
    }
  });

  test('statements are counted as the server splits them', { timeout: 5_000 }, () => {
    const cases: Array<[string, number]> = [
      ['SELECT 1', 1],
      ['SELECT 1;', 1],
      [';; ;', 0],
      ['-- only a comment\n/* and another; */', 0],
      ["SELECT ';' AS a -- ;\n, $x$;$x$ /* ; */", 1],
      ['SELECT 1; INSERT INTO t VALUES (1)', 2],
      ['(SELECT 1);VALUES (2);;TABLE t', 3],
      ["SELECT E'\\';'; SELECT 2", 2],
    ];
    for (const [input, n] of cases) assert.equal(rewritePlaceholders(input).statements, n, input);
  });

  test('transaction control at the start of a statement is noted; strings, function bodies and BEGIN ATOMIC are not control', { timeout: 5_000 }, () => {
    const cases: Array<[string, string | undefined]> = [
      ['COMMIT', 'COMMIT'],
      ['/* c */ end', 'END'],
      ['start transaction', 'START'],
      ["PREPARE TRANSACTION 'x'", 'PREPARE'],
      ['PREPARE p AS SELECT 1', undefined],
      ['INSERT INTO t VALUES (?); ROLLBACK', 'ROLLBACK'],
      ["SELECT 'commit'; SELECT x AS begin FROM t", undefined],
      ['CREATE FUNCTION f() RETURNS int AS $$ BEGIN RETURN 1; END $$ LANGUAGE plpgsql', undefined],
      ['CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); INSERT INTO t VALUES (2); END', undefined],
      ['CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC SELECT 1; END; COMMIT', 'COMMIT'],
      // The words BEGIN ATOMIC outside a function's header open no body.
      ['SELECT begin atomic FROM (SELECT 1 AS begin) s; BEGIN', 'BEGIN'],
      ['CREATE TABLE x AS SELECT begin atomic FROM (SELECT 1 AS begin) s; END', 'END'],
      // A comment may stand between START or PREPARE and TRANSACTION.
      ['START/**/TRANSACTION', 'START'],
      ['start -- why?\ntransaction isolation level serializable', 'START'],
      ["PREPARE/* */TRANSACTION 'x'", 'PREPARE'],
      // An empty BEGIN ATOMIC body ends at once; `begin atomic` in parentheses names an argument (or column) of type atomic.
      ['CREATE FUNCTION f() RETURNS void LANGUAGE sql BEGIN ATOMIC END; END', 'END'],
      ['CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC/**/END;/**/end', 'END'],
      ['CREATE FUNCTION f(begin atomic) RETURNS int LANGUAGE sql RETURN 1; END', 'END'],
      ['CREATE FUNCTION f() RETURNS TABLE (begin atomic) LANGUAGE sql RETURN 1; END', 'END'],
      ['CREATE FUNCTION f(a int DEFAULT 1) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN a > 0 THEN 1 END; END', undefined],
      // However many words the header has.
      [`CREATE FUNCTION f(${Array.from({ length: 40 }, (_, i) => `a${i} int`).join(', ')}) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; END`, undefined],
      // E'a' continued on the next line: `\'` escapes a quote there, so the string ends before `;`.
      ["SELECT E'a'\n'\\'';COMMIT;--'", 'COMMIT'],
      ["SELECT E'a'\n'\\';COMMIT;--'", undefined],
    ];
    for (const [input, control] of cases) assert.equal(rewritePlaceholders(input).control, control, input);
  });
});

test('a server that cannot be reached is BOLT_HOST_UNREACHABLE, without the password (no server needed)', { timeout: 30_000 }, async () => {
  for (const url of ['postgres://bolt:Sup3rS3cret@127.0.0.1:1/x', 'postgres://bolt:Sup3rS3cret@no-such-host.invalid:5432/x']) {
    await assert.rejects(openPostgres(url, { connectionTimeoutMs: 5000 }), (err: unknown) => {
      assert.ok(hasCode(err, 'BOLT_HOST_UNREACHABLE'), String(err));
      assert.match(err.message, /^Cannot reach PostgreSQL at postgres:\/\/bolt@/);
      assert.doesNotMatch(err.message + JSON.stringify(err.details), /Sup3rS3cret/);
      return true;
    });
  }
});

test('TLS asked of a server without it is BOLT_HOST_UNREACHABLE saying so, not a SQL error', { timeout: 30_000, skip: SKIP }, async () => {
  const u = new URL(URL_!);
  u.searchParams.set('sslmode', 'require');
  await assert.rejects(openPostgres(u.toString(), { connectionTimeoutMs: 5000 }), (err: unknown) => {
    assert.ok(hasCode(err, 'BOLT_HOST_UNREACHABLE'), String(err));
    assert.equal(err.details.tls, true);
    assert.match(err.message, /TLS connection.*does not support SSL.*sslmode/);
    return true;
  });
});

describe('postgres adapter', { skip: SKIP }, () => {
  test('COMMIT or ROLLBACK sent as SQL is refused before it runs: a failed transaction stores nothing', { timeout: 30_000 }, async (t) => {
    const { db } = await fresh(t);
    await db.execute('CREATE TABLE ct (v TEXT)');
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.execute("INSERT INTO ct VALUES ('tx1')");
        await assert.rejects(tx.execute('COMMIT'), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
        throw new Error('the caller gives up');
      }),
      /the caller gives up/,
    );
    await assert.rejects(db.execute("INSERT INTO ct VALUES ('m1'); ROLLBACK"), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
    const s = await db.session();
    await s.begin();
    await s.execute("INSERT INTO ct VALUES ('s1')");
    await assert.rejects(s.execute('COMMIT'), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
    await s.rollback();
    await s.close();
    assert.deepEqual(await db.query('SELECT v FROM ct'), [], 'the COMMIT sent as SQL had stored tx1');
    await db.execute('CREATE FUNCTION two() RETURNS void LANGUAGE sql BEGIN ATOMIC INSERT INTO ct VALUES (1); INSERT INTO ct VALUES (2); END');
    await db.execute('SELECT two()');
    assert.equal((await db.query('SELECT count(*)::int AS n FROM ct'))[0]!.n, 2);
  });

  test('the password never shows in location, errors, stats or logs', { timeout: 30_000 }, async (t) => {
    const secret = 'sekret-Pa55';
    const dir = tempDir(t);
    const logFile = join(dir, 'bolt.log');
    const child = spawnChild(t, process.execPath, [CHILD, withPassword(URL_!, secret)], { env: { BOLT_LOG_LEVEL: 'debug', BOLT_LOG_FILE: logFile } });
    await child.waitForLine('done');
    assert.equal((await child.exited).code, 0, child.stderr());
    const out = child.stdout();
    assert.match(out, /location postgres:\/\/bolt@/);
    assert.match(out, /BOLT_SQL/);
    assert.match(out, /BOLT_POOL_TIMEOUT/);
    const log = readFileSync(logFile, 'utf8');
    assert.match(log, /still held/, 'the close warning was logged');
    for (const [what, text] of [
      ['stdout', out],
      ['stderr', child.stderr()],
      ['log', log],
    ] as const) {
      assert.ok(!text.includes(secret), `${what} contains the password`);
    }
    // A connection failure's message does not carry it either.
    const bad = new URL(withPassword(URL_!, secret));
    bad.port = '1';
    const err = await openPostgres(bad.toString(), { connectionTimeoutMs: 2_000 }).then(
      () => assert.fail('connecting to port 1 should fail'),
      (e: unknown) => e,
    );
    assert.ok(hasCode(err, 'BOLT_HOST_UNREACHABLE'), String(err));
    assert.ok(!JSON.stringify(err).includes(secret) && !(err as Error).message.includes(secret));
  });

  test("the URL's own options (libpq `options`) are kept next to the schema's search_path", { timeout: 20_000 }, async (t) => {
    const u = new URL(URL_!);
    u.searchParams.set('options', '-c lock_timeout=1234');
    const { db } = await fresh(t);
    const schema = (await db.query<{ s: string }>('SELECT current_schema() AS s'))[0]!.s;
    const both = await openPostgres(u.toString(), { schema, maxConnections: 1 });
    t.after(() => both.close());
    assert.deepEqual(await both.query('SELECT current_schema() AS s, current_setting(?) AS lt', ['lock_timeout']), [{ s: schema, lt: '1234ms' }]);
  });

  test('statement_timeout cancels long statements with a typed error', { timeout: 20_000 }, async (t) => {
    const { db } = await fresh(t, { statementTimeoutMs: 100 });
    await assert.rejects(db.query('SELECT pg_sleep(2)'), (err) => hasCode(err, 'BOLT_SQL') && err.details.timeout === true && err.details.sqlstate === '57014');
    assert.deepEqual(await db.query('SELECT 1 AS ok'), [{ ok: 1 }]);
  });

  test('isolation: repeatable read by default, configurable per database and per transaction', { timeout: 20_000 }, async (t) => {
    const { db, open } = await fresh(t);
    const show = async (d: Database, opts?: object): Promise<unknown> =>
      await d.transaction(async (tx) => (await tx.query<{ l: string }>("SELECT current_setting('transaction_isolation') AS l"))[0]!.l, opts);
    assert.equal(await show(db), 'repeatable read');
    assert.equal(await show(db, { isolation: 'serializable' }), 'serializable');
    assert.equal(await show(await open({ isolation: 'read committed' })), 'read committed');
    await assert.rejects(show(db, { isolation: 'chaos' }), (err) => hasCode(err, 'BOLT_BAD_INPUT'));
    await assert.rejects(db.query('SELECT ?', [1, 2]), (err) => hasCode(err, 'BOLT_BAD_INPUT'));
  });

  test('a deadlock (40P01) aborts one transaction, which is re-run; both complete', { timeout: 30_000 }, async (t) => {
    const { db } = await fresh(t, { maxConnections: 4 });
    await db.execute('CREATE TABLE r (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
    await db.execute('INSERT INTO r (id, n) VALUES (1, 0), (2, 0)');
    let arrived = 0;
    let release!: () => void;
    const barrier = new Promise<void>((r) => (release = r));
    let runs = 0;
    const crossing = (first: number, second: number) =>
      db.transaction(
        async (tx) => {
          runs++;
          await tx.execute('UPDATE r SET n = n + 1 WHERE id = ?', [first]);
          if (++arrived === 2) release();
          await barrier;
          await tx.execute('UPDATE r SET n = n + 1 WHERE id = ?', [second]);
        },
        { isolation: 'read committed' } as object,
      );
    await Promise.all([crossing(1, 2), crossing(2, 1)]);
    assert.equal(runs, 3, 'exactly one of them was re-run');
    assert.deepEqual(await db.query('SELECT id, n FROM r ORDER BY id'), [
      { id: 1, n: 2 },
      { id: 2, n: 2 },
    ]);
    assert.ok((db.stats().queries as number) > 0);
  });

  test('describePostgres: server, schema, tables with exact counts, connected sessions', { timeout: 20_000 }, async (t) => {
    const { db } = await fresh(t);
    await db.execute('CREATE TABLE described (id INTEGER PRIMARY KEY)');
    await db.insertMany(
      'described',
      ['id'],
      Array.from({ length: 123 }, (_, i) => [i]),
    );
    const d = await describePostgres(db);
    assert.match(d.serverVersion, /^\d+/);
    assert.match(d.schema, /^bolt_pg_/);
    assert.deepEqual(
      d.tables.find((x) => x.name === 'described'),
      { name: 'described', rows: 123 },
    );
    assert.ok(d.tables.some((x) => x.name === 'bolt_requests'));
    assert.ok(
      d.connections.some((c) => c.application === 'bolt' && c.count >= 1),
      JSON.stringify(d.connections),
    );
    assert.equal(d.location, db.location);
  });

  test('pruneRequests forgets request ids past their keeping time (24 h; generated ids 10 min)', { timeout: 20_000 }, async (t) => {
    const { db } = await fresh(t);
    await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    await db.execute('INSERT INTO t (id) VALUES (1)', [], { requestId: 'recent' });
    await db.execute(
      "INSERT INTO bolt_requests (id, rows_changed, auto, recorded_at) VALUES ('old', 1, false, now() - interval '25 hours'), ('auto:old', 1, true, now() - interval '11 minutes'), ('auto:new', 1, true, now() - interval '1 minute')",
    );
    assert.equal(await (db as PostgresDatabase).pruneRequests(), 2);
    assert.deepEqual(await db.query('SELECT id FROM bolt_requests ORDER BY id'), [{ id: 'auto:new' }, { id: 'recent' }]);
  });

  test('FOR UPDATE SKIP LOCKED: two handles claim disjoint rows', { timeout: 20_000 }, async (t) => {
    const { db, open } = await fresh(t, { maxConnections: 4 });
    const other = await open({ maxConnections: 4 });
    await db.execute('CREATE TABLE jobs (id INTEGER PRIMARY KEY, owner TEXT)');
    await db.insertMany(
      'jobs',
      ['id'],
      Array.from({ length: 40 }, (_, i) => [i]),
    );
    const claim = (h: Database, who: string) =>
      h.query<{ id: number }>(
        'UPDATE jobs SET owner = ? WHERE id IN (SELECT id FROM jobs WHERE owner IS NULL ORDER BY id LIMIT 5 FOR UPDATE SKIP LOCKED) RETURNING id',
        [who],
      );
    const claimed: number[] = [];
    for (let round = 0; round < 4; round++) {
      const [a, b] = await Promise.all([claim(db, 'a'), claim(other, 'b')]);
      claimed.push(...a.map((r) => r.id), ...b.map((r) => r.id));
    }
    assert.equal(claimed.length, 40);
    assert.equal(new Set(claimed).size, 40, 'no row claimed twice');
  });
});

test(
  'the server ending a session’s connection between statements does not end the process; the session fails typed, the handle serves on',
  { timeout: 30_000, skip: PG_SKIP },
  async (t) => {
    const { db } = await fresh(t);
    const s = await db.session({ name: 'held' });
    t.after(() => s.close());
    const [{ pid }] = (await s.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
    // Another connection ends it: the session's idle client gets the server's error (57P01).
    await db.query('SELECT pg_terminate_backend(?)', [pid]);
    // Gone on the server; a round trip later its last message has reached this process.
    for (;;) {
      const left = await db.query('SELECT 1 FROM pg_stat_activity WHERE pid = ?', [pid]);
      if (left.length === 0) break;
    }
    await db.query('SELECT 1');
    await assert.rejects(s.query('SELECT 1 AS x'), (e) => e instanceof Error && 'code' in e && String(e.code).startsWith('BOLT_'));
    assert.deepEqual(await db.query('SELECT 1 AS x'), [{ x: 1 }]);
  },
);

test(
  'a text of several statements that starts with SELECT is not re-sent after its connection is lost: what it did may have applied',
  { timeout: 60_000, skip: PG_SKIP },
  async (t) => {
    const { db } = await fresh(t);
    const watcher = await openPostgres(URL_!, { maxConnections: 1 });
    t.after(() => watcher.close());
    await db.execute('CREATE SEQUENCE s');
    const mark = `bolt_resend_${process.pid}_${Date.now()}`;
    // The sequence's step is not undone with the lost statement's transaction: a re-send shows.
    const text = `SELECT 1 AS one; SELECT nextval('s') AS n; SELECT pg_sleep(60) /* ${mark} */`;
    const sent = db.query(text).then(
      () => 'answered',
      (e: unknown) => e,
    );
    const running = async (): Promise<number[]> =>
      (
        await watcher.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE query LIKE ? AND pid <> pg_backend_pid() AND state = 'active'`, [
          `%${mark}%`,
        ])
      ).map((r) => r.pid);
    let first: number[] = [];
    while (first.length === 0) first = await running();
    await watcher.query('SELECT pg_terminate_backend(?)', [first[0]]);
    // Either the call fails, or the text shows up again on another backend (re-sent).
    for (;;) {
      const done = await Promise.race([sent, Promise.resolve(undefined)]);
      if (done !== undefined) {
        assert.ok(hasCode(done, 'BOLT_CLOSED') || hasCode(done, 'BOLT_HOST_UNREACHABLE'), String(done));
        break;
      }
      const again = (await running()).filter((p) => p !== first[0]);
      if (again.length) {
        await watcher.query('SELECT pg_terminate_backend(?)', [again[0]]);
        assert.fail('the text was sent again after its connection was lost');
      }
    }
    const [{ n }] = (await db.query('SELECT last_value AS n FROM s')) as [{ n: number | string }];
    assert.equal(Number(n), 1, 'nextval ran once');
    // A single SELECT is still re-sent: it only reads.
    assert.deepEqual(await db.query('SELECT 2 AS two'), [{ two: 2 }]);
  },
);

test(
  '? mixed with PostgreSQL $n parameters is BOLT_BAD_INPUT; $n alone (a PREPARE) and $n in strings are left alone',
  { timeout: 30_000, skip: PG_SKIP },
  async (t) => {
    const { db } = await fresh(t);
    for (const sql of ['SELECT $1::int AS a, ?::int AS b', 'SELECT ?::int AS b WHERE $2 IS NULL']) {
      await assert.rejects(db.query(sql, [1]), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT') && /write every parameter as \?/.test((e as Error).message), sql);
    }
    assert.deepEqual(await db.query(`SELECT '$1' AS a, $x$ $2 $x$ AS b, ?::int AS c, 1 AS d$1`, [7]), [{ a: '$1', b: ' $2 ', c: 7, d$1: 1 }]);
    const s = await db.session();
    t.after(() => s.close());
    await s.execute('PREPARE twice(int) AS SELECT $1 * 2 AS v');
    assert.deepEqual(await s.query('EXECUTE twice(21)'), [{ v: 42 }]);
  },
);
