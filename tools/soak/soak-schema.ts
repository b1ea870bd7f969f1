/**
 * The soak's tables. Portable SQL (DuckDB, SQLite, PostgreSQL); on PostgreSQL each run gets
 * its own schema. The ledger has no key on purpose: a write applied twice must show up as a
 * duplicate, not as a constraint error.
 */
import { randomBytes } from 'node:crypto';
import type { Database } from '../../core/database.js';
import { quoteIdent } from '../../adapters/postgres/names.js';

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

/**
 * A PostgreSQL run's own schema: a fresh, uniquely named schema in the database `url` names,
 * and the URL whose connections have it alone on `search_path` (through libpq `options`, so
 * every process and worker thread that opens that URL writes there: the soak's tables, the
 * queue and `bolt_requests`). Runs on the same database never see each other's rows.
 */
export async function createPgRunSchema(url: string): Promise<{ schema: string; url: string }> {
  const schema = `bolt_soak_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const { openPostgres } = await import('../../adapters/postgres/open.js');
  const setup = await openPostgres(url, { schema, maxConnections: 1 });
  await setup.close();
  return { schema, url: withSearchPath(url, schema) };
}

/** Drops a run's schema with everything in it. */
export async function dropPgRunSchema(url: string, schema: string): Promise<void> {
  // Connected inside the run's schema: opening creates Bolt's request table there, not in public.
  const { openPostgres } = await import('../../adapters/postgres/open.js');
  const admin = await openPostgres(url, { schema, maxConnections: 1 });
  try {
    await admin.execute(`DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`);
  } finally {
    await admin.close();
  }
}

/** `url` with `-c search_path=<schema>` added to its libpq `options` parameter. */
function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  const set = `-c search_path=${quoteIdent(schema).replace(/"/g, '')}`;
  const had = u.searchParams.get('options');
  u.searchParams.set('options', had ? `${had} ${set}` : set);
  return u.toString();
}
