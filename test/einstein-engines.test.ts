/**
 * Einstein search on SQLite and PostgreSQL gives the same hits as on DuckDB for the same
 * corpus: BM25, vector and hybrid modes, a path filter, and an incremental re-index.
 * PostgreSQL runs only with BOLT_TEST_PG_URL (scripts/pg-test-cluster.sh start).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { freshPgDatabase, PG_SKIP } from './helpers/pg.js';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';
import type { Database } from '../core/database.js';
import { EinsteinSearch, type SearchOptions } from '../search/einstein-search.js';
import { HashEmbedder } from '../search/embedder.js';

const CORPUS: Record<string, string> = {
  'net/retry.ts': 'export function retryWithBackoff(fn, attempts) {\n  // exponential backoff with jitter between network retries\n  return fn();\n}\n',
  'net/socket.ts': 'export class Socket {\n  connect(host, port) { /* open a tcp socket to the host */ }\n  close() {}\n}\n',
  'net/timer.ts': 'export function sleep(ms) { return new Promise((r) => setTimeout(r, ms)); }\n// delay, wait, timer, backoff\n',
  'docs/cooking.md': '# Pasta\nBoil water, add salt, cook the pasta, add tomato and basil.\n',
  'docs/retry.md': '# Retry policy\nRetries use exponential backoff. A network error is retried three times.\n',
  'db/queue.ts': 'export class TaskQueue {\n  claim() { /* FOR UPDATE SKIP LOCKED */ }\n  retry(task) { return task; }\n}\n',
};

const QUERIES: Array<[string, SearchOptions]> = [
  ['retry backoff', { mode: 'bm25', k: 5 }],
  ['network error', { mode: 'bm25', k: 5 }],
  ['pasta tomato', { mode: 'bm25', k: 5 }],
  ['retry backoff', { mode: 'vector', k: 5 }],
  ['tcp socket host', { mode: 'vector', k: 5 }],
  ['retry backoff', { mode: 'hybrid', k: 5 }],
  ['queue claim task', { mode: 'hybrid', k: 5 }],
  ['retry', { mode: 'hybrid', k: 5, pathGlob: '**/docs/**' }],
];

type Result = { path: string; startLine: number; score: number; bm25Rank?: number; vectorRank?: number };

/** Indexes the corpus into `db`, runs every query, then edits/removes files and runs them again. */
async function runAll(db: Database, root: string): Promise<Result[][]> {
  const src = join(root, 'src');
  for (const [name, text] of Object.entries(CORPUS)) {
    mkdirSync(join(src, name, '..'), { recursive: true });
    writeFileSync(join(src, name), text);
  }
  const einstein = new EinsteinSearch(db, { embedder: new HashEmbedder({ dim: 64 }) });
  const first = await einstein.index(src);
  assert.equal(first.filesIndexed, Object.keys(CORPUS).length);
  const search = async () => {
    const out: Result[][] = [];
    for (const [q, opts] of QUERIES) {
      const hits = await einstein.search(q, opts);
      out.push(
        hits.map((h) => ({
          path: h.path.slice(h.path.indexOf('src/') + 4),
          startLine: h.startLine,
          score: h.score,
          bm25Rank: h.matched.bm25Rank,
          vectorRank: h.matched.vectorRank,
        })),
      );
    }
    return out;
  };
  const before = await search();
  // incremental: one file rewritten (new file id), one removed
  writeFileSync(join(src, 'docs/cooking.md'), '# Retry pasta\nRetry boiling the network of noodles with backoff.\n');
  rmSync(join(src, 'net/timer.ts'));
  const second = await einstein.index(src);
  assert.equal(second.filesIndexed, 1);
  assert.equal(second.filesRemoved, 1);
  const after = await search();
  const sizes = await einstein.indexStats();
  assert.equal(sizes.files, Object.keys(CORPUS).length - 1);
  return [...before, ...after];
}

/** Same hits in the same order, scores equal up to float32 rounding of the vectors. */
function assertSameResults(got: Result[][], want: Result[][], engine: string): void {
  assert.equal(got.length, want.length);
  for (let i = 0; i < want.length; i++) {
    const label = `${engine}: query ${i} ${QUERIES[i % QUERIES.length]![0]} (${QUERIES[i % QUERIES.length]![1].mode})`;
    assert.ok(want[i]!.length > 0, `${label}: DuckDB found nothing (a query that tests nothing)`);
    assert.deepEqual(
      got[i]!.map((h) => [h.path, h.startLine, h.bm25Rank, h.vectorRank]),
      want[i]!.map((h) => [h.path, h.startLine, h.bm25Rank, h.vectorRank]),
      label,
    );
    got[i]!.forEach((h, j) => assert.ok(Math.abs(h.score - want[i]![j]!.score) < 1e-5, `${label}: score ${h.score} vs ${want[i]![j]!.score}`));
  }
}

async function duckdbBaseline(t: TestContext): Promise<Result[][]> {
  const dir = tempDir(t);
  const db = await ConcurrentDatabase.open(join(dir, 'index.duckdb'));
  t.after(() => db.close());
  const results = await runAll(db, join(dir, 'duck'));
  await db.close();
  return results;
}

test('Einstein on SQLite: same BM25, vector and hybrid hits as DuckDB, incremental re-index included', { timeout: 60_000 }, async (t) => {
  const want = await duckdbBaseline(t);
  const dir = tempDir(t);
  const db = await ConcurrentDatabase.open(join(dir, 'index.sqlite'), { engine: 'sqlite' });
  t.after(() => db.close());
  assert.equal(db.engine, 'sqlite');
  assertSameResults(await runAll(db, join(dir, 'lite')), want, 'sqlite');
});

test('Einstein on PostgreSQL: same BM25, vector and hybrid hits as DuckDB, incremental re-index included', { timeout: 60_000, skip: PG_SKIP }, async (t) => {
  const want = await duckdbBaseline(t);
  const dir = tempDir(t);
  const { tcp } = await freshPgDatabase(t, 'bolt_einstein');
  const db = await ConcurrentDatabase.open(tcp);
  t.after(() => db.close());
  assert.equal(db.engine, 'postgres');
  assertSameResults(await runAll(db, join(dir, 'pg')), want, 'postgres');
});

/** `bolt index` then `bolt search` against `db` (a file or a URL): the top BM25 hit is the retry file. */
async function cliRoundTrip(t: TestContext, db: string, indexArgs: string[]): Promise<void> {
  const cwd = tempDir(t);
  mkdirSync(join(cwd, 'proj'));
  writeFileSync(join(cwd, 'proj', 'retry.ts'), 'export function retryWithBackoff(attempts: number) {\n  return attempts;\n}\n');
  writeFileSync(join(cwd, 'proj', 'chart.ts'), 'export function drawPieChart(sales: number[]) {\n  return sales;\n}\n');
  const idx = await runBolt(['index', 'proj', '--db', db, '--json', ...indexArgs], { cwd });
  assert.equal(idx.code, 0, idx.stderr);
  assert.equal((JSON.parse(idx.stdout) as { filesIndexed: number }).filesIndexed, 2);
  const s = await runBolt(['search', 'retry backoff', '--db', db, '--json'], { cwd });
  assert.equal(s.code, 0, s.stderr);
  const hits = (JSON.parse(s.stdout) as { hits: Array<{ path: string; matched: { bm25Rank?: number } }> }).hits;
  assert.equal(hits[0]!.path, 'proj/retry.ts');
  assert.equal(hits[0]!.matched.bm25Rank, 1);
}

test('bolt index/search --engine sqlite (then detected from the file header)', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'search.sqlite');
  await cliRoundTrip(t, file, ['--engine', 'sqlite']);
  const db = await ConcurrentDatabase.open(file);
  t.after(() => db.close());
  assert.equal(db.engine, 'sqlite');
});

test('bolt index/search --db postgres://…', { timeout: 60_000, skip: PG_SKIP }, async (t) => {
  const { tcp } = await freshPgDatabase(t, 'bolt_einstein_cli');
  await cliRoundTrip(t, tcp, []);
});
