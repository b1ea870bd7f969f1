/**
 * The real `sqlite3` command line holds `BEGIN EXCLUSIVE` while Bolt writes: Bolt retries with
 * backoff, then fails with BOLT_LOCK_TIMEOUT naming the sqlite3 process; nothing is half
 * written, reads keep working, and the write goes through once the CLI lets go.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqlite } from '../adapters/sqlite/open.js';
import { hasCode } from '../core/errors.js';
import { spawnChild } from './helpers/child.js';
import { tempDir } from './helpers/tmp.js';

function hasSqliteCli(): boolean {
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

test(
  'sqlite3 CLI holding BEGIN EXCLUSIVE: Bolt retries, then a clear error; no partial write',
  { timeout: 40_000, skip: hasSqliteCli() ? undefined : 'the sqlite3 command line is not installed' },
  async (t) => {
    const path = join(tempDir(t), 'cli.db');
    const db = await openSqlite(path, { writeLockTimeoutMs: 700, busyTimeoutMs: 50 });
    t.after(() => db.close());
    await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)');
    await db.execute('INSERT INTO t (id, who) VALUES (1, ?)', ['before']);

    const cli = spawnChild(t, 'sqlite3', [path]);
    cli.child.stdin!.write("BEGIN EXCLUSIVE;\nINSERT INTO t (id, who) VALUES (100, 'cli');\nSELECT 'ready';\n");
    await cli.waitForLine('ready');

    const err = await db.execute('INSERT INTO t (id, who) VALUES (2, ?)', ['bolt'], { requestId: 'w-1' }).then(
      () => assert.fail('the write should have failed'),
      (e: unknown) => e,
    );
    assert.ok(hasCode(err, 'BOLT_LOCK_TIMEOUT'), String(err));
    assert.match(err.message, new RegExp(`pid ${cli.child.pid} \\(sqlite3 `), err.message);
    assert.ok((err.details.attempts as number) > 1, 'BEGIN IMMEDIATE was retried');

    let ran = 0;
    await assert.rejects(
      db.transaction(async (tx) => {
        ran++;
        await tx.execute('INSERT INTO t (id, who) VALUES (3, ?)', ['bolt-tx']);
      }),
      (e) => hasCode(e, 'BOLT_LOCK_TIMEOUT'),
    );
    assert.equal(ran, 0, 'the closure never ran without the lock');
    assert.deepEqual(await db.query('SELECT id, who FROM t ORDER BY id'), [{ id: 1, who: 'before' }], 'reads work; nothing partial is visible');

    cli.child.stdin!.write('ROLLBACK;\n.quit\n');
    assert.equal((await cli.exited).code, 0);
    assert.deepEqual(await db.execute('INSERT INTO t (id, who) VALUES (2, ?)', ['bolt'], { requestId: 'w-1' }), { rowsChanged: 1 });
    assert.deepEqual(await db.query('SELECT id, who FROM t ORDER BY id'), [
      { id: 1, who: 'before' },
      { id: 2, who: 'bolt' },
    ]);
    assert.deepEqual(await db.query('PRAGMA integrity_check'), [{ integrity_check: 'ok' }]);
  },
);

test(
  'a rollback-journal file held EXCLUSIVE by the sqlite3 CLI: opening waits for it, gives up with the holder named, and goes through once it lets go',
  { timeout: 40_000, skip: hasSqliteCli() ? undefined : 'the sqlite3 command line is not installed' },
  async (t) => {
    const path = join(tempDir(t), 'journal.db');
    execFileSync('sqlite3', [path, "PRAGMA journal_mode = DELETE; CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT); INSERT INTO t VALUES (1, 'before');"]);
    const cli = spawnChild(t, 'sqlite3', [path]);
    cli.child.stdin!.write("BEGIN EXCLUSIVE;\nINSERT INTO t (id, who) VALUES (100, 'cli');\nSELECT 'ready';\n");
    await cli.waitForLine('ready');

    // It failed at once, whatever the timeout: applying the pragmas reads the schema.
    const err = await openSqlite(path, { writeLockTimeoutMs: 700 }).then(
      async (db) => {
        await db.close();
        return assert.fail('the open should have failed');
      },
      (e: unknown) => e,
    );
    assert.ok(hasCode(err, 'BOLT_LOCK_TIMEOUT'), String(err));
    assert.match(err.message, new RegExp(`pid ${cli.child.pid} \\(sqlite3 `), err.message);
    assert.ok((err.details.attempts as number) > 1, 'opening was retried');

    const opening = openSqlite(path, { writeLockTimeoutMs: 30_000 });
    cli.child.stdin!.write('ROLLBACK;\n.quit\n');
    assert.equal((await cli.exited).code, 0);
    const db = await opening;
    t.after(() => db.close());
    await db.execute("INSERT INTO t (id, who) VALUES (2, 'bolt')");
    assert.deepEqual(await db.query('SELECT id, who FROM t ORDER BY id'), [
      { id: 1, who: 'before' },
      { id: 2, who: 'bolt' },
    ]);
  },
);
