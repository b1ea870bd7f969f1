/**
 * The CLI's read-only queue commands (tasks, task, schedule list, limits list) never create the
 * queue's tables: on a database without them they answer as on an empty queue (a task id is
 * BOLT_NOT_FOUND) and the database keeps exactly what it had. Writing commands create them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DuckDBInstance } from '@duckdb/node-api';
import { openPostgres } from '../adapters/postgres/open.js';
import { runBolt } from './helpers/cli.js';
import { freshPgDatabase, PG_SKIP } from './helpers/pg.js';
import { tempDir } from './helpers/tmp.js';

/** Each read, and what it prints on an empty queue (exit status, stdout or stderr pattern). */
const READS: Array<{ args: string[]; code: number; out: RegExp }> = [
  { args: ['tasks'], code: 0, out: /^queued 0 {2}running 0 .*\nno tasks\n$/ },
  { args: ['tasks', '--json'], code: 0, out: /"tasks": \[\]/ },
  { args: ['task', '5'], code: 2, out: /^error \[BOLT_NOT_FOUND\]: No task with id 5\n$/ },
  { args: ['task', '5', '--json'], code: 2, out: /^error \[BOLT_NOT_FOUND\]: No task with id 5\n$/ },
  { args: ['schedule', 'list'], code: 0, out: /^no schedules\n$/ },
  { args: ['schedule', 'list', '--json'], code: 0, out: /"schedules": \[\]/ },
  { args: ['limits', 'list'], code: 0, out: /^no group limits\n$/ },
  { args: ['limits', 'list', '--json'], code: 0, out: /"groups": \[\]/ },
];

async function runReads(db: string): Promise<void> {
  for (const { args, code, out } of READS) {
    const r = await runBolt([...args, '--db', db]);
    assert.equal(r.code, code, `bolt ${args.join(' ')}: ${r.stderr}`);
    assert.match(code === 0 ? r.stdout : r.stderr, out, `bolt ${args.join(' ')}`);
  }
}

function sqliteObjects(path: string): string[] {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    return (db.prepare('SELECT type, name FROM sqlite_master ORDER BY 1, 2').all() as Array<{ type: string; name: string }>).map((r) => `${r.type} ${r.name}`);
  } finally {
    db.close();
  }
}

async function duckObjects(path: string): Promise<string[]> {
  const inst = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  try {
    const conn = await inst.connect();
    const sql = "SELECT 'table ' || table_name AS o FROM duckdb_tables() UNION ALL SELECT 'sequence ' || sequence_name FROM duckdb_sequences() ORDER BY 1";
    const rows = (await conn.runAndReadAll(sql)).getRowObjectsJS();
    conn.closeSync();
    return rows.map((r) => String(r.o));
  } finally {
    inst.closeSync();
  }
}

test('SQLite: read-only queue commands on a database without a queue answer "empty" and create nothing', { timeout: 120_000 }, async (t) => {
  const path = join(tempDir(t), 'plain.sqlite');
  const raw = new BetterSqlite3(path);
  raw.exec('CREATE TABLE t (x INTEGER)');
  raw.close();
  await runReads(path);
  assert.deepEqual(sqliteObjects(path), ['table t']);

  const w = await runBolt(['submit', 'echo', '--db', path]);
  assert.equal(w.code, 0, w.stderr);
  assert.ok(sqliteObjects(path).includes('table bolt_tasks'), 'a write creates the queue');
});

test('DuckDB: read-only queue commands on a database without a queue answer "empty" and create nothing', { timeout: 120_000 }, async (t) => {
  const path = join(tempDir(t), 'plain.duckdb');
  const inst = await DuckDBInstance.create(path);
  const conn = await inst.connect();
  await conn.run('CREATE TABLE t (x INTEGER)');
  conn.closeSync();
  inst.closeSync();
  await runReads(path);
  assert.deepEqual(await duckObjects(path), ['table t']);
});

test('PostgreSQL: read-only queue commands on a fresh database answer "empty" and create nothing', { skip: PG_SKIP, timeout: 120_000 }, async (t) => {
  const { tcp } = await freshPgDatabase(t, 'bolt_clireads');
  await runReads(tcp);
  const db = await openPostgres(tcp, { maxConnections: 1, readOnly: true }); // read-write would make its request log
  try {
    const rows = await db.query("SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'");
    assert.deepEqual(rows, []);
  } finally {
    await db.close();
  }
});
