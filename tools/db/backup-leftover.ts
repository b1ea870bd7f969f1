/**
 * What `bolt db fix` does with a backup's private directory (`.bolt-backup-<pid>-<start>-…`,
 * adapters/duckdb/backup.ts). A backup publishes its copy with `link()` and removes the
 * directory, so one that is still there belongs to a backup in progress, or was left by a
 * process that died mid-backup with a partial copy inside. It is removed only when its name
 * says which process made it, that process is gone, it belongs to the user running fix, and it
 * holds nothing but the copy (one file, and that file's `.wal`).
 */
import { lstatSync, readdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { backupWorkDirOwner } from '../../adapters/duckdb/backup.js';
import { isAlive, processCommand } from '../../storage/platform/process-identity.js';
import type { Finding } from './fix-dir.js';

/** The finding for backup directory `path`; removes it unless `dryRun` when it is provably a dead process's leftover. */
export function backupLeftover(path: string, dryRun: boolean): Finding {
  const kind = 'backup-leftover';
  const owner = backupWorkDirOwner(basename(path));
  if (!owner)
    return { path, kind, status: 'kept', found: 'named like a Bolt backup folder, but not as Bolt names one', action: 'left in place: not made by Bolt' };
  const { pid } = owner;
  if (isAlive(owner)) {
    return { path, kind, status: 'kept', found: `backup in progress by pid ${pid} (${processCommand(pid) ?? 'command unknown'})`, action: 'kept', pid };
  }
  let onlyTheCopy: boolean;
  let ours: boolean;
  try {
    ours = lstatSync(path).uid === process.getuid?.();
    const names = readdirSync(path).sort();
    const [copy, wal] = names;
    onlyTheCopy = names.length <= 2 && (wal === undefined || wal === `${copy}.wal`) && names.every((n) => lstatSync(join(path, n)).isFile());
  } catch (err) {
    return { path, kind, status: 'remains', found: `cannot be read: ${(err as Error).message}`, action: 'skipped; check its permissions', pid };
  }
  const found = `unfinished backup of pid ${pid}, which is no longer running`;
  if (!ours) return { path, kind, status: 'kept', found: `${found}; it belongs to another user`, action: 'left in place: remove it as its owner', pid };
  if (!onlyTheCopy)
    return { path, kind, status: 'kept', found: `${found}; it holds more than a backup copy`, action: 'left in place: not made by Bolt as it is', pid };
  if (dryRun) return { path, kind, status: 'would-fix', found, action: 'would remove it (a partial copy)', pid };
  try {
    rmSync(path, { recursive: true });
    return { path, kind, status: 'fixed', found, action: 'removed (a partial copy)', pid };
  } catch (err) {
    return { path, kind, status: 'remains', found, action: `could not remove it: ${(err as Error).message}`, pid };
  }
}
