/**
 * The PostgreSQL faults of the soak, a session that is not Bolt's:
 * - `exclusive` (the `foreign-lock` fault): `LOCK TABLE … IN ACCESS EXCLUSIVE MODE` on the
 *   soak's tables for `holdMs`, then COMMIT. Every reader and writer waits; none may fail.
 * - `die` (the `stale-lock` fault): row locks taken by an UPDATE in an open transaction, then
 *   the process is SIGKILLed by the orchestrator after `holdMs`: PostgreSQL ends the session,
 *   rolls it back and frees its locks, and Bolt's writers carry on.
 * Prints "held" once it holds the locks, then "released <ms>" (exclusive). argv: url mode holdMs
 */
import pg from 'pg';

const [url, mode, holdText] = process.argv.slice(2);
const holdMs = Number(holdText);
const client = new pg.Client({ connectionString: url, application_name: 'bolt-soak-foreign' });
await client.connect();
await client.query('BEGIN');
if (mode === 'exclusive') {
  await client.query('LOCK TABLE soak_ledger, soak_accounts, soak_counters IN ACCESS EXCLUSIVE MODE');
  const t0 = Date.now();
  process.stdout.write('held\n');
  setTimeout(() => {
    void client
      .query('COMMIT')
      .then(() => client.end())
      .then(() => process.stdout.write(`released ${Date.now() - t0}\n`));
  }, holdMs);
} else {
  await client.query('UPDATE soak_accounts SET balance = balance WHERE id IN (0, 1)');
  process.stdout.write('held\n');
  setInterval(() => undefined, 1 << 30);
}
