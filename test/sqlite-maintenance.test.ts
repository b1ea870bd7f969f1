/**
 * SQLite maintenance on a live database: `verify()` (integrity_check, foreign_key_check, row
 * counts) and `backup()` (online backup API: a consistent copy while another process writes).
 */
import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SqliteDatabase } from '../adapters/sqlite/database.js';
import { openSqlite } from '../adapters/sqlite/open.js';
import { hasCode } from '../core/errors.js';
import { spawnChild } from './helpers/child.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const CHILD = fileURLToPath(new URL('./fixtures/sqlite-child.js', import.meta.url));

test('backup while another process writes: the copy is consistent (whole transactions) and verifies', { timeout: 40_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'live.db');
  const db = (await openSqlite(path)) as SqliteDatabase;
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT)');
  const child = spawnChild(t, process.execPath, [CHILD, 'churn', path]);
  await child.waitForLine('churning');
  await waitFor(async () => Number((await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM t'))[0]!.n) >= 300, 15_000, 'three batches');

  const r = await db.backup(join(dir, 'copy.db'));
  assert.deepEqual(r.integrity, ['ok']);
  const rows = r.tables.find((x) => x.name === 't')!.rows;
  assert.ok(rows >= 300 && rows % 100 === 0, `the copy holds whole 100-row transactions only (${rows})`);
  await assert.rejects(db.backup(join(dir, 'copy.db')), (err) => hasCode(err, 'BOLT_BAD_INPUT'), 'never overwrites');

  const v = await db.verify();
  assert.equal(v.ok, true);
  assert.equal(v.journalMode, 'wal');
  assert.deepEqual(v.foreignKeyViolations, []);
});

test('verify finds foreign-key violations and a damaged file', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'bad.db');
  const db = (await openSqlite(path, { pragmas: { foreign_keys: 'OFF' } })) as SqliteDatabase;
  t.after(() => db.close());
  await db.execute('CREATE TABLE parent (id INTEGER PRIMARY KEY)');
  await db.execute('CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id))');
  await db.execute('INSERT INTO child (id, parent_id) VALUES (1, 42)');
  const v = await db.verify();
  assert.equal(v.ok, false);
  assert.deepEqual(v.foreignKeyViolations, [{ table: 'child', rowid: 1, parent: 'parent' }]);

  await db.execute('CREATE TABLE big (id INTEGER PRIMARY KEY, s TEXT)');
  await db.execute('CREATE INDEX big_s ON big (s)');
  await db.insertMany(
    'big',
    ['id', 's'],
    Array.from({ length: 5_000 }, (_, i) => [i, `value-${i}`]),
  );
  await db.execute('PRAGMA wal_checkpoint(TRUNCATE)');
  const pages = v.pageSize;
  await db.close();
  // Damage the middle of the file (index and table pages), as a bad disk would.
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(pages, 0x5a), 0, pages, pages * 8);
  closeSync(fd);
  const again = (await openSqlite(path)) as SqliteDatabase;
  t.after(() => again.close());
  const outcome: unknown = await again.verify().then(
    (r) => r,
    (err: unknown) => err,
  );
  if (outcome instanceof Error) assert.ok(hasCode(outcome, 'BOLT_SQL', 'BOLT_NOT_A_DATABASE'), String(outcome));
  else {
    const r = outcome as { ok: boolean; integrity: string[] };
    assert.equal(r.ok, false);
    assert.notDeepEqual(r.integrity, ['ok']);
  }
});

test('pruneRequests forgets request ids past their keeping time (24 h; generated ids 10 min)', { timeout: 30_000 }, async (t) => {
  const db = (await openSqlite(join(tempDir(t), 'prune.db'))) as SqliteDatabase;
  t.after(() => db.close());
  assert.equal(await db.pruneRequests(), 0, 'nothing to prune before the log exists');
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY)');
  await db.execute('INSERT INTO t (id) VALUES (1)', [], { requestId: 'recent' });
  await db.execute(
    "INSERT INTO bolt_requests (id, rows_changed, auto, recorded_at) VALUES ('old', 1, 0, datetime('now', '-25 hours')), ('auto:old', 1, 1, datetime('now', '-11 minutes')), ('auto:new', 1, 1, datetime('now', '-1 minutes'))",
  );
  assert.equal(await db.pruneRequests(), 2);
  assert.deepEqual(await db.query('SELECT id FROM bolt_requests ORDER BY id'), [{ id: 'auto:new' }, { id: 'recent' }]);
  assert.equal((await db.execute('INSERT INTO t (id) VALUES (1)', [], { requestId: 'recent' })).deduplicated, true);
});
