/**
 * Checks what a caller passes to open a session (in-process or over a host's socket) before
 * any connection is taken for it: a mistyped option would otherwise change what the session
 * does without a word (a negative or non-numeric time limit meant "no limit", one too large for
 * a timer fired at once).
 */
import { BadInputError } from './errors.js';
import { checkValueMode, type CloseOptions, type SessionOptions } from './database.js';

/** The longest delay a timer takes (about 24.8 days); longer ones fire at once. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** A limit in ms: 0 to MAX_TIMER_MS, or (`noLimit`: 0 and Infinity mean none) Infinity. */
function checkDelay(v: unknown, name: string, noLimit: boolean): void {
  if (v === undefined) return;
  const ok = typeof v === 'number' && v >= 0 && (v <= MAX_TIMER_MS || (noLimit && v === Infinity));
  if (!ok) {
    const range = noLimit ? `0 to ${MAX_TIMER_MS} ms (0 or Infinity: no limit)` : `0 to ${MAX_TIMER_MS} ms`;
    throw new BadInputError(`${name} must be a number from ${range}; got ${String(v)}`, { [name]: String(v) });
  }
}

/** Throws BOLT_BAD_INPUT unless `opts` are session options Bolt understands. */
export function checkSessionOptions(opts: unknown, connectionTimeoutMs?: unknown): asserts opts is SessionOptions {
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new BadInputError('session options must be an object');
  const o = opts as Record<string, unknown>;
  if (o.name !== undefined && typeof o.name !== 'string') throw new BadInputError('session option name must be a string');
  if (o.readOnly !== undefined && typeof o.readOnly !== 'boolean') throw new BadInputError('session option readOnly must be true or false');
  checkValueMode(o.values);
  checkDelay(o.idleTimeoutMs, 'idleTimeoutMs', true);
  checkDelay(o.maxTransactionMs, 'maxTransactionMs', true);
  checkDelay(connectionTimeoutMs, 'connectionTimeoutMs', false);
}

/** The options of `Database.close`, checked: BOLT_BAD_INPUT for anything else. */
export function checkCloseOptions(opts: unknown): CloseOptions {
  if (opts === undefined) return {};
  if (opts === null || typeof opts !== 'object' || Array.isArray(opts)) throw new BadInputError('close options must be an object, such as { graceMs: 0 }');
  checkDelay((opts as CloseOptions).graceMs, 'graceMs', false);
  return opts as CloseOptions;
}
