/**
 * The files an indexing run must never open: the database it writes to and that database's
 * companions (SQLite's `-wal`, `-shm`, `-journal`; DuckDB's `.wal` and Bolt's `.bolt.lock`).
 * Closing any descriptor of a file drops every POSIX lock this process holds on it — SQLite's
 * WAL-index lock on `-shm`, DuckDB's lock on its file (architecture.md, fact 3) — so even a
 * read-and-close of one of them damages the database this process has open.
 *
 * A path is matched by its real path (its directory resolved, so `..`, links to the folder
 * and a file not created yet all match) and, for files that exist, by device and inode (a
 * hard link under another name). Neither check opens the file.
 */
import { realpathSync, statSync } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import type { EngineName } from '../core/database.js';
import { companionSuffixes } from '../storage/host/host-probe.js';
import { SIDECAR_SUFFIX } from '../storage/platform/sidecar.js';

/** Suffixes of the files an engine keeps beside a database file (the empty suffix: the file). */
export function databaseFileSuffixes(engine: EngineName): string[] {
  if (engine === 'postgres') return [];
  // DuckDB files also have Bolt's sidecar (`<db>.bolt.lock`, storage/platform/sidecar.ts).
  return engine === 'duckdb' ? [...companionSuffixes(engine), SIDECAR_SUFFIX] : companionSuffixes(engine);
}

/** The real path of `p` without opening it: its directory's real path joined with its name. */
export function realPathOf(p: string): string {
  const abs = resolve(p);
  try {
    return resolve(realpathSync.native(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

/** A set of files never to open; see the module comment. */
export class ExcludedFiles {
  private readonly paths: Set<string>;
  private readonly ids = new Set<string>();

  constructor(paths: readonly string[]) {
    this.paths = new Set(paths.map(realPathOf));
    for (const p of paths) {
      const st = statSync(p, { throwIfNoEntry: false });
      if (st) this.ids.add(`${st.dev}:${st.ino}`);
    }
  }

  /** True when `absPath` (or the file `st` describes, when given) is one of the excluded files. */
  has(absPath: string, st?: { dev: number; ino: number }): boolean {
    if (this.paths.size === 0) return false;
    if (st && this.ids.has(`${st.dev}:${st.ino}`)) return true;
    return this.paths.has(realPathOf(absPath));
  }
}
