/**
 * `EinsteinSearch`: indexes files into the shared database and answers keyword (BM25),
 * vector and hybrid (reciprocal-rank fusion) queries. Every call is async, takes an
 * `AbortSignal`, and goes through the `Database` it was given (a `ConcurrentDatabase`), so
 * searches run while other processes index.
 *
 * ```ts
 * const einstein = new EinsteinSearch(db, { embedder });
 * await einstein.index('.', { onProgress });
 * const hits = await einstein.search('retry with backoff', { k: 10, mode: 'hybrid', pathGlob: 'src/**' });
 * ```
 */
import { isAbsolute, relative, sep } from 'node:path';
import type { Database } from '../core/database.js';
import { AbortedError, BadInputError } from '../core/errors.js';
import { dialectFor } from './dialect-for.js';
import { databaseFileSuffixes } from './excluded-files.js';
import { HashEmbedder, normalize, type Embedder } from './embedder.js';
import { termId } from './hash.js';
import { IndexStore } from './index-store.js';
import { IndexCounters, indexEntries, planIndex, removeMissing, type IndexOptions, type IndexPlan, type IndexProgress } from './indexer.js';
import { pathMatcher } from './path-filter.js';
import { checkIndexOptions, checkInt, checkOptionsObject, checkPathGlob, checkSignal, MAX_DEPTH, MAX_K, MAX_QUERY_CHARS } from './options.js';
import { QueryCache } from './query-cache.js';
import { buildSearchSql, type CandidateRow } from './search-sql.js';
import { makeSnippet } from './snippet.js';
import { queryTerms } from './tokenizer.js';
import { percentile } from '../core/latency-summary.js';

export type SearchMode = 'hybrid' | 'bm25' | 'vector';

export interface SearchOptions {
  /** Number of hits: a whole number from 1 to 1000 (default 10). */
  k?: number;
  mode?: SearchMode;
  /** Only files matching this glob (search/glob.ts; matched against the cwd-relative and the absolute path). */
  pathGlob?: string | string[];
  /** Candidates taken from each ranked list before fusion: 1 to 10,000 (default max(50, 3k)). */
  depth?: number;
  signal?: AbortSignal;
}

export interface SearchHit {
  /** File path, relative to the current directory when inside it, else absolute. */
  path: string;
  startLine: number;
  endLine: number;
  /** hybrid: RRF score; bm25: BM25 score; vector: cosine similarity. */
  score: number;
  /** The chunk's best lines for this query. */
  snippet: string;
  snippetStartLine: number;
  /** [start, end) offsets of query-term matches in `snippet`. */
  highlights: Array<[number, number]>;
  /** 1-based rank in each list (undefined: not among its candidates). */
  matched: { bm25Rank?: number; vectorRank?: number };
}

export interface EinsteinOptions {
  /** Default: `new HashEmbedder()` (lexical, offline; see embedder.ts). */
  embedder?: Embedder;
  /** Cached result sets (default 500). */
  cacheSize?: number;
}

export interface EinsteinStats {
  queries: number;
  cacheHits: number;
  cacheMisses: number;
  cacheInvalidations: number;
  /** Over the last 1,024 searches, cache hits included. */
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  /** As of the last `index()` or `indexStats()` call. */
  index?: { files: number; chunks: number; vectors: number; postings: number; version: number };
}

export type IndexResult = IndexProgress & {
  version: number;
  /** Directories the walk could not list and skipped, with the error code (their indexed files are kept). */
  unreadableDirs: IndexPlan['unreadableDirs'];
};

const LATENCY_WINDOW = 1024;

/** Path as shown to users: cwd-relative when inside the cwd. */
export function displayPath(abs: string, cwd = process.cwd()): string {
  const rel = relative(cwd, abs);
  if (rel === '' || rel.startsWith('..') || isAbsolute(rel)) return abs;
  return rel.split(sep).join('/');
}

function checkDir(dir: unknown): void {
  if (typeof dir !== 'string' || dir === '') throw new BadInputError('dir must be a non-empty path');
}

export class EinsteinSearch {
  readonly embedder: Embedder;
  private readonly store: IndexStore;
  private readonly cache: QueryCache<SearchHit[]>;
  private schemaReady: Promise<void> | undefined;
  private files: { version: number; rows: Array<{ id: number; path: string; shown: string }> } | undefined;
  private readonly latencies: number[] = [];
  private queries = 0;
  private lastSizes: EinsteinStats['index'];

  constructor(
    private readonly db: Database,
    opts: EinsteinOptions = {},
  ) {
    this.embedder = opts.embedder ?? new HashEmbedder();
    this.store = new IndexStore(db, dialectFor(db.engine), this.embedder.dim, this.embedder.id);
    this.cache = new QueryCache(opts.cacheSize ?? 500);
  }

  /** The index exists (made when `create`, else BOLT_NOT_FOUND) and was built with this embedder. */
  private ready(create = true): Promise<void> {
    this.schemaReady ??= this.store.ensureSchema(create).catch((err: unknown) => {
      this.schemaReady = undefined;
      throw err;
    });
    return this.schemaReady;
  }

  /** Paths never to open: the database file and its companions (see excluded-files.ts). */
  private excluded(): string[] {
    const loc = this.db.location;
    if (!loc || loc === ':memory:' || /^[a-z]+:\/\//i.test(loc)) return [];
    return databaseFileSuffixes(this.db.engine).map((suffix) => `${loc}${suffix}`);
  }

  /**
   * Walks `dir` and compares it with the index. Use with `indexEntries` and `finishPlan` to
   * spread one indexing run over several agents; `index()` does all three in-process.
   */
  async plan(dir: string, opts: IndexOptions = {}, counters = new IndexCounters(opts.onProgress)): Promise<IndexPlan> {
    checkDir(dir);
    checkIndexOptions(opts);
    await this.ready();
    return planIndex(this.store, dir, opts, this.excluded(), counters);
  }

  /** Indexes a subset of `plan.toIndex` (the unit of work of one indexing agent). */
  async indexEntries(
    plan: IndexPlan,
    entries: IndexPlan['toIndex'],
    opts: IndexOptions = {},
    counters = new IndexCounters(opts.onProgress),
  ): Promise<IndexProgress> {
    checkIndexOptions(opts);
    await this.ready();
    await indexEntries(this.store, this.embedder, entries, plan.knownHashes, opts, counters, this.excluded());
    return counters.snapshot();
  }

  /** Removes the files `plan` found deleted and compacts the postings when due. */
  async finishPlan(plan: IndexPlan, opts: IndexOptions = {}, counters = new IndexCounters(opts.onProgress)): Promise<void> {
    checkIndexOptions(opts);
    await removeMissing(this.store, plan, opts, counters);
  }

  /**
   * Indexes `dir` incrementally: new and changed files are (re-)indexed, deleted ones removed,
   * unchanged ones not read. `concurrency` async workers share the work. On abort, rejects
   * with BOLT_ABORTED; files already written stay indexed (each batch is atomic).
   */
  async index(dir: string, opts: IndexOptions = {}): Promise<IndexResult> {
    checkDir(dir);
    checkIndexOptions(opts);
    const counters = new IndexCounters(opts.onProgress);
    const plan = await this.plan(dir, opts, counters);
    await indexEntries(this.store, this.embedder, plan.toIndex, plan.knownHashes, opts, counters, this.excluded());
    await removeMissing(this.store, plan, opts, counters);
    counters.phase = 'done';
    counters.report();
    this.lastSizes = await this.store.sizes();
    return { ...counters.snapshot(), version: this.lastSizes.version, unreadableDirs: plan.unreadableDirs };
  }

  /**
   * Re-sorts the postings by term if enough were appended since the last time (`force`:
   * always). `index()` calls it at the end of every run; see IndexStore.compact.
   */
  async compact(opts: { force?: boolean; signal?: AbortSignal } = {}): Promise<{ compacted: boolean; rows: number; tail: number }> {
    await this.ready(false);
    return this.store.compact(opts);
  }

  /** Exact counts of what the index holds (an index is created, empty, when there is none). */
  async indexStats(): Promise<NonNullable<EinsteinStats['index']>> {
    await this.ready();
    this.lastSizes = await this.store.sizes();
    return this.lastSizes;
  }

  /** Drops the whole index (all Einstein tables). */
  async reset(): Promise<void> {
    await this.store.drop();
    this.schemaReady = undefined;
    this.cache.clear();
    this.files = undefined;
  }

  /** Ids of the files `match` accepts, from the file list of index version `known` (re-read when stale). */
  private async fileIdsMatching(match: (path: string) => boolean, known: number, signal?: AbortSignal): Promise<{ version: number; ids: number[] }> {
    if (this.files?.version !== known) {
      const rows = await this.db.query<{ version: bigint | number; id: bigint | number | null; path: string | null }>(
        'SELECT ver.version, f.id, f.path FROM (SELECT count(*) AS version FROM einstein_changes) ver LEFT JOIN einstein_files f ON true',
        [],
        { signal },
      );
      this.files = {
        version: Number(rows[0]?.version ?? 0),
        rows: rows.filter((r) => r.id !== null).map((r) => ({ id: Number(r.id), path: r.path!, shown: displayPath(r.path!) })),
      };
    }
    return { version: this.files.version, ids: this.files.rows.filter((r) => match(r.shown) || match(r.path)).map((r) => r.id) };
  }

  /**
   * Ranked hits for `query` (see SearchOptions). Hits may come from the cache: treat them as
   * read-only. Without an index in the database: BOLT_NOT_FOUND, and nothing is written.
   */
  async search(query: string, opts: SearchOptions = {}): Promise<SearchHit[]> {
    const t0 = performance.now();
    if (typeof query !== 'string') throw new BadInputError('query must be a string');
    if (query.trim() === '') throw new BadInputError('the query is empty: give words, identifiers or a description');
    if (query.length > MAX_QUERY_CHARS) {
      throw new BadInputError(`the query is ${query.length} characters long; at most ${MAX_QUERY_CHARS} are allowed`, { length: query.length });
    }
    checkOptionsObject('search options', opts);
    const { signal } = opts;
    checkSignal(signal);
    const k = checkInt('k', opts.k ?? 10, 1, MAX_K);
    const mode = opts.mode ?? 'hybrid';
    if (!['hybrid', 'bm25', 'vector'].includes(mode)) throw new BadInputError(`mode must be hybrid, bm25 or vector, got ${String(mode)}`, { mode });
    // depth and k are inlined into the statement as LIMITs: only checked whole numbers get there.
    const depth = checkInt('depth', opts.depth ?? Math.max(50, 3 * k), 1, MAX_DEPTH);
    // Compiled (and so checked) before anything runs, once per search.
    let match: ((path: string) => boolean) | undefined;
    if (opts.pathGlob !== undefined) {
      checkPathGlob(opts.pathGlob);
      match = pathMatcher(opts.pathGlob);
    }
    if (signal?.aborted) throw new AbortedError('Search aborted');
    await this.ready(false); // a search never creates the index
    this.queries++;
    const key = QueryCache.key(query, { k, mode, pathGlob: opts.pathGlob, depth });
    const current = String(await this.store.version());
    const cached = this.cache.get(key, current);
    if (cached) {
      this.record(t0);
      return cached;
    }
    const terms = queryTerms(query);
    const termIds = mode === 'vector' ? [] : [...new Set(terms.map(termId))];
    let vector: Float32Array | undefined;
    if (mode !== 'bm25') {
      vector = normalize((await this.embedder.embed([query], { signal }))[0]!);
      if (!vector.some((x) => x !== 0)) vector = undefined;
    }
    let rows: CandidateRow[] = [];
    let known = Number(current);
    for (let attempt = 0; attempt < 3; attempt++) {
      const filter = match ? await this.fileIdsMatching(match, known, signal) : undefined;
      const { sql, params } = buildSearchSql(this.store.dialect, this.store.dim, { termIds, vector, depth, k, fileIds: filter?.ids });
      rows = await this.db.query<CandidateRow>(sql, params, { signal });
      // The file list and the search must come from the same index version; else redo.
      known = Number(rows[0]?.version ?? 0);
      if (!filter || known === filter.version) break;
    }
    if (signal?.aborted) throw new AbortedError('Search aborted');
    const version = String(Number(rows[0]?.version ?? 0));
    const hits = this.toHits(
      rows.filter((r) => r.chunk_id !== null),
      terms,
    );
    this.cache.set(key, version, hits);
    this.record(t0);
    return hits;
  }

  private toHits(rows: CandidateRow[], terms: string[]): SearchHit[] {
    return rows.map((r) => {
      const snip = makeSnippet(r.text ?? '', Number(r.start_line), terms);
      return {
        path: displayPath(r.path!),
        startLine: Number(r.start_line),
        endLine: Number(r.end_line),
        score: Number(r.score),
        snippet: snip.text,
        snippetStartLine: snip.startLine,
        highlights: snip.highlights,
        matched: {
          bm25Rank: r.bm25_rank === null ? undefined : Number(r.bm25_rank),
          vectorRank: r.vector_rank === null ? undefined : Number(r.vector_rank),
        },
      };
    });
  }

  private record(t0: number): void {
    this.latencies.push(performance.now() - t0);
    if (this.latencies.length > LATENCY_WINDOW) this.latencies.shift();
  }

  /** Query counts, cache behaviour, latency percentiles and the last known index size. */
  stats(): EinsteinStats {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      queries: this.queries,
      cacheHits: this.cache.hits,
      cacheMisses: this.cache.misses,
      cacheInvalidations: this.cache.invalidations,
      latencyMs: { p50: percentile(sorted, 50), p95: percentile(sorted, 95), p99: percentile(sorted, 99), max: sorted.at(-1) ?? 0 },
      index: this.lastSizes,
    };
  }
}
