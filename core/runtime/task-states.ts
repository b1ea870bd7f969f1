/**
 * The task state machine of the durable queue.
 *
 * ```
 *   submit ──► queued ──claim──► running ──ok──► done
 *                ▲                  │ throw / crash / timeout
 *                │                  ├──attempts < max──► failed ──(run_at reached)──claim──► running
 *                │                  └──attempts ≥ max──► dead ──bolt retry──► queued
 *                │  lease expired (owner runtime died): back to queued (or dead when out of attempts)
 *   cancel: queued | failed | running ──► cancelled ──bolt retry──► queued
 * ```
 * `failed` means "failed, will retry at run_at": it is claimable like `queued` once `run_at` passes.
 */

/** Every state a task can be in. */
export const TASK_STATUSES = ['queued', 'running', 'done', 'failed', 'dead', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** States a runtime may claim from (once `run_at` has passed). */
export const CLAIMABLE: readonly TaskStatus[] = ['queued', 'failed'];
/**
 * `status IN ('queued', 'failed')` as literal SQL: the claim's pick and PostgreSQL's partial
 * index of claimable tasks (queue-dialect.ts) share this text, so the planner can tell the index
 * covers the pick also in a generic plan (it cannot with the statuses as parameters).
 */
export const CLAIMABLE_SQL = `status IN (${CLAIMABLE.map((s) => `'${s}'`).join(', ')})`;
/** States that never change again on their own. */
export const TERMINAL: readonly TaskStatus[] = ['done', 'dead', 'cancelled'];
/** States `retry` redrives from. */
export const REDRIVABLE: readonly TaskStatus[] = ['dead', 'cancelled'];

export function isTaskStatus(s: string): s is TaskStatus {
  return (TASK_STATUSES as readonly string[]).includes(s);
}

export function isTerminal(s: TaskStatus): boolean {
  return TERMINAL.includes(s);
}
