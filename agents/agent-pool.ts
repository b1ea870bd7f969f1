/**
 * The runtime's agents: a piscina pool of worker threads (one task per thread at a time), with
 * stable agent ids (agent-1..agent-N, reused when a worker is replaced), cooperative abort
 * (the task's `ctx.signal`) escalating to terminating the worker after a grace period, per-task
 * timeouts measured from dispatch, and crash classification: a worker that exits, runs out of
 * heap or is terminated fails only its own task, and piscina starts a replacement.
 *
 * Workers use `atomics: 'async'`: an idle worker waits for its next task in `Atomics.waitAsync`,
 * so its event loop keeps running (its `ctx.db` client socket, the abort channel, timers a task
 * left), and a task reaches it without a message-port event. ('sync' parks an idle worker in
 * `Atomics.wait`, freezing all of that; 'disabled' costs an event per task: about 10 % fewer
 * tasks per second on PostgreSQL, docs/benchmarks.md.)
 */
import { randomUUID } from 'node:crypto';
import { BroadcastChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { EventEmitter } from 'eventemitter3';
import type { EngineName } from '../core/database.js';
import type { ParentResult } from './agent-contract.js';
import { AgentError, AbortedError, BadInputError, TaskError, type SerializedError } from '../core/errors.js';
import { log } from '../core/logger.js';
import { toSerializedError } from '../core/serialize-error.js';
import {
  abortChannelName,
  MAX_PROGRESS_NOTE,
  slotAgentId,
  type AbortMessage,
  type AgentWorkerData,
  type WorkerEvent,
  type WorkerReply,
  type WorkerRequest,
} from './worker-protocol.js';
import { logEnv, MAX_TIMER_MS } from '../core/config.js';
import { StartMarks, SWEEP_MS, type MarkRef } from './start-marks.js';

const logger = log('agent-pool');

/** One agent thread as the status display sees it. */
export interface AgentSlot {
  agentId: string;
  threadId: number;
  /** The task it is running, if any. */
  taskId?: number;
  agent?: string;
  since?: number;
  progress?: number;
  note?: string;
}

/** How one dispatched task ended. */
export type RunOutcome =
  | { ok: true; result: unknown; agentId?: string }
  | {
      ok: false;
      error: SerializedError;
      agentId?: string;
      reason: 'threw' | 'crashed' | 'oom' | 'timeout' | 'aborted';
      /**
       * Its thread died or timed out before the task began there (busy in code an earlier task
       * left behind, or still starting): the task was never attempted.
       */
      notBegun?: true;
    };

/** A task handed to an agent. */
export interface RunningTask {
  readonly promise: Promise<RunOutcome>;
  /** Aborts it: signal first, worker terminated after the grace period. */
  abort(reason: string): void;
}

export interface AgentPoolOptions {
  size: number;
  /** Agent module URLs (built-ins first). */
  modules: string[];
  database: string;
  engine: EngineName;
  dbOpener: string;
  runtimeId: string;
  heapMb: number;
  abortGraceMs: number;
}

export interface DescribedAgent {
  name: string;
  description?: string;
  module: string;
}

interface AgentPoolEvents {
  up: (e: { agentId: string; threadId: number }) => void;
  down: (e: { agentId: string; threadId: number; reason: string }) => void;
  /** A task began in an agent thread at `at` (ms since the epoch); emitted when the runtime learns it (start-marks.ts). */
  started: (e: { id: number; agentId: string; at: number }) => void;
  progress: (e: { id: number; agentId: string; fraction: number; note?: string }) => void;
}

/** How many gone threads' agent ids the pool remembers. */
const GONE_KEPT = 64;

// A CommonJS entry that imports ./worker.js: see worker-entry.cts.
const WORKER = new URL('./worker-entry.cjs', import.meta.url).href;

export class AgentPool extends EventEmitter<AgentPoolEvents> {
  private readonly pool: Piscina<WorkerRequest, WorkerReply>;
  private readonly slotTable: Int32Array;
  private readonly marks: StartMarks;
  private readonly sweep: NodeJS.Timeout;
  private readonly channel: BroadcastChannel;
  private readonly byThread = new Map<number, AgentSlot>();
  private readonly taskThread = new Map<number, number>();
  /** Tasks handed to piscina and not finished: id → agent name, the task's key (worker-protocol.ts) and start mark. */
  private readonly dispatched = new Map<number, { agent: string; key: string; ref: MarkRef }>();
  /** Why a thread went down, when we know (crash, oom, terminated). */
  private readonly downReason = new Map<number, string>();
  /**
   * Agent ids of threads that went away, the latest GONE_KEPT: piscina may fail a dead thread's
   * task after its slot was freed, and that task's events still name the agent it ran on.
   */
  private readonly gone = new Map<number, string>();
  private closed = false;

  constructor(private readonly o: AgentPoolOptions) {
    super();
    const slots = new SharedArrayBuffer(4 * o.size * 2);
    this.slotTable = new Int32Array(slots);
    // The dispatcher keeps at most one task per agent in flight; twice that leaves room to spare
    // (a dispatch finding none free goes without a mark: counted as begun, never reported begun
    // before its reply).
    this.marks = StartMarks.create(2 * o.size);
    const workerData: AgentWorkerData = {
      modules: o.modules,
      database: o.database,
      engine: o.engine,
      dbOpener: o.dbOpener,
      runtimeId: o.runtimeId,
      slots,
      starts: this.marks.buffer,
      logLevel: logEnv().level,
    };
    this.pool = new Piscina<WorkerRequest, WorkerReply>({
      filename: WORKER,
      minThreads: o.size,
      maxThreads: o.size,
      concurrentTasksPerWorker: 1,
      idleTimeout: 2 ** 31 - 1,
      atomics: 'async',
      resourceLimits: { maxOldGenerationSizeMb: o.heapMb },
      workerData,
    });
    this.channel = new BroadcastChannel(abortChannelName(o.runtimeId));
    (this.channel as unknown as { unref?: () => void }).unref?.();
    this.pool.on('message', (m: WorkerEvent) => this.onWorkerEvent(m));
    this.pool.on('workerCreate', (w: { id: number }) => this.slotOf(w.id));
    this.pool.on('workerDestroy', () => this.onDestroy());
    this.pool.on('error', (e: unknown) => {
      // After a forced close piscina has dropped the tasks still running, and a reply one of
      // them had already posted arrives for none: expected then, and those tasks are given back.
      const late = this.closed && e instanceof Error && e.message.startsWith('Unexpected message from Worker');
      if (late) logger.debug({ err: e }, 'agent reply after the pool closed');
      else logger.warn({ err: e }, 'agent pool error');
    });
    this.sweep = setInterval(() => this.sweepStarts(), SWEEP_MS);
    this.sweep.unref();
  }

  /** Number of agent threads. */
  get size(): number {
    return this.o.size;
  }

  /**
   * Loads the agent modules in every worker (warming them) and returns the agents they define.
   * A module that fails to load fails here, once, with `BOLT_AGENT` naming it; so do modules
   * still loading after `timeoutMs` (a top-level await that never settles hung `bolt start`).
   */
  async start(timeoutMs: number): Promise<DescribedAgent[]> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), timeoutMs)));
    const loading = Promise.allSettled(Array.from({ length: this.o.size }, () => this.pool.run({ kind: 'describe' })));
    const replies = await Promise.race([loading, late]).finally(() => clearTimeout(timer));
    if (replies === 'late') {
      await this.close(true);
      throw new AgentError(
        `Agent modules did not finish loading within ${timeoutMs} ms (a top-level await that never settles?): ${this.o.modules.join(', ')}`,
        {
          modules: this.o.modules,
          timeoutMs,
        },
      );
    }
    const failed = replies.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      const msg = failed.reason instanceof Error ? failed.reason.message : String(failed.reason);
      await this.close(true);
      throw new AgentError(/failed to load|exports no agent|defined twice|names an agent/.test(msg) ? msg : `Agent modules could not be loaded: ${msg}`, {
        modules: this.o.modules,
      });
    }
    const first = (replies[0] as PromiseFulfilledResult<WorkerReply>).value;
    return first.kind === 'described' ? first.agents : [];
  }

  /** Every agent thread and what it is doing, ordered by agent id. */
  slots(): AgentSlot[] {
    this.sweepStarts();
    const out: AgentSlot[] = [];
    for (let i = 0; i < this.slotTable.length; i++) {
      const tid = Atomics.load(this.slotTable, i);
      if (tid !== 0) out.push(this.slotOf(tid) ?? { agentId: slotAgentId(i), threadId: tid });
    }
    return out;
  }

  /** Tasks handed to the agents and not finished. */
  get inFlight(): number {
    return this.dispatched.size;
  }

  private slotOf(threadId: number): AgentSlot | undefined {
    const known = this.byThread.get(threadId);
    if (known) return known;
    const i = this.slotTable.indexOf(threadId);
    if (i < 0) return undefined;
    const slot: AgentSlot = { agentId: slotAgentId(i), threadId };
    this.byThread.set(threadId, slot);
    this.emit('up', { agentId: slot.agentId, threadId });
    return slot;
  }

  /**
   * A worker went away. Piscina reports it before it drops the worker from its list, and a worker
   * it destroys itself (a reply that could not be sent) is still running then; so look a turn
   * later for the slots whose thread is no longer among the pool's threads.
   */
  private onDestroy(): void {
    setImmediate(() => this.freeSlotsOfGoneThreads());
  }

  private freeSlotsOfGoneThreads(): void {
    const alive = new Set(this.pool.threads.map((w) => w.threadId));
    for (let i = 0; i < this.slotTable.length; i++) {
      const threadId = Atomics.load(this.slotTable, i);
      if (threadId === 0 || alive.has(threadId)) continue;
      Atomics.compareExchange(this.slotTable, i, threadId, 0);
      const slot = this.byThread.get(threadId);
      this.byThread.delete(threadId);
      this.gone.set(threadId, slot?.agentId ?? slotAgentId(i));
      if (this.gone.size > GONE_KEPT) this.gone.delete(this.gone.keys().next().value!);
      // Piscina fails the worker's task right after this event: report the reason it records.
      setImmediate(() => {
        const reason = this.downReason.get(threadId) ?? (this.closed ? 'stopped' : 'exited');
        this.downReason.delete(threadId);
        this.emit('down', { agentId: slot?.agentId ?? slotAgentId(i), threadId, reason });
      });
    }
  }

  /** Tasks that began without a reply yet: attached to their agents (start-marks.ts). */
  private sweepStarts(): void {
    for (const [id, d] of this.dispatched) {
      if (this.taskThread.has(id)) continue;
      const s = this.marks.started(d.ref);
      if (s) this.markStarted(id, s.threadId, s.at);
    }
  }

  /**
   * Attaches a task to the agent running it and emits 'started' (once): found by the sweep, or
   * at its first progress message, its reply or its thread's death, whichever comes first. A
   * thread already gone is named, not attached to.
   */
  private markStarted(id: number, threadId: number, at: number): void {
    const agent = this.dispatched.get(id)?.agent;
    if (agent === undefined || this.taskThread.has(id)) return;
    const slot = this.slotOf(threadId);
    if (!slot) {
      const agentId = this.gone.get(threadId);
      if (agentId === undefined) return;
      this.taskThread.set(id, threadId);
      this.emit('started', { id, agentId, at });
      return;
    }
    this.taskThread.set(id, threadId);
    slot.taskId = id;
    slot.agent = agent;
    slot.since = at;
    slot.progress = undefined;
    slot.note = undefined;
    this.emit('started', { id, agentId: slot.agentId, at });
  }

  private onWorkerEvent(m: WorkerEvent): void {
    if (!m || typeof m !== 'object' || !('bolt' in m)) return;
    // Agent code can post on its thread's port too: only the task's own key counts.
    const task = this.dispatched.get(m.id);
    if (!task || m.key !== task.key) return;
    const slot = this.slotOf(m.threadId);
    if (!slot) return;
    if (m.bolt !== 'progress') return;
    this.markStarted(m.id, m.threadId, this.marks.started(task.ref)?.at ?? Date.now());
    if (slot.taskId === m.id) {
      const fraction = typeof m.fraction === 'number' && Number.isFinite(m.fraction) ? Math.max(0, Math.min(1, m.fraction)) : 0;
      const note = typeof m.note === 'string' ? m.note.slice(0, MAX_PROGRESS_NOTE) : undefined;
      slot.progress = fraction;
      slot.note = note;
      this.emit('progress', { id: m.id, agentId: slot.agentId, fraction, note });
    }
  }

  /** Runs one claimed task on a free agent. Never rejects: failures come back as outcomes. */
  run(task: { id: number; agent: string; payload: unknown; attempt: number; maxAttempts: number; parents?: ParentResult[] }, timeoutMs: number): RunningTask {
    const controller = new AbortController();
    const key = randomUUID();
    const ref = this.marks.take();
    let abortReason: string | undefined;
    let timedOut = false;
    let grace: NodeJS.Timeout | undefined;
    const abort = (reason: string): void => {
      if (abortReason !== undefined) return;
      abortReason = reason;
      this.channel.postMessage({ id: task.id, key, reason } satisfies AbortMessage);
      grace = setTimeout(() => controller.abort(reason), this.o.abortGraceMs);
    };
    // A timeout stored before the queue bounded it would overflow the timer, which then fires at once.
    const timer = setTimeout(
      () => {
        timedOut = true;
        abort('timeout');
      },
      Math.min(timeoutMs, MAX_TIMER_MS),
    );
    const dispatchedAt = Date.now();
    const promise = this.pool
      .run(
        {
          kind: 'run',
          id: task.id,
          key,
          mark: ref.mark,
          seq: ref.seq,
          agent: task.agent,
          payload: task.payload,
          attempt: task.attempt,
          maxAttempts: task.maxAttempts,
          ...(task.parents?.length ? { parents: task.parents } : {}),
        },
        { signal: controller.signal },
      )
      .then(
        (reply): RunOutcome => {
          this.markStarted(task.id, reply.threadId, this.marks.started(ref)?.at ?? dispatchedAt);
          const agentId = this.slotOf(reply.threadId)?.agentId;
          if (reply.kind === 'result' && !reply.ok && reply.retiring) this.downReason.set(reply.threadId, `retired: ${reply.retiring}`);
          if (reply.kind !== 'result') return { ok: false, error: new AgentError('unexpected reply from agent worker').toJSON(), agentId, reason: 'crashed' };
          if (timedOut) return { ok: false, error: timeoutError(task.id, timeoutMs), agentId, reason: 'timeout' };
          if (reply.ok) return { ok: true, result: reply.result, agentId };
          return { ok: false, error: reply.error, agentId, reason: abortReason ? 'aborted' : 'threw' };
        },
        (err: unknown): RunOutcome => {
          // Begun, and its thread died before the sweep saw it: reported started all the same.
          const start = this.marks.started(ref);
          if (start) this.markStarted(task.id, start.threadId, start.at);
          const threadId = this.taskThread.get(task.id) ?? start?.threadId;
          const agentId = threadId === undefined ? undefined : (this.byThread.get(threadId)?.agentId ?? this.gone.get(threadId));
          const begun = this.marks.begun(ref);
          const outcome = this.classifyRejection(err, task.id, timedOut, timeoutMs, abortReason, Date.now() - dispatchedAt, begun);
          if (threadId !== undefined) this.downReason.set(threadId, `${outcome.reason}: ${outcome.error.message}`);
          return { ...outcome, agentId };
        },
      )
      .finally(() => {
        this.marks.release(ref);
        this.dispatched.delete(task.id);
        clearTimeout(timer);
        if (grace) clearTimeout(grace);
        const threadId = this.taskThread.get(task.id);
        this.taskThread.delete(task.id);
        const slot = threadId === undefined ? undefined : this.byThread.get(threadId);
        if (slot && slot.taskId === task.id) clearSlot(slot);
      });
    this.dispatched.set(task.id, { agent: task.agent, key, ref });
    return { promise, abort };
  }

  private classifyRejection(
    err: unknown,
    id: number,
    timedOut: boolean,
    timeoutMs: number,
    abortReason: string | undefined,
    ranMs: number,
    begun: boolean,
  ): Exclude<RunOutcome, { ok: true }> {
    const e = err as Error & { code?: string };
    // Where the thread timed out, ran out of heap or exited before the task began there.
    const lost = begun ? {} : { notBegun: true as const };
    if (timedOut) return { ok: false, error: timeoutError(id, timeoutMs), reason: 'timeout', ...lost };
    if (e?.name === 'AbortError' || abortReason !== undefined) {
      return {
        ok: false,
        error: new AbortedError(`Task ${id} was aborted (${abortReason ?? 'stopped'}); its agent did not stop in time and its worker was replaced`, {
          id,
          reason: abortReason,
        }).toJSON(),
        reason: 'aborted',
      };
    }
    if (e?.code === 'ERR_WORKER_OUT_OF_MEMORY') {
      return {
        ok: false,
        error: new AgentError(`The agent ran out of heap (limit ${this.o.heapMb} MB) running task ${id}; its worker was replaced`, {
          id,
          heapMb: this.o.heapMb,
        }).toJSON(),
        reason: 'oom',
        ...lost,
      };
    }
    const exited = /worker exited with code: (-?\d+)/.exec(e?.message ?? '');
    if (exited) {
      return {
        ok: false,
        error: new AgentError(`The agent's worker exited (code ${exited[1]}) after ${ranMs} ms running task ${id}; it was replaced`, {
          id,
          exitCode: Number(exited[1]),
        }).toJSON(),
        reason: 'crashed',
        ...lost,
      };
    }
    // A reply that could not leave the agent's thread (a function or a symbol in the result):
    // piscina forwards the DataCloneError, which arrives as an empty object. The task failed;
    // the thread is fine.
    const empty = err !== null && typeof err === 'object' && Object.getPrototypeOf(err) === Object.prototype && Object.keys(err).length === 0;
    if (empty || e?.name === 'DataCloneError') {
      return {
        ok: false,
        error: new BadInputError(`Task ${id}'s result could not be sent from its agent's thread (a function, a symbol?): return JSON values`, { id }).toJSON(),
        reason: 'threw',
      };
    }
    return { ok: false, error: toSerializedError(err, 'BOLT_AGENT'), reason: 'crashed' };
  }

  /** Stops the workers (`force`: at once, running tasks are terminated). */
  async close(force = false): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    this.channel.close();
    if (force) await this.pool.destroy();
    else await this.pool.close();
  }
}

function clearSlot(slot: AgentSlot): void {
  slot.taskId = undefined;
  slot.agent = undefined;
  slot.since = undefined;
  slot.progress = undefined;
  slot.note = undefined;
}

function timeoutError(id: number, timeoutMs: number): SerializedError {
  return new TaskError(`Task ${id} timed out after ${timeoutMs} ms`, { id, timeoutMs }).toJSON();
}
