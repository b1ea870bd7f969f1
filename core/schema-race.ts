/**
 * Creating tables from several processes at once. `CREATE … IF NOT EXISTS` is not atomic on
 * PostgreSQL: two sessions can both find a name free, and the later one then fails on the
 * catalog's unique index (`pg_type`, `pg_class`) once the other commits. Run again, the
 * statement finds the object and does nothing.
 */
import { hasCode } from './errors.js';

/** Runs idempotent schema work, again (up to `attempts` in all) when it fails with BOLT_SQL. */
export async function createIdempotently<T>(run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (e) {
      if (attempt >= attempts || !hasCode(e, 'BOLT_SQL')) throw e;
    }
  }
}
