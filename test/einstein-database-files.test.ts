/**
 * An index run never opens the database it writes to, nor that database's companion files:
 * closing any descriptor of a file drops every POSIX lock this process holds on it, and
 * SQLite's liveness lock on `-shm` would silently go.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';
import { EinsteinSearch } from '../search/einstein-search.js';
import { lockHolders } from '../storage/platform/proc-locks.js';

test('indexing the folder that holds an open SQLite database keeps its -shm lock and leaves its files out', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'notes.md'), '# notes\nremember the milk\n');
  const file = join(dir, 'x.sqlite');
  const db = await ConcurrentDatabase.open(file, { engine: 'sqlite' });
  t.after(() => db.close());
  const einstein = new EinsteinSearch(db);
  await einstein.indexStats(); // creates the tables: the -wal and -shm files exist from here
  const mine = () => lockHolders(`${file}-shm`).filter((h) => h.pid === process.pid && !h.blocked);
  assert.ok(mine().length > 0, 'this process holds a lock on x.sqlite-shm before indexing');

  // Through a link to the folder: the database files are matched by real path.
  const link = join(tempDir(t), 'link');
  symlinkSync(dir, link);
  const r = await einstein.index(link);
  assert.equal(r.filesIndexed, 1);
  assert.ok(mine().length > 0, 'this process still holds its lock on x.sqlite-shm');
  const paths = (await db.query<{ path: string }>('SELECT path FROM einstein_files')).map((row) => row.path);
  assert.deepEqual(paths, [join(link, 'notes.md')]);
});
