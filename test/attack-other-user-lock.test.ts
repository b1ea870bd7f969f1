/**
 * Another Unix user runs `bolt` on a database whose lock file is not theirs (mode 0600, owned
 * by the user whose host serves it): a typed BOLT_PERMISSION naming the lock file and its
 * owner, not BOLT_INTERNAL EACCES; the host keeps serving its own user.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, chownSync, readdirSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { BOLT_BIN } from './helpers/cli.js';
import { fixturePath, spawnChild } from './helpers/fixture.js';
import { otherUser, otherUserUnavailable, type OtherUser } from './helpers/other-user.js';
import { tempDir } from './helpers/tmp.js';

function boltAs(user: OtherUser, args: string[], cwd: string) {
  return spawnSync(process.execPath, [BOLT_BIN, ...args], {
    cwd,
    uid: user.uid,
    gid: user.gid,
    encoding: 'utf8',
    timeout: 30_000,
    env: { PATH: process.env.PATH, BOLT_LOG_LEVEL: 'fatal' },
  });
}

test("another user's bolt on a database whose lock file it may not open: BOLT_PERMISSION", { timeout: 90_000, skip: otherUserUnavailable() }, async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o1777);
  const path = join(dir, 'a.db');
  const host = spawnChild(t, process.execPath, [fixturePath('bolt-host'), path, '3'], { env: { BOLT_LOG_LEVEL: 'fatal' } });
  await host.waitForLine(/^ready$/, 30_000);
  chmodSync(path, 0o666);
  const user = otherUser(t);
  for (const args of [
    ['query', 'SELECT count(*) FROM t', '--db', path],
    ['db', 'info', path],
  ]) {
    const r = boltAs(user, args, dir);
    assert.equal(r.signal, null, `${args.join(' ')} was killed`);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^error \[BOLT_PERMISSION\]: cannot open Bolt's lock file .*a\.db\.bolt\.lock \(owner uid 0, mode 0600\)/, args.join(' '));
  }
  // db fix scans a folder: the file it cannot check is one finding (a problem: exit 1), not the end of the run.
  const fix = boltAs(user, ['db', 'fix', dir], dir);
  assert.equal(fix.signal, null);
  assert.equal(fix.status, 1, fix.stdout + fix.stderr);
  assert.equal(fix.stderr, '');
  assert.match(
    fix.stdout,
    /PROBLEM: .*a\.db\n {2}found: cannot be checked: \[BOLT_PERMISSION\] cannot open Bolt's lock file .*a\.db\.bolt\.lock \(owner uid 0, mode 0600\)/,
  );
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 3 }]);
  assert.equal(host.child.exitCode, null);
});

test(
  "another user's bolt on files it may not read or create: BOLT_PERMISSION naming the file or directory",
  { timeout: 90_000, skip: otherUserUnavailable() },
  async (t) => {
    const dir = tempDir(t); // mode 0700 by mkdtemp: let the other user in, not write
    chmodSync(dir, 0o755);
    const own = join(dir, 'own.sqlite');
    const db = await ConcurrentDatabase.open(own);
    await db.execute('CREATE TABLE t (x INTEGER)');
    await db.close();
    chmodSync(own, 0o600);
    const user = otherUser(t);
    const cases: Array<[string[], RegExp]> = [
      // SQLite said "unable to open database file" (BOLT_NOT_FOUND) for a file it could not create.
      [
        ['query', 'CREATE TABLE t (x INTEGER)', '--db', join(dir, 'new.sqlite')],
        /^error \[BOLT_PERMISSION\]: directory .* is not writable: cannot create .*new\.sqlite/,
      ],
      // An unreadable file was taken for a DuckDB file, and the error blamed its directory.
      [['query', 'SELECT 1', '--db', own], /^error \[BOLT_PERMISSION\]: this user \(uid \d+\) may not read .*own\.sqlite \(owner uid 0, mode 0600\)/],
      [['query', 'SELECT 1', '--db', join(dir, 'new.duckdb')], /^error \[BOLT_PERMISSION\]: directory .* is not writable: cannot create .*new\.duckdb/],
    ];
    for (const [args, message] of cases) {
      const r = boltAs(user, args, dir);
      assert.equal(r.status, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
      assert.match(r.stderr, message, args.join(' '));
    }
    assert.deepEqual(readdirSync(dir).sort(), ['own.sqlite'], 'nothing was created');
  },
);

test(
  "another user's read of a closed WAL SQLite file is refused before it makes -wal and -shm its owner could not write",
  { timeout: 90_000, skip: otherUserUnavailable() },
  async (t) => {
    const dir = tempDir(t);
    chmodSync(dir, 0o1777); // shared and sticky, as /tmp
    const path = join(dir, 'a.sqlite');
    const raw = new BetterSqlite3(path);
    raw.pragma('journal_mode = WAL');
    raw.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1)');
    raw.close(); // the last connection: no -wal, no -shm
    const owner = otherUser(t);
    const reader = otherUser(t);
    chownSync(path, owner.uid, owner.gid);
    chmodSync(path, 0o644);
    // Before, these read and left -wal and -shm owned by the reader: the owner's next write
    // failed with SQLITE_READONLY, and in a sticky folder the owner could not remove them.
    const tasks = boltAs(reader, ['tasks', '--db', path], dir);
    assert.equal(tasks.status, 2, tasks.stdout + tasks.stderr);
    assert.match(tasks.stderr, /^error \[BOLT_PERMISSION\]: will not read .*a\.sqlite: it is in WAL mode .*its owner \(uid \d+\) could then not write/);
    const info = boltAs(reader, ['db', 'info', path, '--json'], dir);
    assert.equal(info.status, 1, info.stderr); // tables unknown: the problems exit code
    const report = JSON.parse(info.stdout) as { engine: string; tables: unknown; tablesError: string };
    assert.equal(report.engine, 'sqlite');
    assert.equal(report.tables, null);
    assert.match(report.tablesError, /will not read/);
    assert.deepEqual(readdirSync(dir), ['a.sqlite'], 'nothing created beside it');
    const write = boltAs(owner, ['query', 'INSERT INTO t VALUES (2)', '--db', path], dir);
    assert.equal(write.status, 0, write.stdout + write.stderr);
    // Once the owner has it open its -wal and -shm exist, and reading is safe; here the owner's
    // write has closed it again, so the reader is still refused, with the same words.
    assert.equal(boltAs(reader, ['tasks', '--db', path], dir).status, 2);
  },
);
