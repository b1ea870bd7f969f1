/**
 * Prometheus metrics of one runtime (`GET /metrics`), kept by prom-client in a registry of its
 * own: counters and histograms follow the runtime's events as they happen; gauges (queue
 * depth, agents, pool connections) are read when Prometheus scrapes. Names follow Prometheus
 * conventions (`_total` counters, `_seconds` units, base units only).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BoltIntegration } from '../../core/runtime/bolt-integration.js';
import type { TaskQueue } from '../../core/runtime/task-queue.js';
import type { Database } from '../../core/database.js';
import { withDeadline } from './deadline.js';

/** Buckets for task durations and waits: 5 ms to 10 min. */
const TASK_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600];
/** Buckets for statement round trips: 0.1 ms to 5 s. */
const STATEMENT_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 5];

/** What the metrics read at scrape time. */
export interface MetricsSource {
  queue: TaskQueue;
  db: Database;
  /** The runtime, when this process runs agents (`bolt start`); absent for `bolt dashboard`. */
  runtime?: BoltIntegration;
}

export class DashboardMetrics {
  readonly registry = new Registry();
  private readonly finished: Counter<'agent' | 'status'>;
  private readonly duration: Histogram<'agent'>;
  private readonly wait: Histogram<'agent'>;
  private readonly statement: Histogram<'kind'>;
  private readonly failovers: Counter;
  private lastHostPid: number | undefined;
  private failoverCount = 0;

  /**
   * @param countsByAgent tasks by agent and status, from the reader that keeps them fresh for
   *   the page too (one count a second for both).
   */
  constructor(
    private readonly src: MetricsSource,
    private readonly countsByAgent: () => Promise<Array<{ agent: string; status: string; count: number }>>,
  ) {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry });
    this.finished = new Counter({
      name: 'bolt_tasks_finished_total',
      help: 'Tasks this runtime finished, by agent and final status (done, failed: will retry, dead, cancelled)',
      labelNames: ['agent', 'status'],
      registers,
    });
    this.duration = new Histogram({
      name: 'bolt_task_duration_seconds',
      help: 'Run time of tasks finished by this runtime (start to done)',
      labelNames: ['agent'],
      buckets: TASK_BUCKETS,
      registers,
    });
    this.wait = new Histogram({
      name: 'bolt_task_wait_seconds',
      help: 'Time from when a task became runnable (submitted, delay over, retry due) to its start, for tasks this runtime started',
      labelNames: ['agent'],
      buckets: TASK_BUCKETS,
      registers,
    });
    this.statement = new Histogram({
      name: 'bolt_db_statement_seconds',
      help: "Round trip of the dashboard's own statements to the database, by kind (the health check's SELECT 1: ping)",
      labelNames: ['kind'],
      buckets: STATEMENT_BUCKETS,
      registers,
    });
    this.failovers = new Counter({
      name: 'bolt_db_failovers_total',
      help: 'Times the database host this process used changed (a new host took over the file), seen at health checks, status reads and scrapes',
      registers,
      collect: () => this.observeHost(this.src.db.lockInfo().host?.pid),
    });
    const queued = new Gauge({
      name: 'bolt_tasks_queued',
      help: 'Tasks in the queue by agent and status (every runtime sharing the queue)',
      labelNames: ['agent', 'status'],
      registers,
      collect: async () => {
        // A database that does not answer keeps the last values: the rest of the scrape still comes.
        let rows;
        try {
          rows = await withDeadline(this.countsByAgent());
        } catch {
          return;
        }
        queued.reset();
        for (const r of rows) queued.set({ agent: r.agent, status: r.status }, r.count);
      },
    });
    const agents = new Gauge({
      name: 'bolt_agents',
      help: "This runtime's agent threads by state (busy, idle)",
      labelNames: ['state'],
      registers,
      collect: () => {
        const slots = this.src.runtime?.status().agents ?? [];
        const busy = slots.filter((a) => a.taskId !== undefined).length;
        agents.set({ state: 'busy' }, busy);
        agents.set({ state: 'idle' }, slots.length - busy);
      },
    });
    const pool = new Gauge({
      name: 'bolt_db_pool_connections',
      help: 'Database connections of this process by state (in_use, idle, waiting callers)',
      labelNames: ['state'],
      registers,
      collect: () => {
        const p = this.src.db.stats().pool;
        pool.set({ state: 'in_use' }, p.inUse);
        pool.set({ state: 'idle' }, p.idle);
        pool.set({ state: 'waiting' }, p.waiting);
      },
    });
  }

  /** Follows the runtime's task events. */
  attach(runtime: BoltIntegration): void {
    runtime.on('task:done', (e) => {
      this.finished.inc({ agent: e.agent, status: 'done' });
      this.duration.observe({ agent: e.agent }, e.durationMs / 1000);
    });
    runtime.on('task:failed', (e) => this.finished.inc({ agent: e.agent, status: 'failed' }));
    runtime.on('task:dead', (e) => this.finished.inc({ agent: e.agent, status: 'dead' }));
    runtime.on('task:cancelled', (e) => this.finished.inc({ agent: e.agent, status: 'cancelled' }));
    runtime.on('task:started', (e) => this.wait.observe({ agent: e.agent }, e.waitMs / 1000));
    runtime.on('db:health', (e) => {
      if (e.ok) this.statement.observe({ kind: 'ping' }, e.latencyMs / 1000);
      this.observeHost(e.lock?.host?.pid);
    });
  }

  /** Counts a failover when the host's pid differs from the one seen last. */
  observeHost(pid: number | undefined): void {
    if (pid === undefined) return;
    if (this.lastHostPid !== undefined && pid !== this.lastHostPid) {
      this.failovers.inc();
      this.failoverCount++;
    }
    this.lastHostPid = pid;
  }

  /** Failovers seen so far (`bolt_db_failovers_total`). */
  get failoversSeen(): number {
    return this.failoverCount;
  }

  /** A statement's round trip, for `bolt_db_statement_seconds`. */
  observeStatement(kind: string, ms: number): void {
    this.statement.observe({ kind }, ms / 1000);
  }

  /** The Prometheus text exposition and its content type. */
  async render(): Promise<{ body: string; contentType: string }> {
    return { body: await this.registry.metrics(), contentType: this.registry.contentType };
  }
}
