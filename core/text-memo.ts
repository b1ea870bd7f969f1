/**
 * Remembering a pure function of SQL text: the scanners that read a statement's text (placeholders,
 * what it leaves on its connection, what the DuckDB host refuses) run once per distinct text, not
 * once per call.
 */

/**
 * The longest text remembered. Statements run again and again are short; a long one (a script,
 * a literal of megabytes) is read again instead of being kept: the memo held every text it
 * remembered, and 40 distinct 2 MB statements kept 80 MB on the host (a frame may be 256 MB).
 */
export const MEMO_MAX_TEXT = 16 * 1024;

/** `fn`, remembered for the last `max` distinct texts up to MEMO_MAX_TEXT long (the oldest forgotten first). */
export function memoizeText<T>(fn: (text: string) => T, max = 1_000): (text: string) => T {
  const cache = new Map<string, T>();
  return (text) => {
    if (text.length > MEMO_MAX_TEXT) return fn(text);
    if (cache.has(text)) return cache.get(text) as T;
    const v = fn(text);
    if (cache.size >= max) cache.delete(cache.keys().next().value!);
    cache.set(text, v);
    return v;
  };
}
