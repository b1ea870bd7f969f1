/**
 * Prepared statements cached per connection, for Bolt's own fixed statements only (BEGIN,
 * COMMIT, ROLLBACK, the request-log INSERT). Each DuckDB call is one hop through the libuv
 * thread pool; `conn.run(sql)` costs three (extract, prepare, execute), a cached statement one.
 *
 * NEVER cache statements that read table data: DuckDB 1.5.6 folds table statistics into a
 * prepared plan, so a cached `SELECT count(*) FROM t` keeps returning the count of t's
 * checkpointed rows as of PREPARE while other connections append (measured). A connection is
 * used by one caller at a time (pool lease or session queue), so a cached statement is never
 * bound by two callers at once.
 */
import type { DuckDBConnection, DuckDBMaterializedResult, DuckDBPreparedStatement, DuckDBValue } from '@duckdb/node-api';

const MAX_PER_CONNECTION = 128;
const caches = new WeakMap<DuckDBConnection, Map<string, DuckDBPreparedStatement>>();

/** The cached statement for `sql` on `conn`, if any (refreshes its LRU position). */
export function cachedStatement(conn: DuckDBConnection, sql: string): DuckDBPreparedStatement | undefined {
  const m = caches.get(conn);
  const s = m?.get(sql);
  if (s && m) {
    m.delete(sql);
    m.set(sql, s);
  }
  return s;
}

/** Adds a freshly prepared statement to the cache (evicting the least recently used). */
export function cacheStatement(conn: DuckDBConnection, sql: string, s: DuckDBPreparedStatement): void {
  let m = caches.get(conn);
  if (!m) caches.set(conn, (m = new Map()));
  m.set(sql, s);
  if (m.size > MAX_PER_CONNECTION) {
    const [oldSql, old] = m.entries().next().value as [string, DuckDBPreparedStatement];
    m.delete(oldSql);
    try {
      old.destroySync();
    } catch {
      /* already gone */
    }
  }
}

/** Prepares (or reuses) a single statement, binds `params` and runs it. */
export async function runCached(conn: DuckDBConnection, sql: string, params: DuckDBValue[] = []): Promise<DuckDBMaterializedResult> {
  let s = cachedStatement(conn, sql);
  if (!s) {
    s = await conn.prepare(sql);
    cacheStatement(conn, sql, s);
  }
  s.clearBindings();
  if (params.length) s.bind(params);
  return s.run();
}

/** Destroys every cached statement of `conn` (before closing it). */
export function clearStatementCache(conn: DuckDBConnection): void {
  const m = caches.get(conn);
  if (!m) return;
  for (const s of m.values()) {
    try {
      s.destroySync();
    } catch {
      /* already gone */
    }
  }
  caches.delete(conn);
}
