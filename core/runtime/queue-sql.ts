/**
 * Small pieces of SQL the queue's statements share: re-running a statement that lost a write
 * conflict, integers inlined into SQL, placeholder lists, JSON text for payloads and results.
 */
import { BadInputError, TaskError, isTransient } from '../errors.js';
import { log } from '../logger.js';

const logger = log('task-queue');

/** Re-runs a single autocommit statement that lost an optimistic write conflict. */
export async function retryConflicts<T>(fn: () => Promise<T>, attempts = 20): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if (!isTransient(e) || i >= attempts) throw e;
      logger.debug({ err: e, attempt: i }, 'write conflict, re-running the statement');
      await new Promise((r) => setTimeout(r, Math.random() * Math.min(50, 2 ** i)));
    }
  }
}

/** The largest value of an INTEGER column on every engine (PostgreSQL's and DuckDB's are 32-bit). */
export const SQL_INT_MAX = 2 ** 31 - 1;

/** An integer for inlining into SQL (ids and attempts come from the database; checked anyway). */
export function int(n: number): string {
  if (!Number.isSafeInteger(n)) throw new TaskError(`not an integer: ${String(n)}`);
  return String(n);
}

export function intList(ns: readonly number[]): string {
  return ns.map(int).join(', ');
}

export function placeholders(n: number): string {
  return Array.from({ length: n }, () => '?').join(', ');
}

/** A UTF-16 surrogate without its other half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Whether every engine stores `s` as it is: no NUL (PostgreSQL refuses it in text) and no lone
 * surrogate (PostgreSQL stores each as U+FFFD, so two different keys became one).
 */
export function isStorableText(s: string): boolean {
  return !s.includes('\0') && !LONE_SURROGATE.test(s);
}

/** How deep a payload or result may nest (arrays and objects). */
export const MAX_JSON_DEPTH = 100;

/**
 * Throws BOLT_BAD_INPUT when `v` nests deeper than MAX_JSON_DEPTH or holds a number JSON cannot
 * write (NaN, ±Infinity: JSON.stringify would store null in its place). Checked without recursion.
 * Values are counted as they are visited: each one past the first takes at least two characters
 * of JSON (`,0`), so more than half of MAX_JSON_BYTES cannot be stored. An object that holds
 * the same array twice, thirty levels deep, is a few hundred bytes in memory and a billion
 * values to walk; it was walked to the end.
 */
export function checkJsonPayload(v: unknown, what: string): void {
  const stack: Array<[unknown, number]> = [[v, 1]];
  for (let values = 0; stack.length; values++) {
    if (values > MAX_JSON_BYTES / 2 + 1) {
      throw new BadInputError(`${what} holds more values than ${MAX_JSON_BYTES} bytes (16 MiB) of JSON can (an object or array repeated inside it?)`);
    }
    const [x, depth] = stack.pop()!;
    if (typeof x === 'number' && !Number.isFinite(x))
      throw new BadInputError(`${what} holds ${String(x)}, which JSON cannot hold (it would be stored as null)`);
    if (x === null || typeof x !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) throw new BadInputError(`${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
    for (const child of Object.values(x)) stack.push([child, depth + 1]);
  }
}

/**
 * The most JSON text one task payload or result may take (16 MiB). Every `bolt tasks --json`
 * and every status read carries it, and a completion batch holds many: a 100 MB result was
 * stored before, with a 1.5 GB peak in the runtime.
 */
export const MAX_JSON_BYTES = 16 * 1024 * 1024;

/** {@link toJsonText} of a task payload or result, refused (BOLT_BAD_INPUT) past MAX_JSON_BYTES. */
export function storableJson(v: unknown, what: string): string | null {
  const text = toJsonText(v);
  // JSON.stringify gives undefined, not text, for a function, a symbol, or a toJSON returning undefined.
  if (text === undefined) throw new BadInputError(`${what} is not JSON (a function or a symbol?)`);
  // UTF-8 takes at most 3 bytes per UTF-16 unit: count bytes only when it could matter.
  if (text !== null && text.length * 3 > MAX_JSON_BYTES && Buffer.byteLength(text) > MAX_JSON_BYTES) {
    throw new BadInputError(`${what} takes ${Buffer.byteLength(text)} bytes as JSON; at most ${MAX_JSON_BYTES} (16 MiB) are stored`, {
      bytes: Buffer.byteLength(text),
      max: MAX_JSON_BYTES,
    });
  }
  return text;
}

/**
 * JSON text of a payload, result or error (bigints as numbers when exact, else strings); null for
 * undefined, and undefined for what JSON cannot write at all (a function, a symbol).
 */
export function toJsonText(v: unknown): string | null | undefined {
  if (v === undefined) return null;
  try {
    return JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? (Number.isSafeInteger(Number(x)) ? Number(x) : x.toString()) : x));
  } catch (err) {
    // Nesting deeper than the stack (a RangeError), or a cycle (a TypeError).
    throw new BadInputError(`the value cannot be stored as JSON: ${(err as Error).message}`);
  }
}
