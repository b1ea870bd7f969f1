/**
 * Bolt never writes its own files through a symbolic link: a link planted at a sidecar,
 * a backup destination or soak journal path is refused with a typed error naming
 * the path, the file it points to is left as it was, and a dangling link's target is not
 * created.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';
import { SqliteDatabase } from '../adapters/sqlite/database.js';
import { Journal } from '../tools/soak/soak-journal.js';
import { writeOwnFile } from '../storage/platform/own-file.js';
import { hasCode } from '../core/errors.js';

const VICTIM = 'precious data\n';

/** A victim file and a dangling link target in `dir`. */
function victims(dir: string): { victim: string; missing: string } {
  const victim = join(dir, 'victim.txt');
  writeFileSync(victim, VICTIM);
  return { victim, missing: join(dir, 'created-through-link') };
}

const refused = (path: string) => (e: unknown) => {
  assert.ok(hasCode(e, 'BOLT_PERMISSION'), String(e));
  assert.ok(e.message.includes(path), e.message);
  return true;
};

test('a symlinked sidecar is refused: its target is neither overwritten nor created', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const { victim, missing } = victims(dir);
  const db = join(dir, 'a.duckdb');
  symlinkSync(victim, `${db}.bolt.lock`);
  await assert.rejects(ConcurrentDatabase.open(db, { lockTimeoutMs: 1000 }), refused(`${db}.bolt.lock`));
  assert.equal(readFileSync(victim, 'utf8'), VICTIM);

  const db2 = join(dir, 'b.duckdb');
  symlinkSync(missing, `${db2}.bolt.lock`);
  await assert.rejects(ConcurrentDatabase.open(db2, { lockTimeoutMs: 1000 }), refused(`${db2}.bolt.lock`));
  assert.equal(existsSync(missing), false, 'the dangling link target was created');

  // The CLI says the same in one line, and a FIFO (not a regular file) is refused without blocking.
  const r = await runBolt(['query', 'SELECT 1', '--db', db]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^error \[BOLT_PERMISSION\]: refusing to write .*a\.duckdb\.bolt\.lock: it is a symbolic link/m);
  const db3 = join(dir, 'c.duckdb');
  execFileSync('mkfifo', [`${db3}.bolt.lock`]);
  await assert.rejects(ConcurrentDatabase.open(db3, { lockTimeoutMs: 1000 }), refused(`${db3}.bolt.lock`));
});

test('SQLite writes create no lock file of their own: links planted at .bolt.wlock are never followed', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const { victim, missing } = victims(dir);
  const file = join(dir, 's.sqlite');
  execFileSync(process.execPath, ['-e', `new (require('better-sqlite3'))(${JSON.stringify(file)}).exec('CREATE TABLE t (i INTEGER)')`], { cwd: process.cwd() });
  symlinkSync(victim, `${file}.bolt.wlock`);
  symlinkSync(missing, `${file}.bolt.wlock2`);
  const db = await ConcurrentDatabase.open(file);
  t.after(() => db.close());
  await db.execute('INSERT INTO t VALUES (1)');
  await db.transaction((tx) => tx.execute('INSERT INTO t VALUES (2)'));
  assert.deepEqual(await db.query('SELECT count(*) AS n FROM t'), [{ n: 2 }]);
  assert.equal(readFileSync(victim, 'utf8'), VICTIM);
  assert.equal(existsSync(missing), false);
});

test('a backup destination that is a link (even a dangling one) is refused, DuckDB and SQLite', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const { victim, missing } = victims(dir);
  const linkToVictim = join(dir, 'to-victim.db');
  const dangling = join(dir, 'dangling.db');
  symlinkSync(victim, linkToVictim);
  symlinkSync(missing, dangling);

  const duck = await ConcurrentDatabase.open(join(dir, 'src.duckdb'));
  t.after(() => duck.close());
  await duck.execute('CREATE TABLE t AS SELECT range AS i FROM range(10)');
  const cd = duck as ConcurrentDatabase;
  for (const dest of [linkToVictim, dangling]) {
    await assert.rejects(cd.backup(dest), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT') && /already exists/.test(e.message));
  }
  // The host's own check, as a client's wire request reaches it.
  const { copyDatabaseTo } = await import('../adapters/duckdb/backup.js');
  const { DuckDBInstance } = await import('@duckdb/node-api');
  const inst = await DuckDBInstance.create(':memory:');
  const conn = await inst.connect();
  t.after(() => {
    conn.closeSync();
    inst.closeSync();
  });
  await assert.rejects(copyDatabaseTo(conn, dangling), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'));
  const r = await cd.backup(join(dir, 'copy.duckdb'));
  assert.equal(Number(r.tables.find((x) => x.name === 't')?.rows), 10, 'a new destination still works');

  const file = join(dir, 'src.sqlite');
  execFileSync(process.execPath, ['-e', `new (require('better-sqlite3'))(${JSON.stringify(file)}).exec('CREATE TABLE t (i INTEGER)')`]);
  const lite = (await ConcurrentDatabase.open(file)) as SqliteDatabase;
  t.after(() => lite.close());
  for (const dest of [linkToVictim, dangling]) {
    await assert.rejects(lite.backup(dest), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT') && /already exists/.test(e.message));
  }
  assert.equal(readFileSync(victim, 'utf8'), VICTIM);
  assert.equal(existsSync(missing), false);
});

test('soak journals and reports are not written through links', { timeout: 10_000 }, (t) => {
  const dir = tempDir(t);
  const { victim, missing } = victims(dir);
  symlinkSync(victim, join(dir, 'ledger-1.log'));
  symlinkSync(missing, join(dir, 'counter-1.log'));
  const j = new Journal(dir, 1);
  assert.throws(() => j.append('ledger', 'id-1'), refused(join(dir, 'ledger-1.log')));
  assert.throws(() => j.append('counter', 'id-2'), refused(join(dir, 'counter-1.log')));
  j.append('task', 'id-3');
  assert.equal(readFileSync(join(dir, 'task-1.log'), 'utf8'), 'id-3\n');
  const report = join(dir, 'report.html');
  symlinkSync(victim, report);
  assert.throws(() => writeOwnFile(report, '<html>'), refused(report));
  assert.equal(readFileSync(victim, 'utf8'), VICTIM);
  assert.equal(existsSync(missing), false);
});
