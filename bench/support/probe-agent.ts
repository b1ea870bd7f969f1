/**
 * Benchmark agent (also a raw piscina task handler): returns the wall-clock time, in ms with
 * sub-ms precision, at which it started, so enqueue→start latency can be measured.
 */
export const name = 'probe';

/** Wall clock with sub-millisecond precision, comparable across threads of one process. */
export function nowMs(): number {
  return performance.timeOrigin + performance.now();
}

export function run(): { startedAt: number } {
  return { startedAt: nowMs() };
}

/** Piscina handler form (the raw baseline). */
export default function handler(): { startedAt: number } {
  return { startedAt: nowMs() };
}
