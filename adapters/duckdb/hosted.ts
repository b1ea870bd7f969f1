/**
 * DuckDB as the embedded host serves it: one instance per file per machine, opened by whoever
 * wins the sidecar flock (storage/host/election.ts), everyone else a client.
 */
import { fileURLToPath } from 'node:url';
import type { HostedEngine } from '../../storage/host/backend.js';
import { checkDuckDBPath } from './connect.js';
import { Host } from './host.js';

export const DUCKDB_HOSTED: HostedEngine = {
  checkPath: (realPath) => void checkDuckDBPath(realPath),
  startHost: (realPath, lock, opts) => Host.start(realPath, lock, opts),
  hostProcess: fileURLToPath(new URL('./host-process.js', import.meta.url)),
};
