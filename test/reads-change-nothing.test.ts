/**
 * Reading through Bolt changes nothing in the database file: opening it and running a SELECT
 * (through `ConcurrentDatabase.open` + `query`, and through `bolt query`) leaves its bytes, its
 * mtime and its tables as they were, also for a 0444 file opened by root. Bolt's request log
 * appears with the first write that records a request id; SQLite switches to WAL at the first
 * write, also while other processes have the file open in rollback-journal mode.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { DuckDBInstance } from '@duckdb/node-api';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';
import { runBolt } from './helpers/cli.js';
import { fixturePath, spawnChild } from './helpers/fixture.js';
import { tempDir } from './helpers/tmp.js';

/** Content hash, size and mtime of a file. */
function fingerprint(path: string): string {
  const st = statSync(path, { bigint: true });
  return `${createHash('sha256').update(readFileSync(path)).digest('hex')}:${st.size}:${st.mtimeNs}`;
}

async function duckTables(path: string): Promise<string[]> {
  const inst = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  try {
    const conn = await inst.connect();
    const rows = (await conn.runAndReadAll('SELECT table_name FROM duckdb_tables() ORDER BY 1')).getRowObjectsJS();
    conn.closeSync();
    return rows.map((r) => String(r.table_name));
  } finally {
    inst.closeSync();
  }
}

/** A SQLite file in rollback-journal mode (as most tools make them) with a table `t`. */
function rollbackJournalDb(path: string, seed = ''): void {
  const raw = new BetterSqlite3(path);
  raw.pragma('journal_mode = DELETE');
  raw.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT); ${seed}`);
  raw.close();
}

function sqliteState(path: string): { tables: string[]; journalMode: string } {
  const db = new BetterSqlite3(path, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1").all() as Array<{ name: string }>).map((r) => r.name);
    return { tables, journalMode: String(db.pragma('journal_mode', { simple: true })) };
  } finally {
    db.close();
  }
}

test('DuckDB: a SELECT through Bolt leaves a 0444 file byte-identical; bolt_requests appears with the first logged write', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'ro.duckdb');
  {
    const inst = await DuckDBInstance.create(path);
    const conn = await inst.connect();
    await conn.run('CREATE TABLE t (i INTEGER)');
    await conn.run('INSERT INTO t SELECT range FROM range(5)');
    conn.closeSync();
    inst.closeSync();
  }
  chmodSync(path, 0o444);
  if (process.getuid?.() !== 0) t.diagnostic('not root: the 0444 file could not be written anyway; the bytes are still compared');
  const before = fingerprint(path);

  const db = await ConcurrentDatabase.open(path);
  assert.deepEqual(await db.query('SELECT CAST(count(*) AS INTEGER) AS n FROM t'), [{ n: 5 }]);
  await db.close();
  assert.equal(fingerprint(path), before, 'open + query + close changed the file');
  assert.equal(existsSync(`${path}.wal`), false);

  const r = await runBolt(['query', 'SELECT CAST(count(*) AS INTEGER) AS n FROM t', '--db', path, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).rows, [{ n: 5 }]);
  assert.equal(fingerprint(path), before, 'bolt query changed the file');
  assert.deepEqual(await duckTables(path), ['t']);

  // The first write that records a request id makes the log (here: a transaction's, in the host).
  chmodSync(path, 0o644);
  const w = await ConcurrentDatabase.open(path);
  await w.execute('INSERT INTO t VALUES (5)');
  await w.close();
  assert.deepEqual(await duckTables(path), ['t'], 'a write without a request id needs no log');
  const w2 = await ConcurrentDatabase.open(path);
  assert.equal(await w2.transaction((tx) => tx.execute('INSERT INTO t VALUES (6)'), { requestId: 'tx-1' }).then((r) => r?.rowsChanged), 1);
  assert.equal(await w2.transaction((tx) => tx.execute('INSERT INTO t VALUES (6)'), { requestId: 'tx-1' }), undefined, 'a re-sent transaction is skipped');
  assert.deepEqual(await w2.execute('INSERT INTO t VALUES (7)', [], { requestId: 'w-1' }), { rowsChanged: 1 });
  assert.deepEqual(await w2.execute('INSERT INTO t VALUES (7)', [], { requestId: 'w-1' }), { rowsChanged: 1, deduplicated: true });
  await w2.close();
  assert.deepEqual(await duckTables(path), ['bolt_requests', 't']);
});

test("DuckDB: a client process's logged write makes the log on a host that started without it", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'c.duckdb');
  const host = await ConcurrentDatabase.open(path);
  t.after(() => host.close());
  await host.execute('CREATE TABLE t (i INTEGER)');
  assert.deepEqual(await host.query("SELECT table_name FROM duckdb_tables() WHERE table_name = 'bolt_requests'"), []);
  // `bolt query` in another process is a client of this host: its write carries an automatic id.
  const r = await runBolt(['query', 'INSERT INTO t VALUES (1), (2)', '--db', path]);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(await host.query('SELECT CAST(count(*) AS INTEGER) AS n FROM t'), [{ n: 2 }]);
  assert.deepEqual(await host.query("SELECT table_name FROM duckdb_tables() WHERE table_name = 'bolt_requests'"), [{ table_name: 'bolt_requests' }]);
});

test('SQLite: a SELECT through Bolt leaves a rollback-journal file byte-identical; the first write switches it to WAL', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'app.sqlite');
  rollbackJournalDb(path, "INSERT INTO t VALUES (1, 'seed')");
  chmodSync(path, 0o444);
  const before = fingerprint(path);

  const db = await ConcurrentDatabase.open(path);
  assert.deepEqual(await db.query('SELECT CAST(count(*) AS INTEGER) AS n FROM t'), [{ n: 1 }]);
  await db.close();
  assert.equal(fingerprint(path), before, 'open + query + close changed the file');

  const r = await runBolt(['query', 'SELECT CAST(count(*) AS INTEGER) AS n FROM t', '--db', path, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout).rows, [{ n: 1 }]);
  assert.equal(fingerprint(path), before, 'bolt query changed the file');
  assert.deepEqual(sqliteState(path), { tables: ['t'], journalMode: 'delete' });

  chmodSync(path, 0o644);
  const w = await ConcurrentDatabase.open(path);
  await w.execute('INSERT INTO t VALUES (2, ?)', ['w'], { requestId: 'w-1' });
  await w.close();
  assert.deepEqual(sqliteState(path), { tables: ['bolt_requests', 't'], journalMode: 'wal' });
});

test('SQLite: another process writes while this one has the rollback-journal file open; both keep reading and writing', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'shared.sqlite');
  rollbackJournalDb(path);
  const reader = await ConcurrentDatabase.open(path, { maxConnections: 2 });
  t.after(() => reader.close());
  assert.deepEqual(await reader.query('SELECT CAST(count(*) AS INTEGER) AS n FROM t'), [{ n: 0 }]);
  assert.equal(sqliteState(path).journalMode, 'delete');

  // The child opens the file, switches it to WAL with its first write and holds that transaction.
  const child = spawnChild(t, process.execPath, [fixturePath('sqlite-child'), 'hold', path]);
  await child.waitForLine('holding');
  assert.equal(sqliteState(path).journalMode, 'wal');
  // This process's connections, opened in rollback-journal mode, read under the open write.
  assert.deepEqual(await reader.query('SELECT CAST(count(*) AS INTEGER) AS n FROM t'), [{ n: 0 }]);
  child.child.stdin?.write('commit\n');
  await child.waitForLine('committed');
  assert.deepEqual(await reader.query('SELECT id, who FROM t'), [{ id: 1000, who: 'child' }]);
  await reader.execute('INSERT INTO t VALUES (1, ?)', ['parent']);
  assert.deepEqual(await reader.query('SELECT CAST(count(*) AS INTEGER) AS n FROM t'), [{ n: 2 }]);
  assert.deepEqual(await reader.query('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
});
