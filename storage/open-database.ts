/**
 * How the runtime (main thread and agent workers) opens the shared database: through
 * `ConcurrentDatabase.open`, so the first opener on the machine hosts the DuckDB file and every
 * other thread or process — agent workers included — is a client of that host. Agents never
 * open DuckDB themselves. Also used as the worker's `dbOpener` module (see agents/worker.ts).
 */
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Database, OpenOptions } from '../core/database.js';
import { ConcurrentDatabase } from './concurrent-database.js';
import { checkSidecarName } from './platform/sidecar.js';

/** True for `postgres://…` style locations (no directory to create). */
export function isUrl(location: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(location);
}

/** Resolves a file location against the cwd (URLs unchanged). */
export function resolveLocation(location: string): string {
  return isUrl(location) ? location : resolve(location);
}

/** Opens (hosting or joining) the database at `location`, creating its directory if missing (and its name fits). */
export async function openDatabase(location: string, opts: OpenOptions = {}): Promise<Database> {
  if (!isUrl(location)) {
    checkSidecarName(location); // before its directory is made
    mkdirSync(dirname(resolve(location)), { recursive: true });
  }
  return ConcurrentDatabase.open(resolveLocation(location), opts);
}
