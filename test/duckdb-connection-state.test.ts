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
import { existsSync, writeFileSync } from 'node:fs';
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

/** Each of `statements` is refused as `refused` says, through the handle and through a session (by `sessionCall`). */
async function refusedEverywhere(
  db: Database,
  statements: readonly string[],
  refused: (e: unknown) => boolean,
  sessionCall: 'execute' | 'query',
): Promise<void> {
  for (const sql of statements) await assert.rejects(db.execute(sql), refused, sql);
  const s = await db.session();
  try {
    for (const sql of statements) await assert.rejects(s[sessionCall](sql), refused, `session: ${sql}`);
  } finally {
    await s.close();
  }
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
    // To DuckDB's lexer (PostgreSQL's) a name goes on through characters beyond ASCII and `$`: no string starts here.
    "SELECT 1 AS é$a$; CREATE SECRET s5 (TYPE http, BEARER_TOKEN 'x'); SELECT 1 AS é$a$",
    // White space beyond ASCII's, which DuckDB takes as such (a zero-width space too).
    "CREATE\u00a0SECRET s6 (TYPE http, BEARER_TOKEN 'x')",
    "SELECT\u00a0$a$ $b$ $a$; CREATE SECRET s7 (TYPE http, BEARER_TOKEN 'x'); --$b$",
    // DuckDB turns those spaces into plain ones only outside what its own pre-pass takes for
    // quotes (which knows no block comment): here the U+00A0 stays a letter and no `$x$` string opens.
    "SELECT 1 /* ' */ AS \u00a0$x$ /* ' */; CREATE SECRET s8 (TYPE http, BEARER_TOKEN 'x'); SELECT 1 AS \"$x$\"",
    "SELECT $\u00a0$$\u00a0$ AS v; CREATE SECRET s9 (TYPE http, BEARER_TOKEN 'x')",
    "SELECT $_$\"$$_$ AS v, 1 AS\u2000b; CREATE\u2000SECRET s10 (TYPE http, BEARER_TOKEN 'x')",
    // A string continued on the next line stays an E'' string: its \' ends it before the `;`.
    "SELECT E'a'\n'\\'';CREATE SECRET s11 (TYPE http, BEARER_TOKEN 'x');--'",
    'CALL enable_logging\u200b()',
    'SELECT * FROM enable_profiling\u2060()',
    // SQL built while it runs is not seen beforehand.
    "SELECT * FROM json_execute_serialized_sql(json_serialize_sql('SELECT * FROM enable_' || 'logging()'))",
    'DROP SECRET s1',
    'DROP PERSISTENT SECRET IF EXISTS s3',
  ];
  const refused = (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT') && /not run through Bolt/.test((e as Error).message);
  await refusedEverywhere(db, statements, refused, 'execute');
  assert.deepEqual(await db.query(state), before, 'no setting changed, no secret made');
  assert.equal(existsSync(join(dir, 'logs')), false, 'no log directory made');
  // Names and words that only look alike still run.
  await db.execute("CREATE TABLE secret (enable_logging VARCHAR); INSERT INTO secret VALUES ('CALL enable_logging')");
  assert.deepEqual(await db.query('SELECT enable_logging FROM secret'), [{ enable_logging: 'CALL enable_logging' }]);
  await db.execute('DROP TABLE secret');
});

test('EXPLAIN ANALYZE runs only a query: what it would run otherwise is BOLT_BAD_INPUT, and changes nothing', T, async (t) => {
  const db = await openOne(t);
  await db.execute('CREATE TABLE kept (i INTEGER)');
  const state =
    "SELECT (SELECT string_agg(name || '=' || coalesce(value, ''), ',' ORDER BY name) FROM duckdb_settings()) AS settings, " +
    "(SELECT count(*) FROM duckdb_variables()) AS variables, (SELECT count(*) FROM duckdb_tables() WHERE temporary OR table_name = 'made') AS tables, " +
    '(SELECT count(*) FROM duckdb_sequences()) AS sequences';
  const before = await db.query(state);
  const statements = [
    'EXPLAIN ANALYZE SET threads = 1',
    "EXPLAIN ANALYZE SET disabled_optimizers = ''",
    'EXPLAIN ANALYSE SET VARIABLE x = 42',
    'EXPLAIN (ANALYZE) PRAGMA enable_profiling',
    'EXPLAIN (ANALYZE, FORMAT json) PREPARE p AS SELECT 42',
    'EXPLAIN ANALYZE CREATE TEMP TABLE tt AS SELECT 1',
    'EXPLAIN ANALYZE CREATE SEQUENCE sq',
    'EXPLAIN ANALYZE BEGIN TRANSACTION',
    'EXPLAIN ANALYZE LOAD json',
    'SELECT 1; explain /* x */ analyze set threads = 1',
    // DuckDB takes the option in other spellings (even `("analyze" false)` runs the statement) …
    'EXPLAIN ("analyze") SET threads = 1',
    'EXPLAIN ("ANALYZE" false) SET VARIABLE x = 42',
    'EXPLAIN (FORMAT json, "Analyze" true) PREPARE p AS SELECT 1',
    // … and more white space than ASCII's.
    'EXPLAIN ANALYZE\u00a0SET threads = 1',
    'EXPLAIN\u2003ANALYZE BEGIN',
    'SELECT $\u00a0$$\u00a0$ AS v; EXPLAIN ANALYZE BEGIN',
    'EXPLAIN ANALYZE WITH x AS (SELECT 1 AS a) INSERT INTO kept SELECT a FROM x',
  ];
  const refused = (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT') && /EXPLAIN ANALYZE runs the statement it explains/.test((e as Error).message);
  await refusedEverywhere(db, statements, refused, 'query');
  assert.deepEqual(await db.query(state), before, 'no setting, variable, table or sequence');
  // The next caller's write on that connection is committed: no transaction was left open on it.
  await db.execute('INSERT INTO kept VALUES (7)');
  assert.deepEqual(await db.query('SELECT i FROM kept', [], { values: 'js' }), [{ i: 7 }]);
  // A query may still be explained with ANALYZE, and anything without it.
  for (const sql of ['EXPLAIN ANALYZE SELECT 1', 'EXPLAIN (ANALYZE, FORMAT json) FROM kept', 'EXPLAIN ANALYZE (SELECT 2)', 'EXPLAIN SET threads = 1']) {
    assert.equal((await db.query(sql)).length, 1, sql);
  }
});

test('read_csv keeping its rejected rows leaves no table for the next caller; no extension is fetched', T, async (t) => {
  const dir = tempDir(t);
  const db = await openOne(t);
  const csv = join(dir, 'r.csv');
  writeFileSync(csv, 'a,b\n1,2\nx,y\n');
  const read = (opts: string) => `SELECT * FROM read_csv('${csv}', columns = {'a': 'INT', 'b': 'INT'}, header = true, ${opts})`;
  const gone = (e: unknown) => hasCode(e, 'BOLT_SQL') && /does not exist/.test((e as Error).message);
  assert.deepEqual(await db.query(read('store_rejects = true'), [], { values: 'js' }), [{ a: 1, b: 2 }]);
  await assert.rejects(db.query('SELECT * FROM reject_errors'), gone);
  assert.deepEqual(await db.query(read("rejects_table = 'mine', rejects_scan = 'scans'"), [], { readOnly: true, values: 'js' }), [{ a: 1, b: 2 }]);
  await assert.rejects(db.query('SELECT * FROM mine'), gone);
  // DuckDB would install and load httpfs for this (for every caller); it reports the extension missing instead.
  await assert.rejects(
    db.query("SELECT * FROM read_parquet('https://example.invalid/x.parquet')"),
    (e: unknown) => hasCode(e, 'BOLT_SQL') && /httpfs/.test((e as Error).message) && !/automatically install/.test((e as Error).message),
  );
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
