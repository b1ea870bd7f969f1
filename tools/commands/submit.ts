/**
 * `bolt submit <agent> [--payload JSON] [--wait]`: adds a task to the durable queue of the
 * database; any runtime (`bolt start`) with that agent runs it. With `--wait`, waits for the
 * task to finish and prints its result; exit 1 when it ends dead or cancelled.
 */
import type { Command } from 'commander';
import { BadInputError, TaskError } from '../../core/errors.js';
import { parsePayload } from '../payload-option.js';
import { isTerminal } from '../../core/runtime/task-states.js';
import { checkSubmit, MAX_DELAY_MS } from '../../core/runtime/submit-checks.js';
import { SQL_INT_MAX } from '../../core/runtime/queue-sql.js';
import { MAX_TIMER_MS } from '../../core/config.js';
import type { SubmitOptions, Task } from '../../core/runtime/task.js';
import { action, EXIT, printJson, println } from '../cli-action.js';
import { taskDetails } from '../task-format.js';
import { DB_OPTION_HELP, withQueue } from '../queue-session.js';
import { intOption } from '../int-option.js';

interface SubmitOpts {
  db?: string;
  payload?: string;
  priority?: number;
  maxAttempts?: number;
  dedupeKey?: string;
  timeout?: number;
  delay?: number;
  dependsOn?: number[];
  group?: string;
  wait?: boolean;
  waitTimeout?: number;
  json?: boolean;
}

/** `--depends-on 12,13` (repeatable: the ids add up): task ids. */
function taskIdList(text: string, earlier: number[] = []): number[] {
  const parts = text.split(',').map((x) => x.trim());
  if (parts.some((x) => !/^[1-9]\d{0,14}$/.test(x)))
    throw new BadInputError(`--depends-on takes task ids separated by commas, e.g. 12,13 (got ${JSON.stringify(text)})`);
  return [...earlier, ...parts.map(Number)];
}

export function register(program: Command): void {
  program
    .command('submit')
    .description('add a task to the durable queue (run by any `bolt start` that has the agent)')
    .argument('<agent>', 'agent name: echo, sleep, sql, or one from an --agent-module')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--payload <json>', 'task payload as JSON, or @FILE to read it from a file (@- for standard input)')
    .option('--priority <n>', 'higher runs first (default 0)', intOption('--priority', -SQL_INT_MAX, SQL_INT_MAX))
    .option('--max-attempts <n>', 'attempts before the task goes dead (default 3)', intOption('--max-attempts', 1, SQL_INT_MAX))
    .option('--dedupe-key <key>', 'submit once: a repeated key returns the existing task')
    .option('--timeout <ms>', 'per-task timeout from start', intOption('--timeout', 1, MAX_TIMER_MS))
    .option('--delay <ms>', 'do not start before this many ms from now', intOption('--delay', 0, MAX_DELAY_MS))
    .option('--group <key>', 'the group it counts against (see bolt limits)')
    .option('--depends-on <ids>', 'run after these tasks are done (comma-separated ids, repeatable); cancelled if one ends dead or cancelled', taskIdList)
    .option('--wait', 'wait until the task finishes and print its outcome')
    .option('--wait-timeout <ms>', 'with --wait: give up after this long (default: no limit)', intOption('--wait-timeout', 1))
    .option('--json', 'print JSON')
    .action(
      action(async (agent: string, o: SubmitOpts) => {
        const payload = await parsePayload(o.payload);
        const options: SubmitOptions = {
          priority: o.priority,
          maxAttempts: o.maxAttempts,
          dedupeKey: o.dedupeKey,
          timeoutMs: o.timeout,
          delayMs: o.delay,
          dependsOn: o.dependsOn,
          group: o.group,
        };
        checkSubmit(agent, payload, options); // before the database is opened (or created)
        return withQueue(
          o.db,
          async (q) => {
            const r = await q.submit(agent, payload, options);
            if (!o.wait) {
              // A task that depends on one already dead or cancelled is cancelled as it is stored: say so.
              const ended = o.dependsOn?.length && !r.deduplicated ? await q.get(r.id) : undefined;
              const cancelled = ended?.status === 'cancelled' ? ended : undefined;
              if (o.json) printJson(cancelled ? { ...r, status: cancelled.status, error: cancelled.error } : r);
              else if (r.deduplicated) println(`task ${r.id} already exists (dedupe key ${o.dedupeKey})`);
              else if (cancelled) println(`submitted task ${r.id} (${agent}), cancelled at once: ${cancelled.error?.message ?? 'a task it depends on ended'}`);
              else println(`submitted task ${r.id} (${agent})`);
              return EXIT.ok;
            }
            const deadline = o.waitTimeout ? Date.now() + o.waitTimeout : Infinity;
            let t: Task = await q.get(r.id);
            while (!isTerminal(t.status)) {
              if (Date.now() > deadline) {
                // The task stays queued: a script asking for JSON gets it (its id) on stdout too.
                if (o.json) printJson({ ...t, deduplicated: r.deduplicated });
                throw new TaskError(`Task ${r.id} is still ${t.status} after ${o.waitTimeout} ms (is a \`bolt start\` with agent ${agent} running?)`, {
                  id: r.id,
                });
              }
              await new Promise((res) => setTimeout(res, 50));
              t = await q.get(r.id);
            }
            if (o.json) printJson({ ...t, deduplicated: r.deduplicated });
            else for (const line of taskDetails(t)) println(line);
            return t.status === 'done' ? EXIT.ok : EXIT.problems;
          },
          { create: true },
        );
      }),
    );
}
