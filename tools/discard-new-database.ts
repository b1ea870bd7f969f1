/**
 * A command that created a database file for a statement that then failed leaves nothing
 * behind (`bolt query "selec 1" --db new.db` made new.db). Only a file this command created,
 * that nobody holds and that is still as a fresh database is (no data written), is removed.
 */
import { existsSync, realpathSync, rmSync, statSync } from 'node:fs';
import { probeDatabase, companionSuffixes } from '../storage/host/host-probe.js';
import { detectEngine } from '../storage/concurrent-database.js';
import { sidecarPath } from '../storage/platform/sidecar.js';

/** A fresh DuckDB file is its 12 KiB header; a fresh SQLite file is empty. */
const FRESH_BYTES = { duckdb: 12 * 1024, sqlite: 0 } as const;

/** Removes `path` and its companions if it is still the empty database this command created. */
export async function discardNewDatabase(given: string): Promise<boolean> {
  const engine = detectEngine(given);
  if (engine === 'postgres' || !existsSync(given)) return false;
  // Through a symlink the file was made at its target: remove that, and leave the link as it was.
  const path = realpathSync(given);
  if (statSync(path).size > FRESH_BYTES[engine]) return false;
  const probe = await probeDatabase(path, { engine, pingTimeoutMs: 500 });
  if (probe.state !== 'free') return false;
  for (const suffix of companionSuffixes(engine)) rmSync(`${path}${suffix}`, { force: true });
  if (engine === 'duckdb') rmSync(sidecarPath(path), { force: true });
  return true;
}
