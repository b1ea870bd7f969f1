/**
 * Prepared statements cached per connection (LRU by SQL text). Each DuckDB call is one hop
 * through the libuv thread pool; `conn.run(sql)` costs three (extract, prepare, execute), a
 * cached statement one.
 *
 * A cached plan is only valid for the data it was prepared against: DuckDB 1.5.6 folds table
 * statistics into a prepared plan, so a re-executed `SELECT count(*) FROM t` on a reopened
 * file keeps returning the count as of PREPARE while rows are appended (measured). So every
 * entry carries the host's data version at PREPARE, and a lookup with another version misses
 * (and drops the entry). The host bumps its version after every statement that is not a read.
 * Bolt's fixed statements (BEGIN, COMMIT, ROLLBACK, the request-log INSERT) are looked up
 * without a version. A connection is used by one caller at a time (pool lease or session
 * queue), so a cached statement is never bound by two callers at once.
 */
import type { DuckDBConnection, DuckDBMaterializedResult, DuckDBPreparedStatement, DuckDBValue } from '@duckdb/node-api';

const MAX_PER_CONNECTION = 128;
interface Entry {
  stmt: DuckDBPreparedStatement;
  /** Data version at PREPARE; undefined for Bolt's fixed statements (always valid). */
  version?: number;
}
const caches = new WeakMap<DuckDBConnection, Map<string, Entry>>();

function destroy(s: DuckDBPreparedStatement): void {
  try {
    s.destroySync();
  } catch {
    /* already gone */
  }
}

/**
 * The cached statement for `sql` on `conn` prepared at data `version` (refreshes its LRU
 * position); an entry of another version is dropped and undefined returned.
 */
export function cachedStatement(conn: DuckDBConnection, sql: string, version?: number): DuckDBPreparedStatement | undefined {
  const m = caches.get(conn);
  const e = m?.get(sql);
  if (!e || !m) return undefined;
  m.delete(sql);
  if (e.version !== version) {
    destroy(e.stmt);
    return undefined;
  }
  m.set(sql, e);
  return e.stmt;
}

/** Adds a freshly prepared statement to the cache (evicting the least recently used). */
export function cacheStatement(conn: DuckDBConnection, sql: string, s: DuckDBPreparedStatement, version?: number): void {
  let m = caches.get(conn);
  if (!m) caches.set(conn, (m = new Map()));
  const old = m.get(sql);
  if (old && old.stmt !== s) destroy(old.stmt);
  m.set(sql, { stmt: s, version });
  if (m.size > MAX_PER_CONNECTION) {
    const [oldSql, oldest] = m.entries().next().value as [string, Entry];
    m.delete(oldSql);
    destroy(oldest.stmt);
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
  for (const e of m.values()) destroy(e.stmt);
  caches.delete(conn);
}
