/**
 * `BoltIntegration`: the multi-agent runtime. It hosts or joins the shared database, keeps the
 * durable task queue in it, runs N agents as worker threads, and reports everything as typed
 * events.
 *
 * ```ts
 * const bolt = new BoltIntegration({ agents: 8, database: '.bolt/analytics.db' });
 * await bolt.initialize();
 * const id = await bolt.submit('sql', { sql: 'SELECT 42' }, { priority: 1, maxAttempts: 3, dedupeKey: 'x' });
 * bolt.on('task:done', (t) => console.log(t.id, t.result));
 * await bolt.shutdown();   // drain, release leases, close
 * ```
 * Several runtimes (threads, processes; machines on PostgreSQL) may share one database: they
 * share its queue, each task runs on one agent at a time while its lease holds, and the tasks
 * of a runtime that dies are run again by the others once its leases expire. Every running
 * runtime also fires the queue's schedules (`TaskQueue.setSchedule`), each tick exactly once.
 */
import { hostname } from 'node:os';
import { EventEmitter } from 'eventemitter3';
import type { CloseOptions, Database } from '../database.js';
import { resolveConfig, type BoltConfig, type BoltOptions } from '../config.js';
import type { BoltEvents, DbHealthEvent } from '../events.js';
import { AbortedError, BadInputError, ClosedError, hasCode } from '../errors.js';
import { log } from '../logger.js';
import { isUrl, openDatabase, resolveLocation } from '../../storage/open-database.js';
import { toSerializedError } from '../serialize-error.js';
import { TaskQueue, type ClaimedTask, type ListOptions } from './task-queue.js';
import type { SubmitOptions, SubmitResult, Task } from './task.js';
import type { TaskStatus } from './task-states.js';
import { Dispatcher, type DispatcherStats } from './dispatcher.js';
import { ScheduleFirer } from './schedule-firer.js';
import { WAKE_CHANNEL } from './queue-dialect.js';
import { AgentPool, type AgentSlot, type DescribedAgent } from '../../agents/agent-pool.js';
import { builtinAgentModules } from '../../agents/registry.js';
import { resolveModuleSpecifier } from '../../agents/load-agents.js';
import { sweepStaleLocks, type StaleSweepResult } from '../../storage/host/stale-sweep.js';

const logger = log('bolt');
const DB_OPENER = new URL('../../storage/open-database.js', import.meta.url).href;

/** A snapshot for status displays. */
export interface RuntimeStatus {
  runtimeId: string;
  database: string;
  agents: AgentSlot[];
  dispatcher: DispatcherStats;
  lastHealth?: DbHealthEvent;
  /** Stale lock files (sidecars, sockets) the health checks removed since the runtime started. */
  fixedTotal: number;
}

export class BoltIntegration extends EventEmitter<BoltEvents> {
  readonly config: BoltConfig;
  private db?: Database;
  private queue?: TaskQueue;
  private pool?: AgentPool;
  private dispatcher?: Dispatcher;
  private firer?: ScheduleFirer;
  private listener?: { close(): Promise<void> };
  private described: DescribedAgent[] = [];
  private readonly others = new Map<string, Promise<Database>>();
  private healthTimer?: NodeJS.Timeout;
  private lastHealth?: DbHealthEvent;
  private fixedTotal = 0;
  private readonly startedAt = Date.now();
  private state: 'new' | 'starting' | 'running' | 'stopping' | 'stopped' = 'new';
  private stopped?: Promise<void>;
  /** An immediate stop was asked for: databases close without waiting for others' statements. */
  private hurried = false;
  /** The stop has reached closing the databases (nothing of the runtime uses them any more). */
  private closingDatabases = false;
  /** `initialize()` in progress, and whether `shutdown()` came meanwhile. */
  private initializing?: Promise<void>;
  private startStopped = false;

  constructor(options: BoltOptions = {}) {
    super();
    this.config = resolveConfig(options);
  }

  /** Hosts or joins the database, creates the queue table, loads the agents and starts them. */
  async initialize(): Promise<void> {
    if (this.state !== 'new') throw new BadInputError(`initialize() called twice (runtime is ${this.state})`);
    this.state = 'starting';
    this.initializing = this.startUp();
    return this.initializing;
  }

  private async startUp(): Promise<void> {
    const userModules = this.config.agentModules.map((m) => resolveModuleSpecifier(m));
    try {
      this.db = await openDatabase(this.config.database, { ...this.config.databaseOptions, engine: this.config.engine });
      this.queue = new TaskQueue(this.db, { backoff: this.config.backoff, maxAttempts: this.config.maxAttempts });
      await this.queue.ensureSchema();
      if (this.startStopped) throw stoppedWhileStarting();
      this.pool = new AgentPool({
        size: this.config.agents,
        modules: [...builtinAgentModules(), ...userModules],
        database: resolveLocation(this.config.database),
        engine: this.db.engine,
        dbOpener: DB_OPENER,
        runtimeId: this.config.runtimeId,
        heapMb: this.config.agentHeapMb,
        abortGraceMs: this.config.abortGraceMs,
      });
      this.pool.on('up', (e) => this.emit('agent:up', e));
      this.pool.on('down', (e) => this.emit('agent:down', e));
      this.described = await this.pool.start(this.config.agentLoadTimeoutMs);
      if (this.startStopped) throw stoppedWhileStarting();
      this.dispatcher = new Dispatcher(
        this.queue,
        this.pool,
        this.config,
        this.described.map((a) => a.name),
        this,
      );
      this.dispatcher.start();
      const dispatcher = this.dispatcher;
      this.firer = new ScheduleFirer(this.queue, {
        startedAt: this.startedAt,
        // Heartbeats are written by the health check: one may be up to two intervals late.
        heartbeatSlackMs: 3 * this.config.healthIntervalMs,
        onSubmitted: (r, agent) => {
          if (r.deduplicated) return;
          this.emit('task:queued', { id: r.id, agent, deduplicated: false });
          dispatcher.wake();
        },
        onError: (e) => {
          logger.warn({ err: e }, 'firing schedules failed (retried on the next pass)');
          this.emit('runtime:error', { where: 'schedules', error: toSerializedError(e, 'BOLT_INTERNAL') });
        },
      });
      this.firer.start();
      // PostgreSQL: tasks submitted by other processes wake this runtime at once (NOTIFY), not
      // at its next poll; polling stays, for a lost LISTEN connection and the other engines.
      if (this.db.listen) {
        this.listener = await this.db
          .listen(WAKE_CHANNEL, () => dispatcher.wake())
          .catch((e: unknown) => {
            logger.warn({ err: e }, 'LISTEN for new tasks failed: finding them by polling only');
            return undefined;
          });
      }
      this.healthTimer = setInterval(() => void this.checkHealth(), this.config.healthIntervalMs);
      this.healthTimer.unref();
      this.state = 'running';
      logger.info({ runtimeId: this.config.runtimeId, agents: this.config.agents, names: this.described.map((a) => a.name) }, 'runtime started');
      void this.checkHealth();
    } catch (e) {
      this.state = 'stopped';
      await this.pool?.close(true).catch(() => undefined);
      await this.db?.close().catch(() => undefined);
      if (this.startStopped) throw stoppedWhileStarting(e);
      throw e;
    }
  }

  private need(): { db: Database; queue: TaskQueue; dispatcher: Dispatcher } {
    if (this.state !== 'running' || !this.db || !this.queue || !this.dispatcher) {
      throw new ClosedError(this.state === 'new' ? 'Call initialize() first' : `The runtime is ${this.state}`, { state: this.state });
    }
    return { db: this.db, queue: this.queue, dispatcher: this.dispatcher };
  }

  /** The agents this runtime runs (built-in and from agent modules). */
  agents(): DescribedAgent[] {
    return [...this.described];
  }

  /** Adds a task to the durable queue; resolves to its id (an existing id for a repeated dedupe key). */
  async submit(agent: string, payload?: unknown, opts: SubmitOptions = {}): Promise<number> {
    return (await this.submitDetailed(agent, payload, opts)).id;
  }

  /** Like `submit`, also saying whether the dedupe key matched an existing task. */
  async submitDetailed(agent: string, payload?: unknown, opts: SubmitOptions = {}): Promise<SubmitResult> {
    const { queue, dispatcher } = this.need();
    if (opts === null || typeof opts !== 'object') throw new BadInputError('submit options must be an object');
    const direct = opts.dedupeKey === undefined && !(opts.delayMs! > 0) && dispatcher.reserveDirect(agent);
    let r: SubmitResult & { claimed?: ClaimedTask };
    try {
      r = await queue.submit(agent, payload, opts, direct ? { owner: this.config.runtimeId, leaseMs: this.config.leaseMs } : undefined);
    } catch (e) {
      if (direct) dispatcher.adoptFailed(direct);
      throw e;
    }
    this.emit('task:queued', { id: r.id, agent, deduplicated: r.deduplicated });
    if (r.claimed && direct) await dispatcher.adopt(r.claimed, direct);
    else {
      if (direct) dispatcher.adoptFailed(direct);
      if (!r.deduplicated) dispatcher.wake();
    }
    return { id: r.id, deduplicated: r.deduplicated };
  }

  /**
   * Adds many tasks in few statements, committed in chunks of 1,000 so agents start on the
   * first chunk while the next is written. The whole batch is checked first: bad input anywhere
   * in it is BOLT_BAD_INPUT, and nothing of it is stored. A failure while it is written (a full
   * disk) leaves the chunks written before it queued: the error names their tasks' ids in
   * `details.queuedIds`. Items with dedupe keys make re-sending the whole batch safe.
   */
  async submitMany(items: ReadonlyArray<{ agent: string; payload?: unknown; options?: SubmitOptions }>): Promise<number[]> {
    const { queue, dispatcher } = this.need();
    const checked = await queue.checkMany(items);
    const ids: number[] = [];
    for (let c = 0; c < checked.length; c += 1000) {
      const part = checked.slice(c, c + 1000);
      const rs = await queue.submitChecked(part, ids);
      rs.forEach((r, i) => this.emit('task:queued', { id: r.id, agent: part[i]!.agent, deduplicated: r.deduplicated }));
      dispatcher.wake();
      ids.push(...rs.map((r) => r.id));
    }
    return ids;
  }

  /** Cancels a queued, failed or running task (a running one is aborted through its signal). */
  async cancel(id: number): Promise<Task> {
    const { queue, dispatcher } = this.need();
    const { task, wasRunningOn } = await queue.cancel(id);
    if (wasRunningOn === this.config.runtimeId) dispatcher.abortLocal(id, 'cancelled');
    else this.emit('task:cancelled', { id, agent: task.agent });
    return task;
  }

  /** Redrives a dead or cancelled task. */
  async retry(id: number): Promise<Task> {
    const { queue, dispatcher } = this.need();
    const t = await queue.retry(id);
    dispatcher.wake();
    return t;
  }

  async getTask(id: number): Promise<Task> {
    return this.need().queue.get(id);
  }

  async listTasks(o: ListOptions = {}): Promise<Task[]> {
    return this.need().queue.list(o);
  }

  async counts(): Promise<Record<TaskStatus, number>> {
    return this.need().queue.counts();
  }

  /** The task queue (for tools that need more than the methods above). */
  getQueue(): TaskQueue {
    return this.need().queue;
  }

  /**
   * The shared database this runtime uses, or another one by path/URL (opened on first call
   * through ConcurrentDatabase, closed at shutdown).
   */
  getDatabaseManager(location?: string): Database {
    const { db } = this.need();
    if (location === undefined || resolveLocation(location) === resolveLocation(this.config.database)) return db;
    throw new BadInputError(`Use openDatabaseManager() for databases other than the runtime's own (${this.config.database})`, { location });
  }

  /** Opens (or returns the already opened) database at `location`, closed at shutdown. */
  async openDatabaseManager(location: string): Promise<Database> {
    if (resolveLocation(location) === resolveLocation(this.config.database)) return this.need().db;
    const key = resolveLocation(location);
    let p = this.others.get(key);
    if (!p) {
      p = openDatabase(location);
      this.others.set(key, p);
      p.catch(() => this.others.delete(key));
    }
    return p;
  }

  /** Agents, counters and the last health check. */
  status(): RuntimeStatus {
    return {
      runtimeId: this.config.runtimeId,
      database: this.config.database,
      agents: this.pool?.slots() ?? [],
      dispatcher: this.dispatcher?.stats() ?? { running: 0, buffered: 0, done: 0, failed: 0, dead: 0, cancelled: 0, tasksPerSecond: 0 },
      lastHealth: this.lastHealth,
      fixedTotal: this.fixedTotal,
    };
  }

  /**
   * Checks the database now (reachable, pool, locks, queue), reclaims expired leases, removes
   * stale Bolt lock debris of other database files in the database's directory (see
   * `sweepStaleLocks`), and emits `db:health`.
   */
  async checkHealth(): Promise<DbHealthEvent> {
    const db = this.db;
    const queue = this.queue;
    const at = Date.now();
    const sweep = await this.sweep();
    const swept = { fixed: sweep.fixed, ...(sweep.skipped ? { sweepSkipped: sweep.skipped } : {}) };
    let ev: DbHealthEvent;
    if (!db || !queue) {
      ev = { ok: false, latencyMs: 0, reclaimed: 0, ...swept, at, error: new ClosedError('The runtime has no database open').toJSON() };
    } else {
      try {
        const t0 = performance.now();
        await db.query('SELECT 1 AS ok');
        const latencyMs = Math.round((performance.now() - t0) * 100) / 100;
        // Through the dispatcher: never a lease of this runtime's own that a slow renewal let expire.
        const reclaimed = this.state === 'running' && this.dispatcher ? (await this.dispatcher.reapExpired()).length : 0;
        if (this.state === 'running') await this.heartbeat(queue);
        ev = { ok: true, latencyMs, stats: db.stats(), lock: db.lockInfo(), queue: await queue.counts(), reclaimed, ...swept, at };
      } catch (e) {
        ev = { ok: false, latencyMs: Date.now() - at, reclaimed: 0, ...swept, at, error: toSerializedError(e, 'BOLT_INTERNAL') };
        logger.warn({ err: e }, 'database health check failed');
      }
    }
    this.lastHealth = ev;
    this.fixedTotal += ev.fixed.length;
    this.emit('db:health', ev);
    return ev;
  }

  /** This runtime's row in `bolt_runtimes` (what dashboards list as attached); never throws. */
  private async heartbeat(queue: TaskQueue): Promise<void> {
    try {
      await queue.heartbeat({ id: this.config.runtimeId, host: hostname(), pid: process.pid, agents: this.config.agents, startedAt: this.startedAt });
    } catch (e) {
      logger.warn({ err: e }, 'runtime heartbeat failed');
    }
  }

  /** The stale-lock sweep for a file database (nothing for a PostgreSQL URL); never throws. */
  private async sweep(): Promise<StaleSweepResult> {
    if (isUrl(this.config.database)) return { fixed: [] };
    try {
      const r = await sweepStaleLocks(resolveLocation(this.config.database));
      if (r.fixed.length) logger.info({ fixed: r.fixed }, 'removed stale lock debris of other databases');
      return r;
    } catch (e) {
      logger.warn({ err: e }, 'stale-lock sweep failed');
      return { fixed: [], skipped: `sweep failed: ${(e as Error).message}` };
    }
  }

  /**
   * Stops the runtime: no new claims, tasks claimed but not started go back to the queue,
   * running tasks get `drainTimeoutMs` to finish (then they are aborted and given back, their
   * attempt not counted), leases are released, workers stop, the database closes.
   * `immediate: true` aborts running tasks at once (their leases released, attempts not counted).
   */
  async shutdown(opts: { immediate?: boolean; drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.state === 'new' || this.state === 'stopped') {
      this.state = 'stopped';
      return;
    }
    if (this.state === 'starting') {
      // Stop the start where it is (agent modules still loading end now); initialize() fails
      // with BOLT_ABORTED and closes what it opened.
      this.startStopped = true;
      await this.pool?.close(true).catch(() => undefined);
      await this.initializing?.catch(() => undefined);
      return;
    }
    if (opts.immediate) this.hurried = true;
    if (opts.immediate && this.state === 'stopping' && this.pool) {
      // A second, immediate stop while draining: terminate the workers now, and stop waiting
      // for other processes' statements if the database is closing already.
      this.dispatcher?.abortAll('stop');
      if (this.closingDatabases) this.hurryClosingDatabases();
      await this.pool.close(true).catch(() => undefined);
      return this.stopped;
    }
    if (this.stopped) return this.stopped;
    this.state = 'stopping';
    this.stopped = (async () => {
      if (this.healthTimer) clearInterval(this.healthTimer);
      void this.listener?.close();
      // No new passes; one in flight may finish while the agents drain (its ticks stay queued).
      const firerStopped = this.firer?.stop().catch((e: unknown) => logger.warn({ err: e }, 'stopping the schedule firer failed'));
      const drainMs = opts.immediate ? 0 : (opts.drainTimeoutMs ?? this.config.drainTimeoutMs);
      try {
        if (opts.immediate) {
          this.dispatcher?.abortAll('stop');
          const closing = this.pool?.close(true);
          await this.dispatcher?.stop(0);
          await closing;
        } else {
          await this.dispatcher?.stop(drainMs);
        }
      } catch (e) {
        logger.warn({ err: e }, 'error while draining');
      }
      await this.pool?.close(Boolean(opts.immediate)).catch(() => undefined);
      await firerStopped;
      // No agent runs anything now: give back whatever lease this runtime still holds.
      await this.dispatcher?.releaseAll();
      await this.queue?.forgetRuntime(this.config.runtimeId).catch((e: unknown) => logger.warn({ err: e }, 'could not remove this runtime from bolt_runtimes'));
      this.closingDatabases = true;
      const how = this.hurried ? HURRIED : {};
      for (const p of this.others.values()) await p.then((d) => d.close(how)).catch(() => undefined);
      this.others.clear();
      await this.db?.close(how).catch((e: unknown) => {
        if (!hasCode(e, 'BOLT_CLOSED')) logger.warn({ err: e }, 'closing the database failed');
      });
      this.state = 'stopped';
      logger.info({ runtimeId: this.config.runtimeId }, 'runtime stopped');
    })();
    return this.stopped;
  }

  /** Closes (or hurries the close under way of) every database the runtime opened, without grace. */
  private hurryClosingDatabases(): void {
    for (const p of this.others.values()) void p.then((d) => d.close(HURRIED)).catch(() => undefined);
    void this.db?.close(HURRIED).catch(() => undefined);
  }
}

/** How an immediate stop closes databases: statements still running (other processes') are interrupted at once. */
const HURRIED: CloseOptions = { graceMs: 0 };

/** What initialize() fails with when shutdown() came while it ran. */
function stoppedWhileStarting(cause?: unknown): AbortedError {
  return new AbortedError('the runtime was stopped while it started', {}, cause === undefined ? undefined : { cause });
}
