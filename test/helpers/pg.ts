/**
 * The PostgreSQL test server (BOLT_TEST_PG_URL, started by scripts/pg-test-cluster.sh): a
 * fresh database per test, dropped after it, so tests never share state.
 */
import type { TestContext } from 'node:test';
import { openPostgres } from '../../adapters/postgres/open.js';

export const PG_URL = process.env.BOLT_TEST_PG_URL;
/** Why PostgreSQL tests skip, or undefined when a server is configured. In CI they never skip: they fail without one. */
export const PG_SKIP = PG_URL || process.env.CI ? undefined : 'BOLT_TEST_PG_URL not set: start one with eval "$(scripts/pg-test-cluster.sh start)"';

/** A fresh database on the test server, dropped after the test; its TCP URL and its Unix-socket URL. */
export async function freshPgDatabase(t: TestContext, prefix = 'bolt_t'): Promise<{ tcp: string; socket: string }> {
  if (!PG_URL) throw new Error('BOLT_TEST_PG_URL is not set: PostgreSQL tests need a server (scripts/pg-test-cluster.sh start)');
  const name = `${prefix}_${process.pid}_${Date.now().toString(36)}`;
  const admin = await openPostgres(PG_URL!, { maxConnections: 1 });
  await admin.execute(`CREATE DATABASE ${name}`);
  await admin.close();
  t.after(async () => {
    const a = await openPostgres(PG_URL!, { maxConnections: 1 });
    await a.execute(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await a.close();
  });
  const u = new URL(PG_URL!);
  u.pathname = `/${name}`;
  const socket = `postgres://${u.username}@/${name}?host=${encodeURIComponent(process.env.BOLT_TEST_PG_DIR ?? '')}&port=${u.port}`;
  return { tcp: u.toString(), socket };
}
