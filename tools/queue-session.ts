/**
 * Opens the database (hosting it or joining the running host) and its task queue for one CLI
 * command, and closes it afterwards.
 */
import type { Command } from 'commander';
import { openDatabase } from '../storage/open-database.js';
import { assertDatabaseExists } from './existing-database.js';
import { action } from './cli-action.js';
import { parseTaskId } from './task-format.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import { DEFAULT_DATABASE } from '../core/config.js';

/** Shared `--db` option text. */
export const DB_OPTION_HELP = `database file or postgres:// URL (default ${DEFAULT_DATABASE})`;

/**
 * Runs `fn` on the queue of the database at `location`. Only commands that add something
 * (`create`: submit, schedule set, limits set) create a database file that is not there; the
 * others report BOLT_NOT_FOUND instead of making an empty one at a mistyped path.
 */
export async function withQueue<T>(location: string | undefined, fn: (q: TaskQueue) => Promise<T>, opts: { create?: boolean } = {}): Promise<T> {
  const where = location ?? DEFAULT_DATABASE;
  if (!opts.create) assertDatabaseExists(where);
  const db = await openDatabase(where);
  try {
    const q = new TaskQueue(db);
    await q.ensureSchema();
    return await fn(q);
  } finally {
    await db.close();
  }
}

/**
 * Registers `bolt <name> <id> [--db PATH] [--json]`, a command acting on one task: `run` gets
 * the open queue, the task id and whether JSON was asked for.
 */
export function registerTaskIdCommand(
  program: Command,
  name: string,
  description: string,
  run: (q: TaskQueue, id: number, json: boolean) => Promise<number | void>,
): void {
  program
    .command(name)
    .description(description)
    .argument('<id>', 'task id', parseTaskId)
    .option('--db <path>', DB_OPTION_HELP)
    .option('--json', 'print JSON')
    .action(action(async (id: number, o: { db?: string; json?: boolean }) => withQueue(o.db, (q) => run(q, id, Boolean(o.json)))));
}
