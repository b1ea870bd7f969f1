/**
 * Opens the database (hosting it or joining the running host) and its task queue for one CLI
 * command, and closes it afterwards.
 */
import { openDatabase } from '../core/open-database.js';
import { TaskQueue } from '../core/task-queue.js';
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
