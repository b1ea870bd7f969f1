/**
 * `bolt index <dir>`: indexes a directory into the database for `bolt search`, incrementally
 * (a second run re-reads only changed files and removes deleted ones), with a progress bar
 * on stderr.
 *
 * `--agents N` runs N indexing workers. Today they are N concurrent async workers in this
 * process sharing one ConcurrentDatabase handle; when the runtime's agents land, each shard of
 * `EinsteinSearch.plan()`'s `toIndex` becomes an agent task calling `indexEntries` (the seam
 * is already there: plan → indexEntries(shard) × N → finishPlan).
 */
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { action, printJson, println } from '../cli-action.js';
import { BadInputError } from '../../core/errors.js';
import { EinsteinSearch } from '../../adapters/einstein/einstein-search.js';
import type { IndexProgress } from '../../adapters/einstein/indexer.js';
import { addEinsteinOptions, embedderFromOptions, openDb, type EinsteinCliOptions } from '../einstein-cli.js';

interface IndexCliOptions extends EinsteinCliOptions {
  agents: string;
  maxFileKb: string;
  reset?: boolean;
  progress: boolean;
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
    .option('--agents <n>', 'parallel indexing workers', '2')
    .option('--max-file-kb <n>', 'skip files larger than this', '1024')
    .option('--reset', 'drop the existing search index first (needed to switch embedders)')
    .option('--no-progress', 'no progress bar')
    .action(
      action(async (dir: string, o: IndexCliOptions) => {
        const agents = Number(o.agents);
        if (!Number.isInteger(agents) || agents < 1 || agents > 64) throw new BadInputError(`--agents must be 1..64, got ${o.agents}`);
        const maxKb = Number(o.maxFileKb);
        if (!(maxKb > 0)) throw new BadInputError(`--max-file-kb must be a positive number, got ${o.maxFileKb}`);
        const embedder = await embedderFromOptions(o);
        const db = await openDb(o.db, true);
        const bar = progressBar(o.progress && !o.json);
        const ac = new AbortController();
        const onSigint = () => ac.abort();
        process.once('SIGINT', onSigint);
        try {
          const einstein = new EinsteinSearch(db, { embedder });
          if (o.reset) await einstein.reset();
          const r = await einstein.index(dir, { concurrency: agents, maxFileBytes: maxKb * 1024, signal: ac.signal, onProgress: (p) => bar.update(p) });
          bar.stop();
          const size = await einstein.indexStats();
          const secs = r.elapsedMs / 1000;
          if (o.json) {
            printJson({ ...r, agents, db: db.location, index: size, filesPerSec: r.filesIndexed / Math.max(secs, 1e-3), chunksPerSec: r.chunks / Math.max(secs, 1e-3) });
          } else {
            println(`indexed ${r.filesIndexed} files (${r.chunks} chunks) in ${secs.toFixed(1)} s with ${agents} workers; ${r.filesUnchanged} unchanged, ${r.filesRemoved} removed, ${r.filesSkipped} skipped`);
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
