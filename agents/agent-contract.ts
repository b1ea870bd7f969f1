/**
 * What an agent module exports. An agent runs inside a worker thread of the runtime's
 * piscina pool; it receives one task at a time and a context.
 *
 * ```ts
 * // my-agent.ts  (bolt start --agent-module ./my-agent.ts)
 * import type { AgentTask, AgentContext } from 'bolt-runtime';
 * export const name = 'summarise';
 * export async function run(task: AgentTask<{ table: string }>, ctx: AgentContext) {
 *   const rows = await ctx.db.query(`SELECT count(*) AS n FROM ${task.payload.table}`);
 *   ctx.progress(1, 'counted');
 *   return rows[0];
 * }
 * ```
 * A module exports either `name` + `run`, or a default export `{ name, run }`, or
 * `agents: [{ name, run }, …]`. Whatever `run` returns (JSON-serialisable) is stored as the
 * task's result; a throw fails the attempt (retried with backoff until max attempts).
 */
import type { Logger } from 'pino';
import type { Database } from '../core/database.js';
import type { EinsteinSearch } from '../search/einstein-search.js';

/** The task as an agent sees it. */
export interface AgentTask<P = unknown> {
  id: number;
  agent: string;
  payload: P;
  /** 1 for the first run. */
  attempt: number;
  maxAttempts: number;
}

/** A task this one depends on (`dependsOn`), done, and its result. */
export interface ParentResult {
  id: number;
  agent: string;
  result: unknown;
}

/** What an agent gets besides its task. */
export interface AgentContext {
  /** This agent's stable id in its runtime, e.g. `agent-3`. */
  readonly agentId: string;
  /**
   * The shared database (a ConcurrentDatabase client of the runtime's host; opened on first
   * use, so agents that never touch it never open it). Agents never open DuckDB themselves.
   */
  readonly db: Database;
  /**
   * Einstein search over the shared database (hashed embedder; created on first use, so it
   * costs nothing to agents that do not search). A search needs an index (`bolt index`, or
   * `ctx.search.index(dir)`): without one it is BOLT_NOT_FOUND. For another embedder, build an
   * `EinsteinSearch(ctx.db, { embedder })` yourself.
   */
  readonly search: EinsteinSearch;
  /** A pino child logger bound to this agent and task. */
  readonly log: Logger;
  /** Aborted when the task is cancelled, times out or the runtime stops. Pass it on to I/O. */
  readonly signal: AbortSignal;
  /** Reports progress (0..1) with an optional note; emitted as `task:progress`. */
  progress(fraction: number, note?: string): void;
  /** The tasks this one was submitted to run after (`dependsOn`), by ascending id; empty without any. */
  readonly parents: readonly ParentResult[];
}

/** An agent definition. */
export interface AgentDefinition<P = unknown, R = unknown> {
  /** Unique name tasks are submitted to (letters, digits, `_ . : -`). */
  name: string;
  /** Optional one-line description shown by `bolt start`. */
  description?: string;
  run(task: AgentTask<P>, ctx: AgentContext): Promise<R> | R;
}

/** Identity helper that types an agent definition. */
export function defineAgent<P = unknown, R = unknown>(def: AgentDefinition<P, R>): AgentDefinition<P, R> {
  return def;
}
