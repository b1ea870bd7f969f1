/**
 * What `bolt index` and `bolt search` share: the database option, the embedder options
 * (the index records which embedder built it, so both commands must be given the same
 * ones), and opening the database.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Command } from 'commander';
import type { Database, EngineName } from '../core/database.js';
import { BadInputError } from '../core/errors.js';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';
import { isPostgresUrl } from '../adapters/postgres/names.js';
import { HashEmbedder, OpenAIEmbedder, type Embedder } from '../search/embedder.js';
import { DEFAULT_DATABASE, embedderEnv } from '../core/config.js';
import { parseInteger } from './int-option.js';

export interface EinsteinCliOptions {
  db: string;
  engine?: string;
  json?: boolean;
  embedUrl?: string;
  embedModel?: string;
  embedDim?: string;
  hashDim?: string;
}

/** Adds --db and the embedder options to a command. */
export function addEinsteinOptions(cmd: Command): Command {
  return cmd
    .option('--db <path>', 'database file, or a postgres:// URL', DEFAULT_DATABASE)
    .option('--engine <engine>', 'duckdb, sqlite or postgres (default: from the URL or the file header; a new file is DuckDB)')
    .option('--json', 'print the result as JSON')
    .option('--embed-url <url>', 'OpenAI-compatible embeddings endpoint, e.g. http://localhost:11434/v1 (env BOLT_EMBED_URL; API key from BOLT_EMBED_API_KEY)')
    .option('--embed-model <name>', 'model for --embed-url (env BOLT_EMBED_MODEL)')
    .option('--embed-dim <n>', 'vector length of the model (asked from the server when omitted)')
    .option('--hash-dim <n>', 'vector length of the built-in hashed embedder (default 256)');
}

/** An optional whole-number option, at least 1. */
function positiveInt(v: string | undefined, name: string): number | undefined {
  return v === undefined ? undefined : parseInteger(name, v, 1);
}

/** The embedder the options ask for: OpenAI-compatible when a URL is given, else the hashed one. */
export async function embedderFromOptions(o: EinsteinCliOptions): Promise<Embedder> {
  const env = embedderEnv();
  const url = o.embedUrl ?? env.url;
  if (!url) return new HashEmbedder({ dim: positiveInt(o.hashDim, '--hash-dim') });
  const model = o.embedModel ?? env.model;
  if (!model) throw new BadInputError('--embed-model (or BOLT_EMBED_MODEL) is required with --embed-url');
  return OpenAIEmbedder.create({ url, model, apiKey: env.apiKey, dim: positiveInt(o.embedDim, '--embed-dim') });
}

/** The --engine option, checked (undefined: detect). */
function engineOption(engine: string | undefined): EngineName | undefined {
  if (engine === undefined) return undefined;
  if (!['duckdb', 'sqlite', 'postgres'].includes(engine)) throw new BadInputError(`--engine must be duckdb, sqlite or postgres, not "${engine}"`);
  return engine as EngineName;
}

/** True when --db names a database that is not a local file (a PostgreSQL URL). */
export function isServerDb(path: string): boolean {
  return isPostgresUrl(path);
}

/** Opens the database (`--db`, `--engine`), creating a file's directory when asked to. */
export async function openDb(o: Pick<EinsteinCliOptions, 'db' | 'engine'>, create: boolean): Promise<Database> {
  const engine = engineOption(o.engine);
  if (create && !isServerDb(o.db)) mkdirSync(dirname(o.db), { recursive: true });
  return ConcurrentDatabase.open(o.db, engine ? { engine } : {});
}
