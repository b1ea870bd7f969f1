/**
 * The directory a database file (and its lock, WAL and sidecar files) will live in: it must
 * exist and be writable. Checked before anything is created, so the error names the directory.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { NotFoundError, PermissionError } from '../../core/errors.js';
import { ownerAndMode } from './owner-and-mode.js';

/** Returns the directory of `path`; throws BOLT_NOT_FOUND or BOLT_PERMISSION when it cannot hold the file. */
export function checkDirectory(path: string): string {
  const abs = resolve(path);
  const dir = dirname(abs);
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new NotFoundError(`directory ${dir} does not exist; create it first`, { path: abs, dir });
  }
  if (!isDir) throw new NotFoundError(`${dir} is not a directory`, { path: abs, dir });
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new PermissionError(`directory ${dir} is not writable: cannot create ${abs} or its lock and WAL files`, { path: abs, dir });
  }
  return dir;
}

/**
 * Why an engine could not open `path`, when the file system says so: a file this user may not
 * read or write (naming its owner and mode), a missing directory, or one this user may not write
 * in (see checkDirectory). Undefined when none of these holds.
 */
export function accessProblem(path: string): NotFoundError | PermissionError | undefined {
  const abs = resolve(path);
  for (const [mode, what] of [
    [constants.R_OK, 'read'],
    [constants.W_OK, 'write'],
  ] as const) {
    try {
      accessSync(abs, mode);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EACCES' && code !== 'EPERM') break;
      return new PermissionError(`this user (uid ${process.getuid?.() ?? '?'}) may not ${what} ${abs}${ownerAndMode(abs)}`, { path: abs });
    }
  }
  try {
    checkDirectory(abs);
  } catch (err) {
    if (err instanceof NotFoundError || err instanceof PermissionError) return err;
    throw err;
  }
  return undefined;
}
