/**
 * Prepared statements cached per connection (LRU by SQL text; run.ts keeps texts of at most
 * MEMO_MAX_TEXT characters, so a caller's megabyte literals are not held). Each DuckDB call is one hop
 * through the libuv thread pool; `conn.run(sql)` costs three (extract, prepare, execute), a
 * cached statement one, and no parse or plan.
 *
 * Why a plan prepared long ago is still right:
 * - Data: DuckDB 1.5.6 folds the table statistics of the moment into a plan when its
 *   statistics optimizers are on (a GROUP BY prepared on an empty table returned 'g' for
 *   'done'; a filter found no rows; a DELETE deleted nothing). The host turns them off
 *   (HOST_DISABLED_OPTIMIZERS in connect.ts); test/duckdb-stale-plans.test.ts checks that
 *   plans prepared on an empty table then return what fresh ones do through inserts, updates,
 *   deletes, new value ranges and checkpoints (and that with the optimizers on they do not).
 * - Schema: DuckDB re-binds a prepared statement whose tables changed (ALTER, DROP + CREATE;
 *   test/duckdb-cached-plan.test.ts).
 * A connection is used by one caller at a time (pool lease or session queue), so a cached
 * statement is never bound by two callers at once.
 */
import type { DuckDBConnection, DuckDBMaterializedResult, DuckDBPreparedStatement, DuckDBValue } from '@duckdb/node-api';

const MAX_PER_CONNECTION = 128;
const caches = new WeakMap<DuckDBConnection, Map<string, DuckDBPreparedStatement>>();

function destroy(s: DuckDBPreparedStatement): void {
  try {
    s.destroySync();
  } catch {
    /* already gone */
  }
}

/** The cached statement for `sql` on `conn` (refreshes its LRU position), if any. */
export function cachedStatement(conn: DuckDBConnection, sql: string): DuckDBPreparedStatement | undefined {
  const m = caches.get(conn);
  const s = m?.get(sql);
  if (!s || !m) return undefined;
  m.delete(sql);
  m.set(sql, s);
  return s;
}

/** Adds a freshly prepared statement to the cache (evicting the least recently used). */
export function cacheStatement(conn: DuckDBConnection, sql: string, s: DuckDBPreparedStatement): void {
  let m = caches.get(conn);
  if (!m) caches.set(conn, (m = new Map()));
  const old = m.get(sql);
  if (old && old !== s) destroy(old);
  m.delete(sql);
  m.set(sql, s);
  if (m.size > MAX_PER_CONNECTION) {
    const [oldSql, oldest] = m.entries().next().value as [string, DuckDBPreparedStatement];
    m.delete(oldSql);
    destroy(oldest);
  }
}

/** One of Bolt's fixed statements on `conn`: prepared on first use, then reused. */
export async function fixedStatement(conn: DuckDBConnection, sql: string): Promise<DuckDBPreparedStatement> {
  let s = cachedStatement(conn, sql);
  if (!s) {
    s = await conn.prepare(sql);
    cacheStatement(conn, sql, s);
  }
  return s;
}

/** Prepares (or reuses) a single statement, binds `params` and runs it. */
export async function runCached(conn: DuckDBConnection, sql: string, params: DuckDBValue[] = []): Promise<DuckDBMaterializedResult> {
  const s = await fixedStatement(conn, sql);
  s.clearBindings();
  if (params.length) s.bind(params);
  return s.run();
}

/** Destroys every cached statement of `conn` (before closing it). */
export function clearStatementCache(conn: DuckDBConnection): void {
  const m = caches.get(conn);
  if (!m) return;
  for (const s of m.values()) destroy(s);
  caches.delete(conn);
}
