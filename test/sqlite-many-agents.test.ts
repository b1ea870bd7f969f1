/**
 * SQLite under many agents: 16 processes × 8 concurrent callers write to one file at once —
 * autocommit inserts, transactions, writes under request ids — while two of the processes are
 * SIGKILLed mid-run. No caller sees a lock error (the writers wait at most 3 s for the lock:
 * the flock-based writer lock this replaced starved callers past that), every acknowledged
 * write is in the file exactly once, and every process got writes through.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { spawnChild, type Child } from './helpers/child.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const WRITER = fileURLToPath(new URL('./fixtures/sqlite-many-writer.js', import.meta.url));
const PROCESSES = 16;

function acked(c: Child): number[] {
  return c
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('ack '))
    .flatMap((l) => l.slice(4).split(',').map(Number));
}

function errors(c: Child): string[] {
  return c
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('err '));
}

test('16 writer processes × 8 callers, two SIGKILLed: no lock error, every acknowledged write exactly once', { timeout: 120_000 }, async (t) => {
  const path = join(tempDir(t), 'many.db');
  const setup = new BetterSqlite3(path);
  setup.pragma('journal_mode = WAL');
  setup.exec('CREATE TABLE w (p INTEGER NOT NULL, i INTEGER NOT NULL, PRIMARY KEY (p, i))');
  setup.close();

  const writers = Array.from({ length: PROCESSES }, () => spawnChild(t, process.execPath, [WRITER, path]));
  await Promise.all(writers.map((w) => w.waitForLine('ready', 60_000)));
  for (const w of writers) w.child.stdin!.write('go\n');
  // Let every process get writes through, then kill two of them while they write.
  await waitFor(() => writers.every((w) => acked(w).length >= 20), 60_000, 'every process acknowledging writes');
  const killed = writers.slice(0, 2);
  for (const k of killed) k.child.kill('SIGKILL');
  const survivors = writers.slice(2);
  const before = survivors.map((w) => acked(w).length);
  await waitFor(() => survivors.every((w, n) => acked(w).length >= before[n]! + 20), 60_000, 'survivors going on after the kills');
  for (const w of survivors) w.child.stdin!.end();
  await Promise.all(writers.map((w) => w.exited));
  for (const w of survivors) assert.ok(w.stdout().includes('done\n'), `writer ${w.pid} finished: ${w.stderr()}`);

  assert.deepEqual(writers.flatMap(errors), [], 'no caller saw an error');
  const db = new BetterSqlite3(path, { readonly: true });
  t.after(() => db.close());
  assert.deepEqual(db.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
  const rowsOf = (pid: number) => (db.prepare('SELECT i FROM w WHERE p = ? ORDER BY i').all(pid) as Array<{ i: number }>).map((r) => r.i);
  for (const w of survivors)
    assert.deepEqual(
      rowsOf(w.pid),
      acked(w).sort((a, b) => a - b),
      `process ${w.pid}: rows = acknowledged writes`,
    );
  for (const k of killed) {
    const rows = new Set(rowsOf(k.pid));
    assert.deepEqual(
      acked(k).filter((i) => !rows.has(i)),
      [],
      `killed process ${k.pid}: every acknowledged write is in the file`,
    );
  }
});
