/**
 * The workloads of `concurrent-database.bench.ts`, written once against a minimal
 * query/execute interface so that direct DuckDB, Bolt from a worker thread, Bolt from another
 * process and open-per-operation all run exactly the same calls.
 */

/** What a workload needs; `caller` picks a connection where the target has several. */
export interface Target {
  query(sql: string, params: unknown[], caller: number): Promise<unknown[]>;
  execute(sql: string, params: unknown[], caller: number): Promise<unknown>;
}

export type WorkloadName = 'point' | 'insert' | 'mixed8' | 'analytic';

export const WORKLOADS: Record<WorkloadName, { label: string; callers: number }> = {
  point: { label: 'point read by key (1 caller)', callers: 1 },
  insert: { label: 'single-row autocommit INSERT (1 caller)', callers: 1 },
  mixed8: { label: '8-way mixed: 50% point reads, 50% inserts', callers: 8 },
  analytic: { label: 'GROUP BY over 1M rows', callers: 1 },
};

export const KV_ROWS = 100_000;
export const BIG_ROWS = 1_000_000;

/** Schema and data every mode starts from. */
export const SETUP_SQL = [
  'CREATE TABLE kv (id INTEGER PRIMARY KEY, v VARCHAR)',
  `INSERT INTO kv SELECT i, 'value-' || i FROM range(${KV_ROWS}) r(i)`,
  'CREATE TABLE big (g INTEGER, x DOUBLE)',
  `INSERT INTO big SELECT i % 100, random() FROM range(${BIG_ROWS}) r(i)`,
  'CREATE TABLE ins (who VARCHAR, n INTEGER)',
];

let seq = 0;
async function op(w: WorkloadName, t: Target, caller: number, tag: string): Promise<void> {
  switch (w) {
    case 'point':
      await t.query('SELECT v FROM kv WHERE id = ?', [Math.floor(Math.random() * KV_ROWS)], caller);
      return;
    case 'insert':
      await t.execute('INSERT INTO ins VALUES (?, ?)', [tag, seq++], caller);
      return;
    case 'mixed8':
      if ((seq++ & 1) === 0) await t.query('SELECT v FROM kv WHERE id = ?', [Math.floor(Math.random() * KV_ROWS)], caller);
      else await t.execute('INSERT INTO ins VALUES (?, ?)', [tag, seq], caller);
      return;
    case 'analytic':
      await t.query('SELECT g, count(*) AS n, sum(x) AS s FROM big GROUP BY g', [], caller);
      return;
  }
}

/** Runs workload `w` for `ms` (at least one op per caller); returns operations per second. */
export async function runWorkload(w: WorkloadName, t: Target, ms: number, tag: string): Promise<{ ops: number; perSec: number; ms: number }> {
  const callers = WORKLOADS[w].callers;
  const start = performance.now();
  const end = start + ms;
  let ops = 0;
  await Promise.all(
    Array.from({ length: callers }, async (_, c) => {
      do {
        await op(w, t, c, tag);
        ops++;
      } while (performance.now() < end);
    }),
  );
  const took = performance.now() - start;
  return { ops, perSec: (ops / took) * 1000, ms: took };
}
