/**
 * `bolt cancel <id>`: cancels a queued, failed or running task. A running task is aborted
 * through its agent's signal by the runtime that runs it, at its next heartbeat (≤ 1 s).
 */
import type { Command } from 'commander';
import { action, printJson, println } from '../cli-action.js';
import { parseTaskId } from '../task-format.js';
import { DB_OPTION_HELP, withQueue } from '../queue-session.js';

export function register(program: Command): void {
  program
    .command('cancel')
    .description('cancel a queued, failed or running task (a running one is aborted)')
    .argument('<id>', 'task id', parseTaskId)
    .option('--db <path>', DB_OPTION_HELP)
    .option('--json', 'print JSON')
    .action(
      action(async (id: number, o: { db?: string; json?: boolean }) =>
        withQueue(o.db, async (q) => {
          const { task, wasRunningOn } = await q.cancel(id);
          if (o.json) printJson({ task, wasRunningOn });
          else println(wasRunningOn ? `cancelled task ${id}; runtime ${wasRunningOn} aborts it` : `cancelled task ${id}`);
        }),
      ),
    );
}
