/**
 * The command line on a SQLite file (told by its header): `bolt query`, `bolt db verify`
 * (integrity and foreign keys; exit 1 on problems) and `bolt db backup`. A new file named
 * `.sqlite` (or `.sqlite3`, `.db3`) is made a SQLite file; other new names are DuckDB.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openSqlite } from '../adapters/sqlite/open.js';
import { runBolt } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

test('bolt query, db verify and db backup work on a SQLite file', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'app.sqlite');
  const db = await openSqlite(path, { pragmas: { foreign_keys: 'OFF' } });
  await db.execute('CREATE TABLE parent (id INTEGER PRIMARY KEY)');
  await db.execute('CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), note TEXT)');
  await db.close();
  assert.equal(existsSync(`${path}.bolt.lock`), false, 'no DuckDB sidecar for a SQLite file');

  let r = await runBolt(['query', 'INSERT INTO parent (id) VALUES (?), (?)', '-p', '1', '-p', '2', '--db', path]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 rows changed/);
  r = await runBolt(['query', 'SELECT id FROM parent ORDER BY id', '--db', path, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { rows: [{ id: 1 }, { id: 2 }], rowsChanged: 0 });

  r = await runBolt(['db', 'verify', path]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.match(r.stdout, /ok \(SQLite, wal journal/);
  assert.match(r.stdout, /parent: 2 rows/);

  r = await runBolt(['db', 'backup', path, join(dir, 'copy.sqlite'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const b = JSON.parse(r.stdout) as { ok: boolean; tables: Array<{ name: string; rows: number }>; integrity: string[] };
  assert.equal(b.ok, true);
  assert.deepEqual(b.integrity, ['ok']);
  assert.deepEqual(
    b.tables.find((x) => x.name === 'parent'),
    { name: 'parent', rows: 2 },
  );
  for (const left of ['copy.sqlite-wal', 'copy.sqlite-shm']) assert.equal(existsSync(join(dir, left)), false, `no ${left} left beside the copy`);
  r = await runBolt(['db', 'backup', path, join(dir, 'copy.sqlite')]);
  assert.equal(r.code, 2, 'an existing destination is refused');
  assert.match(r.stderr, /^error \[BOLT_BAD_INPUT\]: .*already exists/);

  // A row whose parent is missing (foreign keys were off when it was written): verify reports it.
  const w = await openSqlite(path, { pragmas: { foreign_keys: 'OFF' } });
  await w.execute("INSERT INTO child (id, parent_id, note) VALUES (7, 99, 'orphan')");
  await w.close();
  r = await runBolt(['db', 'verify', path, '--json']);
  assert.equal(r.code, 1, r.stdout + r.stderr);
  const v = JSON.parse(r.stdout) as { ok: boolean; foreignKeyViolations: unknown[] };
  assert.equal(v.ok, false);
  assert.deepEqual(v.foreignKeyViolations, [{ table: 'child', rowid: 7, parent: 'parent' }]);
  r = await runBolt(['db', 'verify', path]);
  assert.match(r.stdout, /foreign key: child row 7 has no parent in parent/);
});

test('a new file named .sqlite, .sqlite3 or .db3 is made a SQLite file; another new name is DuckDB', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  for (const name of ['new.sqlite', 'new.SQLITE3', 'new.db3', 'new.db']) {
    const path = join(dir, name);
    const r = await runBolt(['submit', 'echo', '--db', path]);
    assert.equal(r.code, 0, r.stderr);
    const sqlite = readFileSync(path).subarray(0, 16).toString('latin1') === 'SQLite format 3\0';
    assert.equal(sqlite, name !== 'new.db', name);
  }
});
