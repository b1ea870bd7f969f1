/**
 * Where `--report` goes, checked before the run: the report is written only after it, so a
 * path it cannot be written to was found out at the end of a run of minutes or hours, whose
 * verdict was then lost (the error replaced the summary) and whose temporary work directory
 * stayed behind.
 */
import { accessSync, constants, lstatSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BadInputError, NotFoundError, PermissionError } from '../../core/errors.js';

/**
 * BOLT_NOT_FOUND or BOLT_PERMISSION when the report's folder is missing or not writable,
 * BOLT_BAD_INPUT when `path` is a directory, a symbolic link (never written through, see
 * own-file.ts) or another file that is not a regular file. An existing regular file is replaced.
 */
export function checkReportPlace(path: string): void {
  const dir = dirname(resolve(path));
  let isDir = false;
  try {
    isDir = statSync(dir).isDirectory();
  } catch {
    throw new NotFoundError(`--report ${path}: the folder ${dir} does not exist; create it first`, { path, dir });
  }
  if (!isDir) throw new NotFoundError(`--report ${path}: ${dir} is not a directory`, { path, dir });
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new PermissionError(`--report ${path}: the folder ${dir} is not writable`, { path, dir });
  }
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st || st.isFile()) return;
  const what = st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file';
  throw new BadInputError(`--report ${path} is ${what}; name a new or regular file for the HTML report`, { path });
}
