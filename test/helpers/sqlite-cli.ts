/**
 * The real `sqlite3` command-line shell as a lock holder in tests.
 */
import { spawnSync } from 'node:child_process';
import type { TestContext } from 'node:test';
import { spawnChild, type Spawned } from './fixture.js';
import { waitFor } from './wait.js';
import { lockHolders } from '../../storage/platform/proc-locks.js';

/** True when the `sqlite3` CLI is installed. */
export function haveSqliteCli(): boolean {
  return !spawnSync('sqlite3', ['-version']).error;
}

/**
 * Creates `db` with table t holding one row, then starts `sqlite3 db` inside
 * `BEGIN EXCLUSIVE` with a second row inserted, and resolves once /proc/locks shows its
 * WRITE lock on the file. The shell is killed when the test ends.
 */
export async function sqliteCliHoldingExclusive(t: TestContext, db: string): Promise<Spawned> {
  spawnSync('sqlite3', [db, 'CREATE TABLE t(a); INSERT INTO t VALUES (1);']);
  const cli = spawnChild(t, 'sqlite3', [db]);
  cli.child.stdin?.write('BEGIN EXCLUSIVE;\nINSERT INTO t VALUES (2);\n');
  await waitFor(
    () => lockHolders(db).some((h) => h.pid === cli.pid && h.type === 'WRITE'),
    10_000,
    () => 'sqlite3 never took its lock',
    cli.exited,
  );
  return cli;
}
