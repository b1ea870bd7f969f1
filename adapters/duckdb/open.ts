/**
 * How a DuckDB file is opened: its path resolved (directory symlinks included, so every opener
 * names the file alike), the options checked, and the host elected: this process hosts the
 * file, or becomes a client of the process that does (storage/host/election.ts). Exit hooks
 * hand hosted files over when the process ends.
 */
import { readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import type { OpenOptions } from '../../core/database.js';
import { orDiskFull } from '../../core/disk-full.js';
import type { Backend } from '../../storage/host/backend.js';
import { electHost } from '../../storage/host/election.js';
import { checkOpenOptions } from '../shared/open-options.js';
import { allHosts } from '../../storage/host/registry.js';
import { DUCKDB_HOSTED } from './hosted.js';

/** Checks the options, resolves the path and elects its host. */
export async function openBackend(path: string, opts: OpenOptions): Promise<{ realPath: string; backend: Backend }> {
  checkOpenOptions(opts);
  const realPath = resolveDbPath(path);
  installExitHooks();
  return { realPath, backend: await electBackend(realPath, opts) };
}

/**
 * Absolute path with every symlink resolved, the file's own included even when it points at a
 * file not created yet: DuckDB follows such a link to create the file but names its WAL after
 * the path it was given, so a first opener naming the link and later ones naming its target
 * would hold different locks on one file, and the later ones would never replay the first one's
 * WAL.
 */
export function resolveDbPath(path: string): string {
  let abs = resolve(path);
  // As the kernel, give up after 40 links (a loop): opening the path then fails with ELOOP.
  for (let links = 0; links < 40; links++) {
    try {
      return realpathSync(abs);
    } catch {
      // Missing (or a link to something missing): follow the link by hand, if it is one.
    }
    let target: string;
    try {
      target = readlinkSync(abs);
    } catch {
      break; // not a link: the file itself does not exist yet
    }
    abs = resolve(dirname(abs), target);
  }
  try {
    return join(realpathSync(dirname(abs)), basename(abs));
  } catch {
    return abs;
  }
}

let exitHooks = false;
function installExitHooks(): void {
  if (exitHooks) return;
  exitHooks = true;
  // Graceful handover when the host process runs out of work: finish, CHECKPOINT, release.
  process.once('beforeExit', () => {
    for (const h of allHosts()) void h.close('the process ran out of work (beforeExit)');
  });
  // Last resort on process.exit(): close DuckDB synchronously (the kernel frees the locks anyway).
  process.once('exit', () => {
    for (const h of allHosts()) h.closeNow();
  });
}

/**
 * `electHost` with a full disk named as such: creating the sidecar, the socket or DuckDB's
 * files on a full file system fails with ENOSPC somewhere along the way.
 */
export async function electBackend(path: string, opts: OpenOptions): Promise<Backend> {
  try {
    return await electHost(path, DUCKDB_HOSTED, opts);
  } catch (err) {
    throw orDiskFull(err, { path });
  }
}
