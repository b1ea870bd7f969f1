/**
 * Exact values (README "Types"): on every engine, a value read with `query()` and passed back
 * as a parameter compares equal to the original (`CAST(? AS <type>) IS NOT DISTINCT FROM
 * <original>`), extremes and NULLs included; DuckDB — in the host process, in a client process
 * and in a worker thread — and PostgreSQL return the same JS value for the same SQL value; the
 * opt-in `values: 'js'` mode gives Dates truncated toward the past and numbers.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import type { Database, Row } from '../core/database.js';
import { tempDir } from './helpers/tmp.js';
import { spawnAgent, spawnWorkerAgent } from './helpers/agents.js';
import { PG_SKIP, freshPgDatabase } from './helpers/pg.js';
import { BOTH, DUCKDB_ONLY, POSTGRES_ONLY, literal, type ValueCase } from './fixtures/exact-values.js';

type Query = (sql: string, params?: unknown[]) => Promise<Row[]>;

/** Reads every value of `cases` and checks it round-trips; returns the values read, by "type literal". */
async function roundTrip(query: Query, cases: ValueCase[], where: string): Promise<Map<string, unknown>> {
  const read = new Map<string, unknown>();
  for (const c of cases) {
    for (const v of c.values) {
      const lit = literal(c.type, v);
      const [row] = await query(`SELECT ${lit} AS v`);
      const value = row!.v;
      const [check] = await query(`SELECT CAST(? AS ${c.type}) IS NOT DISTINCT FROM ${lit} AS same`, [value]);
      // SQLite answers 1 for true.
      assert.ok(check!.same === true || check!.same === 1, `${where}: ${c.type} ${String(v)} read as ${String(value)} did not come back equal`);
      read.set(`${c.type} ${String(v)}`, value);
    }
  }
  return read;
}

async function duckdb(t: TestContext): Promise<{ db: Database; path: string }> {
  const path = join(tempDir(t), 'values.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  return { db, path };
}

test('DuckDB: every value round-trips, in the host process, a client process and a worker thread, with the same JS values', { timeout: 120_000 }, async (t) => {
  const { db, path } = await duckdb(t);
  const cases = [...BOTH, ...DUCKDB_ONLY];
  const local = await roundTrip((sql, params) => db.query(sql, params), cases, 'host process');
  const proc = await spawnAgent(t, path);
  const worker = await spawnWorkerAgent(t, path);
  await proc.call('open');
  await worker.call('open');
  const viaProc = await roundTrip((sql, params) => proc.call('query', { sql, params }) as Promise<Row[]>, cases, 'client process');
  const viaWorker = await roundTrip((sql, params) => worker.call('query', { sql, params }) as Promise<Row[]>, cases, 'worker thread');
  assert.deepStrictEqual(viaProc, local);
  assert.deepStrictEqual(viaWorker, local);
  await proc.call('close');
  await worker.call('close');

  // The values the issue found wrong, as they come back now.
  const [r] = await db.query(
    "SELECT TIMESTAMP '1969-12-31 23:59:59.999999' AS a, TIMESTAMP '2024-01-01 12:00:00.123456' AS b, 'infinity'::TIMESTAMP AS c, '-infinity'::DATE AS d, 12345678901234567890.123456789::DECIMAL(38,9) AS e, CAST('-0' AS DOUBLE) AS z",
  );
  assert.deepStrictEqual(r, {
    a: '1969-12-31 23:59:59.999999',
    b: '2024-01-01 12:00:00.123456',
    c: 'infinity',
    d: '-infinity',
    e: '12345678901234567890.123456789',
    z: -0,
  });
});

test('DuckDB: nested values and RETURNING rows are exact; sessions and transactions too', { timeout: 60_000 }, async (t) => {
  const { db } = await duckdb(t);
  await db.execute('CREATE TABLE t (id INTEGER, ts TIMESTAMP, d DECIMAL(20,4))');
  const rows = await db.query("INSERT INTO t VALUES (1, '2024-05-06 07:08:09.123456', 1234567890123456.0001) RETURNING ts, d");
  assert.deepStrictEqual(rows, [{ ts: '2024-05-06 07:08:09.123456', d: '1234567890123456.0001' }]);
  // Written back as read: the row is found by its exact values.
  const [found] = await db.query('SELECT count(*) AS n FROM t WHERE ts = ? AND d = ?', [rows[0]!.ts, rows[0]!.d]);
  assert.equal(found!.n, 1n);
  const s = await db.session();
  t.after(() => s.close());
  assert.deepStrictEqual(await s.query('SELECT ts FROM t'), [{ ts: '2024-05-06 07:08:09.123456' }]);
  const inTx = await db.transaction((tx) => tx.query('SELECT d FROM t'));
  assert.deepStrictEqual(inTx, [{ d: '1234567890123456.0001' }]);
});

test('values: "js" gives Dates truncated toward the past and numbers, per query, session, transaction and database', { timeout: 60_000 }, async (t) => {
  const { db, path } = await duckdb(t);
  const sql =
    "SELECT TIMESTAMP '1969-12-31 23:59:59.999999' AS a, DATE '2024-02-29' AS b, 'infinity'::TIMESTAMP AS c, 1.5::DECIMAL(10,2) AS d, 42::BIGINT AS e, 18446744073709551615::UBIGINT AS f, TIMESTAMPTZ '2024-01-01 12:00:00.9999+05:30' AS g";
  const want = {
    a: new Date('1969-12-31T23:59:59.999Z'),
    b: new Date('2024-02-29T00:00:00.000Z'),
    c: 'infinity',
    d: 1.5,
    e: 42,
    f: 18446744073709551615n,
    g: new Date('2024-01-01T06:30:00.999Z'),
  };
  assert.deepStrictEqual((await db.query(sql, [], { values: 'js' }))[0], want);
  const s = await db.session({ values: 'js' });
  t.after(() => s.close());
  assert.deepStrictEqual((await s.query(sql))[0], want);
  // A statement's own option wins over its session's.
  assert.equal((await s.query(sql, [], { values: 'exact' }))[0]!.a, '1969-12-31 23:59:59.999999');
  assert.deepStrictEqual(await db.transaction(async (tx) => (await tx.query(sql, [], { values: 'js' }))[0]), want);
  const jsDb = await ConcurrentDatabase.open(path, { values: 'js' });
  t.after(() => jsDb.close());
  assert.deepStrictEqual((await jsDb.query(sql))[0], want);
  // A Date read back as a parameter selects the same day.
  assert.deepStrictEqual(await jsDb.query("SELECT CAST(? AS DATE) = DATE '2024-02-29' AS same", [want.b]), [{ same: true }]);
  // Bad modes are refused.
  await assert.rejects(db.query('SELECT 1', [], { values: 'dates' as never }), { code: 'BOLT_BAD_INPUT' });
  await assert.rejects(ConcurrentDatabase.open(path, { values: 1 as never }), { code: 'BOLT_BAD_INPUT' });
});

test('PostgreSQL: every value round-trips and comes back as DuckDB gives it', { skip: PG_SKIP, timeout: 120_000 }, async (t) => {
  const { tcp } = await freshPgDatabase(t);
  const pg = await ConcurrentDatabase.open(tcp);
  t.after(() => pg.close());
  const { db: duck } = await duckdb(t);
  const fromPg = await roundTrip((sql, params) => pg.query(sql, params), [...BOTH, ...POSTGRES_ONLY], 'PostgreSQL');
  const fromDuck = await roundTrip((sql, params) => duck.query(sql, params), BOTH, 'DuckDB');
  for (const [key, value] of fromDuck) assert.deepStrictEqual(fromPg.get(key), value, `PostgreSQL and DuckDB differ on ${key}`);
  // A session time zone does not change what a timestamptz reads as.
  const s = await pg.session();
  try {
    await s.execute("SET TIME ZONE 'Asia/Kolkata'");
    assert.deepStrictEqual(await s.query("SELECT TIMESTAMPTZ '2024-01-01 12:00:00.5+00' AS v"), [{ v: '2024-01-01 12:00:00.5+00' }]);
  } finally {
    await s.close();
  }
  // The same in 'js' mode, on both engines.
  const sql = "SELECT TIMESTAMP '1969-12-31 23:59:59.999999' AS a, DATE '2024-02-29' AS b, CAST(1.5 AS DECIMAL(10,2)) AS d, CAST(42 AS BIGINT) AS e";
  assert.deepStrictEqual(await pg.query(sql, [], { values: 'js' }), await duck.query(sql, [], { values: 'js' }));
});

test('SQLite: what SQLite stores round-trips; BLOBs are plain Uint8Arrays', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'values.sqlite');
  const db = await ConcurrentDatabase.open(path, { engine: 'sqlite' });
  t.after(() => db.close());
  const cases: ValueCase[] = [
    { type: 'INTEGER', values: ['-9223372036854775808', '9223372036854775807', '9007199254740993', '1', null] },
    { type: 'REAL', values: ['1.7976931348623157e308', '5e-324', '0.1', '-1.5'] },
    { type: 'TEXT', values: ['2024-01-01 12:00:00.123456', 'héllo 🌍', ''] },
  ];
  const read = await roundTrip((sql, params) => db.query(sql, params), cases, 'SQLite');
  assert.equal(read.get('INTEGER 9223372036854775807'), 9223372036854775807n);
  assert.equal(read.get('INTEGER 1'), 1);
  const [b] = await db.query("SELECT x'00ff' AS b");
  assert.equal(Object.getPrototypeOf(b!.b), Uint8Array.prototype);
  assert.deepStrictEqual(b!.b, new Uint8Array([0, 255]));
  assert.deepStrictEqual(await db.query("SELECT ? = x'00ff' AS same", [b!.b]), [{ same: 1 }]);
});
