/**
 * A read-only connection to a SQLite file in WAL mode creates `-wal` and `-shm` beside it when
 * they are not there, and, unable to write, leaves them behind when it closes: `bolt db info`,
 * `bolt tasks` or `bolt mcp` on a closed file left two files it had not had. Whoever reads only
 * notes whether they were missing at open and, after closing, lets SQLite remove them the way it
 * does for its last writer: one read-write connection that reads and closes (no statement of
 * the caller's, so a read-only session still cannot write). When another connection still has
 * the file open, SQLite keeps them, as it must.
 *
 * Where this user could not remove them (it may not write the file), a read is refused before it
 * creates them (`checkReadOnlyOpen`): made by a user who is not the file's owner, they stopped the
 * owner's writes (SQLITE_READONLY) until someone removed them, which in a sticky directory only
 * their maker or root can.
 */
import { accessSync, closeSync, constants, existsSync, openSync, readSync, realpathSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { accessProblem } from '../../storage/platform/check-directory.js';
import { log } from '../../core/logger.js';
import { PermissionError } from '../../core/errors.js';

const logger = log('sqlite');

/**
 * Where SQLite keeps the file's `-wal` and `-shm`: beside the file a symlink points to (it
 * resolves links), not beside the link.
 */
function companionsOf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/** Whether the file's header says WAL (bytes 18 and 19 are 2) and neither `-wal` nor `-shm` is beside it. */
function walWithoutCompanions(given: string): boolean {
  const path = companionsOf(given);
  if (existsSync(`${path}-wal`) || existsSync(`${path}-shm`)) return false;
  const header = Buffer.alloc(20);
  try {
    const fd = openSync(path, 'r');
    try {
      if (readSync(fd, header, 0, header.length, 0) < header.length) return false;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
  return header[18] === 2 && header[19] === 2;
}

/**
 * After read-only connections that found no `-wal` and `-shm` (checkReadOnlyOpen) have
 * closed: removes them through SQLite, if this user may write the file and its directory.
 * Never fails: what it cannot remove stays, as before.
 */
export function removeWalLeftovers(given: string): void {
  const path = companionsOf(given);
  if (!existsSync(`${path}-wal`) && !existsSync(`${path}-shm`)) return;
  if (accessProblem(path)) return;
  try {
    const db = new BetterSqlite3(path, { fileMustExist: true, timeout: 0 });
    try {
      db.prepare('SELECT count(*) FROM sqlite_master').get();
    } finally {
      db.close();
    }
  } catch (err) {
    logger.debug({ err, path }, 'could not remove the -wal and -shm a read-only open left');
  }
}

function mayWrite(path: string): boolean {
  try {
    accessSync(path, constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * Before a read-only open of `given`: whether the handle must remove `-wal` and `-shm` once
 * closed (the file is in WAL mode without them, so SQLite will create them). Throws
 * BOLT_PERMISSION, before anything is created, when this user may not create them there
 * (SQLite's open fails) or they would belong to this user while the file belongs to another who
 * could then not write them.
 */
export function checkReadOnlyOpen(given: string): boolean {
  const path = companionsOf(given);
  if (!walWithoutCompanions(path)) return false;
  const uid = process.geteuid?.() ?? -1;
  const dir = dirname(path);
  if (!mayWrite(dir)) {
    throw new PermissionError(
      `cannot read ${given}: it is in WAL mode and its ${path}-wal and -shm are not there; SQLite must create them to read it, and this user (uid ${uid}) may not write in ${dir}. Read it once its owner has it open, or read a copy`,
      { path: given, dir },
    );
  }
  const owner = statSync(path).uid;
  if (owner !== uid && !mayWrite(path)) {
    throw new PermissionError(
      `will not read ${given}: it is in WAL mode and its ${path}-wal and -shm are not there; reading it would create them owned by this user (uid ${uid}), and its owner (uid ${owner}) could then not write to it until they were removed. Read it once its owner has it open, or read a copy`,
      { path: given, owner, uid },
    );
  }
  return true;
}
