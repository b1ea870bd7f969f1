/**
 * Pool accounting shared by the direct adapters: who holds a connection (session name and
 * since when, for `stats().pool.holders` and leak reports), wait times of the most recent
 * waits, query and error counters.
 */
import type { DatabaseStats } from '../../core/database.js';
import { BoltError } from '../../core/errors.js';
import { RecentSamples } from '../../core/latency-summary.js';

/** A checked-out connection, for holders and leak reports. */
export interface Holder {
  session: string;
  since: number;
}

/** Tracks checked-out connections and traffic counters. */
export class PoolAccounting {
  /** Waits for a connection: percentiles over the last 1,024. */
  readonly waits = new RecentSamples(1024);
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
