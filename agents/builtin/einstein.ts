/**
 * Einstein's agents.
 *
 * - `index`: indexes one shard of a directory — the files whose path hashes to `shard` modulo
 *   `shards` — into the shared database. `bolt index --agents N` submits N of these, one per
 *   shard, then finishes in its own process (removes deleted files, compacts). With
 *   `shards` 1 (the default) the task is a whole incremental `index()` run.
 * - `search`: runs one search and returns its hits.
 *
 * Both use the built-in hashed embedder unless `payload.embedder` names an OpenAI-compatible
 * server (`{ url, model, dim }`; the API key comes from BOLT_EMBED_API_KEY).
 */
import { resolve } from 'node:path';
import { BadInputError } from '../../core/errors.js';
import type { AgentContext, AgentDefinition, AgentTask } from '../agent-contract.js';
import { EinsteinSearch, type SearchMode } from '../../search/einstein-search.js';
import { HashEmbedder, OpenAIEmbedder, type Embedder } from '../../search/embedder.js';
import { fnv1a32 } from '../../search/hash.js';
import { embedderEnv } from '../../core/config.js';

/** Which embedder a task uses. */
export interface EmbedderSpec {
  hashDim?: number;
  url?: string;
  model?: string;
  dim?: number;
}

export interface IndexTaskPayload {
  /** Directory to index (absolute, or relative to the runtime's working directory). */
  dir: string;
  /** This task's shard, 0 ≤ shard < shards (default 0 of 1). */
  shard?: number;
  shards?: number;
  embedder?: EmbedderSpec;
  maxFileBytes?: number;
  batchChunks?: number;
}

export interface IndexTaskResult {
  shard: number;
  shards: number;
  filesIndexed: number;
  filesUnchanged: number;
  filesSkipped: number;
  chunks: number;
  elapsedMs: number;
}

export interface SearchTaskPayload {
  query: string;
  k?: number;
  mode?: SearchMode;
  pathGlob?: string | string[];
  embedder?: EmbedderSpec;
}

/** The embedder an `EmbedderSpec` names. */
export function embedderFromSpec(spec: EmbedderSpec = {}): Embedder {
  if (spec.url) {
    if (!spec.model || !spec.dim) throw new BadInputError('embedder: url needs model and dim');
    return new OpenAIEmbedder({ url: spec.url, model: spec.model, dim: spec.dim, apiKey: embedderEnv().apiKey });
  }
  return new HashEmbedder({ dim: spec.hashDim });
}

/** True when `absPath` belongs to `shard` of `shards` (stable whatever the walk order). */
export function inShard(absPath: string, shard: number, shards: number): boolean {
  return shards <= 1 || fnv1a32(absPath) % shards === shard;
}

async function runIndex(task: AgentTask<IndexTaskPayload>, ctx: AgentContext): Promise<IndexTaskResult> {
  const p = task.payload;
  if (!p || typeof p.dir !== 'string' || !p.dir) throw new BadInputError('index: payload.dir must be a directory path');
  const shards = p.shards ?? 1;
  const shard = p.shard ?? 0;
  if (!Number.isInteger(shards) || shards < 1 || !Number.isInteger(shard) || shard < 0 || shard >= shards) {
    throw new BadInputError(`index: shard must be 0..shards-1, got ${shard} of ${shards}`);
  }
  const started = Date.now();
  const einstein = new EinsteinSearch(ctx.db, { embedder: embedderFromSpec(p.embedder) });
  const opts = { signal: ctx.signal, maxFileBytes: p.maxFileBytes, batchChunks: p.batchChunks, concurrency: 1 };
  const plan = await einstein.plan(resolve(p.dir), opts);
  const mine = plan.toIndex.filter((e) => inShard(e.absPath, shard, shards));
  const r = await einstein.indexEntries(plan, mine, {
    ...opts,
    onProgress: (q) => ctx.progress(mine.length ? q.filesDone / mine.length : 1, `${q.chunks} chunks`),
  });
  if (shards === 1) await einstein.finishPlan(plan, opts);
  ctx.log.info({ shard, shards, files: r.filesIndexed, chunks: r.chunks }, 'index shard done');
  return {
    shard,
    shards,
    filesIndexed: r.filesIndexed,
    filesUnchanged: r.filesUnchanged,
    filesSkipped: r.filesSkipped,
    chunks: r.chunks,
    elapsedMs: Date.now() - started,
  };
}

async function runSearch(task: AgentTask<SearchTaskPayload>, ctx: AgentContext): Promise<unknown> {
  const p = task.payload;
  if (!p || typeof p.query !== 'string') throw new BadInputError('search: payload.query must be a string');
  const einstein = new EinsteinSearch(ctx.db, { embedder: embedderFromSpec(p.embedder) });
  return einstein.search(p.query, { k: p.k, mode: p.mode, pathGlob: p.pathGlob, signal: ctx.signal });
}

export const agents: AgentDefinition[] = [
  { name: 'index', description: 'indexes payload.dir (or one shard of it) for Einstein search', run: runIndex as AgentDefinition['run'] },
  { name: 'search', description: 'Einstein search: payload.query, k, mode, pathGlob', run: runSearch as AgentDefinition['run'] },
];
