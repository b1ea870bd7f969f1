/**
 * The soak's work directory: the one `--work-dir` names (made if missing) or a new temporary
 * one. A run that fails before writing anything into it (the database cannot be created, say)
 * removes what it made, so no empty `bolt-soak-*` directory is left behind per failed attempt.
 */
import { mkdirSync, mkdtempSync, readdirSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { PermissionError } from '../../core/errors.js';

export interface WorkDir {
  path: string;
  /** Removes the directories this made, if nothing was written into them. */
  removeIfUnused(): void;
}

export function makeWorkDir(given: string | undefined): WorkDir {
  let path: string;
  let made: string | undefined;
  try {
    if (given === undefined) made = path = mkdtempSync(join(tmpdir(), 'bolt-soak-'));
    else made = mkdirSync((path = resolve(given)), { recursive: true });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code !== 'EACCES' && e.code !== 'EPERM' && e.code !== 'EROFS') throw err;
    const what = given === undefined ? `a temporary work directory in ${tmpdir()}` : `--work-dir ${given}`;
    throw new PermissionError(`cannot create ${what}: ${e.code}; name a directory you can write with --work-dir`, { path: given ?? tmpdir(), errno: e.code });
  }
  return {
    path,
    removeIfUnused: () => {
      if (made === undefined) return;
      // From the work directory up to the first one made; rmdir fails on (and keeps) any that is not empty.
      for (let d = path; ; d = dirname(d)) {
        try {
          if (readdirSync(d).length > 0) return;
          rmdirSync(d);
        } catch {
          return;
        }
        if (d === made) return;
      }
    },
  };
}
