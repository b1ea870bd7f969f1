/**
 * `bolt cancel <id>`: cancels a queued, failed or running task. A running task is aborted
 * through its agent's signal by the runtime that runs it, at its next heartbeat (≤ 1 s).
 */
import type { Command } from 'commander';
import { printJson, println } from '../cli-action.js';
import { registerTaskIdCommand } from '../queue-session.js';

export function register(program: Command): void {
  registerTaskIdCommand(program, 'cancel', 'cancel a queued, failed or running task (a running one is aborted)', async (q, id, json) => {
    const { task, wasRunningOn } = await q.cancel(id);
    if (json) printJson({ task, wasRunningOn });
    else println(wasRunningOn ? `cancelled task ${id}; runtime ${wasRunningOn} aborts it` : `cancelled task ${id}`);
  });
}
