/**
 * Checks of the options the public search and index API takes. Every value that reaches SQL
 * text (k and depth are inlined as LIMITs) or a loop bound is checked here first, so a bad
 * option is BOLT_BAD_INPUT naming it, never an SQL error, a hang or SQL run as given.
 */
import { BadInputError } from '../core/errors.js';

/**
 * Longest query, in characters (UTF-16 code units), for every front end: the API, the CLI,
 * the `search` agent and the MCP tool. Work per search grows with the number of query terms.
 */
export const MAX_QUERY_CHARS = 10_000;
/** Most hits one search returns. */
export const MAX_K = 1000;
/** Most candidates taken from each ranked list. */
export const MAX_DEPTH = 10_000;
/** Longest glob pattern, and most patterns, in `pathGlob`. */
export const MAX_GLOB_CHARS = 4096;
export const MAX_GLOBS = 100;
/** Largest `maxFileBytes` (1 GiB): a file is read whole into memory. */
export const MAX_FILE_BYTES_LIMIT = 2 ** 30;

/** A whole number in [min, max], or BOLT_BAD_INPUT naming the option. */
export function checkInt(name: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new BadInputError(`${name} must be a whole number from ${min} to ${max}, got ${describe(v)}`, { [name]: describe(v) });
  }
  return v;
}

/** An optional whole number in [min, max]. */
function optionalInt(name: string, v: unknown, min: number, max: number): void {
  if (v !== undefined) checkInt(name, v, min, max);
}

/** A short, safe rendering of a bad value for a message. */
function describe(v: unknown): string {
  const s = typeof v === 'string' ? JSON.stringify(v) : typeof v === 'object' && v !== null ? Object.prototype.toString.call(v) : String(v);
  return s.length > 80 ? `${s.slice(0, 77)}...` : s;
}

/** An options argument: undefined or a plain object. */
export function checkOptionsObject(name: string, v: unknown): void {
  if (v !== undefined && (typeof v !== 'object' || v === null || Array.isArray(v))) throw new BadInputError(`${name} must be an object`);
}

/** `signal`: undefined or an AbortSignal. */
export function checkSignal(v: unknown): void {
  if (v !== undefined && !(v instanceof AbortSignal)) throw new BadInputError('signal must be an AbortSignal');
}

/** `pathGlob`: one non-empty glob or a non-empty list of them, each at most MAX_GLOB_CHARS long. */
export function checkPathGlob(v: unknown): void {
  const globs: unknown[] = Array.isArray(v) ? v : [v];
  if (globs.length === 0 || globs.length > MAX_GLOBS) throw new BadInputError(`pathGlob must hold 1 to ${MAX_GLOBS} glob patterns, got ${globs.length}`);
  for (const g of globs) {
    if (typeof g !== 'string' || g.trim() === '') throw new BadInputError('pathGlob must be a non-empty glob pattern', { pathGlob: describe(g) });
    if (g.length > MAX_GLOB_CHARS) throw new BadInputError(`a pathGlob pattern is ${g.length} characters long; at most ${MAX_GLOB_CHARS} are allowed`);
  }
}

/** The options of `index`, `plan`, `indexEntries` and `finishPlan` (see IndexOptions). */
export function checkIndexOptions(o: unknown): void {
  checkOptionsObject('index options', o);
  if (o === undefined) return;
  const opts = o as Record<string, unknown>;
  checkSignal(opts.signal);
  if (opts.onProgress !== undefined && typeof opts.onProgress !== 'function') throw new BadInputError('onProgress must be a function');
  optionalInt('concurrency', opts.concurrency, 1, 256);
  optionalInt('batchChunks', opts.batchChunks, 1, 1_000_000);
  const max = opts.maxFileBytes;
  if (max !== undefined && (typeof max !== 'number' || !Number.isFinite(max) || max <= 0 || max > MAX_FILE_BYTES_LIMIT)) {
    throw new BadInputError(`maxFileBytes must be a number of bytes above 0 and at most ${MAX_FILE_BYTES_LIMIT}, got ${describe(max)}`);
  }
  const ig = opts.ignorePatterns;
  if (ig !== undefined && (!Array.isArray(ig) || ig.some((p) => typeof p !== 'string'))) throw new BadInputError('ignorePatterns must be a list of strings');
  checkOptionsObject('chunking', opts.chunking);
  if (opts.chunking !== undefined) {
    const c = opts.chunking as Record<string, unknown>;
    optionalInt('chunking.maxLines', c.maxLines, 1, 100_000);
    optionalInt('chunking.overlap', c.overlap, 0, 100_000);
    optionalInt('chunking.maxChars', c.maxChars, 1, 100_000_000);
  }
}
