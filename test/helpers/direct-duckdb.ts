/**
 * STOP-GAP until `ConcurrentDatabase` lands on main: a minimal in-process `Database` over one
 * DuckDB instance (a free list of connections, transactions retried on conflict). It lets the
 * Einstein tests run against real DuckDB files today; replace `openDirectDuckDB` with
 * `ConcurrentDatabase.open` when it exists. Not for production use: no host, no clients.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import type { Database, DatabaseStats, ExecResult, LockInfo, Row, Session, Transaction } from '../../core/database.js';
import { SqlError, TxConflictError, BadInputError } from '../../core/errors.js';

async function run(conn: DuckDBConnection, sql: string, params: readonly unknown[] = []): Promise<{ rows: Row[]; changed: number }> {
  try {
    const reader = await conn.runAndReadAll(sql, params as DuckDBValue[]);
    return { rows: reader.getRowObjectsJS() as Row[], changed: reader.rowsChanged };
  } catch (err) {
    const message = (err as Error).message;
    if (/Conflict/i.test(message)) throw new TxConflictError(message, { sql });
    throw new SqlError(message, { sql });
  }
}

function queryable(conn: DuckDBConnection): Transaction {
  return {
    async query<T extends Row = Row>(sql: string, params?: readonly unknown[]) {
      return (await run(conn, sql, params)).rows as T[];
    },
    async execute(sql: string, params?: readonly unknown[]): Promise<ExecResult> {
      return { rowsChanged: (await run(conn, sql, params)).changed };
    },
  };
}

/** Opens `path` with one in-process DuckDB instance (see the module comment). */
export async function openDirectDuckDB(path: string): Promise<Database> {
  const instance = await DuckDBInstance.create(path);
  const free: DuckDBConnection[] = [];
  const all: DuckDBConnection[] = [];
  let queries = 0;
  const take = async () => {
    const c = free.pop() ?? (await instance.connect());
    if (!all.includes(c)) all.push(c);
    return c;
  };
  const give = (c: DuckDBConnection) => free.push(c);
  async function withConn<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
    const c = await take();
    try {
      queries++;
      return await fn(c);
    } finally {
      give(c);
    }
  }
  async function transaction<T>(c: DuckDBConnection, fn: (tx: Transaction) => Promise<T>, retries = 5): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      await run(c, 'BEGIN TRANSACTION');
      try {
        const out = await fn(queryable(c));
        await run(c, 'COMMIT');
        return out;
      } catch (err) {
        await run(c, 'ROLLBACK').catch(() => undefined);
        if (err instanceof TxConflictError && attempt < retries) continue;
        throw err;
      }
    }
  }
  const db: Database = {
    engine: 'duckdb',
    location: path,
    query: (sql, params) => withConn((c) => queryable(c).query(sql, params)),
    execute: (sql, params) => withConn((c) => queryable(c).execute(sql, params)),
    transaction: (fn, opts) => withConn((c) => transaction(c, fn, opts?.retries)),
    async session(opts = {}): Promise<Session> {
      const c = await take();
      const q = queryable(c);
      const guard = (sql: string) => {
        if (opts.readOnly && !/^\s*(SELECT|WITH|BEGIN|COMMIT|ROLLBACK)/i.test(sql)) throw new BadInputError('read-only session');
      };
      return {
        name: opts.name ?? 'session',
        readOnly: Boolean(opts.readOnly),
        query: (sql, params) => (guard(sql), q.query(sql, params)),
        execute: (sql, params) => (guard(sql), q.execute(sql, params)),
        begin: async () => void (await run(c, 'BEGIN TRANSACTION')),
        commit: async () => void (await run(c, 'COMMIT')),
        rollback: async () => void (await run(c, 'ROLLBACK')),
        transaction: (fn, o) => transaction(c, fn, o?.retries),
        close: async () => void give(c),
      };
    },
    async insertMany(table, columns, rows) {
      if (rows.length === 0) return { rowsChanged: 0 };
      const ph = `(${columns.map(() => '?').join(',')})`;
      return db.execute(`INSERT INTO ${table} (${columns.join(',')}) VALUES ${rows.map(() => ph).join(',')}`, rows.flat());
    },
    stats(): DatabaseStats {
      return {
        engine: 'duckdb',
        role: 'host',
        pool: { size: all.length, inUse: all.length - free.length, idle: free.length, waiting: 0, waitMs: { p50: 0, p95: 0, p99: 0, max: 0 }, holders: [] },
        queries,
        errorsByCode: {},
      };
    },
    lockInfo(): LockInfo {
      return { path, engine: 'duckdb', role: 'host' };
    },
    async close() {
      for (const c of all) c.closeSync();
      instance.closeSync();
    },
  };
  return db;
}
