/**
 * Incremental indexing: plan (walk + compare with what the index holds), then index the
 * changed files with N concurrent workers, then remove the files that are gone.
 *
 * A file is unchanged when its size and mtime match the index; when they differ its content
 * hash decides (same hash: only the mtime is recorded, nothing is re-indexed). Changed files
 * are read, chunked, tokenized and embedded, and written in batches, each batch in one
 * transaction (see IndexStore.writeFiles). Nothing is ever rebuilt wholesale.
 *
 * The seam for agents: `planIndex` splits the work; `indexEntries` indexes any subset of
 * `plan.toIndex` and may run in several agents at once against the same database (each
 * through its own ConcurrentDatabase client); `removeMissing` finishes the plan.
 */
import { createHash } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { join, resolve, sep } from 'node:path';
import { AbortedError, BadInputError, NotFoundError } from '../core/errors.js';
import { log } from '../core/logger.js';
import { chunkText, type ChunkOptions } from './chunker.js';
import { ExcludedFiles } from './excluded-files.js';
import { normalize, type Embedder } from './embedder.js';
import { termId } from './hash.js';
import type { IndexStore, PreparedFile, PreparedChunk } from './index-store.js';
import { tokenize } from './tokenizer.js';
import { walk, looksBinary, DEFAULT_MAX_FILE_BYTES, type WalkEntry, type WalkOptions } from './walker.js';
import { readRegularFile, type ReadSkip } from './regular-file.js';

export interface IndexOptions {
  onProgress?: (p: IndexProgress) => void;
  signal?: AbortSignal;
  /** Concurrent async workers in this process (default 2). */
  concurrency?: number;
  /** Files larger than this are skipped (default 1 MiB). */
  maxFileBytes?: number;
  chunking?: ChunkOptions;
  /** Chunks written per transaction (default 2000). */
  batchChunks?: number;
  /** Extra gitignore-style patterns. */
  ignorePatterns?: readonly string[];
}

export interface IndexProgress {
  phase: 'scanning' | 'indexing' | 'removing' | 'compacting' | 'done';
  /** Files found by the walk. */
  filesSeen: number;
  /** Files that need (re-)indexing. */
  filesToIndex: number;
  /** Of those, processed so far (indexed, unchanged by hash, or skipped). */
  filesDone: number;
  filesIndexed: number;
  filesUnchanged: number;
  filesRemoved: number;
  /** Files not indexed (binary, too large, unreadable, no longer regular) and directories that could not be listed; .gitignored files are not counted. */
  filesSkipped: number;
  chunks: number;
  bytes: number;
  elapsedMs: number;
}

export interface IndexPlan {
  /** Absolute root. */
  root: string;
  toIndex: WalkEntry[];
  /** Indexed paths (absolute) that are no longer on disk. */
  toRemove: string[];
  /**
   * Directories the walk could not list (relative to the root, with the error code). Indexed
   * files under them are kept: whether they still exist is unknown.
   */
  unreadableDirs: Array<{ path: string; code: string }>;
  /** Index state of files to re-index (absolute path → hash), to skip unchanged content. */
  knownHashes: Map<string, string>;
  unchanged: number;
}

/** Mutable counters shared by the workers of one run. */
export class IndexCounters {
  readonly started = Date.now();
  phase: IndexProgress['phase'] = 'scanning';
  filesSeen = 0;
  filesToIndex = 0;
  filesDone = 0;
  filesIndexed = 0;
  filesUnchanged = 0;
  filesRemoved = 0;
  filesSkipped = 0;
  chunks = 0;
  bytes = 0;
  constructor(private readonly onProgress?: (p: IndexProgress) => void) {}
  snapshot(): IndexProgress {
    const { phase, filesSeen, filesToIndex, filesDone, filesIndexed, filesUnchanged, filesRemoved, filesSkipped, chunks, bytes } = this;
    return {
      phase,
      filesSeen,
      filesToIndex,
      filesDone,
      filesIndexed,
      filesUnchanged,
      filesRemoved,
      filesSkipped,
      chunks,
      bytes,
      elapsedMs: Date.now() - this.started,
    };
  }
  report(): void {
    this.onProgress?.(this.snapshot());
  }
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new AbortedError('Indexing aborted; files already written stay indexed, run index again to finish');
}

/**
 * The absolute path of `dir`, checked to be a directory (BOLT_NOT_FOUND / BOLT_BAD_INPUT
 * otherwise). `bolt index` calls it before it opens or resets anything.
 */
export async function indexRoot(dir: string): Promise<string> {
  const root = resolve(dir);
  const st = await stat(root).catch(() => undefined);
  if (!st) throw new NotFoundError(`Cannot index ${dir}: no such directory`, { path: root });
  if (!st.isDirectory()) throw new BadInputError(`Cannot index ${dir}: not a directory`, { path: root });
  return root;
}

/** Walks `dir` and compares with the index. */
export async function planIndex(store: IndexStore, dir: string, opts: IndexOptions, exclude: readonly string[], counters: IndexCounters): Promise<IndexPlan> {
  const root = await indexRoot(dir);
  const known = await store.fileStates(root.endsWith(sep) ? root : root + sep);
  const seen = new Set<string>();
  const toIndex: WalkEntry[] = [];
  const knownHashes = new Map<string, string>();
  let unchanged = 0;
  const unreadableDirs: IndexPlan['unreadableDirs'] = [];
  const walkOptions: WalkOptions = {
    maxFileBytes: opts.maxFileBytes,
    exclude,
    signal: opts.signal,
    ignorePatterns: opts.ignorePatterns,
    onSkip: (_path, why) => {
      if (why !== 'ignored') counters.filesSkipped++;
    },
    onUnreadableDir: (path, code) => {
      counters.filesSkipped++;
      unreadableDirs.push({ path, code });
      log('einstein').warn({ root, path, code }, 'directory skipped: cannot list it');
    },
  };
  for await (const e of walk(root, walkOptions)) {
    seen.add(e.absPath);
    counters.filesSeen++;
    const k = known.get(e.absPath);
    if (k && k.size === e.size && k.mtimeMs === e.mtimeMs) {
      unchanged++;
      continue;
    }
    if (k) knownHashes.set(e.absPath, k.hash);
    toIndex.push(e);
  }
  const unknown = unreadableDirs.map((d) => join(root, d.path) + sep);
  const toRemove = [...known.keys()].filter((p) => !seen.has(p) && !unknown.some((d) => p.startsWith(d)));
  counters.filesUnchanged = unchanged;
  counters.filesToIndex = toIndex.length;
  return { root, toIndex, toRemove, unreadableDirs, knownHashes, unchanged };
}

/** Reads, chunks and tokenizes one file; undefined when it must not be indexed. */
interface Prepared {
  file: Omit<PreparedFile, 'chunks'> & { chunks: Omit<PreparedChunk, 'vector'>[] };
  /** What is embedded per chunk: the path line, then the chunk (as text and as terms). */
  embedTexts: string[];
  termLists: string[][];
}

/**
 * Reads one planned file as it is now (see regular-file.ts: what the walk saw may have been
 * replaced by a link or a FIFO since) and prepares it; a string says why it was not.
 */
async function prepareFile(e: WalkEntry, opts: IndexOptions, excluded: ExcludedFiles): Promise<Prepared | ReadSkip | 'binary'> {
  const buf = await readRegularFile(e.absPath, { maxBytes: opts.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES, excluded });
  if (typeof buf === 'string') return buf;
  if (looksBinary(buf)) return 'binary';
  const chunking = opts.chunking;
  const hash = createHash('sha1').update(buf).digest('hex');
  const text = buf.toString('utf8');
  const chunks = chunkText(text, chunking);
  const header = `${e.path}\n`;
  const pathTerms = tokenize(e.path);
  const embedTexts: string[] = [];
  const termLists: string[][] = [];
  const prepared = chunks.map((c) => {
    const terms = [...pathTerms, ...tokenize(c.text)];
    const tf = new Map<number, number>();
    for (const t of terms) {
      const id = termId(t);
      tf.set(id, (tf.get(id) ?? 0) + 1);
    }
    embedTexts.push(header + c.text);
    termLists.push(terms);
    return { startLine: c.startLine, endLine: c.endLine, text: c.text, len: terms.length, terms: tf };
  });
  return { file: { path: e.absPath, size: buf.length, mtimeMs: e.mtimeMs, hash, chunks: prepared }, embedTexts, termLists };
}

/**
 * Indexes `entries` (a plan's `toIndex`, or a shard of it) with `concurrency` async workers;
 * never opens a path of `exclude` (the database files, see excluded-files.ts).
 */
export async function indexEntries(
  store: IndexStore,
  embedder: Embedder,
  entries: readonly WalkEntry[],
  knownHashes: ReadonlyMap<string, string>,
  opts: IndexOptions,
  counters: IndexCounters,
  exclude: readonly string[] = [],
): Promise<void> {
  const logger = log('einstein');
  const excluded = new ExcludedFiles(exclude);
  const batchChunks = Math.max(1, opts.batchChunks ?? 2000);
  const touched: Array<{ path: string; size: number; mtimeMs: number }> = [];
  const gone: string[] = [];
  let next = 0;
  let failed = false;
  counters.phase = 'indexing';
  counters.report();

  async function worker(): Promise<void> {
    let batch: Array<{ file: PreparedFile; texts: string[]; terms: string[][] }> = [];
    let batchSize = 0;
    const flush = async () => {
      if (batch.length === 0) return;
      checkAbort(opts.signal);
      const vectors = embedder.embedTerms
        ? embedder.embedTerms(batch.flatMap((b) => b.terms))
        : await embedder.embed(
            batch.flatMap((b) => b.texts),
            { signal: opts.signal },
          );
      let i = 0;
      for (const b of batch) for (const c of b.file.chunks) c.vector = normalize(vectors[i++]!);
      checkAbort(opts.signal);
      await store.writeFiles(
        batch.map((b) => b.file),
        opts.signal,
      );
      counters.filesIndexed += batch.length;
      counters.chunks += batchSize;
      counters.report();
      batch = [];
      batchSize = 0;
    };
    while (next < entries.length && !failed) {
      checkAbort(opts.signal);
      const e = entries[next++]!;
      const prepared = await prepareFile(e, opts, excluded);
      counters.filesDone++;
      if (typeof prepared === 'string') {
        // No longer a regular text file within the limit: its old entries go. An unreadable
        // one (EACCES, vanished) keeps them; the next run sees whether it is gone.
        if (prepared === 'unreadable') logger.warn({ path: e.absPath }, 'file skipped: cannot read it');
        else if (knownHashes.has(e.absPath)) gone.push(e.absPath);
        counters.filesSkipped++;
        continue;
      }
      counters.bytes += e.size;
      if (knownHashes.get(e.absPath) === prepared.file.hash) {
        touched.push({ path: e.absPath, size: prepared.file.size, mtimeMs: e.mtimeMs });
        counters.filesUnchanged++;
        continue;
      }
      const file = prepared.file as PreparedFile; // vectors are filled in at flush
      batch.push({ file, texts: prepared.embedTexts, terms: prepared.termLists });
      batchSize += file.chunks.length;
      if (batchSize >= batchChunks) await flush();
    }
    await flush();
  }

  const n = Math.max(1, Math.min(opts.concurrency ?? 2, entries.length || 1));
  const results = await Promise.allSettled(
    Array.from({ length: n }, () =>
      worker().catch((err: unknown) => {
        failed = true; // the other workers stop taking files
        throw err;
      }),
    ),
  );
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  await store.touchFiles(touched);
  await store.removeFiles(gone, opts.signal);
}

/** Removes what the plan found deleted, then compacts the postings when enough were appended. */
export async function removeMissing(store: IndexStore, plan: IndexPlan, opts: IndexOptions, counters: IndexCounters): Promise<void> {
  checkAbort(opts.signal);
  counters.phase = 'removing';
  counters.report();
  await store.removeFiles(plan.toRemove, opts.signal);
  counters.filesRemoved = plan.toRemove.length;
  counters.phase = 'compacting';
  counters.report();
  await store.compact({ signal: opts.signal });
}
