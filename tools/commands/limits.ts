/**
 * `bolt limits set|list|remove`: per-group limits (`bolt submit --group <key>`): how many of a
 * group's tasks run at once and how often they start, across every runtime on the queue,
 * enforced in the claim. See "Group limits" in docs/runtime.md.
 */
import type { Command } from 'commander';
import { BadInputError } from '../../core/errors.js';
import { checkGroupKey, checkGroupLimit, type GroupLimit } from '../../core/runtime/group-limits.js';
import { SQL_INT_MAX } from '../../core/runtime/queue-sql.js';
import { action, printJson, println } from '../cli-action.js';
import { DB_OPTION_HELP, readQueue, withQueue } from '../queue-session.js';
import { textTable } from '../format-rows.js';
import { intOption } from '../int-option.js';

/** `--rate 5/s`, `5`, `0.5/s`, `30/min`: starts per second. */
export function parseRate(text: string): number {
  // Trimmed first: `\s*` on both sides of an optional unit split a run of blanks many ways.
  const m = /^(\d+(?:\.\d+)?)(?:\s*\/\s*(s|sec|second|m|min|minute|h|hour))?$/i.exec(text.trim());
  const per = { s: 1, sec: 1, second: 1, m: 60, min: 60, minute: 60, h: 3600, hour: 3600 } as const;
  const n = m ? Number(m[1]) / per[(m[2]?.toLowerCase() ?? 's') as keyof typeof per] : NaN;
  if (!(n > 0)) throw new BadInputError(`--rate takes starts per second, minute or hour above 0, e.g. 5/s or 30/min (got ${JSON.stringify(text)})`);
  return n;
}

export function register(program: Command): void {
  const limits = program.command('limits').description('per-group limits: tasks of a group running at once and starts per second, across all runtimes');

  limits
    .command('set')
    .description('create or replace the limits of a group (tasks submitted with --group <group>)')
    .argument('<group>', 'group key (1 to 200 characters)')
    .option('--concurrency <n>', 'at most this many of its tasks running at once', intOption('--concurrency', 1, SQL_INT_MAX))
    .option('--rate <r>', 'at most this many starts per second (5/s, 0.5/s, 30/min)', parseRate)
    .option('--db <path>', DB_OPTION_HELP)
    .option('--json', 'print JSON: the group and its limits')
    .action(
      action(async (group: string, o: { db?: string; concurrency?: number; rate?: number; json?: boolean }) => {
        // Checked before the database is opened (or created).
        const limit: GroupLimit = checkGroupLimit({ concurrency: o.concurrency, ratePerSecond: o.rate });
        checkGroupKey(group);
        return withQueue(
          o.db,
          async (q) => {
            await q.setGroupLimit(group, limit);
            if (o.json) printJson({ group, ...limit });
            else println(`group ${group}: ${describe(limit)}`);
          },
          { create: true },
        );
      }),
    );

  limits
    .command('list')
    .description('list the groups with limits, with their running and waiting tasks')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--json', 'print JSON: { groups }')
    .action(
      action(async (o: { db?: string; json?: boolean }) =>
        readQueue(o.db, async (q) => {
          const groups = q ? await q.groupLimits() : [];
          if (o.json) printJson({ groups });
          else if (groups.length === 0) println('no group limits');
          else
            println(
              textTable(
                groups.map((g) => ({
                  group: g.group,
                  concurrency: g.concurrency ?? '-',
                  rate: g.ratePerSecond ? `${g.ratePerSecond}/s` : '-',
                  running: g.running,
                  waiting: g.queued,
                })),
              ),
            );
        }),
      ),
    );

  limits
    .command('remove')
    .description("remove a group's limits (its tasks then run as any other)")
    .argument('<group>', 'group key')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--json', 'print JSON: { removed }')
    .action(
      action(async (group: string, o: { db?: string; json?: boolean }) => {
        checkGroupKey(group);
        return withQueue(o.db, async (q) => {
          await q.removeGroupLimit(group);
          if (o.json) printJson({ removed: group });
          else println(`removed the limits of group ${group}`);
        });
      }),
    );
}

function describe(l: GroupLimit): string {
  return [l.concurrency !== undefined ? `at most ${l.concurrency} at once` : '', l.ratePerSecond !== undefined ? `at most ${l.ratePerSecond} starts/s` : '']
    .filter(Boolean)
    .join(', ');
}
