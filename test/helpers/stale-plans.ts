/**
 * The stale-plan scenario of test/duckdb-stale-plans.test.ts: queries prepared on empty tables
 * (and again on 100 rows) are re-run after each change of data and compared with the same SQL
 * prepared anew. Used in-process and from fixtures/stale-plans-child.ts.
 */
import { DuckDBInstance, type DuckDBConnection, type DuckDBPreparedStatement, type DuckDBValue } from '@duckdb/node-api';

const QUERIES: Array<[string, DuckDBValue[]]> = [
  ['SELECT status, count(*) AS n FROM t GROUP BY status ORDER BY status', []],
  ['SELECT id, status FROM t WHERE status = ? ORDER BY id', ['done']],
  ['SELECT count(*) AS n FROM t WHERE id > ?', [50]],
  ['SELECT min(id) AS lo, max(id) AS hi, count(*) AS n, count(note) AS notes FROM t', []],
  ['SELECT id FROM t ORDER BY score DESC, id LIMIT 3', []],
  ['SELECT DISTINCT status FROM t ORDER BY 1', []],
  ['SELECT t.id, u.label FROM t JOIN u ON t.id = u.id ORDER BY t.id LIMIT 20', []],
  ['SELECT id FROM t WHERE id BETWEEN ? AND ? ORDER BY id', [90, 1_000_005]],
  ["SELECT sum(score) FILTER (WHERE status LIKE 'k%') AS s FROM t", []],
  ['SELECT id, row_number() OVER (PARTITION BY status ORDER BY id) AS rn FROM t ORDER BY id LIMIT 50', []],
  ["SELECT id FROM t WHERE status IN ('done', 'a-much-longer-status-than-before') ORDER BY id", []],
  ['SELECT length(status) AS len, count(*) AS n FROM t GROUP BY 1 ORDER BY 1', []],
  ['SELECT note, count(*) AS n FROM t GROUP BY note ORDER BY note NULLS FIRST', []],
  ['SELECT id, status, note FROM t WHERE id = ?', [1_000_001]],
  ['SELECT count(*) AS n FROM t WHERE id < 0', []],
  ['SELECT max(status) AS s, min(note) AS m FROM t', []],
];

const CHANGES = [
  "INSERT INTO t SELECT i, CASE WHEN i % 3 = 0 THEN 'done' ELSE 'k' || (i % 5) END, i * 1.5, NULL FROM range(100) r(i)",
  "INSERT INTO u SELECT i, 'label-' || i FROM range(0, 200, 7) r(i)",
  'CHECKPOINT',
  "INSERT INTO t VALUES (1000001, 'a-much-longer-status-than-before', 1e9, 'n'), (-7, 'done', -1, 'a note'), (1000002, NULL, NULL, 'zz')",
  "UPDATE t SET status = 'done', note = 'updated' WHERE id BETWEEN 10 AND 20",
  'DELETE FROM t WHERE id % 4 = 1',
  'CHECKPOINT',
  "INSERT INTO t SELECT i, 'bulk-' || (i % 7), random(), 'x' FROM range(2000000, 2300000) r(i)",
];

async function rows(s: DuckDBPreparedStatement, params: DuckDBValue[]): Promise<string> {
  s.clearBindings();
  if (params.length) s.bind(params);
  return JSON.stringify((await s.runAndReadAll()).getRowsJson());
}

/** Runs the scenario; returns every (change, query) where the old plan and a fresh one differ. */
export async function staleDifferences(path: string, disabledOptimizers: string): Promise<string[]> {
  const inst = await DuckDBInstance.create(path, { disabled_optimizers: disabledOptimizers });
  const conn: DuckDBConnection = await inst.connect();
  try {
    await conn.run('CREATE TABLE t (id BIGINT PRIMARY KEY, status VARCHAR, score DOUBLE, note VARCHAR)');
    await conn.run('CREATE TABLE u (id BIGINT, label VARCHAR)');
    // Plans prepared on the empty tables, and again once the first rows are checkpointed.
    const old: Array<{ at: string; stmts: DuckDBPreparedStatement[] }> = [];
    const prepareAll = async (at: string) => old.push({ at, stmts: await Promise.all(QUERIES.map(([sql]) => conn.prepare(sql))) });
    await prepareAll('empty');
    const out: string[] = [];
    for (const [i, change] of CHANGES.entries()) {
      await conn.run(change);
      for (let q = 0; q < QUERIES.length; q++) {
        const [sql, params] = QUERIES[q]!;
        const fresh = await conn.prepare(sql);
        const want = await rows(fresh, params);
        fresh.destroySync();
        for (const { at, stmts } of old) {
          const got = await rows(stmts[q]!, params);
          if (got !== want)
            out.push(`prepared ${at}, after "${change.slice(0, 40)}…": ${sql}\n  cached: ${got.slice(0, 200)}\n  fresh:  ${want.slice(0, 200)}`);
        }
      }
      if (i === 2) await prepareAll('with 100 rows');
    }
    for (const { stmts } of old) for (const s of stmts) s.destroySync();
    return out;
  } finally {
    conn.closeSync();
    inst.closeSync();
  }
}
