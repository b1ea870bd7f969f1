/**
 * The directory a database file (and its lock, WAL and sidecar files) will live in: it must
 * exist and be writable. Checked before anything is created, so the error names the directory.
 */
import { accessSync, constants, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { NotFoundError, PermissionError } from '../../core/errors.js';

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
