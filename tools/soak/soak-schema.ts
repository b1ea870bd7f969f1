/**
 * The soak's tables. Portable SQL (DuckDB, SQLite, PostgreSQL). The ledger has no key on
 * purpose: a write applied twice must show up as a duplicate, not as a constraint error.
 */
import type { Database } from '../../core/database.js';

export const SOAK_ACCOUNTS = 50;
export const SOAK_START_BALANCE = 1000;

/** Creates the soak tables and seeds the accounts (idempotent). */
export async function createSoakSchema(db: Database, processes: number): Promise<void> {
  await db.execute('CREATE TABLE IF NOT EXISTS soak_ledger (id VARCHAR(64), writer INTEGER, payload VARCHAR(64))');
  await db.execute('CREATE TABLE IF NOT EXISTS soak_accounts (id INTEGER PRIMARY KEY, balance BIGINT NOT NULL)');
  await db.execute('CREATE TABLE IF NOT EXISTS soak_counters (proc INTEGER PRIMARY KEY, n BIGINT NOT NULL)');
  await db.execute('CREATE TABLE IF NOT EXISTS soak_task_runs (task_key VARCHAR(64), runner VARCHAR(64))');
  const [{ c }] = (await db.query<{ c: unknown }>('SELECT COUNT(*) AS c FROM soak_accounts')) as [{ c: unknown }];
  if (Number(c) === 0) {
    const rows = Array.from({ length: SOAK_ACCOUNTS }, (_, i) => [i, SOAK_START_BALANCE]);
    await db.insertMany('soak_accounts', ['id', 'balance'], rows);
  }
  const counters = Array.from({ length: processes }, (_, i) => [i, 0]);
  for (const [proc] of counters) {
    const got = await db.query('SELECT proc FROM soak_counters WHERE proc = ?', [proc]);
    if (got.length === 0) await db.execute('INSERT INTO soak_counters (proc, n) VALUES (?, 0)', [proc]);
  }
}
