/**
 * PostgreSQL connections are pooled: a statement outside a session runs on whichever client is
 * free, and a session's or transaction's client goes back to the pool after it. A statement
 * that changes the session beyond itself (SET, LISTEN, a temporary table, a session-level
 * advisory lock) left that state for the next caller on that client: a timeout, a lock held
 * for good, a table that appeared from nowhere. Such a client is now closed when it is given
 * back; every other statement keeps its client.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { openPostgres } from '../adapters/postgres/open.js';
import type { Database } from '../core/database.js';
import { hasCode } from '../core/errors.js';
import { PG_SKIP, freshPgDatabase } from './helpers/pg.js';

const T = { timeout: 60_000, skip: PG_SKIP };

/** One pooled client, so consecutive statements outside a session share it unless it is closed. */
async function openOne(t: TestContext): Promise<Database> {
  const { tcp } = await freshPgDatabase(t, 'bolt_state');
  const db = await openPostgres(tcp, { maxConnections: 1 });
  t.after(() => db.close());
  return db;
}

const backend = async (db: Database): Promise<number> => Number((await db.query('SELECT pg_backend_pid() AS pid'))[0]!.pid);

test('a statement that changes the session does not leave that change to the next caller [postgres]', T, async (t) => {
  const db = await openOne(t);
  const defaults = await db.query(`SELECT current_setting('statement_timeout') AS timeout, current_setting('TimeZone') AS tz`);
  await db.execute(`SET statement_timeout = '1234ms'`);
  await db.query('SELECT pg_advisory_lock(42) AS locked');
  await db.execute('CREATE TEMP TABLE leftover (i integer)');
  await db.execute('LISTEN somewhere');
  await db.query(`SELECT set_config('TimeZone', 'Asia/Kolkata', false) AS tz`);
  // Quoted names, DO blocks (whose bodies Bolt cannot read), SELECT INTO and pg_temp.
  await db.query(`SELECT "set_config"('statement_timeout', '1234', false) AS t`);
  await db.execute(`DO $$BEGIN PERFORM set_config('search_path', 'evil', false); END$$`);
  await db.execute(`DO $$BEGIN PERFORM pg_advisory_lock(77); END$$`);
  await db.query(`SELECT "pg_advisory_lock"(78) AS locked`);
  await db.execute('SELECT 1 AS a INTO TEMP into_temp');
  await db.execute('CREATE TABLE pg_temp.qualified (a integer)');
  await db.execute(`DO $$BEGIN EXECUTE 'PREPARE pq AS SELECT 1'; EXECUTE 'LISTEN elsewhere'; END$$`);
  // EXPLAIN ANALYZE runs what it explains.
  await db.query('EXPLAIN ANALYZE CREATE TEMP TABLE explained AS SELECT 1 AS a');
  await db.query('EXPLAIN (ANALYZE, COSTS off) CREATE TEMPORARY TABLE explained2 AS SELECT 1 AS a');
  // Other spellings: comments, OR REPLACE, LOCAL, U&"…" names, pg_settings (its UPDATE calls set_config).
  await db.execute('SELECT 1 AS a INTO LOCAL TEMP into_local');
  await db.execute('CREATE/**/TEMP TABLE commented (a integer)');
  await db.query('EXPLAIN (ANALYZE) CREATE/**/TEMP TABLE explained3 AS SELECT 1 AS a');
  await db.execute('CREATE OR REPLACE TEMP VIEW replaced AS SELECT 1 AS a');
  await db.query(`SELECT U&"set\\005fconfig"('statement_timeout', '1234', false) AS t`);
  await db.query('SELECT U&"pg\\005fadvisory\\005flock"(43) AS locked');
  await db.execute(`UPDATE pg_settings SET setting = '1234' WHERE name = 'statement_timeout'`);
  // BEGIN ATOMIC outside a function's header: the SET after it is still seen.
  await db.execute(`SELECT begin atomic FROM (SELECT 1 AS begin) s; SET search_path = evil`);
  // INTO TEMP after many words (the scanner kept a statement's first 64 words only).
  await db.execute(`SELECT ${Array.from({ length: 70 }, (_, i) => `1 AS c${i}`).join(', ')} INTO TEMP wide`);
  assert.deepEqual(await db.query(`SELECT current_setting('statement_timeout') AS timeout, current_setting('TimeZone') AS tz`), defaults);
  assert.deepEqual(await db.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`), [{ n: 0 }], 'no advisory lock held');
  assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM pg_listening_channels()'), [{ n: 0 }]);
  assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM pg_prepared_statements WHERE from_sql'), [{ n: 0 }]);
  assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM pg_class WHERE relnamespace = pg_my_temp_schema()'), [{ n: 0 }]);
  assert.doesNotMatch(String((await db.query(`SELECT current_setting('search_path') AS p`))[0]!.p), /evil/);
  // Settings whose names start with local or transaction (to PostgreSQL no word ends before `$` or `é`).
  await db.execute(`SET local$x.y = 'left'`);
  await db.execute(`SET transactioné.y = 'left'`);
  assert.deepEqual(await db.query(`SELECT current_setting('local$x.y', true) AS a, current_setting('transactioné.y', true) AS b`), [{ a: null, b: null }]);
  await assert.rejects(db.query('SELECT * FROM leftover'), (e: unknown) => hasCode(e, 'BOLT_SQL'));

  // A session, and a transaction, keep what they set while they last; the pool does not.
  const s = await db.session();
  try {
    await s.execute(`SET TIME ZONE 'Asia/Kolkata'`);
    assert.deepEqual(await s.query(`SELECT current_setting('TimeZone') AS tz`), [{ tz: 'Asia/Kolkata' }]);
  } finally {
    await s.close();
  }
  await db.transaction(async (tx) => {
    await tx.execute(`SET search_path = nowhere`);
  });
  assert.deepEqual(await db.query(`SELECT current_setting('TimeZone') AS tz`), [{ tz: defaults[0]!.tz }]);
  assert.notEqual((await db.query(`SELECT current_setting('search_path') AS p`))[0]!.p, 'nowhere');
});

test('statements that leave the session as it was keep their client [postgres]', T, async (t) => {
  const db = await openOne(t);
  await db.execute('CREATE TABLE kept (i integer, note text)');
  const pid = await backend(db);
  await db.execute(`INSERT INTO kept VALUES (1, 'SET statement_timeout = 1')`);
  await db.execute(`UPDATE kept SET note = 'reset' WHERE i = 1`);
  await db.query(`SELECT pg_advisory_xact_lock(7), 'LISTEN x' AS quoted -- SET x = 1`);
  await db.transaction((tx) => tx.execute(`SET LOCAL statement_timeout = '5s'`));
  assert.equal(await backend(db), pid, 'the same client served them all');
});

test('COPY through the client stream is BOLT_BAD_INPUT, not a statement the server cancelled [postgres]', T, async (t) => {
  const db = await openOne(t);
  await db.execute('CREATE TABLE copied (i integer)');
  for (const sql of ['COPY copied FROM STDIN', 'COPY copied TO STDOUT', '/* c */ COPY (SELECT 1) TO stdout WITH (FORMAT csv)']) {
    await assert.rejects(db.query(sql), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT') && /data stream/.test((e as Error).message), sql);
  }
  assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM copied'), [{ n: 0 }]);
});

test('a database whose strings take backslash escapes (standard_conforming_strings off) is read as Bolt reads it [postgres]', T, async (t) => {
  const { tcp } = await freshPgDatabase(t, 'bolt_scs');
  const name = new URL(tcp).pathname.slice(1);
  const admin = await openPostgres(tcp, { maxConnections: 1 });
  await admin.execute(`ALTER DATABASE ${name} SET standard_conforming_strings = off`);
  await admin.close();
  // With the setting off the server would read 'a\' AS v, ' as one string holding the ?.
  const db = await openPostgres(tcp, { maxConnections: 1 });
  t.after(() => db.close());
  assert.deepEqual(await db.query(`SELECT 'a\\' AS v, ?::text AS w`, ['b']), [{ v: 'a\\', w: 'b' }]);
  assert.deepEqual(await db.query(`SELECT current_setting('standard_conforming_strings') AS s`), [{ s: 'on' }]);
});
