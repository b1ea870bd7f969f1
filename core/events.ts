/**
 * The typed event map of `BoltIntegration` (eventemitter3). Listeners run on the main thread,
 * after the state change they report is committed to the database.
 */
import type { SerializedError } from './errors.js';
import type { DatabaseStats, LockInfo } from './database.js';
/** One piece of lock debris the runtime's sweep removed (storage/host/stale-sweep.ts). */
export interface FixedLock {
  path: string;
  kind: 'stale-sidecar' | 'dead-socket';
}

export interface TaskQueuedEvent {
  id: number;
  agent: string;
  deduplicated: boolean;
}
export interface TaskStartedEvent {
  id: number;
  agent: string;
  attempt: number;
  agentId: string;
  /** From when the task became claimable (submitted, delay over, or retry due) to its start, ms. */
  waitMs: number;
}
export interface TaskProgressEvent {
  id: number;
  agent: string;
  agentId: string;
  fraction: number;
  note?: string;
}
export interface TaskDoneEvent {
  id: number;
  agent: string;
  attempt: number;
  agentId: string;
  result: unknown;
  durationMs: number;
}
export interface TaskFailedEvent {
  id: number;
  agent: string;
  attempt: number;
  agentId?: string;
  error: SerializedError;
  retryAt: number;
}
export interface TaskDeadEvent {
  id: number;
  agent: string;
  attempt: number;
  agentId?: string;
  error: SerializedError;
}
export interface TaskCancelledEvent {
  id: number;
  agent: string;
}
export interface AgentUpEvent {
  agentId: string;
  threadId: number;
}
export interface AgentDownEvent {
  agentId: string;
  threadId: number;
  reason: string;
}

/** What the periodic health check found. */
export interface DbHealthEvent {
  ok: boolean;
  /** Round trip of `SELECT 1`, ms. */
  latencyMs: number;
  stats?: DatabaseStats;
  lock?: LockInfo;
  /** Tasks by status. */
  queue?: Record<string, number>;
  /** Expired leases given back to the queue by this check. */
  reclaimed: number;
  /**
   * Stale Bolt lock debris of OTHER database files in the database's directory that this
   * check removed (sidecars of dead hosts nobody flocks, and their dead sockets). Empty for
   * PostgreSQL and when nothing was stale.
   */
  fixed: FixedLock[];
  /** Why the stale-lock sweep did not run this time (e.g. the directory is too big). */
  sweepSkipped?: string;
  error?: SerializedError;
  at: number;
}

/** Event name → listener signature. */
export interface BoltEvents {
  'task:queued': (e: TaskQueuedEvent) => void;
  /**
   * An agent began the task. Emitted when the runtime learns it: at the task's first progress
   * report or its end, whichever comes first, and otherwise within about 100 ms of the start
   * (agent threads record starts in shared memory instead of posting a message per task).
   */
  'task:started': (e: TaskStartedEvent) => void;
  'task:progress': (e: TaskProgressEvent) => void;
  'task:done': (e: TaskDoneEvent) => void;
  'task:failed': (e: TaskFailedEvent) => void;
  'task:dead': (e: TaskDeadEvent) => void;
  'task:cancelled': (e: TaskCancelledEvent) => void;
  'agent:up': (e: AgentUpEvent) => void;
  'agent:down': (e: AgentDownEvent) => void;
  'db:health': (e: DbHealthEvent) => void;
  /** A background loop (claim, complete, heartbeat) hit an error; it keeps going. */
  'runtime:error': (e: { where: string; error: SerializedError }) => void;
}
