/**
 * The DuckDB host's connections are shared: a pooled connection serves one caller's statement,
 * then the next caller's, and a session's goes back to the pool when it closes. Nothing a caller
 * runs may change them for the others: SET, RESET, USE, PRAGMA, ATTACH, DETACH, LOAD and PREPARE
 * are refused (`SET threads` and `SET GLOBAL memory_limit` changed the whole instance, `SET
 * disabled_optimizers` could undo the host's own settings, an ATTACHed file was every caller's),
 * and a connection that may hold temporary objects is closed after
 * use instead of being lent again: once the background fetch of its last COMMIT has ended, since
 * closing a connection under that fetch deadlocked the process.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import type { Database } from '../core/database.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';

const T = { timeout: 30_000 };

/** One pooled connection, so every statement outside a session runs on the same one. */
async function openOne(t: TestContext): Promise<Database> {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 's.db'), { maxConnections: 1 });
  t.after(() => db.close());
  return db;
}

const SETTINGS = `SELECT current_setting('threads') AS threads, current_setting('memory_limit') AS mem, current_setting('disabled_optimizers') AS off, current_setting('TimeZone') AS tz`;

test('SET, RESET, USE and PRAGMA are BOLT_BAD_INPUT, alone and in a session, and change nothing', T, async (t) => {
  const db = await openOne(t);
  const before = await db.query(SETTINGS);
  const statements = [
    'SET threads = 1',
    'SET GLOBAL memory_limit = ' + "'64MB'",
    "SET disabled_optimizers = ''",
    "SET TimeZone = 'Pacific/Chatham'",
    'RESET threads',
    'PRAGMA threads = 1',
    'PRAGMA disable_optimizer',
    'USE memory',
    "SELECT 1; SET TimeZone = 'Pacific/Chatham'",
    // A script whose later statements DuckDB prepares only once the earlier ones ran.
    'CREATE TABLE made (a INTEGER); SELECT * FROM made; SET GLOBAL threads = 1',
    'CREATE TABLE made2 (a INTEGER); SELECT * FROM made2; PRAGMA disable_optimizer',
    "ATTACH ':memory:' AS other",
    'DETACH memory',
    'LOAD json',
    'PREPARE p AS SELECT 1',
  ];
  const refused = (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT') && /are not run through Bolt/.test((e as Error).message);
  for (const sql of statements) await assert.rejects(db.execute(sql), refused, sql);
  const s = await db.session();
  try {
    for (const sql of statements) await assert.rejects(s.execute(sql), refused, `session: ${sql}`);
    await s.begin();
    await assert.rejects(s.execute('SET threads = 1'), refused);
    await s.rollback();
  } finally {
    await s.close();
  }
  assert.deepEqual(await db.query(SETTINGS), before);
  assert.deepEqual(await db.query(`SELECT database_name FROM duckdb_databases() WHERE NOT internal ORDER BY 1`, [], { values: 'js' }), [
    { database_name: 's' },
  ]);
  assert.deepEqual(await db.query(`SELECT table_name FROM duckdb_tables() WHERE table_name LIKE 'made%'`), [], 'the scripts wrote nothing');
  // The read-like pragmas are SELECTs to DuckDB and still answer.
  await db.execute('CREATE TABLE kept (i INTEGER)');
  assert.deepEqual(
    (await db.query(`PRAGMA table_info('kept')`)).map((r) => r.name),
    ['i'],
  );
});

test('switches of the whole instance (logging, profiling, the parser) and secrets are BOLT_BAD_INPUT, and change nothing', T, async (t) => {
  const dir = tempDir(t);
  const db = await openOne(t);
  const state = `SELECT (SELECT string_agg(name || '=' || coalesce(value, ''), ',' ORDER BY name) FROM duckdb_settings()) AS settings, (SELECT count(*) FROM duckdb_secrets()) AS secrets`;
  const before = await db.query(state);
  const statements = [
    // Logging is the instance's: it records every caller's statements, which anyone could then read in duckdb_logs.
    "CALL enable_logging(storage = 'file', storage_path = '" + join(dir, 'logs') + "')",
    'CALL enable_logging()',
    'SELECT * FROM enable_logging()',
    'SELECT * FROM "enable_logging"()',
    'SELECT * FROM system.main.enable_logging /* x */ ()',
    'CALL disable_logging()',
    'CALL truncate_duckdb_logs()',
    // Profiling stays on the pooled connection and prints every later statement's plan in the host.
    'CALL enable_profiling()',
    'CALL disable_profiling()',
    // The parser switch sets allow_parser_override_extension for every connection.
    'CALL enable_peg_parser()',
    'CALL disable_peg_parser()',
    // Secrets live in the instance (every caller's), persistent ones in a file under the home directory.
    "CREATE SECRET s1 (TYPE http, BEARER_TOKEN 'x')",
    "CREATE OR REPLACE TEMPORARY SECRET s2 (TYPE http, BEARER_TOKEN 'x')",
    "CREATE /* a /* nested */ comment */ PERSISTENT SECRET s3 (TYPE http, BEARER_TOKEN 'x')",
    "SELECT 1; -- /*\ncreate secret s4 (TYPE http, BEARER_TOKEN 'x'); SELECT '*/'",
    'DROP SECRET s1',
    'DROP PERSISTENT SECRET IF EXISTS s3',
  ];
  const refused = (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT') && /not run through Bolt/.test((e as Error).message);
  for (const sql of statements) await assert.rejects(db.execute(sql), refused, sql);
  const s = await db.session();
  try {
    for (const sql of statements) await assert.rejects(s.execute(sql), refused, `session: ${sql}`);
  } finally {
    await s.close();
  }
  assert.deepEqual(await db.query(state), before, 'no setting changed, no secret made');
  assert.equal(existsSync(join(dir, 'logs')), false, 'no log directory made');
  // Names and words that only look alike still run.
  await db.execute("CREATE TABLE secret (enable_logging VARCHAR); INSERT INTO secret VALUES ('CALL enable_logging')");
  assert.deepEqual(await db.query('SELECT enable_logging FROM secret'), [{ enable_logging: 'CALL enable_logging' }]);
  await db.execute('DROP TABLE secret');
});

test('temporary objects do not outlive the statement or session that made them', T, async (t) => {
  const db = await openOne(t);
  const gone = (e: unknown) => hasCode(e, 'BOLT_SQL') && /does not exist/.test((e as Error).message);
  await db.execute('CREATE TEMP TABLE alone (i INTEGER)');
  await assert.rejects(db.query('SELECT * FROM alone'), gone, 'the next caller on that connection does not see it');
  await db.execute('CREATE TEMP MACRO twice(x) AS x * 2');
  await assert.rejects(db.query('SELECT twice(2) AS n'), (e: unknown) => hasCode(e, 'BOLT_SQL'));

  const s = await db.session();
  try {
    await s.execute('CREATE TEMP TABLE mine (i INTEGER)');
    await s.execute('INSERT INTO mine VALUES (1), (2)');
    assert.deepEqual(await s.query('SELECT count(*)::INTEGER AS n FROM mine'), [{ n: 2 }], 'the session sees its own');
  } finally {
    await s.close();
  }
  await assert.rejects(db.query('SELECT * FROM mine'), gone, 'gone with the session');
  // The pool still serves after closing those connections.
  assert.deepEqual(await db.query('SELECT 42::INTEGER AS n'), [{ n: 42 }]);
});

test('CREATE scripts one after another: each connection closed after one is closed without deadlocking', T, async (t) => {
  // A script runs in a transaction whose COMMIT result is fetched in the background; closing its
  // connection at once deadlocked DuckDB's thread and the process with it (this loop hung).
  const db = await openOne(t);
  for (let i = 0; i < 100; i++) {
    await db.execute(`CREATE TABLE t${i} (i INTEGER); INSERT INTO t${i} VALUES (${i})`);
    await db.execute(`CREATE TABLE u${i} (i INTEGER)`);
  }
  assert.deepEqual(await db.query('SELECT i FROM t99', [], { values: 'js' }), [{ i: 99 }]);
});
