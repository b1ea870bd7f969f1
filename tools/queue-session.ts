/**
 * Opens the database (hosting it or joining the running host) and its task queue for one CLI
 * command, and closes it afterwards.
 */
import type { Command } from 'commander';
import { openDatabase, resolveLocation } from '../storage/open-database.js';
import { detectEngine } from '../storage/concurrent-database.js';
import { assertDatabaseExists } from './existing-database.js';
import { action } from './cli-action.js';
import { parseTaskId } from './task-format.js';
import { tableExists } from './mcp/catalog.js';
import { NotFoundError } from '../core/errors.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import { DEFAULT_DATABASE } from '../core/config.js';
import type { Database, OpenOptions } from '../core/database.js';

/** Shared `--db` option text. */
export const DB_OPTION_HELP = `database file or postgres:// URL (default ${DEFAULT_DATABASE})`;

/**
 * Runs `fn` on the queue of the database at `location`, its tables created if missing. Only
 * commands that add something (`create`: submit, schedule set, limits set) create a database
 * file that is not there; the others report BOLT_NOT_FOUND instead of making an empty one at a
 * mistyped path.
 */
export async function withQueue<T>(location: string | undefined, fn: (q: TaskQueue) => Promise<T>, opts: { create?: boolean } = {}): Promise<T> {
  const where = location ?? DEFAULT_DATABASE;
  if (!opts.create) assertDatabaseExists(where);
  return onDatabase(where, {}, async (db) => {
    const q = new TaskQueue(db);
    await q.ensureSchema();
    return fn(q);
  });
}

/**
 * Runs a read-only command's `fn` on the queue of the database at `location`, or on `undefined`
 * when the database has no queue: a read never creates the queue's tables (as the read tools of
 * `bolt mcp`), so `fn` answers what an empty queue would. As there too, SQLite and PostgreSQL
 * are opened read-only (PostgreSQL would otherwise create its request log); DuckDB read-write,
 * as this process may become the file's host, but nothing is written.
 */
export async function readQueue<T>(location: string | undefined, fn: (q: TaskQueue | undefined) => Promise<T>): Promise<T> {
  const where = location ?? DEFAULT_DATABASE;
  assertDatabaseExists(where);
  const readOnly = detectEngine(resolveLocation(where)) !== 'duckdb';
  return onDatabase(where, { readOnly }, async (db) => fn((await tableExists(db, 'bolt_tasks')) ? new TaskQueue(db) : undefined));
}

/** Opens the database at `location`, runs `fn`, closes it. */
async function onDatabase<T>(location: string, opts: OpenOptions, fn: (db: Database) => Promise<T>): Promise<T> {
  const db = await openDatabase(location, opts);
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

/**
 * Registers `bolt <name> <id> [--db PATH] [--json]`, a command acting on one task: `run` gets
 * the open queue, the task id and whether JSON was asked for. A `read` command creates no
 * tables: on a database without a queue there is no task of that id.
 */
export function registerTaskIdCommand(
  program: Command,
  name: string,
  description: string,
  run: (q: TaskQueue, id: number, json: boolean) => Promise<number | void>,
  opts: { read?: boolean } = {},
): void {
  program
    .command(name)
    .description(description)
    .argument('<id>', 'task id', parseTaskId)
    .option('--db <path>', DB_OPTION_HELP)
    .option('--json', 'print JSON')
    .action(
      action(async (id: number, o: { db?: string; json?: boolean }) =>
        opts.read
          ? readQueue(o.db, (q) => {
              if (!q) throw new NotFoundError(`No task with id ${id}`, { id });
              return run(q, id, Boolean(o.json));
            })
          : withQueue(o.db, (q) => run(q, id, Boolean(o.json))),
      ),
    );
}
