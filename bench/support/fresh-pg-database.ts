/**
 * A fresh PostgreSQL database for one benchmark on the server at `server` (a URL), created
 * before `fn` and dropped after it, with a Bolt handle on it.
 */
import { openPostgres } from '../../adapters/postgres/open.js';
import type { Database } from '../../core/database.js';

export async function withFreshPgDatabase<T>(server: string, tag: string, fn: (url: string, db: Database) => Promise<T>): Promise<T> {
  const name = `bolt_bench_${tag}_${process.pid}`;
  const admin = await openPostgres(server, { maxConnections: 1 });
  await admin.execute(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.execute(`CREATE DATABASE ${name}`);
  const u = new URL(server);
  u.pathname = `/${name}`;
  const db = await openPostgres(u.toString(), { maxConnections: 2 });
  try {
    return await fn(u.toString(), db);
  } finally {
    await db.close();
    await admin.execute(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.close();
  }
}
