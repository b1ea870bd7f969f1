/**
 * Where a soak run may write. Its verdict counts every row of its tables and every line of its
 * journals, so both must start empty: a second run on the same embedded file found the first
 * run's ledger rows and counters, a second run in the same work directory appended to the first
 * run's journals, and each reported a broken invariant that was not. (A PostgreSQL run gets a
 * fresh schema of its own, soak-schema.ts.)
 */
import { existsSync, lstatSync, readdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BadInputError } from '../../core/errors.js';
import type { EngineName } from '../../core/database.js';
import { isUrl } from '../../storage/open-database.js';
import { checkDirectory } from '../../storage/platform/check-directory.js';

/** Whether anything, a dangling symbolic link included, is at `path` (false under a file: ENOTDIR). */
function taken(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** BOLT_BAD_INPUT unless `db` (DuckDB, SQLite) is a new file and `workDir` a new or empty directory. */
export function checkSoakPlaces(o: { engine: EngineName; db?: string; workDir?: string }): void {
  if (o.db !== undefined && o.engine !== 'postgres') {
    if (isUrl(o.db)) throw new BadInputError(`--db ${o.db.split(':')[0]}://… needs --engine postgres`, { engine: o.engine });
    // lstat: a link, even a dangling one, is taken; the soak would create its target elsewhere.
    if (taken(o.db)) {
      throw new BadInputError(
        `--db ${o.db} exists: a soak needs a new file (it creates its tables, injects faults against the file and counts every row). Remove it or name a new one`,
        { path: o.db },
      );
    }
    checkDirectory(o.db); // its folder exists and is writable: checked before the work directory is made
  }
  if (o.workDir !== undefined && !existsSync(o.workDir)) {
    if (taken(o.workDir)) throw new BadInputError(`--work-dir ${o.workDir} is a dangling symbolic link`, { path: o.workDir });
    // It will be made: the nearest existing folder above it must be a directory.
    let above = dirname(resolve(o.workDir));
    while (!existsSync(above)) above = dirname(above);
    if (!statSync(above).isDirectory()) throw new BadInputError(`--work-dir ${o.workDir}: ${above} is not a directory`, { path: o.workDir });
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
