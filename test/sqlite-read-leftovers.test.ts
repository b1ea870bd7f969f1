/**
 * Reading a closed WAL SQLite file leaves no -wal or -shm behind (adapters/sqlite/wal-leftovers.ts),
 * also where SQLite puts them somewhere other than beside the path it was given.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';

function closedWalFile(path: string): void {
  const raw = new BetterSqlite3(path);
  raw.pragma('journal_mode = WAL');
  raw.exec('CREATE TABLE t (x INTEGER); INSERT INTO t VALUES (1), (2)');
  raw.close();
}

test('reads through a symlink leave no -wal or -shm beside the file it points to', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  mkdirSync(join(dir, 'real'));
  mkdirSync(join(dir, 'links'));
  closedWalFile(join(dir, 'real', 'q.sqlite'));
  symlinkSync(join('..', 'real', 'q.sqlite'), join(dir, 'links', 'q.sqlite'));
  const link = join(dir, 'links', 'q.sqlite');
  for (const args of [
    ['tasks', '--db', link],
    ['db', 'info', link],
  ]) {
    const r = await runBolt(args);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(join(dir, 'real')), ['q.sqlite'], `bolt ${args.join(' ')} left files beside the target`);
    assert.deepEqual(readdirSync(join(dir, 'links')), ['q.sqlite']);
  }
});
