/**
 * The SQLite faults of the soak, a program that uses the file without Bolt:
 * - `exclusive` (the `foreign-lock` fault): `BEGIN EXCLUSIVE` as the sqlite3 shell does, held
 *   for `holdMs`, then COMMIT. Bolt's writers wait; none may fail.
 * - `die` (the `stale-lock` fault): `BEGIN IMMEDIATE`, a write, then nothing: the orchestrator
 *   SIGKILLs it mid-transaction after `holdMs`. The kernel frees its locks, SQLite discards
 *   the uncommitted write, and Bolt's writers carry on.
 * Prints "held" once it holds the lock, then "released <ms>" (exclusive). argv: path mode holdMs
 */
import BetterSqlite3 from 'better-sqlite3';

const [path, mode, holdText] = process.argv.slice(2);
const holdMs = Number(holdText);
const db = new BetterSqlite3(path!, { timeout: 30_000 });
if (mode === 'exclusive') {
  db.exec('BEGIN EXCLUSIVE');
  const t0 = Date.now();
  process.stdout.write('held\n');
  setTimeout(() => {
    db.exec('COMMIT');
    db.close();
    process.stdout.write(`released ${Date.now() - t0}\n`);
  }, holdMs);
} else {
  db.exec('BEGIN IMMEDIATE');
  db.exec('CREATE TABLE IF NOT EXISTS soak_stale_scratch (x INTEGER)');
  db.prepare('INSERT INTO soak_stale_scratch (x) VALUES (?)').run(process.pid);
  process.stdout.write('held\n');
  setInterval(() => undefined, 1 << 30);
}
