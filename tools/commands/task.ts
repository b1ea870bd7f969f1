/** `bolt task <id>`: one task in detail (payload, attempts, lease, result or error). */
import type { Command } from 'commander';
import { action, printJson, println } from '../cli-action.js';
import { parseTaskId, taskDetails } from '../task-format.js';
import { DB_OPTION_HELP, withQueue } from '../queue-session.js';

export function register(program: Command): void {
  program
    .command('task')
    .description('show one task in detail')
    .argument('<id>', 'task id', parseTaskId)
    .option('--db <path>', DB_OPTION_HELP)
    .option('--json', 'print JSON')
    .action(
      action(async (id: number, o: { db?: string; json?: boolean }) =>
        withQueue(o.db, async (q) => {
          const t = await q.get(id);
          if (o.json) printJson(t);
          else for (const line of taskDetails(t)) println(line);
        }),
      ),
    );
}
