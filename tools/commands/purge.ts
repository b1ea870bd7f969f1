/**
 * `bolt purge [--older-than 7d] [--status done,dead,cancelled]`: deletes finished tasks (and
 * their dedupe keys and dependency edges) from the durable queue, keeping those that unfinished
 * tasks depend on. Every queue statement scans the task table, so a long-lived queue should be
 * purged now and then.
 */
import type { Command } from 'commander';
import { BadInputError } from '../../core/errors.js';
import { TERMINAL, type TaskStatus } from '../../core/runtime/task-states.js';
import { action, printJson, println } from '../cli-action.js';
import { DB_OPTION_HELP, withQueue } from '../queue-session.js';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Parses `500ms`, `30s`, `15m`, `12h`, `7d` (a bare number is milliseconds). */
export function parseDuration(v: string): number {
  const m = /^(\d+)(ms|s|m|h|d)?$/.exec(v.trim());
  if (!m) throw new BadInputError(`Not a duration: ${JSON.stringify(v)} (use e.g. 500ms, 30s, 15m, 12h, 7d)`);
  const ms = Number(m[1]) * UNITS[m[2] ?? 'ms']!;
  if (ms > 36_525 * UNITS.d!) throw new BadInputError(`Duration ${JSON.stringify(v)} is longer than 100 years (36525d)`);
  return ms;
}

function parseFinished(v: string): TaskStatus[] {
  const out = v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);
  for (const s of out) {
    if (!(TERMINAL as readonly string[]).includes(s))
      throw new BadInputError(`--status takes finished states only (${TERMINAL.join(', ')}), not ${JSON.stringify(s)}`);
  }
  return out as TaskStatus[];
}

export function register(program: Command): void {
  program
    .command('purge')
    .description('delete finished tasks (done, dead, cancelled) older than a duration')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--older-than <duration>', 'finished longer ago than this (default 7d)', parseDuration)
    .option('--status <list>', `which finished states, comma separated (default ${TERMINAL.join(',')})`, parseFinished)
    .option('--json', 'print JSON: { deleted, kept }')
    .action(
      action(async (o: { db?: string; olderThan?: number; status?: TaskStatus[]; json?: boolean }) =>
        withQueue(o.db, async (q) => {
          const { deleted, kept } = await q.purge(o.olderThan ?? 7 * UNITS.d!, o.status ?? TERMINAL);
          if (o.json) printJson({ deleted, kept });
          else
            println(
              `deleted ${deleted} finished task${deleted === 1 ? '' : 's'}` +
                (kept ? `; kept ${kept} that unfinished tasks depend on (purged once those finish)` : ''),
            );
        }),
      ),
    );
}
