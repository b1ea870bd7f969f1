/**
 * DuckDB as the embedded host serves it: one instance per file per machine, opened by whoever
 * wins the sidecar flock (storage/host/election.ts), everyone else a client. The host (and
 * with it DuckDB's native addon) is loaded only by a process that becomes the host: clients,
 * and every worker thread, never load it. A thread terminated with the addon loaded can end
 * the whole process (a C++ exception during teardown; architecture.md, fact 13), so not
 * loading it is the safe default.
 */
import { fileURLToPath } from 'node:url';
import type { HostedEngine } from '../../storage/host/backend.js';
import { checkDuckDBPath } from './check-path.js';

export const DUCKDB_HOSTED: HostedEngine = {
  checkPath: (realPath) => void checkDuckDBPath(realPath),
  startHost: async (realPath, lock, opts) => (await import('./host.js')).Host.start(realPath, lock, opts),
  hostProcess: fileURLToPath(new URL('./host-process.js', import.meta.url)),
};
