/**
 * The cost of exact values: point reads and 3,000-row scans returning TIMESTAMP and DECIMAL
 * columns from a DuckDB file (in the host process, where conversion is the largest share of a
 * read), with the exact mapping (the default), the `values: 'js'` mapping, and the mapping Bolt
 * used before exact values (node-api's JS conversion) as the baseline, in interleaved rounds.
 * Target: exact ≥ 0.90 × the old mapping.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';
import { useLegacyValuesForBench } from '../adapters/duckdb/values.js';
import type { ValueMode } from '../core/database.js';

const QUICK = process.env.BOLT_BENCH_QUICK === '1';
const ROUNDS = QUICK ? 2 : 5;
const MS = QUICK ? 300 : 1_000;
const ROWS = 3_000;

type Mode = ValueMode | 'old';

const dir = mkdtempSync(join(tmpdir(), 'bolt-exact-values-'));
const db = await ConcurrentDatabase.open(join(dir, 'bench.db'));
await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, ts TIMESTAMP, tstz TIMESTAMPTZ, d DECIMAL(18,3), big DECIMAL(38,9))');
await db.execute(
  `INSERT INTO t SELECT i, TIMESTAMP '2024-01-01 00:00:00' + i * INTERVAL 1 SECOND + i * INTERVAL 7 MICROSECOND,
     TIMESTAMPTZ '2024-01-01 00:00:00+00' + i * INTERVAL 1 MINUTE, i * 1.125, i * 1234567890.123456789 FROM range(${ROWS}) r(i)`,
);

async function rate(mode: Mode, fn: (values: ValueMode) => Promise<unknown>): Promise<number> {
  useLegacyValuesForBench(mode === 'old');
  const values: ValueMode = mode === 'js' ? 'js' : 'exact';
  for (let i = 0; i < 50; i++) await fn(values); // warm up
  const end = performance.now() + MS;
  let n = 0;
  while (performance.now() < end) {
    await fn(values);
    n++;
  }
  return n / (MS / 1000);
}

const work = {
  'point read': (values: ValueMode) => db.query('SELECT ts, tstz, d, big FROM t WHERE id = ?', [Math.floor(Math.random() * ROWS)], { values }),
  '3,000-row scan': (values: ValueMode) => db.query('SELECT ts, tstz, d, big FROM t', [], { values }),
};

console.log(`exact values: ${ROUNDS} interleaved rounds of ${MS} ms per mode; ratio = mode / old mapping (median of rounds)`);
console.log('| workload | old mapping /s | exact /s | js /s | exact ratio | js ratio |');
console.log('|---|---:|---:|---:|---:|---:|');
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
for (const [name, fn] of Object.entries(work)) {
  const r: Record<Mode, number[]> = { old: [], exact: [], js: [] };
  for (let i = 0; i < ROUNDS; i++) for (const m of ['old', 'exact', 'js'] as Mode[]) r[m].push(await rate(m, fn));
  const ratios = (m: Mode) => median(r[m].map((x, i) => x / r.old[i]!));
  const f = (xs: number[]) => median(xs).toFixed(xs === r.old || median(xs) > 100 ? 0 : 1);
  console.log(`| ${name} | ${f(r.old)} | ${f(r.exact)} | ${f(r.js)} | ${ratios('exact').toFixed(2)} | ${ratios('js').toFixed(2)} |`);
}
useLegacyValuesForBench(false);
await db.close();
rmSync(dir, { recursive: true, force: true });
