/**
 * A host process started on behalf of a worker thread. Worker threads never host a DuckDB
 * file themselves (fs-ext, which takes the sidecar flock, cannot be loaded in worker threads,
 * and a DuckDB instance inside a thread that may be terminated would be lost with it); when a
 * worker finds no host, it starts this process and connects to it.
 *
 * `node host-process.js <realPath> <optionsJson>` prints one JSON line on stdout:
 * `{"ready":true,"socket":…}`, `{"busy":true}` (someone else holds the sidecar lock) or
 * `{"error":SerializedError}`, then serves until it has been idle (no clients, no sessions)
 * for `idleReleaseMs` (default 5 s), and exits.
 */
import { orDiskFull } from '../../core/disk-full.js';
import { BoltError, InternalError } from '../../core/errors.js';
import { startHostHere } from '../../storage/host/election.js';
import { sidecarPath } from '../../storage/platform/sidecar.js';
import { stillLinked, tryFlockExclusive } from '../../storage/platform/flock.js';
import { DUCKDB_HOSTED } from './hosted.js';

export const SPAWNED_HOST_IDLE_MS = 5_000;

const [realPath, optsJson] = process.argv.slice(2);
const say = (m: unknown) => process.stdout.write(`${JSON.stringify(m)}\n`);
try {
  const opts = optsJson ? (JSON.parse(optsJson) as Record<string, unknown>) : {};
  let lock = tryFlockExclusive(sidecarPath(realPath!));
  if (lock && !stillLinked(lock)) {
    lock.release();
    lock = undefined;
  }
  if (!lock) {
    say({ busy: true });
  } else {
    const host = await startHostHere(realPath!, lock, DUCKDB_HOSTED, {
      ...opts,
      idleReleaseMs: (opts.idleReleaseMs as number | undefined) ?? SPAWNED_HOST_IDLE_MS,
    });
    host.attachHandle();
    say({ ready: true, socket: host.socket, pid: process.pid });
    // Serve until idle release closes the host; the unref'd server then lets the process exit.
    host.once('closed', () => process.exit(0));
    setInterval(() => undefined, 1 << 30);
  }
} catch (err) {
  const d = orDiskFull(err, { path: realPath });
  const e = d instanceof BoltError ? d : new InternalError(err instanceof Error ? err.message : String(err));
  say({ error: e.toJSON() });
  process.exitCode = 1;
}
