/**
 * Einstein search benchmark (`npm run bench -- einstein`; BOLT_BENCH_QUICK=1 for a smoke run).
 *
 * 1. Quality on RxJS 7 sources (node_modules/rxjs/src, a dev dependency nobody here wrote):
 *    the queries in bench/data/einstein-eval.json, each paraphrasing one file's doc comment.
 *    MRR@10 and recall@10 at FILE level (hits deduplicated by file) for bm25, vector and
 *    hybrid, beside a grep-style baseline measured in the same run: files ranked by how often
 *    the query's words occur in them.
 * 2. Indexing rate (files/s, chunks/s): in-process with 1 and 2 async workers, and on 1 and 2
 *    runtime agents (worker threads, as `bolt index --agents N` does).
 * 3. Search latency p50/p99 on an index of >= 100,000 chunks, built by indexing the installed
 *    node_modules tree several times under different roots (symlinks in a temp dir, so every
 *    copy has its own paths). Baselines in the same run: the trivial-statement round trip, and
 *    a grep-style scan of the same chunk texts in memory.
 */
import { mkdtempSync, readFileSync, rmSync, symlinkSync, mkdirSync, realpathSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';
import type { Database } from '../core/database.js';
import { EinsteinSearch, type SearchMode } from '../search/einstein-search.js';
import { HashEmbedder, type Embedder } from '../search/embedder.js';
import { walk } from '../search/walker.js';
import { indexWithAgents } from '../tools/index-with-agents.js';
import { STOP_WORDS } from '../search/tokenizer.js';
import { percentile } from '../core/latency-summary.js';

const QUICK = process.env.BOLT_BENCH_QUICK === '1';
const REPO = fileURLToPath(new URL('../../', import.meta.url));
const RXJS_SRC = join(REPO, 'node_modules', 'rxjs', 'src');
const RXJS_PKG = join(REPO, 'node_modules', 'rxjs');
const NODE_MODULES = realpathSync(join(REPO, 'node_modules'));
const TARGET_CHUNKS = QUICK ? 10_000 : 100_000;
const MODES: SearchMode[] = ['bm25', 'vector', 'hybrid'];

interface EvalQuery {
  query: string;
  expected: string;
}

const out = (s = '') => process.stdout.write(`${s}\n`);
const fmt = (x: number, d = 3) => x.toFixed(d);

const tmp = mkdtempSync(join(tmpdir(), 'bolt-bench-einstein-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

async function open(name: string): Promise<Database> {
  return ConcurrentDatabase.open(join(tmp, name));
}

/** Words of a query as a grep user would type them. */
function grepWords(q: string): string[] {
  return [
    ...new Set(
      q
        .toLowerCase()
        .split(/[^a-z0-9]+/)
        .filter((w) => w.length >= 2 && !STOP_WORDS.has(w)),
    ),
  ];
}
function countOccurrences(hay: string, needle: string): number {
  let n = 0;
  for (let i = hay.indexOf(needle); i !== -1; i = hay.indexOf(needle, i + needle.length)) n++;
  return n;
}

function scoreRanks(ranks: Array<number | undefined>): { mrr: number; recall: number } {
  let mrr = 0;
  let recall = 0;
  for (const r of ranks) {
    if (r !== undefined && r <= 10) {
      mrr += 1 / r;
      recall++;
    }
  }
  return { mrr: mrr / ranks.length, recall: recall / ranks.length };
}

async function quality(queries: EvalQuery[]): Promise<void> {
  out('### Quality: RxJS sources, file-level MRR@10 / recall@10');
  out();
  out(`${queries.length} queries from bench/data/einstein-eval.json, corpus ${RXJS_SRC.replace(REPO, '')}`);
  out();
  // grep baseline over the same files the indexer sees
  const files: Array<{ rel: string; text: string }> = [];
  for await (const e of walk(RXJS_SRC)) files.push({ rel: e.path, text: (await readFile(e.absPath, 'utf8')).toLowerCase() });
  const grepRanks = queries.map(({ query, expected }) => {
    const words = grepWords(query);
    const ranked = files
      .map((f) => ({ rel: f.rel, score: words.reduce((s, w) => s + countOccurrences(f.text, w), 0) }))
      .filter((f) => f.score > 0)
      .sort((a, b) => b.score - a.score || (a.rel < b.rel ? -1 : 1));
    const i = ranked.findIndex((f) => f.rel === expected);
    return i < 0 ? undefined : i + 1;
  });
  const grep = scoreRanks(grepRanks);
  const rows: string[] = [`| grep baseline (word counts) | ${fmt(grep.mrr)} | ${fmt(grep.recall)} | 1.00× |`];
  const embedders: Array<[string, Embedder]> = [
    ['hash-256 (default)', new HashEmbedder()],
    ['hash-128', new HashEmbedder({ dim: 128 })],
  ];
  for (const [ename, embedder] of embedders) {
    const db = await open(`eval-${embedder.dim}.db`);
    const einstein = new EinsteinSearch(db, { embedder, cacheSize: 0 });
    await einstein.index(RXJS_SRC);
    for (const mode of MODES) {
      if (mode === 'bm25' && embedder.dim !== 256) continue; // bm25 does not depend on the embedder
      const ranks: Array<number | undefined> = [];
      for (const { query, expected } of queries) {
        const hits = await einstein.search(query, { k: 100, mode });
        const filesRanked = [...new Set(hits.map((h) => h.path))].map((p) => p.slice(p.indexOf('rxjs/src/') + 'rxjs/src/'.length));
        const i = filesRanked.indexOf(expected);
        ranks.push(i < 0 ? undefined : i + 1);
      }
      const s = scoreRanks(ranks);
      rows.push(`| ${mode}${mode === 'bm25' ? '' : ` (${ename})`} | ${fmt(s.mrr)} | ${fmt(s.recall)} | ${fmt(s.mrr / grep.mrr, 2)}× |`);
    }
    await db.close();
  }
  out('| ranker | MRR@10 | recall@10 | MRR vs grep |');
  out('| --- | ---: | ---: | ---: |');
  for (const r of rows) out(r);
  out();
}

interface RateRow {
  how: string;
  workers: number;
  files: number;
  chunks: number;
  secs: number;
}

/** One indexing run of `root` into a fresh database. */
async function indexOnce(einstein: EinsteinSearch, root: string, workers: number): Promise<RateRow> {
  const t = performance.now();
  const r = await einstein.index(root, { concurrency: workers });
  return { how: 'in-process async workers', workers, files: r.filesIndexed, chunks: r.chunks, secs: (performance.now() - t) / 1000 };
}

/** `bolt index --agents N`'s path: N shard tasks on runtime agents, then the in-process finish. */
async function indexOnAgents(name: string, root: string, agents: number): Promise<RateRow> {
  const db = await open(name);
  const einstein = new EinsteinSearch(db);
  await einstein.indexStats();
  const t = performance.now();
  const shards = await indexWithAgents(db.location, root, agents, {}, () => {});
  await einstein.index(root);
  const secs = (performance.now() - t) / 1000;
  await db.close();
  return {
    how: 'runtime agents (worker threads, DB clients)',
    workers: agents,
    files: shards.reduce((n, r) => n + r.filesIndexed, 0),
    chunks: shards.reduce((n, r) => n + r.chunks, 0),
    secs,
  };
}

function printRates(root: string, rows: RateRow[]): void {
  out(`### Indexing rate: ${root.replace(REPO, '')} into a fresh database`);
  out();
  out('| how | N | files | chunks | seconds | files/s | chunks/s | vs 1 in-process worker |');
  out('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  const base = rows[0]!.chunks / rows[0]!.secs;
  for (const r of rows) {
    const rate = r.chunks / r.secs;
    out(`| ${r.how} | ${r.workers} | ${r.files} | ${r.chunks} | ${fmt(r.secs, 1)} | ${fmt(r.files / r.secs, 0)} | ${fmt(rate, 0)} | ${fmt(rate / base, 2)}× |`);
  }
  out();
  out(
    'In-process workers share one ConcurrentDatabase handle of the host; runtime agents are worker threads that reach the host as socket clients (`bolt index --agents N`). The 2-worker in-process run is the first copy of the latency corpus below. Compaction included everywhere.',
  );
  out();
}

async function latency(queries: EvalQuery[]): Promise<void> {
  const source = QUICK ? RXJS_PKG : NODE_MODULES;
  const corpus = join(tmp, 'corpus');
  mkdirSync(corpus);
  const copyRoot = (i: number) => {
    const root = join(corpus, `copy${i}`);
    symlinkSync(source, root);
    return root;
  };
  // 1 worker, fresh database: the baseline of the indexing rate
  const single = await open('rate-1.db');
  const one = await indexOnce(new EinsteinSearch(single), copyRoot(0), 1);
  await single.close();
  const db = await open('big.db');
  const einstein = new EinsteinSearch(db, { cacheSize: 0 });
  let copies = 0;
  let files = 0;
  let chunks = 0;
  let first: RateRow | undefined;
  const t = performance.now();
  const seen: number[] = [];
  while (copies < 30 && (seen.at(-1) ?? 0) < TARGET_CHUNKS) {
    copies++;
    const r = await indexOnce(einstein, copyRoot(copies), 2);
    first ??= r;
    files += r.files;
    chunks += r.chunks;
    seen.push((await einstein.indexStats()).chunks);
  }
  const agentRows: RateRow[] = [];
  for (const n of [1, 2]) agentRows.push(await indexOnAgents(`rate-agents-${n}.db`, copyRoot(100 + n), n));
  printRates(source, [one, first!, ...agentRows]);
  const buildSecs = (performance.now() - t) / 1000;
  const size = await einstein.indexStats();
  const dbBytes = statSync(join(tmp, 'big.db')).size;
  out(`### Search latency on ${size.chunks.toLocaleString('en')} chunks`);
  out();
  out(
    `Corpus: ${copies} copies of ${source.replace(REPO, '')} under different roots: ${size.files} files, ` +
      `${size.chunks} chunks, ${size.postings} postings, ${(dbBytes / 1e6).toFixed(0)} MB database. ` +
      `Built with 2 workers in ${fmt(buildSecs, 1)} s (${fmt(files / buildSecs, 0)} files/s, ${fmt(chunks / buildSecs, 0)} chunks/s, compaction included; ` +
      `chunks in the index after each copy: ${seen.join(', ')}).`,
  );
  out();
  // Wall time, and CPU time of this process (the DuckDB host runs in it, so its threads count):
  // the machine is shared, and CPU time is what a search costs whatever the neighbours do.
  let cpu: number[] = [];
  const measure = async (fn: (q: string) => Promise<unknown>, qs: string[], rounds: number): Promise<number[]> => {
    const ts: number[] = [];
    cpu = [];
    for (let r = 0; r < rounds; r++) {
      for (const q of qs) {
        const s = performance.now();
        const c0 = process.cpuUsage();
        await fn(q);
        const c = process.cpuUsage(c0);
        if (r > 0 || rounds === 1) {
          ts.push(performance.now() - s);
          cpu.push((c.user + c.system) / 1000);
        }
      }
    }
    cpu.sort((a, b) => a - b);
    return ts.sort((a, b) => a - b);
  };
  const qs = queries.map((q) => q.query);
  const floor = await measure(() => db.query('SELECT count(*) AS n FROM einstein_changes'), qs, 2);
  const floorCpu = percentile(cpu, 50);
  out('| what | p50 ms | p99 ms | p50 vs grep scan | CPU ms p50 |');
  out('| --- | ---: | ---: | ---: | ---: |');
  // grep-style baseline: every chunk's text scanned in memory for the query words
  const texts = (await db.query<{ text: string }>('SELECT lower(text) AS text FROM einstein_chunks')).map((r) => r.text);
  const grepQs = qs.slice(0, QUICK ? 5 : 10);
  const grep = await measure(
    async (q) => {
      const words = grepWords(q);
      const scores: number[] = [];
      for (const text of texts) scores.push(words.reduce((s, w) => s + countOccurrences(text, w), 0));
      return scores;
    },
    grepQs,
    1,
  );
  const g50 = percentile(grep, 50);
  out(
    `| grep scan of all chunk texts in memory (${grepQs.length} queries) | ${fmt(g50, 1)} | ${fmt(percentile(grep, 99), 1)} | 1.00× | ${fmt(percentile(cpu, 50), 1)} |`,
  );
  out(
    `| trivial statement round trip (floor) | ${fmt(percentile(floor, 50), 2)} | ${fmt(percentile(floor, 99), 2)} | ${fmt(percentile(floor, 50) / g50, 4)}× | ${fmt(floorCpu, 2)} |`,
  );
  for (const mode of MODES) {
    const ts = await measure((q) => einstein.search(q, { k: 10, mode }), qs, 2);
    out(
      `| ${mode}, k=10, uncached (${ts.length} searches) | ${fmt(percentile(ts, 50), 1)} | ${fmt(percentile(ts, 99), 1)} | ${fmt(percentile(ts, 50) / g50, 3)}× | ${fmt(percentile(cpu, 50), 1)} |`,
    );
  }
  const cached = new EinsteinSearch(db);
  const hit = await measure((q) => cached.search(q, { k: 10 }), qs, 2);
  out(
    `| hybrid, cache hit | ${fmt(percentile(hit, 50), 2)} | ${fmt(percentile(hit, 99), 2)} | ${fmt(percentile(hit, 50) / g50, 4)}× | ${fmt(percentile(cpu, 50), 2)} |`,
  );
  out();
  out(`Load average at the end: ${loadavg()[0]!.toFixed(1)} on ${cpus().length} cores.`);
  out();
  await db.close();
}

const evalSet = JSON.parse(readFileSync(join(REPO, 'bench', 'data', 'einstein-eval.json'), 'utf8')) as { queries: EvalQuery[] };
out(`Einstein search benchmark${QUICK ? ' (QUICK)' : ''}; machine: ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at start`);
out();
await quality(evalSet.queries);
await latency(evalSet.queries);
