/**
 * Where `--report` goes, checked before the run: the report is written only after it, so a
 * path it cannot be written to was found out at the end of a run of minutes or hours, whose
 * verdict was then lost (the error replaced the summary) and whose temporary work directory
 * stayed behind. And a report written over the soak's own database (`--db r.duckdb --report
 * r.duckdb`), a file beside it or a journal destroyed what a failing run keeps as evidence.
 */
import { accessSync, constants, lstatSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { BadInputError, NotFoundError, PermissionError } from '../../core/errors.js';
import type { EngineName } from '../../core/database.js';
import { isUrl } from '../../storage/open-database.js';

/** Files an engine keeps beside its database (and Bolt's sidecar). */
const BESIDE_DB = ['.wal', '-wal', '-shm', '-journal', '.bolt.lock'];
/** What the soak writes in its work directory: journals, metrics, the side database. */
const WORK_FILE = /^([a-z]+-\d+\.log|metrics-\d+-\d+\.jsonl|side\.duckdb.*)$/;

export interface ReportPlaceOptions {
  engine: EngineName;
  db?: string;
  workDir?: string;
}

/**
 * BOLT_NOT_FOUND or BOLT_PERMISSION when the report's folder is missing or not writable (the
 * work directory the soak will make counts as there), BOLT_BAD_INPUT when `path` is a
 * directory, a symbolic link (never written through, see own-file.ts), not a regular file, the
 * soak's database or a file beside it, or a file the soak writes in its work directory. An
 * existing regular file is replaced.
 */
export function checkReportPlace(path: string, o: ReportPlaceOptions): void {
  const abs = resolve(path);
  const refuse = (why: string): never => {
    throw new BadInputError(`--report ${path} ${why}; name another file for the HTML report`, { path });
  };
  const work = o.workDir === undefined ? undefined : resolve(o.workDir);
  const db = o.db !== undefined ? (isUrl(o.db) ? undefined : resolve(o.db)) : work && join(work, o.engine === 'sqlite' ? 'soak.sqlite' : 'soak.duckdb');
  if (db !== undefined) {
    for (const suffix of ['', ...BESIDE_DB])
      if (abs === `${db}${suffix}`) refuse(suffix ? `is the soak's database's ${suffix} file` : "is the soak's database");
  }
  if (abs === work) refuse('is the work directory');
  const dir = dirname(abs);
  if (dir === work && WORK_FILE.test(basename(abs))) refuse('is a file the soak writes in its work directory');
  if (dir === work && lstatSync(work, { throwIfNoEntry: false }) === undefined) return; // the soak makes it
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
  refuse(`is ${st.isDirectory() ? 'a directory' : st.isSymbolicLink() ? 'a symbolic link' : 'not a regular file'}`);
}
