/**
 * Opens the database (hosting it or joining the running host) and its task queue for one CLI
 * command, and closes it afterwards.
 */
import type { Command } from 'commander';
import { openDatabase } from '../storage/open-database.js';
import { action } from './cli-action.js';
import { parseTaskId } from './task-format.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import { DEFAULT_DATABASE } from '../core/config.js';

/** Shared `--db` option text. */
export const DB_OPTION_HELP = `database file or postgres:// URL (default ${DEFAULT_DATABASE})`;

export async function withQueue<T>(location: string | undefined, fn: (q: TaskQueue) => Promise<T>): Promise<T> {
  const db = await openDatabase(location ?? DEFAULT_DATABASE);
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
