/**
 * `bolt index <dir>`: indexes a directory into the database for `bolt search`, incrementally
 * (a second run re-reads only changed files and removes deleted ones), with a progress bar
 * on stderr.
 *
 * `--agents N` runs the work on N runtime agents (worker threads of a `BoltIntegration`):
 * N durable `index` tasks, one per shard of the files (by path hash), then this process
 * removes deleted files and compacts. Without `--agents`, `--workers N` async workers index
 * in this process through one ConcurrentDatabase handle.
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { action, printJson, println } from '../cli-action.js';
import { BadInputError } from '../../core/errors.js';
import { resolve } from 'node:path';
import { EinsteinSearch } from '../../search/einstein-search.js';
import { MAX_FILE_BYTES_LIMIT } from '../../search/options.js';
import { indexRoot, type IndexProgress } from '../../search/indexer.js';
import type { Embedder } from '../../search/embedder.js';
import type { IndexTaskResult, EmbedderSpec } from '../../agents/builtin/einstein.js';
import { indexWithAgents } from '../index-with-agents.js';
import { addEinsteinOptions, embedderFromOptions, openDb, type EinsteinCliOptions } from '../einstein-cli.js';
import { embedderEnv } from '../../core/config.js';
import { printable } from '../format.js';

interface IndexCliOptions extends EinsteinCliOptions {
  agents?: string;
  workers: string;
  maxFileKb: string;
  reset?: boolean;
  progress: boolean;
}

function count(v: string, name: string, max: number): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > max) throw new BadInputError(`${name} must be 1..${max}, got ${v}`);
  return n;
}

/** The spec the agents rebuild the CLI's embedder from (same id, so the index accepts it). */
function specOf(e: Embedder, o: IndexCliOptions): EmbedderSpec {
  const env = embedderEnv();
  const url = o.embedUrl ?? env.url;
  const model = o.embedModel ?? env.model;
  return url ? { url, model, dim: e.dim } : { hashDim: e.dim };
}

function progressBar(enabled: boolean): { update(p: IndexProgress): void; stop(): void } {
  if (!enabled || !process.stderr.isTTY) return { update() {}, stop() {} };
  const bar = new cliProgress.SingleBar(
    {
      format: '{phase} [{bar}] {value}/{total} files | {chunks} chunks | {rate} files/s | ETA {eta_formatted}',
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 50,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(p) {
      const payload = { phase: p.phase.padEnd(8), chunks: p.chunks, rate: p.elapsedMs > 0 ? Math.round((p.filesDone * 1000) / p.elapsedMs) : 0 };
      if (!started) {
        bar.start(Math.max(p.filesToIndex, 1), p.filesDone, payload);
        started = true;
      } else {
        bar.setTotal(Math.max(p.filesToIndex, 1));
        bar.update(p.filesDone, payload);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export function register(program: Command): void {
  addEinsteinOptions(
    program
      .command('index')
      .description('index a directory for `bolt search` (incremental: only changed files are re-read)')
      .argument('<dir>', 'directory to index (honours .gitignore; skips node_modules, .git, binary and huge files)'),
  )
    .option('--agents <n>', 'index on N runtime agents (worker threads), one shard each')
    .option('--workers <n>', 'without --agents: concurrent async workers in this process', '2')
    .option('--max-file-kb <n>', 'skip files larger than this', '1024')
    .option('--reset', 'drop the existing search index first (needed to switch embedders)')
    .option('--no-progress', 'no progress bar')
    .action(
      action(async (dir: string, o: IndexCliOptions) => {
        const agents = o.agents === undefined ? undefined : count(o.agents, '--agents', 64);
        const workers = count(o.workers, '--workers', 64);
        const maxKb = Number(o.maxFileKb);
        if (!(maxKb > 0 && maxKb * 1024 <= MAX_FILE_BYTES_LIMIT)) {
          throw new BadInputError(`--max-file-kb must be a positive number of KiB, at most ${MAX_FILE_BYTES_LIMIT / 1024}, got ${o.maxFileKb}`);
        }
        // Everything that can be wrong with the input is checked before the database is
        // opened (or created) and before --reset drops anything.
        await indexRoot(dir);
        const embedder = await embedderFromOptions(o);
        const db = await openDb(o, true);
        const bar = progressBar(o.progress && !o.json);
        const ac = new AbortController();
        const onSigint = () => ac.abort();
        process.once('SIGINT', onSigint);
        try {
          const einstein = new EinsteinSearch(db, { embedder });
          if (o.reset) await einstein.reset();
          const maxFileBytes = maxKb * 1024;
          const started = Date.now();
          let shards: IndexTaskResult[] | undefined;
          if (agents !== undefined) {
            await einstein.indexStats(); // tables exist before the agents start
            shards = await indexWithAgents(
              db.location,
              resolve(dir),
              agents,
              { embedder: specOf(embedder, o), maxFileBytes },
              (f) =>
                bar.update({
                  phase: 'indexing',
                  filesSeen: 0,
                  filesToIndex: 1000,
                  filesDone: Math.round(f * 1000),
                  filesIndexed: 0,
                  filesUnchanged: 0,
                  filesRemoved: 0,
                  filesSkipped: 0,
                  chunks: 0,
                  bytes: 0,
                  elapsedMs: Date.now() - started,
                }),
              ac.signal,
            );
          }
          // In-process: the whole job, or after the agents, what is left (deleted files, compaction).
          const r = await einstein.index(dir, { concurrency: workers, maxFileBytes, signal: ac.signal, onProgress: (p) => bar.update(p) });
          bar.stop();
          if (shards) {
            r.filesIndexed += shards.reduce((n, s) => n + s.filesIndexed, 0);
            r.chunks += shards.reduce((n, s) => n + s.chunks, 0);
            r.filesUnchanged -= shards.reduce((n, s) => n + s.filesIndexed, 0); // this pass saw them as unchanged
            r.elapsedMs = Date.now() - started;
          }
          const size = await einstein.indexStats();
          const secs = r.elapsedMs / 1000;
          const how = agents !== undefined ? `${agents} agents` : `${workers} workers`;
          if (o.json) {
            printJson({
              ...r,
              agents: agents ?? 0,
              workers: agents ? 0 : workers,
              shards,
              db: db.location,
              index: size,
              filesPerSec: r.filesIndexed / Math.max(secs, 1e-3),
              chunksPerSec: r.chunks / Math.max(secs, 1e-3),
            });
          } else {
            println(
              `indexed ${r.filesIndexed} files (${r.chunks} chunks) in ${secs.toFixed(1)} s with ${how}; ${r.filesUnchanged} unchanged, ${r.filesRemoved} removed, ${r.filesSkipped} skipped`,
            );
            if (r.unreadableDirs.length > 0) {
              const shown = r.unreadableDirs.slice(0, 5).map((d) => `${printable(d.path)} (${d.code})`);
              const more = r.unreadableDirs.length > shown.length ? `, and ${r.unreadableDirs.length - shown.length} more` : '';
              println(`could not list ${r.unreadableDirs.length} director${r.unreadableDirs.length === 1 ? 'y' : 'ies'}, skipped: ${shown.join(', ')}${more}`);
            }
            println(`index ${db.location}: ${size.files} files, ${size.chunks} chunks, ${size.postings} postings`);
          }
        } finally {
          bar.stop();
          process.off('SIGINT', onSigint);
          await db.close();
        }
      }),
    );
}
