/**
 * `bolt mcp` without --allow-writes changes nothing, on every engine: writes hidden in CTEs,
 * COPY, ATTACH, PRAGMA, CALL, functions with side effects and second statements are refused
 * (DuckDB by prepared statement type, SQLite by `stmt.readonly` and `query_only`, PostgreSQL in
 * a read-only transaction), and the database is byte-for-byte what it was.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { ConcurrentDatabase } from '../index.js';
import type { Database } from '../core/database.js';
import { tempDir } from './helpers/tmp.js';
import { BOLT_BIN } from './helpers/cli.js';
import { PG_SKIP, freshPgDatabase } from './helpers/pg.js';

interface ToolAnswer {
  isError?: boolean;
  structuredContent?: Record<string, unknown>;
}

async function mcpClient(t: TestContext, location: string): Promise<Client> {
  const transport = new StdioClientTransport({ command: process.execPath, args: [BOLT_BIN, 'mcp', '--db', location], stderr: 'pipe' });
  const client = new Client({ name: 'bolt-test', version: '1.0.0' });
  await client.connect(transport);
  t.after(() => client.close());
  return client;
}

/** Every statement is refused, the server keeps serving, and `snapshot` reads the same after. */
async function refusesAll(client: Client, db: Database, statements: string[], snapshot: string): Promise<void> {
  const before = await db.query(snapshot);
  const allowed: string[] = [];
  for (const sql of statements) {
    const r = (await client.callTool({ name: 'query', arguments: { sql } })) as ToolAnswer;
    const code = (r.structuredContent!.error as { code: string } | undefined)?.code;
    if (!code || !/^BOLT_(READ_ONLY|BAD_INPUT|SQL)$/.test(code)) allowed.push(`${sql} → ${JSON.stringify(r.structuredContent)}`);
  }
  assert.deepEqual(allowed, [], 'every statement refused');
  assert.deepEqual(await db.query(snapshot), before, 'nothing changed');
  const ok = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT 1 AS one' } })) as ToolAnswer;
  assert.deepEqual(ok.structuredContent?.rows, [{ one: 1 }]);
}

test('SQLite: bolt mcp without --allow-writes refuses every hidden write', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'a.sqlite');
  const db = await ConcurrentDatabase.open(path, { engine: 'sqlite' });
  t.after(() => db.close());
  await db.execute('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
  await db.execute("INSERT INTO notes VALUES (1, 'hello')");
  const client = await mcpClient(t, path);
  const other = join(dir, 'other.sqlite');
  await refusesAll(
    client,
    db,
    [
      "INSERT INTO notes VALUES (2, 'x')",
      "WITH x AS (SELECT 1) INSERT INTO notes SELECT 3, 'cte' FROM x",
      "INSERT INTO notes VALUES (4, 'returning') RETURNING id",
      'UPDATE notes SET body = NULL',
      `ATTACH '${other}' AS other`,
      'PRAGMA user_version = 7',
      'PRAGMA journal_mode = DELETE',
      'PRAGMA query_only = 0',
      'CREATE TABLE evil (a INT)',
      'SELECT 1; DELETE FROM notes',
      'VACUUM',
      "COPY notes TO '/tmp/x.csv'",
      'CALL something()',
      "PRAGMA 'query_only' = 0",
      'PRAGMA [query_only] = 0',
      'PRAGMA `foreign_keys` = 0',
      ';PRAGMA user_version = 9',
      `;ATTACH '${other}' AS other`,
      '/* x */ ; ATTACH ' + `'${other}' AS other`,
      'BEGIN',
      'SAVEPOINT x',
      'BEGIN IMMEDIATE',
    ],
    "SELECT (SELECT group_concat(id || ':' || body) FROM notes) AS notes, (SELECT count(*) FROM sqlite_master) AS objects, (SELECT user_version FROM pragma_user_version) AS v",
  );
  assert.equal(existsSync(other), false, 'ATTACH created no file');
  assert.deepEqual(await db.query('SELECT journal_mode FROM pragma_journal_mode'), [{ journal_mode: 'wal' }]);
  // No connection was left inside a transaction: writers are not locked out, reads are current.
  await db.execute("INSERT INTO notes VALUES (2, 'after')");
  const after = (await client.callTool({ name: 'query', arguments: { sql: 'SELECT count(*) AS n FROM notes' } })) as ToolAnswer;
  assert.deepEqual(after.structuredContent?.rows, [{ n: 2 }]);
});

test('PostgreSQL: bolt mcp without --allow-writes refuses every hidden write', { timeout: 60_000, skip: PG_SKIP }, async (t) => {
  const { tcp } = await freshPgDatabase(t, 'bolt_mcp');
  const db = await ConcurrentDatabase.open(tcp);
  t.after(() => db.close());
  await db.execute('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)');
  await db.execute("INSERT INTO notes VALUES (1, 'hello')");
  await db.execute('CREATE SEQUENCE seq');
  await db.execute('CREATE PROCEDURE add_note() LANGUAGE SQL AS $$ INSERT INTO notes VALUES (99, $q$proc$q$) $$');
  await db.execute('CREATE FUNCTION sneaky() RETURNS INTEGER LANGUAGE plpgsql AS $$ BEGIN INSERT INTO notes VALUES (98, $q$fn$q$); RETURN 1; END $$');
  const tables = "SELECT string_agg(table_name, ',' ORDER BY table_name) AS t FROM information_schema.tables WHERE table_schema = 'public'";
  const before = await db.query(tables);
  const client = await mcpClient(t, tcp);
  await refusesAll(
    client,
    db,
    [
      "INSERT INTO notes VALUES (2, 'x')",
      "WITH x AS (INSERT INTO notes VALUES (3, 'cte') RETURNING id) SELECT * FROM x",
      "SELECT nextval('seq')",
      'SELECT sneaky()',
      'CALL add_note()',
      "COPY notes FROM PROGRAM 'true'",
      "COPY (SELECT 1) TO '/tmp/bolt-mcp-pg.csv'",
      'CREATE TABLE evil (a INT)',
      'SELECT 1; DELETE FROM notes',
      'DELETE FROM notes; SELECT 1',
      'SET default_transaction_read_only = off; INSERT INTO notes VALUES (5, $$x$$)',
      'COMMIT; INSERT INTO notes VALUES (6, $$x$$)',
      'PRAGMA user_version = 1',
      "ATTACH 'x' AS y",
    ],
    "SELECT string_agg(id || ':' || body, ',' ORDER BY id) AS notes, (SELECT last_value FROM seq) AS seq, (SELECT is_called FROM seq) AS called FROM notes",
  );
  assert.deepEqual(await db.query(tables), before, 'the server created no table (no request log)');
  // A handle opened read-only: one statement cannot lift the guard for the next.
  const ro = await ConcurrentDatabase.open(tcp, { readOnly: true, maxConnections: 1 });
  t.after(() => ro.close());
  await ro.query("SELECT set_config('default_transaction_read_only', 'off', false)");
  await assert.rejects(ro.execute("INSERT INTO notes VALUES (7, 'x')"), (e: Error & { code?: string }) => e.code === 'BOLT_READ_ONLY');
  assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM notes'), [{ n: 1 }]);
});

test('DuckDB: bolt mcp without --allow-writes refuses writes in sequences, PRAGMA and SET too', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'a.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await db.execute("CREATE SEQUENCE seq; CREATE TABLE notes (id INTEGER, body TEXT); INSERT INTO notes VALUES (1, 'hello')");
  const client = await mcpClient(t, path);
  await refusesAll(
    client,
    db,
    [
      "SELECT nextval('seq')",
      "INSERT INTO notes SELECT nextval('seq'), 'x'",
      'PRAGMA force_checkpoint',
      "ATTACH '" + join(dir, 'other.db') + "' AS other",
      "EXPORT DATABASE '" + join(dir, 'export') + "'",
      'INSTALL httpfs',
      'CHECKPOINT',
      'CREATE MACRO m() AS 1',
      'DROP TABLE notes',
      "EXPLAIN ANALYZE INSERT INTO notes VALUES (9, 'explained')",
      'EXPLAIN   analyse DELETE FROM notes',
      'EXPLAIN ANALYZE CREATE TABLE evil AS SELECT 1',
      'SELECT * FROM checkpoint()',
      'SELECT * FROM force_checkpoint()',
      // Comments and quotes between a name and its parenthesis, and SQL that query() builds.
      'SELECT * FROM force_checkpoint/**/()',
      'SELECT * FROM "checkpoint"()',
      "EXPLAIN /**/ ANALYZE INSERT INTO notes VALUES (10, 'explained')",
      "EXPLAIN -- x\nANALYZE INSERT INTO notes VALUES (11, 'explained')",
      "SELECT * FROM query('SELECT next' || 'val(''seq'')')",
      "SELECT * FROM query/**/('SELECT next' || 'val(''seq'')')",
      // DuckDB takes a zero-width space for white space.
      "SELECT * FROM query\u200b('SELECT next' || 'val(''seq'')')",
      'SELECT * FROM checkpoint\u200b()',
      // A serialized SELECT runs as it is deserialized, and its text can be built at run time too.
      "SELECT * FROM json_execute_serialized_sql(replace(json_serialize_sql('SELECT nextvXl(''seq'')'), 'nextvxl', 'next' || 'val'))",
      "EXPORT /* x */ DATABASE '" + join(dir, 'export2') + "'",
      'SET threads = 1',
      'BEGIN',
    ],
    "SELECT (SELECT string_agg(id || ':' || body, ',') FROM notes) AS notes, (SELECT count(*) FROM duckdb_tables()) AS tables, (SELECT count(*) FROM duckdb_functions() WHERE function_name = 'm') AS macros",
  );
  assert.equal(existsSync(join(dir, 'other.db')), false, 'ATTACH created no file');
  // DuckDB creates EXPORT's directory while preparing the statement: refused before that.
  assert.equal(existsSync(join(dir, 'export')), false, 'EXPORT created nothing');
  assert.equal(existsSync(join(dir, 'export2')), false, 'EXPORT created nothing');
  assert.deepEqual(await db.query("SELECT nextval('seq') AS n"), [{ n: 1n }], 'the sequence never moved');
});
