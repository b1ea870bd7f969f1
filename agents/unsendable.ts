/**
 * What in an agent's result cannot be copied to the runtime's thread (structured clone).
 */

/** Steps of a path named in full. */
const PATH_DEPTH = 32;

/**
 * Describes the first part of `value` that structured clone refuses (a function, a symbol, a
 * promise, a weak collection), with where it is (`result.items[2].fn`), or undefined when it
 * can be sent. Checked in the agent's thread before replying: a reply piscina cannot post
 * throws there, in the next tick, and ends the thread (its replacement costs a module load and
 * a database connection). Visits each object once (cycles, shared parts) and never recurses.
 */
export function unsendablePart(value: unknown): string | undefined {
  const seen = new Set<object>();
  const stack: Array<{ v: unknown; at: string; depth: number }> = [{ v: value, at: 'result', depth: 0 }];
  while (stack.length > 0) {
    const { v, at: here, depth } = stack.pop()!;
    // Paths name at most PATH_DEPTH steps, then end in '…'.
    const at = depth <= PATH_DEPTH ? here : `${here}…`;
    if (typeof v === 'function') return `a function at ${at}`;
    if (typeof v === 'symbol') return `a symbol at ${at}`;
    if (v === null || typeof v !== 'object' || seen.has(v)) continue;
    seen.add(v);
    if (v instanceof Promise) return `a promise at ${at} (await it)`;
    if (v instanceof WeakMap || v instanceof WeakSet || v instanceof WeakRef) return `a weak reference at ${at}`;
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer || v instanceof Date || v instanceof RegExp) continue;
    const d = depth + 1;
    const step = (s: string): string => (d <= PATH_DEPTH ? `${here}${s}` : here);
    if (v instanceof Map) {
      for (const [k, x] of v) stack.push({ v: k, at: step(' (a key)'), depth: d }, { v: x, at: step('.get(…)'), depth: d });
    } else if (v instanceof Set) {
      for (const x of v) stack.push({ v: x, at: step(' (a member)'), depth: d });
    } else if (Array.isArray(v)) {
      // The elements there are: a sparse array's length (1e9) had this walk every hole until
      // the thread ran out of heap.
      for (const k of Object.keys(v)) stack.push({ v: v[Number(k)], at: step(`[${k}]`), depth: d });
    } else {
      for (const k of Object.keys(v)) stack.push({ v: (v as Record<string, unknown>)[k], at: step(`.${k}`), depth: d });
    }
  }
  return undefined;
}
