/**
 * Consistent copy of the connection's database into a new DuckDB file: `COPY FROM DATABASE`
 * runs as one statement, in one transaction (one snapshot), while other connections keep
 * writing. The copy is then attached read-only and its tables counted.
 *
 * The copy is written in a private directory (`mkdtemp`, mode 0700) next to the destination
 * and published with `link()`, which refuses a destination that exists in any form — a file,
 * a directory, a symlink, dangling or not — so a backup never overwrites anything nor writes
 * through a link, whoever asks (the library, or any client of the host's socket). The
 * directory's name says which process made it, so `bolt db fix` can remove what a process that
 * died mid-backup left.
 */
import { linkSync, lstatSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, dirname, isAbsolute, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { BadInputError, NotFoundError, PermissionError } from '../../core/errors.js';
import { describeTables } from './describe.js';
import type { TableInfo } from '../../core/database.js';
import { processStartTime } from '../../storage/platform/process-identity.js';

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** `.bolt-backup-<pid>-<process start time>-XXXXXX`: the private directory of a backup in progress. */
const WORK_DIR = /^\.bolt-backup-(\d+)-(\d+)-[A-Za-z0-9]{6}$/;

/** The `mkdtemp` prefix of this process's backup work directories. */
export function backupWorkDirPrefix(): string {
  return `.bolt-backup-${process.pid}-${processStartTime(process.pid) ?? 0}-`;
}

/** The process that made backup work directory `name`, when `name` is one. */
export function backupWorkDirOwner(name: string): { pid: number; startTime: number } | undefined {
  const m = WORK_DIR.exec(name);
  return m ? { pid: Number(m[1]), startTime: Number(m[2]) } : undefined;
}

/** Refuses a destination that is not an absolute path or that exists (symlinks included). */
export function assertNewBackupPath(dest: string): void {
  if (typeof dest !== 'string' || !isAbsolute(dest)) throw new BadInputError('backup: the destination must be an absolute path', { dest });
  for (const p of [dest, `${dest}.wal`]) {
    let exists = true;
    try {
      lstatSync(p);
    } catch {
      exists = false;
    }
    if (exists) throw new BadInputError(`${p} already exists; choose a new file for the backup`, { dest: p });
  }
}

/** Copies everything into `dest` (must not exist); returns the copy's tables and row counts. */
export async function copyDatabaseTo(conn: DuckDBConnection, dest: string): Promise<TableInfo[]> {
  assertNewBackupPath(dest);
  let work: string;
  try {
    work = mkdtempSync(join(dirname(dest), backupWorkDirPrefix()));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new NotFoundError(`backup: the folder ${dirname(dest)} does not exist`, { dest });
    if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS')
      throw new PermissionError(`backup: cannot write in ${dirname(dest)} (${code})`, { dest, errno: code });
    throw err;
  }
  try {
    const tmp = join(work, basename(dest));
    const tables = await copyAndCount(conn, tmp);
    try {
      linkSync(tmp, dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new BadInputError(`${dest} already exists; choose a new file for the backup`, { dest });
      throw err;
    }
    return tables;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

async function copyAndCount(conn: DuckDBConnection, file: string): Promise<TableInfo[]> {
  const alias = `bolt_backup_${process.pid}_${Date.now()}`;
  const cur = (await conn.runAndReadAll('SELECT current_database()')).getRowsJS()[0]![0] as string;
  await conn.run(`ATTACH ${lit(file)} AS ${alias}`);
  try {
    await conn.run(`COPY FROM DATABASE ${ident(cur)} TO ${alias}`);
  } finally {
    await conn.run(`DETACH ${alias}`);
  }
  await conn.run(`ATTACH ${lit(file)} AS ${alias} (READ_ONLY)`);
  try {
    await conn.run(`USE ${alias}`);
    return await describeTables(conn);
  } finally {
    await conn.run(`USE ${ident(cur)}`);
    await conn.run(`DETACH ${alias}`);
  }
}
