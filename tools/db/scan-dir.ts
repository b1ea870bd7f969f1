/**
 * Walks a directory for `bolt db fix`: database files (by header), Bolt sidecars, socket
 * files and other lock files/directories. Never follows symlinks (so never leaves the
 * directory), skips `node_modules` and `.git`.
 */
import { lstatSync, readdirSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { detectFileKind } from '../../storage/platform/file-kind.js';

/** What the scan found. Paths are absolute when `dir` is. */
export interface ScanResult {
  databases: Array<{ path: string; engine: 'duckdb' | 'sqlite' }>;
  sidecars: string[];
  sockets: string[];
  lockFiles: string[];
  lockDirs: string[];
  /** Private directories of backups (`.bolt-backup-*`), not looked into. */
  backupDirs: string[];
  /** Entries looked at (files and directories). */
  entries: number;
  /** Paths that could not be read (permission…), with the reason. */
  unreadable: Array<{ path: string; reason: string }>;
}

const SKIP_DIRS = new Set(['node_modules', '.git']);
/** Companion files never hold a database header worth reading. */
const COMPANION = /(\.wal|-wal|-shm|-journal|\.bolt\.lock)$/;

/** Scans `dir` recursively; `onProgress` is called now and then with the entry count. */
export function scanDir(dir: string, onProgress?: (entries: number) => void): ScanResult {
  const out: ScanResult = { databases: [], sidecars: [], sockets: [], lockFiles: [], lockDirs: [], backupDirs: [], entries: 0, unreadable: [] };
  const stack = [dir];
  while (stack.length > 0) {
    const current = stack.pop() as string;
    let names: string[];
    try {
      names = readdirSync(current).sort();
    } catch (err) {
      out.unreadable.push({ path: current, reason: (err as Error).message });
      continue;
    }
    for (const name of names) {
      const path = join(current, name);
      out.entries++;
      if (onProgress && out.entries % 200 === 0) onProgress(out.entries);
      let st: Stats;
      try {
        st = lstatSync(path);
      } catch (err) {
        out.unreadable.push({ path, reason: (err as Error).message });
        continue;
      }
      if (st.isSymbolicLink()) continue;
      if (st.isDirectory()) {
        if (SKIP_DIRS.has(name)) continue;
        if (name.startsWith('.bolt-backup-')) {
          out.backupDirs.push(path);
          continue;
        }
        if (name.endsWith('.lock')) out.lockDirs.push(path);
        stack.push(path);
        continue;
      }
      if (st.isSocket()) {
        out.sockets.push(path);
        continue;
      }
      if (!st.isFile()) continue;
      if (name.endsWith('.bolt.lock')) {
        out.sidecars.push(path);
        continue;
      }
      if (name.endsWith('.lock')) {
        out.lockFiles.push(path);
        continue;
      }
      if (COMPANION.test(name) || st.size < 100) continue;
      const kind = detectFileKind(path);
      if (kind.kind === 'duckdb' || kind.kind === 'sqlite') out.databases.push({ path, engine: kind.kind });
      else if (kind.kind === 'unreadable') out.unreadable.push({ path, reason: kind.reason });
    }
  }
  out.databases.sort((a, b) => a.path.localeCompare(b.path));
  return out;
}
