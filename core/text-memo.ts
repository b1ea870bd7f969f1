/**
 * Remembering a pure function of SQL text: the scanners that read a statement's text (placeholders,
 * what it leaves on its connection) run once per distinct text, not once per call.
 */

/** `fn`, remembered for the last `max` distinct texts (the oldest forgotten first). */
export function memoizeText<T>(fn: (text: string) => T, max = 1_000): (text: string) => T {
  const cache = new Map<string, T>();
  return (text) => {
    if (cache.has(text)) return cache.get(text) as T;
    const v = fn(text);
    if (cache.size >= max) cache.delete(cache.keys().next().value!);
    cache.set(text, v);
    return v;
  };
}
