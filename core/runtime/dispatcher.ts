/**
 * The coordinator on a runtime's main thread: claims tasks from the durable queue in batches,
 * hands them to the agent pool, records outcomes (successes batched into one statement),
 * renews leases on a heartbeat, gives back other runtimes' expired leases, notices tasks
 * cancelled elsewhere, and drains on shutdown.
 *
 * Throughput design: one claim statement takes up to `claimBatch` tasks and keeps a small local
 * buffer (at most one extra task per agent) so an agent that finishes gets its next task
 * without a database round trip; completions are collected while a write is in flight and
 * written together by the next one (single-flight), so under load one statement records many
 * outcomes, and under light load each is written at once. A submit in this process wakes the
 * claimer directly; tasks submitted by other processes wake it through PostgreSQL's NOTIFY
 * (`BoltIntegration` listens), and are found by polling every `pollMs` on every engine.
 */
import { EventEmitter } from 'eventemitter3';
import type { BoltConfig } from '../config.js';
import type { BoltEvents } from '../events.js';
import { log } from '../logger.js';
import { toSerializedError } from '../serialize-error.js';
import type { ClaimedTask, Completion, TaskQueue } from './task-queue.js';
import { storableJson } from './queue-sql.js';
import type { AgentPool, RunningTask, RunOutcome } from '../../agents/agent-pool.js';

const logger = log('dispatcher');

/** A direct submit in flight (see `reserveDirect`), and when it began. */
export interface Leasing {
  since: number;
}

interface Running {
  task: ClaimedTask;
  run: RunningTask;
  dispatchedAt: number;
  agentId?: string;
  /** Why we aborted it, if we did: 'cancelled' | 'drain' | 'stop' | 'lease lost'. */
  aborted?: string;
  /** Its agent finished and the outcome is being recorded. */
  finished?: boolean;
  /** Settles once its outcome has been handled (recorded, or queued for the next batch write). */
  settled?: Promise<void>;
}

interface PendingDone {
  c: Completion;
  agent: string;
  agentId?: string;
  durationMs: number;
}

/** Counters shown by the live status. */
export interface DispatcherStats {
  running: number;
  buffered: number;
  done: number;
  failed: number;
  dead: number;
  cancelled: number;
  /** Completions per second over the last few seconds. */
  tasksPerSecond: number;
}

export class Dispatcher {
  private readonly buffer: Array<ClaimedTask & { claimedAt: number }> = [];
  private readonly running = new Map<number, Running>();
  private pendingDone: PendingDone[] = [];
  private claiming = false;
  /** The claim loop in progress, if any (stop waits for it: a claim in flight must be given back). */
  private pumping?: Promise<void>;
  private claimAgain = false;
  private flushing?: Promise<void>;
  private pollTimer?: NodeJS.Timeout;
  private heartbeatTimer?: NodeJS.Timeout;
  /** The heartbeat in progress, if any: the next one waits for it, and `releaseAll` too. */
  private beating?: Promise<void>;
  private lastReap = 0;
  private stopping = false;
  private readonly counters = { done: 0, failed: 0, dead: 0, cancelled: 0 };
  private readonly recent: number[] = [];
  private readonly owner: string;

  constructor(
    private readonly queue: TaskQueue,
    private readonly pool: AgentPool,
    private readonly cfg: BoltConfig,
    /** Agent names this runtime can run (it only claims those). */
    private readonly agents: readonly string[],
    private readonly events: EventEmitter<BoltEvents>,
  ) {
    this.owner = cfg.runtimeId;
    pool.on('started', ({ id, agentId, at }) => {
      const r = this.running.get(id);
      if (!r) return;
      r.agentId = agentId;
      this.fromPool('task:started', () =>
        this.events.emit('task:started', { id, agent: r.task.agent, attempt: r.task.attempt, agentId, waitMs: Math.max(0, at - r.task.runnableAt) }),
      );
    });
    pool.on('progress', ({ id, agentId, fraction, note }) => {
      const r = this.running.get(id);
      if (r) this.fromPool('task:progress', () => this.events.emit('task:progress', { id, agent: r.task.agent, agentId, fraction, note }));
    });
  }

  /**
   * Emits (`emit`) an event the agent pool reported: from a task's reply, status(), the pool's sweep timer
   * (start-marks.ts) or piscina's message handler. A listener that throws there must not lose the
   * task's outcome, fail status() or end the process: its error becomes a runtime:error.
   */
  private fromPool(name: string, emit: () => void): void {
    try {
      emit();
    } catch (e) {
      this.reportError(`${name} listener`, e);
    }
  }

  /** Starts claiming and the heartbeat. */
  start(): void {
    this.heartbeatTimer = setInterval(() => {
      this.beating ??= this.heartbeat().finally(() => (this.beating = undefined));
    }, this.cfg.heartbeatMs);
    this.heartbeatTimer.unref();
    this.wake();
  }

  /** Looks for work now (called after a local submit, a finished task, or the poll timer). */
  wake(): void {
    if (this.stopping) return;
    if (this.claiming) {
      this.claimAgain = true;
      return;
    }
    this.pumping = this.pump();
  }

  /** Tasks this runtime holds: running or claimed and waiting for a free agent. */
  stats(): DispatcherStats {
    const now = Date.now();
    while (this.recent.length && this.recent[0]! < now - 5000) this.recent.shift();
    const span = this.recent.length ? Math.max(1000, now - this.recent[0]!) : 5000;
    return {
      running: this.running.size,
      buffered: this.buffer.length,
      ...this.counters,
      tasksPerSecond: Math.round((this.recent.length / span) * 1000 * 10) / 10,
    };
  }

  /** The running task with this id, if this runtime runs it. */
  isRunning(id: number): boolean {
    return this.running.has(id);
  }

  /**
   * Statements in flight that take leases for this runtime: direct submits (each reserves an
   * agent) and the claim (when it began). The heartbeat does not know their tasks yet, so does not
   * renew them: no reap of this runtime may take leases that expire after the earliest began.
   */
  private readonly direct = new Set<Leasing>();
  private claimingSince: number | undefined;
  /**
   * Every lease this runtime holds expires after this time: the cutoff of the last heartbeat
   * whose renewal committed. The health check's reap stops there (see {@link reapExpired}).
   */
  private renewedFrom = 0;

  /**
   * Direct dispatch: a task submitted in this process may be inserted already claimed, and run
   * at once, when an agent is idle and nothing claimed is waiting (so it jumps no queue this
   * runtime knows of). Saves the claim round trip: enqueue→start is one INSERT. Call
   * `adopt` (or `adoptFailed`) after the insert.
   */
  reserveDirect(agent: string): Leasing | undefined {
    if (this.stopping || this.cfg.sequential || !this.agents.includes(agent) || this.buffer.length > 0) return undefined;
    if (this.running.size - this.finishing + this.direct.size >= this.capacity) return undefined;
    const r = { since: Date.now() };
    this.direct.add(r);
    return r;
  }

  /**
   * Takes a task inserted already claimed by this runtime (see `reserveDirect`). Settles at once
   * unless the insert took over half a lease: then after its lease is renewed (see `keepLeases`).
   */
  async adopt(task: ClaimedTask, reservation: Leasing): Promise<void> {
    let tasks = [task];
    try {
      if (this.leaseAged(reservation.since)) tasks = await this.keepLeases(tasks, reservation.since);
    } finally {
      this.direct.delete(reservation);
    }
    if (tasks.length === 0) return;
    if (this.stopping) {
      void this.queue.release(this.owner, [task]).catch((e: unknown) => this.reportError('release', e));
      return;
    }
    this.buffer.push({ ...task, claimedAt: Date.now() });
    this.dispatchBuffered();
  }

  /** The direct insert failed or was not claimed. */
  adoptFailed(reservation: Leasing): void {
    this.direct.delete(reservation);
  }

  /** Whether leases written by a statement that began at `since` have over half their time gone. */
  private leaseAged(since: number): boolean {
    return Date.now() - since > this.cfg.leaseMs / 2;
  }

  /**
   * Leases written by a statement that began at `since` run out at `since + leaseMs`. A claim or
   * direct insert that waited long (a lock held elsewhere, a failover, a stalled server) returns
   * leases nearly or already run out, which another runtime's reap may take before this one's
   * next heartbeat renews them: the task would run twice. So renew them before they run (again
   * if the renewal itself took over half a lease) and keep the tasks still held; a task another
   * runtime took meanwhile is left to it. If the renewal fails, the tasks are kept: the next
   * heartbeat renews them or finds them lost.
   */
  private async keepLeases(tasks: ClaimedTask[], since: number): Promise<ClaimedTask[]> {
    let kept = tasks;
    try {
      while (kept.length && this.leaseAged(since) && !this.stopping) {
        since = Date.now();
        const held = await this.queue.renew(
          this.owner,
          this.cfg.leaseMs,
          kept.map((t) => t.id),
        );
        const lost = kept.filter((t) => !held.has(t.id));
        if (lost.length) logger.info({ ids: lost.map((t) => t.id) }, 'a claim outlasted its leases and another runtime took these tasks: not run here');
        kept = kept.filter((t) => held.has(t.id));
      }
    } catch (e) {
      this.reportError('renew late claim', e);
    }
    return kept;
  }

  private get capacity(): number {
    return this.pool.size;
  }

  private dispatchBuffered(): void {
    for (let i = 0; i < this.buffer.length && this.pool.inFlight < this.capacity && !this.stopping;) {
      const t = this.buffer[i]!;
      // An earlier attempt of this task still runs here (aborted when this one was claimed):
      // this one starts once that has ended. The pool and its abort channel know tasks by id.
      if (this.running.has(t.id)) {
        i++;
        continue;
      }
      this.buffer.splice(i, 1);
      const run = this.pool.run(t, t.timeoutMs ?? this.cfg.taskTimeoutMs);
      const r: Running = { task: t, run, dispatchedAt: Date.now() };
      this.running.set(t.id, r);
      r.settled = run.promise.then((o) => this.onOutcome(r, o)).catch((e: unknown) => this.reportError('outcome', e));
    }
  }

  private async pump(): Promise<void> {
    this.claiming = true;
    try {
      do {
        this.claimAgain = false;
        this.dispatchBuffered();
        // Statements cost milliseconds each whatever their size, so claim in batches: keep up to
        // `prefetch` claimed tasks waiting locally beyond one per agent (none in sequential mode).
        const limit = this.cfg.sequential ? 1 : this.capacity + this.cfg.prefetch;
        // Tasks whose agent finished (outcome being written) no longer occupy an agent.
        const want = limit - (this.running.size - this.finishing) - this.buffer.length;
        // Hysteresis: while a round of work per agent is still waiting locally, do not claim a
        // few more tasks at a time; claim a full batch once the buffer runs low.
        if (want <= 0 || this.stopping || (!this.cfg.sequential && this.buffer.length >= this.capacity)) break;
        let claimed: ClaimedTask[];
        const since = Date.now();
        this.claimingSince = since;
        try {
          if (this.cfg.sequential) {
            const one = await this.queue.claimNextInOrder(this.owner, this.agents, this.cfg.leaseMs);
            claimed = one ? [one] : [];
          } else {
            claimed = await this.queue.claim(this.owner, this.agents, Math.min(want, this.cfg.claimBatch), this.cfg.leaseMs);
          }
          if (this.leaseAged(since)) claimed = await this.keepLeases(claimed, since);
        } finally {
          // Its tasks go into the buffer (or back to the queue) before any heartbeat runs again.
          this.claimingSince = undefined;
        }
        if (this.stopping) {
          if (claimed.length) await this.queue.release(this.owner, claimed);
          break;
        }
        // After the claim committed: a heartbeat that starts later sees these leases as ours.
        const claimedAt = Date.now();
        for (const t of claimed) {
          this.buffer.push({ ...t, claimedAt });
          // Claimed again while its earlier attempt still runs here: that attempt's lease ran out
          // and was reaped (this runtime stalled longer than a lease). It has lost its lease.
          const earlier = this.running.get(t.id);
          if (earlier && !earlier.aborted && !earlier.finished) {
            earlier.aborted = 'lease lost';
            logger.info({ id: t.id, attempt: earlier.task.attempt, next: t.attempt }, 'aborting an attempt whose task this runtime claimed again');
            earlier.run.abort(earlier.aborted);
          }
        }
        this.dispatchBuffered();
        if (claimed.length >= Math.min(want, this.cfg.claimBatch)) {
          this.claimAgain = true; // there may be more
        } else {
          // The queue had fewer runnable tasks than asked for: look again after pollMs (tasks
          // submitted by other processes, retries coming due) unless something wakes us first.
          this.schedulePoll();
        }
      } while (this.claimAgain && !this.stopping);
      this.claimErrors = 0;
    } catch (e) {
      this.claimErrors++;
      // Report the first failure and then every 20th, not one per poll while the database is away.
      if (this.claimErrors === 1 || this.claimErrors % 20 === 0) this.reportError('claim', e);
      this.schedulePoll();
    } finally {
      this.claiming = false;
    }
  }
  private claimErrors = 0;

  /** Polls again after `pollMs`, backing off (up to 2 s) while claims keep failing. */
  private schedulePoll(): void {
    if (this.pollTimer || this.stopping) return;
    const delay = this.claimErrors ? Math.min(2000, this.cfg.pollMs * 2 ** Math.min(10, this.claimErrors)) : this.cfg.pollMs;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = undefined;
      this.wake();
    }, delay);
  }

  private async onOutcome(r: Running, outcome: RunOutcome): Promise<void> {
    r.finished = true;
    const t = r.task;
    const agentId = outcome.agentId ?? r.agentId;
    // A result that cannot be stored fails its task here, alone, before it joins a batch.
    const o = storableOutcome(outcome);
    try {
      if (r.aborted === 'drain' || r.aborted === 'stop') {
        // Not the task's fault: give it back without counting the attempt.
        if (o.ok) this.enqueueDone(r, o.result, o.text, agentId);
        else await this.queue.release(this.owner, [{ id: t.id, attempt: t.attempt }]);
        return;
      }
      if (r.aborted === 'cancelled' || r.aborted === 'lease lost') {
        this.running.delete(t.id);
        if (r.aborted === 'cancelled') {
          this.counters.cancelled++;
          this.events.emit('task:cancelled', { id: t.id, agent: t.agent });
        }
        return;
      }
      if (o.ok) {
        this.enqueueDone(r, o.result, o.text, agentId);
        return;
      }
      if (o.notBegun) {
        // Its thread was lost before the task began there: not the task's fault.
        logger.warn(
          { id: t.id, agent: t.agent, attempt: t.attempt, reason: o.reason, error: o.error.message },
          "a task's agent thread ended or stopped answering before the task began there (code an earlier task left behind?): given back, the attempt not counted",
        );
        await this.queue.release(this.owner, [{ id: t.id, attempt: t.attempt }]);
        return;
      }
      const out = await this.queue.fail(this.owner, t.id, t.attempt, o.error);
      if (out.status === 'failed') {
        this.counters.failed++;
        this.events.emit('task:failed', { id: t.id, agent: t.agent, attempt: t.attempt, agentId, error: o.error, retryAt: out.retryAt });
      } else if (out.status === 'dead') {
        this.counters.dead++;
        this.events.emit('task:dead', { id: t.id, agent: t.agent, attempt: t.attempt, agentId, error: o.error });
      } else {
        logger.warn({ id: t.id, attempt: t.attempt }, 'lease lost before the failure was recorded; outcome discarded');
      }
    } catch (e) {
      this.reportError('record outcome', e);
    } finally {
      if (!o.ok || r.aborted) this.running.delete(t.id);
      this.wake();
    }
  }

  private enqueueDone(r: Running, result: unknown, text: string | null, agentId: string | undefined): void {
    this.pendingDone.push({
      c: { id: r.task.id, attempt: r.task.attempt, result, text },
      agent: r.task.agent,
      agentId,
      durationMs: Date.now() - r.dispatchedAt,
    });
    // The task stays in `running` (its lease renewed) until its completion is written.
    // Wait a few ms so completions arriving together share one write: every commit is a turn
    // on the database's single writer, which submits and claims need too.
    if (this.flushing || this.flushTimer) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = undefined;
      void this.flush();
    }, this.cfg.completionDelayMs);
  }
  private flushTimer?: NodeJS.Timeout;

  /** Writes collected completions; one statement for everything collected so far. */
  private flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = undefined;
    }
    if (this.flushing) return this.flushing;
    if (this.pendingDone.length === 0) return Promise.resolve();
    this.flushing = (async () => {
      try {
        while (this.pendingDone.length) {
          const batch = this.pendingDone;
          this.pendingDone = [];
          let applied: Set<number>;
          try {
            applied = await this.queue.complete(
              this.owner,
              batch.map((b) => b.c),
            );
          } catch (e) {
            // Results were checked before they were batched: what fails here is the database
            // (a failover, a lock held elsewhere). Try again, less often the longer it lasts.
            const n = this.flushFailures++;
            if (n % 10 === 0) this.reportError('complete', e);
            this.pendingDone.unshift(...batch);
            await new Promise((res) => setTimeout(res, this.stopping ? 100 : Math.min(2000, 100 * 2 ** Math.min(n, 5))));
            if (this.stopping && this.pendingDone.length && n > 20) throw e;
            continue;
          }
          this.flushFailures = 0;
          const now = Date.now();
          for (const b of batch) {
            this.running.delete(b.c.id);
            if (applied.has(b.c.id)) {
              this.counters.done++;
              this.recent.push(now);
              this.events.emit('task:done', {
                id: b.c.id,
                agent: b.agent,
                attempt: b.c.attempt,
                agentId: b.agentId ?? '',
                result: b.c.result,
                durationMs: b.durationMs,
              });
            } else {
              logger.warn({ id: b.c.id, attempt: b.c.attempt }, 'task finished after its lease was lost (cancelled or reclaimed); result discarded');
            }
          }
          this.wake();
        }
      } finally {
        this.flushing = undefined;
      }
    })().catch((e: unknown) => this.reportError('complete', e));
    return this.flushing;
  }
  private flushFailures = 0;

  /** Running entries whose agent already finished (their completion is being written). */
  private get finishing(): number {
    let n = 0;
    for (const r of this.running.values()) if (r.finished) n++;
    return n;
  }

  /** Renews our leases, notices tasks cancelled or reclaimed elsewhere, reclaims expired leases. */
  private async heartbeat(): Promise<void> {
    const started = Date.now();
    // Leases taken by statements in flight now are not renewed below (their tasks are not known
    // yet): they expire from the earliest such statement's start on.
    let safeFrom = Math.min(started, this.claimingSince ?? started);
    for (const d of this.direct) safeFrom = Math.min(safeFrom, d.since);
    try {
      // Renew only leases this runtime knows it holds: a lease it lost track of (never expected)
      // then expires and is reclaimed instead of being renewed forever.
      const known = [...this.running.keys(), ...this.buffer.map((b) => b.id)];
      const held = await this.queue.renew(this.owner, this.cfg.leaseMs, known);
      this.renewedFrom = Math.max(this.renewedFrom, safeFrom);
      for (const r of this.running.values()) {
        if (held.has(r.task.id) || r.aborted || r.dispatchedAt > started || r.finished) continue;
        const status = await this.queue
          .get(r.task.id)
          .then((t) => t.status)
          .catch(() => 'missing');
        if (r.finished || status === 'done') continue;
        r.aborted = status === 'cancelled' ? 'cancelled' : 'lease lost';
        logger.info({ id: r.task.id, status }, 'aborting a task this runtime no longer holds');
        r.run.abort(r.aborted);
      }
      for (let i = this.buffer.length - 1; i >= 0; i--) {
        const b = this.buffer[i]!;
        if (!held.has(b.id) && b.claimedAt < started) this.buffer.splice(i, 1);
      }
      if (!this.stopping && started - this.lastReap >= this.cfg.leaseMs / 4) {
        // Any one runtime's reap serves all; a quarter lease keeps a dead runtime's tasks
        // waiting at most 1.25 leases while 16 runtimes do not poll on every heartbeat.
        this.lastReap = started;
        // Only leases that had expired before this heartbeat renewed ours: a renewal that took
        // longer than a lease (a stalled process or server) must not make us reap our own tasks.
        const reaped = await this.queue.reapExpired(safeFrom);
        const settled = await this.queue.settleDependants();
        if (reaped.length || settled) this.wake();
      }
    } catch (e) {
      this.reportError('heartbeat', e);
    }
  }

  /**
   * Gives back expired leases of other runtimes (the health check's reap): those that expired
   * before this runtime's last committed renewal began. With `now` as the cutoff, a renewal
   * slower than a lease (a loaded machine or server) made a runtime reap its own running task
   * and run it a second time.
   */
  reapExpired(): ReturnType<TaskQueue['reapExpired']> {
    return this.queue.reapExpired(this.renewedFrom);
  }

  /** Aborts a task this runtime is running (a local `cancel`). */
  abortLocal(id: number, reason: 'cancelled'): boolean {
    const r = this.running.get(id);
    if (!r || r.aborted) return false;
    r.aborted = reason;
    r.run.abort(reason);
    return true;
  }

  /**
   * Stops claiming, gives back tasks not yet started, and lets running ones finish for up to
   * `drainMs`; then aborts what is left (given back to the queue, attempt not counted).
   * `immediate`: abort everything at once.
   */
  async stop(drainMs: number): Promise<void> {
    this.stopping = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.pumping;
    const buffered = this.buffer.splice(0);
    if (buffered.length) await this.queue.release(this.owner, buffered).catch((e: unknown) => this.reportError('release', e));
    const settledAll = (): Promise<unknown> => Promise.allSettled([...this.running.values()].flatMap((r) => (r.settled ? [r.settled] : [])));
    if (this.running.size && drainMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([settledAll(), new Promise((res) => (timer = setTimeout(res, drainMs)))]);
      clearTimeout(timer);
    }
    for (const r of this.running.values()) {
      if (!r.aborted && !this.pendingDone.some((p) => p.c.id === r.task.id)) {
        r.aborted = drainMs > 0 ? 'drain' : 'stop';
        r.run.abort(r.aborted);
      }
    }
    await settledAll();
    await this.flush();
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
  }

  /** Stops claiming and aborts every running task at once (`stop`: given back, attempt not counted). */
  abortAll(reason: 'stop'): void {
    this.stopping = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    for (const r of this.running.values()) {
      if (r.aborted) continue;
      r.aborted = reason;
      r.run.abort(reason);
    }
  }

  /**
   * Releases every lease this runtime still holds — in memory or not (a release that failed
   * earlier, a claim whose reply was lost). Only call it once no agent runs anything.
   */
  async releaseAll(): Promise<void> {
    if (this.heartbeatTimer) clearInterval(this.heartbeatTimer);
    // Let a heartbeat in progress end first: nothing of this runtime renews after it gives back.
    await this.beating;
    this.buffer.splice(0);
    this.running.clear();
    const n = await this.queue.releaseOwner(this.owner).catch((e: unknown) => {
      this.reportError('release', e);
      return 0;
    });
    if (n) logger.info({ n }, 'released leases still held at shutdown');
  }

  private reportError(where: string, e: unknown): void {
    logger.warn({ err: e, where }, 'runtime loop error');
    this.events.emit('runtime:error', { where, error: toSerializedError(e, 'BOLT_INTERNAL') });
  }
}

/** An outcome whose result is stored as JSON text, or the failure saying why it cannot be. */
function storableOutcome(o: RunOutcome): (RunOutcome & { ok: false }) | { ok: true; result: unknown; text: string | null } {
  if (!o.ok) return o;
  try {
    return { ok: true, result: o.result, text: storableJson(o.result ?? null, "the agent's result") };
  } catch (err) {
    return { ok: false, error: toSerializedError(err, 'BOLT_BAD_INPUT'), agentId: o.agentId, reason: 'threw' };
  }
}
