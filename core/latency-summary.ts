/**
 * Percentiles of latency samples (nearest-rank). Shared by stats, benchmarks and soak.
 */

/** p50/p95/p99/max (and count/mean) of a set of millisecond samples. */
export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

/** Nearest-rank percentile `p` (0–100) of ascending-sorted samples; 0 for none. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/** Summarises samples (they need not be sorted; the input is not modified). */
export function summarize(samples: readonly number[]): LatencySummary {
  const s = [...samples].sort((a, b) => a - b);
  const sum = s.reduce((a, b) => a + b, 0);
  return {
    count: s.length,
    mean: s.length ? sum / s.length : 0,
    p50: percentile(s, 50),
    p95: percentile(s, 95),
    p99: percentile(s, 99),
    max: s.length ? s[s.length - 1]! : 0,
  };
}

/**
 * The most recent `capacity` samples (a ring buffer) and their percentiles, rounded to
 * 0.01 ms; `max` is over every sample ever added. Used for pool wait times.
 */
export class RecentSamples {
  private readonly samples: number[] = [];
  private next = 0;
  private maxMs = 0;

  constructor(private readonly capacity = 1024) {}

  add(ms: number): void {
    if (this.samples.length < this.capacity) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % this.capacity;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  percentiles(): { p50: number; p95: number; p99: number; max: number } {
    const s = [...this.samples].sort((a, b) => a - b);
    const round = (ms: number) => Math.round(ms * 100) / 100;
    return { p50: round(percentile(s, 50)), p95: round(percentile(s, 95)), p99: round(percentile(s, 99)), max: round(this.maxMs) };
  }
}
