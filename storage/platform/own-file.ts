/**
 * Files Bolt creates and writes for itself (sidecars, `.bolt.wlock`, soak journals and
 * reports, backup destinations) are opened without following a symbolic link at the last
 * path component (`O_NOFOLLOW`) and must be regular files. A link planted at such a path
 * (in a group-writable database folder, say) would otherwise make Bolt truncate or create
 * whatever file the link names, with Bolt's privileges.
 */
import { closeSync, constants, fstatSync, lstatSync, openSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { BadInputError, NotFoundError, PermissionError } from '../../core/errors.js';

const { O_NOFOLLOW, O_NONBLOCK, O_NOCTTY, O_CREAT, O_EXCL, O_WRONLY, O_APPEND, O_TRUNC } = constants;

function refuse(path: string, what: string, err?: NodeJS.ErrnoException): never {
  throw new PermissionError(
    `refusing to write ${path}: it is ${what}; Bolt writes its own files only as regular files, never through a link. Remove it if it is not yours`,
    {
      path,
      errno: err?.code,
    },
  );
}

/**
 * Opens `path` with `flags | O_NOFOLLOW` (never blocking on a FIFO) and checks it is a
 * regular file. Throws PermissionError (BOLT_PERMISSION) naming the path when it is a
 * symbolic link or not a regular file; other errors (ENOENT, EACCES…) are thrown as is.
 */
export function openOwnFile(path: string, flags: number, mode = 0o600): number {
  let fd: number;
  try {
    fd = openSync(path, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY, mode);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ELOOP') refuse(path, 'a symbolic link', e);
    if (e.code === 'ENXIO' || e.code === 'ENODEV') refuse(path, 'not a regular file', e);
    if (e.code === 'EEXIST' && lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink()) refuse(path, 'a symbolic link', e);
    throw err;
  }
  let regular = false;
  try {
    regular = fstatSync(fd).isFile();
  } finally {
    if (!regular) closeSync(fd);
  }
  if (!regular) refuse(path, 'not a regular file');
  return fd;
}

function writeWith(path: string, flags: number, data: string | Buffer, mode: number): void {
  const buf = typeof data === 'string' ? Buffer.from(data) : data;
  const fd = openOwnFile(path, flags, mode);
  try {
    for (let off = 0; off < buf.length;) off += writeSync(fd, buf, off, buf.length - off);
  } finally {
    closeSync(fd);
  }
}

/** Creates or replaces the content of `path` (see {@link openOwnFile}). */
export function writeOwnFile(path: string, data: string | Buffer, mode = 0o644): void {
  writeWith(path, O_WRONLY | O_CREAT | O_TRUNC, data, mode);
}

/** Appends `data` to `path`, created if missing (see {@link openOwnFile}). */
export function appendOwnFile(path: string, data: string | Buffer, mode = 0o644): void {
  writeWith(path, O_WRONLY | O_CREAT | O_APPEND, data, mode);
}

/**
 * Creates `path` as a new empty regular file, failing when anything (a file, a link — even a
 * dangling one — a directory) is already there: `O_CREAT | O_EXCL` never follows a link.
 * Used to claim a backup destination before the engine writes into it. Throws
 * BadInputError (BOLT_BAD_INPUT) naming the path when it is taken.
 */
export function createNewFile(path: string, what = 'the destination'): void {
  let fd: number;
  try {
    fd = openSync(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'EEXIST' || e.code === 'ELOOP') {
      const link = lstatSync(path, { throwIfNoEntry: false })?.isSymbolicLink();
      throw new BadInputError(`${what} ${path} already exists${link ? ' (as a symbolic link)' : ''}; choose a new file`, { path, errno: e.code });
    }
    if (e.code === 'ENOENT') throw new NotFoundError(`${what} ${path}: the folder ${dirname(path)} does not exist`, { path, errno: e.code });
    throw err;
  }
  closeSync(fd);
}

/**
 * BOLT_BAD_INPUT when `dest` names `source` or a file its engine keeps beside it (`suffixes`:
 * SQLite's `-wal`, `-shm`, `-journal`; DuckDB's `.wal`): a copy written there while it is
 * absent would later be taken for the source's journal, replayed into it or deleted with it.
 */
export function assertNotBesideSource(dest: string, source: string, suffixes: readonly string[]): void {
  const d = resolve(dest);
  const s = resolve(source);
  for (const suffix of ['', ...suffixes]) {
    if (d === `${s}${suffix}`) {
      throw new BadInputError(
        `the backup destination ${dest} is ${suffix ? `the name of the database's own ${suffix} file` : 'the database itself'}; choose another file`,
        {
          dest,
        },
      );
    }
  }
}
