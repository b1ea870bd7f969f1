/**
 * Host election for one DuckDB file: whoever takes the exclusive flock on `<db>.bolt.lock`
 * opens DuckDB and serves; everyone else connects to the socket recorded in the sidecar.
 * Runs at open, after losing the host (failover) and after an idle release.
 */
import { existsSync, unlinkSync, statSync } from 'node:fs';
import { BoltError, LockTimeoutError, hasCode } from '../core/errors.js';
import { log } from '../core/logger.js';
import { checkDirectory, checkDuckDBPath } from '../adapters/duckdb/connect.js';
import type { Backend } from './backend.js';
import { Host, type HostOptions } from './host.js';
import { registerHost, registeredHost } from './host-registry.js';
import { tryFlockExclusive } from './locks/flock.js';
import { readSidecar, sidecarPath, writeSidecar } from './locks/sidecar.js';
import { isAlive, processCommand, selfIdentity } from './locks/process-identity.js';
import { backoffDelay, delay } from './retry.js';
import { BOLT_VERSION } from '../core/version.js';
import { startHostServer } from './host-server.js';
import { connectClient } from './client.js';

export interface ElectionOptions extends HostOptions {
  /** Overall time to find or become a host (default lockTimeoutMs + 5 s). */
  deadlineMs?: number;
}

/**
 * Becomes the host of `realPath` or a client of its host. `realPath` must be absolute and
 * resolved (see `resolveDbPath`).
 */
export async function electHost(realPath: string, opts: ElectionOptions = {}): Promise<Backend> {
  const lockTimeoutMs = opts.lockTimeoutMs ?? 30_000;
  const deadline = Date.now() + (opts.deadlineMs ?? lockTimeoutMs + 5_000);
  const side = sidecarPath(realPath);
  let lastProblem: string | undefined;
  for (let attempt = 0; ; attempt++) {
    const local = registeredHost(realPath);
    if (local) return local;
    checkDirectory(realPath);
    const hadSidecar = existsSync(side);
    const lock = tryFlockExclusive(side);
    if (lock) {
      let host: Host;
      try {
        checkDuckDBPath(realPath);
        host = await Host.start(realPath, lock, { ...opts, lockTimeoutMs: Math.max(0, Math.min(lockTimeoutMs, deadline - Date.now())) });
      } catch (err) {
        lock.release();
        // Leave no trace when we created the sidecar for a file we could not open.
        if (!hadSidecar) removeIfEmpty(side);
        throw err;
      }
      try {
        const server = await startHostServer(host);
        host.socket = server.socketPath;
        const me = selfIdentity();
        writeSidecar(lock, { pid: me.pid, processStartTime: me.startTime, socket: server.socketPath, startedAt: host.startedAt.toISOString(), version: BOLT_VERSION });
      } catch (err) {
        host.closeNow();
        throw err;
      }
      registerHost(host);
      return host;
    }
    const info = readSidecar(side);
    if (info?.socket) {
      try {
        return await connectClient(info.socket, { path: realPath });
      } catch (err) {
        lastProblem = `host PID ${info.pid} does not answer on ${info.socket}: ${(err as Error).message}`;
        if (!(err instanceof BoltError) || !hasCode(err, 'BOLT_HOST_UNRESPONSIVE', 'BOLT_PROTOCOL', 'BOLT_CLOSED')) throw err;
      }
    } else {
      lastProblem = 'the lock holder has not published its socket yet';
    }
    if (Date.now() >= deadline) {
      const holder = info ?? undefined;
      throw new LockTimeoutError(
        `could not reach or become the Bolt host of ${realPath}${lastProblem ? ` (${lastProblem})` : ''}; run \`bolt db info ${realPath}\``,
        {
          path: realPath,
          holderPid: holder?.pid,
          holderCommand: holder ? processCommand(holder.pid) : undefined,
          holderAlive: holder ? isAlive({ pid: holder.pid, startTime: holder.processStartTime }) : undefined,
        },
      );
    }
    if (attempt === 20) log('election').info({ path: realPath, lastProblem }, 'still waiting for the Bolt host');
    await delay(Math.min(Math.max(1, deadline - Date.now()), backoffDelay(attempt, { baseMs: 5, capMs: 200 })));
  }
}

function removeIfEmpty(path: string): void {
  try {
    if (statSync(path).size === 0) unlinkSync(path);
  } catch {
    /* gone already */
  }
}
