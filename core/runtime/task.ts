/**
 * The public shape of a task and its conversion from a database row (engines return
 * BIGINT as bigint on DuckDB and PostgreSQL, as a number on SQLite; JSON columns are TEXT).
 */
import type { Row } from '../database.js';
import type { SerializedError } from '../errors.js';
import { isTaskStatus, type TaskStatus } from './task-states.js';

/** One task of the durable queue. Times are epoch milliseconds. */
export interface Task {
  id: number;
  agent: string;
  payload: unknown;
  status: TaskStatus;
  priority: number;
  attempts: number;
  maxAttempts: number;
  /** Per-task timeout from start, ms (null: the runtime's default). */
  timeoutMs: number | null;
  dedupeKey: string | null;
  /** Not claimable before this time (retry backoff). */
  runAt: number;
  leaseOwner: string | null;
  leaseExpires: number | null;
  result: unknown;
  error: SerializedError | null;
  createdAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  updatedAt: number;
  /** How many tasks it depends on (`dependsOn`), and how many of them are not done yet. */
  parents: number;
  waitingOn: number;
  /** Its group (`submit(…, { group })`), or null. */
  group: string | null;
}

/** Options of `submit`. */
export interface SubmitOptions {
  /** Higher runs first (default 0). */
  priority?: number;
  /** Attempts before the task goes dead (default: the runtime's, 3). */
  maxAttempts?: number;
  /**
   * Idempotent submission: while a task with this key exists (in any state), submitting again
   * returns that task's id instead of creating another. Use `retry` to run a finished one again.
   */
  dedupeKey?: string;
  /** Per-task timeout from start, ms. */
  timeoutMs?: number;
  /** Do not run before this many ms from now. */
  delayMs?: number;
  /**
   * Run only after all these tasks are `done` (their results reach the agent as `ctx.parents`).
   * If one ends `dead` or `cancelled`, this task ends `cancelled` with the reason. Ids that
   * name no task are BOLT_BAD_INPUT, and nothing is stored.
   */
  dependsOn?: number[];
  /**
   * The group it counts against (1–200 characters): a group's limits (`setGroupLimit`) bound how
   * many of its tasks run at once and how often they start, across every runtime.
   */
  group?: string;
}

export interface SubmitResult {
  id: number;
  /** True when a task with the same dedupe key already existed and no new task was created. */
  deduplicated: boolean;
}

function num(v: unknown): number {
  return typeof v === 'bigint' ? Number(v) : Number(v);
}
function numOrNull(v: unknown): number | null {
  return v === null || v === undefined ? null : num(v);
}
/** A JSON text column (payload, result, error) as its value; text that is not JSON as itself. */
export function json(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  try {
    return JSON.parse(String(v));
  } catch {
    return String(v);
  }
}

/** Converts a `bolt_tasks` row into a `Task`. */
export function rowToTask(r: Row): Task {
  const status = String(r.status);
  if (!isTaskStatus(status)) throw new Error(`unknown task status ${status}`);
  return {
    id: num(r.id),
    agent: String(r.agent),
    payload: json(r.payload),
    status,
    priority: num(r.priority),
    attempts: num(r.attempts),
    maxAttempts: num(r.max_attempts),
    timeoutMs: numOrNull(r.timeout_ms),
    dedupeKey: r.dedupe_key === null || r.dedupe_key === undefined ? null : String(r.dedupe_key),
    runAt: num(r.run_at),
    leaseOwner: r.lease_owner === null || r.lease_owner === undefined ? null : String(r.lease_owner),
    leaseExpires: numOrNull(r.lease_expires),
    result: json(r.result),
    error: json(r.error) as SerializedError | null,
    createdAt: num(r.created_at),
    startedAt: numOrNull(r.started_at),
    finishedAt: numOrNull(r.finished_at),
    updatedAt: num(r.updated_at),
    parents: num(r.parents ?? 0),
    waitingOn: num(r.waiting_on ?? 0),
    group: r.group_key === null || r.group_key === undefined ? null : String(r.group_key),
  };
}
