/**
 * Consistent copy of the connection's database into a new DuckDB file: `COPY FROM DATABASE`
 * runs as one statement, in one transaction (one snapshot), while other connections keep
 * writing. The copy is then attached read-only and its tables counted.
 *
 * DuckDB opens the file it attaches through any symbolic link, and refuses an empty file, so
 * the destination cannot be claimed up front: the copy is written in a fresh private
 * directory next to it and then hard-linked into place. `link(2)` fails when anything is at
 * the destination, a dangling link included, so nothing that exists is ever written through.
 */
import { linkSync, mkdtempSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';
import { BadInputError } from '../../core/errors.js';
import { pathTaken } from '../../storage/locks/own-file.js';
import { describeTables, type TableInfo } from './describe.js';

const lit = (s: string) => `'${s.replace(/'/g, "''")}'`;
const ident = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** Copies everything into `dest` (must not exist); returns the copy's tables and row counts. */
export async function copyDatabaseTo(conn: DuckDBConnection, dest: string): Promise<TableInfo[]> {
  const taken = () => new BadInputError(`${dest} already exists; choose a new file for the backup`, { dest });
  if (pathTaken(dest)) throw taken();
  const alias = `bolt_backup_${process.pid}_${Date.now()}`;
  const cur = (await conn.runAndReadAll('SELECT current_database()')).getRowsJS()[0]![0] as string;
  const work = mkdtempSync(join(dirname(dest), `.${basename(dest)}.bolt-backup-`));
  try {
    const copy = join(work, 'copy.db');
    await conn.run(`ATTACH ${lit(copy)} AS ${alias}`);
    try {
      await conn.run(`COPY FROM DATABASE ${ident(cur)} TO ${alias}`);
    } finally {
      await conn.run(`DETACH ${alias}`);
    }
    try {
      linkSync(copy, dest);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw taken();
      throw err;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  await conn.run(`ATTACH ${lit(dest)} AS ${alias} (READ_ONLY)`);
  try {
    await conn.run(`USE ${alias}`);
    return await describeTables(conn);
  } finally {
    await conn.run(`USE ${ident(cur)}`);
    await conn.run(`DETACH ${alias}`);
  }
}
