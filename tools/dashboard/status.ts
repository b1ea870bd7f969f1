/**
 * What `GET /api/status` and the page's event stream report, read at most once a second
 * however many pages are open: this runtime (agents and what each runs, with progress), every
 * runtime holding tasks in the queue (from the database, so runtimes of other processes and
 * machines show too), queue depth by status, throughput and latency per 10 s over the last
 * 10 minutes, and the database (engine, role, host pid, pool). A database that cannot be
 * reached is reported (`healthy: false`, its error), not thrown: the page says so and recovers
 * when the next read succeeds.
 */
import type { MetricsSource } from './metrics.js';
import { toSerializedError } from '../../core/serialize-error.js';

const CACHE_MS = 900;
const WINDOW_MS = 10 * 60_000;
const BUCKET_MS = 10_000;

export interface ThroughputPoint {
  /** Bucket start, epoch ms. */
  t: number;
  done: number;
  /** Mean run time of the tasks done in the bucket, ms (null when none). */
  meanMs: number | null;
}

export class StatusReader {
  private cached?: { at: number; value: Promise<Record<string, unknown>> };

  constructor(private readonly src: MetricsSource & { metrics?: { observeStatement(kind: string, ms: number): void } }) {}

  read(): Promise<Record<string, unknown>> {
    const now = Date.now();
    if (this.cached && now - this.cached.at < CACHE_MS) return this.cached.value;
    const value = this.readNow(now);
    this.cached = { at: now, value };
    return value;
  }

  private async readNow(now: number): Promise<Record<string, unknown>> {
    const rt = this.src.runtime?.status();
    const runtime = rt && {
      id: rt.runtimeId,
      database: rt.database,
      agents: rt.agents,
      dispatcher: rt.dispatcher,
    };
    const db = this.src.db;
    const stats = db.stats();
    const lock = db.lockInfo();
    const database = {
      engine: db.engine,
      location: db.location,
      role: lock.role,
      hostPid: lock.host?.pid ?? null,
      pool: stats.pool,
      failovers: Number(stats.failovers ?? 0),
    };
    try {
      const started = performance.now();
      const counts = await this.src.queue.counts();
      this.src.metrics?.observeStatement('status', performance.now() - started);
      const [owners, series] = await Promise.all([this.owners(), this.series(now)]);
      return { at: now, healthy: true, runtime, runtimes: owners, counts, series, database };
    } catch (err) {
      return { at: now, healthy: false, error: toSerializedError(err, 'BOLT_INTERNAL'), runtime, database };
    }
  }

  /** Runtimes holding running tasks, with how many each holds. */
  private async owners(): Promise<Array<{ id: string; running: number }>> {
    const rows = await this.src.db.query(
      "SELECT lease_owner AS owner, COUNT(*) AS n FROM bolt_tasks WHERE status = 'running' AND lease_owner IS NOT NULL GROUP BY lease_owner ORDER BY lease_owner",
    );
    return rows.map((r) => ({ id: String(r.owner), running: Number(r.n) }));
  }

  /** Tasks done per 10 s bucket over the last 10 minutes, with their mean run time. */
  private async series(now: number): Promise<ThroughputPoint[]> {
    const from = Math.floor((now - WINDOW_MS) / BUCKET_MS) * BUCKET_MS;
    const rows = await this.src.db.query(
      `SELECT finished_at, started_at FROM bolt_tasks WHERE status = 'done' AND finished_at >= ? ORDER BY finished_at DESC LIMIT 20000`,
      [from],
    );
    const points: ThroughputPoint[] = [];
    for (let t = from; t <= now; t += BUCKET_MS) points.push({ t, done: 0, meanMs: null });
    const sums = points.map(() => 0);
    for (const r of rows) {
      const i = Math.floor((Number(r.finished_at) - from) / BUCKET_MS);
      const p = points[i];
      if (!p) continue;
      p.done++;
      if (r.started_at !== null) sums[i]! += Number(r.finished_at) - Number(r.started_at);
    }
    points.forEach((p, i) => (p.meanMs = p.done ? sums[i]! / p.done : null));
    return points;
  }
}
