/**
 * `bolt schedule set|list|remove`: schedules that submit a task on every tick of a cron
 * expression. Running runtimes (`bolt start`) submit the ticks, each exactly once however
 * many run; see "Schedules" in docs/runtime.md.
 */
import type { Command } from 'commander';
import { BadInputError } from '../../core/errors.js';
import { CATCH_UP_POLICIES, isCatchUp, validateSchedule, withNextRun, type CatchUp, type ScheduleSpec } from '../../core/runtime/schedules.js';
import { action, EXIT, printJson, println } from '../cli-action.js';
import { DB_OPTION_HELP, readQueue, withQueue } from '../queue-session.js';
import { parsePayload } from '../payload-option.js';

interface SetOpts {
  db?: string;
  cron: string;
  agent: string;
  payload?: string;
  tz?: string;
  catchUp: CatchUp;
  json?: boolean;
}

function parseCatchUp(v: string): CatchUp {
  if (!isCatchUp(v)) throw new BadInputError(`Unknown --catch-up ${JSON.stringify(v)}; one of ${CATCH_UP_POLICIES.join(', ')}`, { catchUp: v });
  return v;
}

function iso(ms: number | null): string {
  return ms === null ? '-' : new Date(ms).toISOString();
}

export function register(program: Command): void {
  const schedule = program.command('schedule').description('schedules: submit a task on every tick of a cron expression');

  schedule
    .command('set')
    .description('create or replace a schedule (running runtimes submit each tick exactly once)')
    .argument('<name>', 'schedule name: 1 to 100 letters, digits, _ . : -')
    .requiredOption('--cron <expr>', 'cron expression, 5 to 7 fields ([seconds] minutes hours day month weekday [year])')
    .requiredOption('--agent <name>', 'the agent that runs each tick')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--payload <json>', 'each task payload as JSON, or @FILE to read it from a file (@- for standard input)')
    .option('--tz <zone>', 'IANA time zone the expression is read in (default UTC)')
    .option('--catch-up <policy>', `ticks missed while no runtime ran: ${CATCH_UP_POLICIES.join(', ')}; all: at most the newest 100`, parseCatchUp, 'last')
    .option('--json', 'print JSON: the stored schedule')
    .action(
      action(async (name: string, o: SetOpts) => {
        const spec: ScheduleSpec = { cron: o.cron, agent: o.agent, payload: await parsePayload(o.payload), tz: o.tz, catchUp: o.catchUp };
        validateSchedule(name, spec); // before the database is opened (or created)
        return withQueue(
          o.db,
          async (q) => {
            const s = await q.setSchedule(name, spec);
            // With its next tick, as `schedule list` shows it.
            if (o.json) printJson(withNextRun(s));
            else println(`schedule ${s.name}: ${s.cron}${s.tz ? ` (${s.tz})` : ' (UTC)'} → ${s.agent}, catch-up ${s.catchUp}`);
          },
          { create: true },
        );
      }),
    );

  schedule
    .command('list')
    .description('list schedules with their next tick')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--json', 'print JSON: { schedules }')
    .action(
      action(async (o: { db?: string; json?: boolean }) =>
        readQueue(o.db, async (q) => {
          const schedules = q ? await q.schedules() : [];
          // A schedule no runtime can fire is listed with why, and the exit status says so.
          const status = schedules.some((s) => s.problem !== undefined) ? EXIT.problems : EXIT.ok;
          if (o.json) {
            printJson({ schedules });
            return status;
          }
          if (schedules.length === 0) {
            println('no schedules');
            return status;
          }
          const rows = schedules.map((s) => [s.name, s.cron, s.tz ?? 'UTC', s.agent, s.catchUp, s.problem ? `never: ${s.problem}` : iso(s.nextRun)]);
          const head = ['NAME', 'CRON', 'TZ', 'AGENT', 'CATCH-UP', 'NEXT'];
          const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
          for (const r of [head, ...rows])
            println(
              r
                .map((c, i) => c.padEnd(widths[i]!))
                .join('  ')
                .trimEnd(),
            );
          return status;
        }),
      ),
    );

  schedule
    .command('remove')
    .description('delete a schedule (tasks it already submitted stay)')
    .argument('<name>', 'schedule name')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--json', 'print JSON: { removed }')
    .action(
      action(async (name: string, o: { db?: string; json?: boolean }) =>
        withQueue(o.db, async (q) => {
          await q.removeSchedule(name);
          if (o.json) printJson({ removed: name });
          else println(`removed schedule ${name}`);
        }),
      ),
    );
}
