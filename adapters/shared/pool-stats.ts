/**
 * Pool accounting shared by the direct adapters: who holds a connection (session name and
 * since when, for `stats().pool.holders` and leak reports), a wait-time histogram over the
 * most recent waits, query and error counters.
 */
import type { DatabaseStats } from '../../core/database.js';
import { BoltError } from '../../core/errors.js';

const WINDOW = 1024;

/** Percentiles over the last 1,024 waits for a connection. */
export class WaitHistogram {
  private readonly samples: number[] = [];
  private next = 0;
  private maxMs = 0;

  record(ms: number): void {
    if (this.samples.length < WINDOW) this.samples.push(ms);
    else this.samples[this.next] = ms;
    this.next = (this.next + 1) % WINDOW;
    if (ms > this.maxMs) this.maxMs = ms;
  }

  summary(): DatabaseStats['pool']['waitMs'] {
    if (this.samples.length === 0) return { p50: 0, p95: 0, p99: 0, max: this.maxMs };
    const s = [...this.samples].sort((a, b) => a - b);
    const at = (q: number): number => round(s[Math.min(s.length - 1, Math.floor(q * s.length))]!);
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), max: round(this.maxMs) };
  }
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}

/** A checked-out connection, for holders and leak reports. */
export interface Holder {
  session: string;
  since: number;
}

/** Tracks checked-out connections and traffic counters. */
export class PoolAccounting {
  readonly waits = new WaitHistogram();
  private readonly holders = new Set<Holder>();
  queries = 0;
  readonly errorsByCode: Record<string, number> = {};

  /** Records that `session` took a connection; call the returned function to give it back. */
  hold(session: string): () => void {
    const h: Holder = { session, since: Date.now() };
    this.holders.add(h);
    return () => void this.holders.delete(h);
  }

  /** Counts an error by its code (BoltErrors) before it is thrown to the caller. */
  countError(err: unknown): void {
    const code = err instanceof BoltError ? err.code : 'OTHER';
    this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
  }

  /** Connections held now, oldest first, with their age. */
  holderList(now = Date.now()): DatabaseStats['pool']['holders'] {
    return [...this.holders].sort((a, b) => a.since - b.since).map((h) => ({ session: h.session, heldMs: now - h.since }));
  }

  /** Holders held longer than `olderThanMs`: the leak report. */
  leaks(olderThanMs: number): DatabaseStats['pool']['holders'] {
    return this.holderList().filter((h) => h.heldMs >= olderThanMs);
  }
}
