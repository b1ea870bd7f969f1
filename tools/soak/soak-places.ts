/**
 * Where a soak run may write. Its verdict counts every row of its tables and every line of its
 * journals, so both must start empty: a second run on the same embedded file found the first
 * run's ledger rows and counters, a second run in the same work directory appended to the first
 * run's journals, and each reported a broken invariant that was not. (A PostgreSQL run gets a
 * fresh schema of its own, soak-schema.ts.)
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { BadInputError } from '../../core/errors.js';
import type { EngineName } from '../../core/database.js';
import { isUrl } from '../../storage/open-database.js';

/** BOLT_BAD_INPUT unless `db` (DuckDB, SQLite) is a new file and `workDir` a new or empty directory. */
export function checkSoakPlaces(o: { engine: EngineName; db?: string; workDir?: string }): void {
  if (o.db !== undefined && o.engine !== 'postgres') {
    if (isUrl(o.db)) throw new BadInputError(`--db ${o.db.split(':')[0]}://… needs --engine postgres`, { engine: o.engine });
    if (existsSync(o.db)) {
      throw new BadInputError(
        `--db ${o.db} exists: a soak needs a new file (it creates its tables, injects faults against the file and counts every row). Remove it or name a new one`,
        { path: o.db },
      );
    }
  }
  if (o.workDir !== undefined && existsSync(o.workDir)) {
    if (!statSync(o.workDir).isDirectory()) throw new BadInputError(`--work-dir ${o.workDir} is not a directory`, { path: o.workDir });
    if (readdirSync(o.workDir).length > 0) {
      throw new BadInputError(`--work-dir ${o.workDir} is not empty: an earlier run's journals would be counted. Name a new or empty directory`, {
        path: o.workDir,
      });
    }
  }
}
