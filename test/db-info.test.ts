import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { tempDir } from './helpers/tmp.js';
import { jsonError, runBolt } from './helpers/cli.js';
import { sigkill, startFixture } from './helpers/fixture.js';
import { haveSqliteCli, sqliteCliHoldingExclusive } from './helpers/sqlite-cli.js';
import type { DbInfoReport } from '../tools/db/inspect-file.js';
import { ConcurrentDatabase } from '../index.js';
import { waitFor } from './helpers/wait.js';

const noStack = /\n\s+at /;

async function infoJson(file: string): Promise<{ code: number | null; report: DbInfoReport; stderr: string }> {
  const r = await runBolt(['db', 'info', file, '--json', '--ping-timeout', '10000']);
  return { code: r.code, report: JSON.parse(r.stdout) as DbInfoReport, stderr: r.stderr };
}

test('db info on a free DuckDB file opens it read-only and lists tables with row counts', { timeout: 60_000 }, async (t) => {
  const db = join(tempDir(t), 'a.duckdb');
  const writer = await startFixture(t, 'duckdb-holder', [db, '7']);
  await sigkill(writer); // leaves a WAL with the 7 rows
  const { code, report } = await infoJson(db);
  assert.equal(code, 0);
  assert.equal(report.engine, 'duckdb');
  assert.equal(typeof report.storageVersion, 'number');
  assert.match(report.createdBy ?? '', /^v\d/);
  assert.ok(report.size > 0);
  assert.equal(report.wal?.path, `${db}.wal`);
  assert.ok((report.wal?.size ?? 0) > 0);
  assert.equal(report.state, 'free');
  assert.deepEqual(report.holders, []);
  assert.deepEqual(report.tables, [{ name: 't', rows: 7 }]);
  assert.equal(report.tablesSource, 'read-only-open');
  assert.ok(report.advice.some((a) => /bolt db fix/.test(a)));
  const human = await runBolt(['db', 'info', db]);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /engine\s+duckdb/);
  assert.match(human.stdout, /t\s+7 rows/);
});

test('db info on a SQLite file reports page size, journal mode and tables', { timeout: 60_000 }, async (t) => {
  const db = join(tempDir(t), 's.sqlite');
  const writer = await startFixture(t, 'sqlite-writer', [db, '3']);
  await sigkill(writer);
  const { code, report } = await infoJson(db);
  assert.equal(code, 0);
  assert.equal(report.engine, 'sqlite');
  assert.equal(report.pageSize, 4096);
  assert.equal(report.journalMode, 'wal');
  assert.equal(report.wal?.path, `${db}-wal`);
  assert.ok(report.shm);
  assert.deepEqual(report.tables, [{ name: 't', rows: 3 }]);
});

test('db info and bolt tasks on a closed WAL SQLite file leave nothing beside it; a file in use keeps its -wal and -shm', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const closed = join(dir, 'closed.sqlite');
  const raw = new BetterSqlite3(closed);
  raw.pragma('journal_mode = WAL');
  raw.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2)');
  raw.close(); // the last connection: SQLite removed -wal and -shm
  assert.deepEqual(readdirSync(dir), ['closed.sqlite']);
  for (const json of [true, false]) {
    const r = await runBolt(['db', 'info', closed, ...(json ? ['--json'] : [])]);
    assert.equal(r.code, 0, r.stderr);
    if (json) {
      const report = JSON.parse(r.stdout) as DbInfoReport;
      assert.equal(report.journalMode, 'wal');
      assert.equal(report.wal, null);
      assert.deepEqual(report.tables, [{ name: 't', rows: 2 }]);
    }
    assert.deepEqual(readdirSync(dir), ['closed.sqlite'], 'no -wal or -shm left by a read');
  }
  // The same for the other commands that open a SQLite file only to read (read-only handles).
  const tasks = await runBolt(['tasks', '--db', closed]);
  assert.equal(tasks.code, 0, tasks.stderr);
  assert.match(tasks.stdout, /no tasks/);
  assert.deepEqual(readdirSync(dir), ['closed.sqlite'], 'no -wal or -shm left by bolt tasks');
  // A writer holds the file: its -wal (holding its rows) and -shm stay, and its rows are counted.
  const open = join(dir, 'open.sqlite');
  await startFixture(t, 'sqlite-writer', [open, '3']);
  const { code, report } = await infoJson(open);
  assert.equal(code, 0);
  assert.deepEqual(report.tables, [{ name: 't', rows: 3 }]);
  assert.deepEqual(readdirSync(dir).sort(), ['closed.sqlite', 'open.sqlite', 'open.sqlite-shm', 'open.sqlite-wal']);
  const after = new BetterSqlite3(open, { readonly: true });
  t.after(() => after.close());
  assert.equal((after.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n, 3, "the writer's rows are still there");
});

test('db info names a foreign DuckDB holder plainly, with what can be known without opening', { timeout: 60_000 }, async (t) => {
  const db = join(tempDir(t), 'held.duckdb');
  const holder = await startFixture(t, 'duckdb-holder', [db, '2']);
  const { code, report } = await infoJson(db);
  assert.equal(code, 1);
  assert.equal(report.state, 'foreign');
  assert.ok(report.size > 0);
  assert.equal(report.tables, null);
  const h = report.holders.find((x) => x.file === 'database');
  assert.equal(h?.pid, holder.pid);
  assert.equal(h?.role, 'foreign');
  assert.equal(h?.type, 'WRITE');
  assert.match(h?.command ?? '', /duckdb-holder/);
  const human = await runBolt(['db', 'info', db]);
  assert.equal(human.code, 1);
  assert.match(human.stdout, new RegExp(`pid ${holder.pid}`));
  assert.match(human.stdout, /Close it in that program/);
  assert.match(human.stdout, /duckdb-holder\.js/);
  assert.doesNotMatch(holder.stdout(), /signal/);
});

test('db info reads a DuckDB file that another process has open read-only', { timeout: 60_000 }, async (t) => {
  const db = join(tempDir(t), 'ro.duckdb');
  await sigkill(await startFixture(t, 'duckdb-holder', [db, '3']));
  const reader = await startFixture(t, 'duckdb-holder', [db, '0', 'ro']);
  const { code, report } = await infoJson(db);
  assert.equal(code, 0);
  assert.equal(report.state, 'foreign');
  assert.ok(report.holders.some((h) => h.pid === reader.pid && h.type === 'READ'));
  assert.deepEqual(report.tables, [{ name: 't', rows: 3 }]);
});

test('db info asks a Bolt host for its socket, uptime and tables', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'h.duckdb');
  const sock = join(dir, 'h.sock');
  const host = await startFixture(t, 'fake-host', [db, sock, 'serve', '4']);
  const { code, report } = await infoJson(db);
  assert.equal(code, 0);
  assert.equal(report.state, 'bolt-host');
  assert.equal(report.host?.pid, host.pid);
  assert.equal(report.host?.socket, sock);
  assert.equal(typeof report.host?.uptimeMs, 'number');
  assert.equal(report.host?.clients, 1);
  assert.deepEqual(report.tables, [{ name: 't', rows: 4 }]);
  assert.equal(report.tablesSource, 'host');
  assert.ok(report.holders.some((h) => h.pid === host.pid && h.role === 'bolt-host'));
  // Through a symlink: the same host (its lock file and socket are named after the real file).
  const alias = join(dir, 'alias.duckdb');
  symlinkSync(db, alias);
  const viaLink = await infoJson(alias);
  assert.equal(viaLink.report.state, 'bolt-host', JSON.stringify(viaLink.report));
  assert.equal(viaLink.report.host?.pid, host.pid);
  const human = await runBolt(['db', 'info', db, '--ping-timeout', '10000']);
  assert.match(human.stdout, new RegExp(`host\\s+pid ${host.pid}, socket ${sock.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, up \\d`));
});

test("db info reads a host's tables while every pooled connection is busy", { timeout: 60_000 }, async (t) => {
  const file = join(tempDir(t), 'busy.duckdb');
  const db = await ConcurrentDatabase.open(file, { maxConnections: 2 });
  t.after(() => db.close());
  await db.execute('CREATE TABLE t AS SELECT * FROM range(5) r(i)');
  const stop = new AbortController();
  const runaway = [1, 2].map(() =>
    db.query('SELECT count(*) FROM range(1000000000000) r(i) WHERE i % 7 = 0', [], { signal: stop.signal }).catch(() => undefined),
  );
  t.after(async () => {
    stop.abort();
    await Promise.all(runaway);
  });
  await waitFor(() => db.stats().pool.inUse === 2, 20_000, 'the pool held by the runaway queries');
  const { code, report } = await infoJson(file);
  assert.equal(code, 0);
  assert.equal(report.state, 'bolt-host');
  assert.deepEqual(report.tables, [{ name: 't', rows: 5 }]);
  assert.equal(report.tablesSource, 'host');
});

test('db info with the sqlite3 CLI holding BEGIN EXCLUSIVE reports it as the holder', { timeout: 60_000 }, async (t) => {
  if (!haveSqliteCli()) return t.skip('sqlite3 CLI not installed');
  const db = join(tempDir(t), 'x.db');
  const cli = await sqliteCliHoldingExclusive(t, db);
  const { code, report } = await infoJson(db);
  assert.equal(report.state, 'foreign');
  assert.ok(report.holders.some((h) => h.pid === cli.pid && h.command === `sqlite3 ${db}` && h.type === 'WRITE'));
  assert.equal(code, 1);
  assert.equal(report.tables, null);
  assert.match(report.tablesError ?? '', /locked|busy/i);
});

test('db info on a missing file, a directory and a non-database file: one-line typed error, exit 2', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const text = join(dir, 'notes.txt');
  writeFileSync(text, 'hello, this is not a database at all\n'.repeat(10));
  const empty = join(dir, 'empty.db');
  writeFileSync(empty, '');
  mkdirSync(join(dir, 'sub'));
  const cases: Array<[string, RegExp]> = [
    [join(dir, 'missing.duckdb'), /^error \[BOLT_NOT_FOUND\]: .*missing\.duckdb: no such file\n$/],
    [join(dir, 'sub'), /^error \[BOLT_BAD_INPUT\]: .*sub is a directory/],
    [text, /^error \[BOLT_NOT_A_DATABASE\]: .*notes\.txt is not a DuckDB or SQLite database/],
    [empty, /^error \[BOLT_NOT_A_DATABASE\]: .*empty\.db is empty/],
  ];
  for (const [path, re] of cases) {
    for (const args of [
      ['db', 'info', path],
      ['db', 'info', path, '--json'],
    ]) {
      const r = await runBolt(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1);
      assert.doesNotMatch(r.stderr, noStack);
      if (args.includes('--json')) jsonError(r);
      else assert.equal(r.stdout, '');
    }
  }
});

test('db info on a truncated SQLite file: BOLT_NOT_A_DATABASE, exit 2, no -wal or -shm left beside it', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const good = join(dir, 'good.sqlite');
  const raw = new BetterSqlite3(good);
  raw.pragma('journal_mode = WAL'); // the header says WAL: an open to read makes -wal and -shm
  raw.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)');
  raw.close();
  const whole = readFileSync(good);
  assert.equal(whole.length, 8192, 'two pages of 4096 bytes');
  rmSync(good);
  const cases: Array<[string, number, RegExp]> = [
    ['head50.sqlite', 50, /truncated SQLite database: 50 bytes, not a whole number of its 4096-byte pages\n$/],
    ['head5000.sqlite', 5000, /truncated SQLite database: 5000 bytes, not a whole number of its 4096-byte pages\n$/],
    ['page1.sqlite', 4096, /truncated SQLite database: 4096 bytes, its header counts 2 pages \(8192 bytes\)\n$/],
  ];
  for (const [name, bytes, re] of cases) {
    const path = join(dir, name);
    writeFileSync(path, whole.subarray(0, bytes));
    for (const json of [false, true]) {
      const r = await runBolt(['db', 'info', path, ...(json ? ['--json'] : [])]);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^error \[BOLT_NOT_A_DATABASE\]: /);
      assert.match(r.stderr, re);
      if (json) assert.equal(jsonError(r).code, 'BOLT_NOT_A_DATABASE');
      else assert.equal(r.stdout, '');
    }
  }
  assert.deepEqual(readdirSync(dir).sort(), ['head50.sqlite', 'head5000.sqlite', 'page1.sqlite'], 'nothing created beside them');
});

test('db info and db fix refuse a URL without printing its password', { timeout: 60_000 }, async () => {
  const url = 'postgres://bolt:Sup3rS3cretPw@127.0.0.1:5432/bolt_test?sslpassword=alsoSecret';
  for (const args of [
    ['db', 'info', url],
    ['db', 'info', url, '--json'],
    ['db', 'fix', url],
    ['db', 'fix', url, '--dry-run'],
  ]) {
    const r = await runBolt(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error \[BOLT_BAD_INPUT\]: bolt db (info|fix) works on database files, not URLs \(postgres:\/\/bolt@127\.0\.0\.1:5432\/bolt_test/);
    assert.doesNotMatch(r.stderr + r.stdout, /Sup3rS3cretPw|alsoSecret/);
  }
});
