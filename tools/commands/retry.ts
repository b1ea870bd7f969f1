/** `bolt retry <id>`: redrives a dead (or cancelled) task with a fresh set of attempts. */
import type { Command } from 'commander';
import { action, printJson, println } from '../cli-action.js';
import { parseTaskId } from '../task-format.js';
import { DB_OPTION_HELP, withQueue } from '../queue-session.js';

export function register(program: Command): void {
  program
    .command('retry')
    .description('redrive a dead or cancelled task: queued again with fresh attempts')
    .argument('<id>', 'task id', parseTaskId)
    .option('--db <path>', DB_OPTION_HELP)
    .option('--json', 'print JSON')
    .action(
      action(async (id: number, o: { db?: string; json?: boolean }) =>
        withQueue(o.db, async (q) => {
          const t = await q.retry(id);
          if (o.json) printJson(t);
          else println(`task ${id} queued again (${t.agent}, ${t.maxAttempts} attempts)`);
        }),
      ),
    );
}
