/**
 * What `GET /api/status` and the page's event stream report, read at most once a second
 * however many pages are open: this runtime (agents and what each runs, with progress), every
 * runtime attached to the queue (from `bolt_runtimes` and the tasks' leases, so runtimes of other
 * processes and machines show too), queue depth by status, throughput and latency per 10 s over the last
 * 10 minutes, and the database (engine, role, host pid, pool). Runtimes and the chart are read
 * every 5 s (the chart's buckets are 10 s wide). A database that cannot be
 * reached is reported (`healthy: false`, its error), not thrown: the page says so and recovers
 * when the next read succeeds.
 */
import type { MetricsSource } from './metrics.js';
import { toSerializedError } from '../../core/serialize-error.js';
import { withDeadline } from './deadline.js';
import type { RuntimeRecord } from '../../core/runtime/task-queue.js';
import { TASK_STATUSES, type TaskStatus } from '../../core/runtime/task-states.js';

const CACHE_MS = 900;
const WINDOW_MS = 10 * 60_000;
const BUCKET_MS = 10_000;
/** The chart's buckets are 10 s wide: reading them every 5 s is enough. */
const SERIES_EVERY_MS = 5_000;
/** A runtime whose heartbeat is older than this is no longer listed (six missed health checks). */
const RUNTIME_ALIVE_MS = 30_000;

export interface ThroughputPoint {
  /** Bucket start, epoch ms. */
  t: number;
  done: number;
  /** Mean run time of the tasks done in the bucket, ms (null when none). */
  meanMs: number | null;
}

/** A value read at most every `everyMs` (and never twice at once); a failed read is not kept. */
/** A runtime in the status: registered ones have all fields, other lease holders only id and running. */
type AttachedRuntime = Partial<RuntimeRecord> & { id: string; heartbeatAt?: number; running: number };

export class Cached<T> {
  private last?: { at: number; value: Promise<T>; pending: boolean };

  constructor(
    private readonly everyMs: number,
    private readonly read: (now: number) => Promise<T>,
  ) {}

  get(now = Date.now()): Promise<T> {
    if (this.last && (this.last.pending || now - this.last.at < this.everyMs)) return this.last.value;
    const value = this.read(now);
    const entry = { at: now, value, pending: true };
    this.last = entry;
    value.then(
      () => (entry.pending = false),
      () => {
        entry.pending = false;
        if (this.last === entry) this.last = undefined;
      },
    );
    return value;
  }
}

export class StatusReader {
  private readonly status = new Cached(CACHE_MS, (now) => this.readNow(now));
  private readonly series = new Cached(SERIES_EVERY_MS, (now) => this.readSeries(now));
  private readonly owners = new Cached(SERIES_EVERY_MS, () => this.readOwners());
  /** The queue's schedules (with their next tick) and group limits (with running and waiting tasks). */
  private readonly plans = new Cached(SERIES_EVERY_MS, async () => ({
    schedules: await this.src.queue.schedules(),
    groups: await this.src.queue.groupLimits(),
  }));
  /** Tasks by agent and status: the status's counts and the metrics' queue gauge share one read a second. */
  readonly byAgent = new Cached(CACHE_MS, () => this.src.queue.countsByAgent());

  /** Told the round trip of each status read (the metrics' `bolt_db_statement_seconds{kind="status"}`). */
  onStatement?: (kind: string, ms: number) => void;
  /** Told the database host's pid at each read (failovers are counted where it changes). */
  onHost?: (pid: number | undefined) => void;
  /** Failovers seen so far. */
  failovers?: () => number;

  constructor(private readonly src: MetricsSource) {}

  read(): Promise<Record<string, unknown>> {
    return this.status.get();
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
    this.onHost?.(lock.host?.pid);
    const database = {
      engine: db.engine,
      location: db.location,
      role: lock.role,
      hostPid: lock.host?.pid ?? null,
      pool: stats.pool,
      failovers: this.failovers?.() ?? 0,
    };
    try {
      const started = performance.now();
      const byAgent = await withDeadline(this.byAgent.get(now));
      this.onStatement?.('status', performance.now() - started);
      const counts = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
      for (const r of byAgent) counts[r.status] += r.count;
      const [owners, series, plans] = await withDeadline(Promise.all([this.owners.get(now), this.series.get(now), this.plans.get(now)]));
      return { at: now, healthy: true, runtime, runtimes: owners, counts, series, database, ...plans };
    } catch (err) {
      const e = toSerializedError(err, 'BOLT_INTERNAL');
      return { at: now, healthy: false, error: { code: e.code, message: e.message }, runtime, database };
    }
  }

  /**
   * Runtimes attached to the queue: those whose heartbeat (every health check, 5 s by default)
   * is under RUNTIME_ALIVE_MS old, and any other runtime holding running tasks.
   */
  private async readOwners(): Promise<AttachedRuntime[]> {
    const attached: AttachedRuntime[] = await this.src.queue.runtimes(RUNTIME_ALIVE_MS);
    const rows = await this.src.db.query(
      "SELECT lease_owner AS owner, COUNT(*) AS n FROM bolt_tasks WHERE status = 'running' AND lease_owner IS NOT NULL GROUP BY lease_owner ORDER BY lease_owner",
    );
    for (const r of rows) if (!attached.some((a) => a.id === String(r.owner))) attached.push({ id: String(r.owner), running: Number(r.n) });
    return attached;
  }

  /** Tasks done per 10 s bucket over the last 10 minutes, with their mean run time, counted by the database. */
  private async readSeries(now: number): Promise<ThroughputPoint[]> {
    const from = Math.floor((now - WINDOW_MS) / BUCKET_MS) * BUCKET_MS;
    // The bucket's start: finished_at minus its offset into the bucket (% works alike on every engine).
    const rows = await this.src.db.query(
      `SELECT bucket, COUNT(*) AS n, SUM(run) AS run_ms FROM (` +
        `SELECT finished_at - ((finished_at - ?) % ${BUCKET_MS}) AS bucket, finished_at - started_at AS run ` +
        `FROM bolt_tasks WHERE status = 'done' AND finished_at >= ?) b GROUP BY bucket`,
      [from, from],
    );
    const points: ThroughputPoint[] = [];
    for (let t = from; t <= now; t += BUCKET_MS) points.push({ t, done: 0, meanMs: null });
    for (const r of rows) {
      const p = points[Math.round((Number(r.bucket) - from) / BUCKET_MS)];
      if (!p) continue;
      p.done = Number(r.n);
      p.meanMs = r.run_ms === null ? null : Number(r.run_ms) / p.done;
    }
    return points;
  }
}
