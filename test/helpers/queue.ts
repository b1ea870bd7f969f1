/**
 * A fresh queue for a test on one engine: a DuckDB or SQLite file in the test's temp folder, or
 * a fresh PostgreSQL database; closed when the test ends.
 */
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { tempDir } from './tmp.js';
import { freshPgDatabase } from './pg.js';
import { openDatabase } from '../../storage/open-database.js';
import { TaskQueue } from '../../core/runtime/task-queue.js';

export type Engine = 'duckdb' | 'sqlite' | 'postgres';

/** Where a fresh database of `engine` lives: a file path, or a PostgreSQL URL (`pgPrefix` names it). */
export async function freshLocation(t: TestContext, engine: Engine, pgPrefix: string): Promise<string> {
  return engine === 'postgres' ? (await freshPgDatabase(t, pgPrefix)).tcp : join(tempDir(t), engine === 'sqlite' ? 'q.sqlite' : 'q.db');
}

/** A queue, its schema made, on a fresh database of `engine`. */
export async function freshQueue(t: TestContext, engine: Engine, pgPrefix: string): Promise<TaskQueue> {
  const db = await openDatabase(await freshLocation(t, engine, pgPrefix), engine === 'sqlite' ? { engine } : {});
  t.after(() => db.close());
  const q = new TaskQueue(db);
  await q.ensureSchema();
  return q;
}
