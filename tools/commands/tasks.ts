/** `bolt tasks [--status …] [--agent …]`: lists tasks of the durable queue, newest first. */
import type { Command } from 'commander';
import { BadInputError } from '../../core/errors.js';
import { isTaskStatus, TASK_STATUSES, type TaskStatus } from '../../core/runtime/task-states.js';
import { action, printJson, println } from '../cli-action.js';
import { taskTable } from '../task-format.js';
import { DB_OPTION_HELP, readQueue } from '../queue-session.js';
import { intOption } from '../int-option.js';

function parseStatuses(s: string): TaskStatus[] {
  const out = s
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  // An empty list would mean "every status": the opposite of what was typed.
  if (out.length === 0) throw new BadInputError(`--status needs at least one of ${TASK_STATUSES.join(', ')}`);
  for (const x of out) if (!isTaskStatus(x)) throw new BadInputError(`Unknown status ${JSON.stringify(x)}; one of ${TASK_STATUSES.join(', ')}`);
  return out as TaskStatus[];
}

/** The counts of an empty queue: every state, zero. */
function noCounts(): Record<TaskStatus, number> {
  return Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
}

export function register(program: Command): void {
  program
    .command('tasks')
    .description('list tasks of the durable queue, newest first')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--status <list>', `only these states, comma separated (${TASK_STATUSES.join(', ')})`, parseStatuses)
    .option('--agent <name>', 'only tasks of this agent')
    .option('--limit <n>', 'at most this many', intOption('--limit', 1, 1_000_000), 50)
    .option('--json', 'print JSON: { counts, tasks }')
    .action(
      action(async (o: { db?: string; status?: TaskStatus[]; agent?: string; limit: number; json?: boolean }) =>
        readQueue(o.db, async (q) => {
          const [tasks, counts] = q ? await Promise.all([q.list({ status: o.status, agent: o.agent, limit: o.limit }), q.counts()]) : [[], noCounts()];
          if (o.json) {
            printJson({ counts, tasks });
            return;
          }
          println(TASK_STATUSES.map((s) => `${s} ${counts[s]}`).join('  '));
          if (tasks.length === 0) {
            println('no tasks');
            return;
          }
          for (const line of taskTable(tasks)) println(line);
        }),
      ),
    );
}
