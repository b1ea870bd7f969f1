/**
 * Host election for one database file: whoever takes the exclusive flock on `<db>.bolt.lock`
 * opens the file with its engine (`HostedEngine`) and serves; everyone else connects to the
 * socket recorded in the sidecar. Runs at open, after losing the host (failover) and after an
 * idle release.
 */
import { spawn } from 'node:child_process';
import { existsSync, unlinkSync, statSync } from 'node:fs';
import { isMainThread } from 'node:worker_threads';
import { BoltError, HostUnresponsiveError, InternalError, LockTimeoutError, errorFromJSON, hasCode, type SerializedError } from '../../core/errors.js';
import { log } from '../../core/logger.js';
import { checkDirectory } from '../platform/check-directory.js';
import type { Backend, HostedEngine, HostOptions, ServedHost } from './backend.js';
import { registerHost, registeredHost } from './registry.js';
import { stillLinked, tryFlockExclusive, type HeldFlock } from '../platform/flock.js';
import { lockHolders } from '../platform/proc-locks.js';
import { readSidecar, sidecarPath, writeSidecar, type SidecarInfo } from '../platform/sidecar.js';
import { isAlive, processCommand, selfIdentity } from '../platform/process-identity.js';
import { delay } from '../platform/retry.js';
import { backoffDelay } from '../../core/backoff.js';
import { BOLT_VERSION } from '../../core/version.js';
import { startHostServer } from './server.js';
import { connectClient, type HostClient } from './client.js';
import { verifyHost } from './trust.js';
import { removeDeadHostSocket } from './stale-cleanup.js';

export interface ElectionOptions extends HostOptions {
  /** Overall time to find or become a host (default lockTimeoutMs + 5 s). */
  deadlineMs?: number;
  /** Also trust a host run by the database file's owner (see storage/host/trust.ts). */
  trustFileOwner?: boolean;
}

/**
 * Becomes the host of `realPath` or a client of its host. `realPath` must be absolute and
 * resolved (see `resolveDbPath`).
 */
export async function electHost(realPath: string, engine: HostedEngine, opts: ElectionOptions = {}): Promise<Backend> {
  if (!isMainThread) return electFromWorker(realPath, engine, opts);
  const lockTimeoutMs = opts.lockTimeoutMs ?? 30_000;
  const deadline = Date.now() + (opts.deadlineMs ?? lockTimeoutMs + 5_000);
  const side = sidecarPath(realPath);
  let lastProblem: string | undefined;
  for (let attempt = 0; ; attempt++) {
    const local = registeredHost(realPath);
    if (local) return local;
    checkDirectory(realPath);
    const hadSidecar = existsSync(side);
    let lock = tryFlockExclusive(side);
    if (lock && !stillLinked(lock)) {
      // `bolt db fix` removed this sidecar between our open and our flock: try the new file.
      lock.release();
      lock = undefined;
      continue;
    }
    if (lock) {
      try {
        return await startHostHere(realPath, lock, engine, { ...opts, lockTimeoutMs: Math.max(0, Math.min(lockTimeoutMs, deadline - Date.now())) });
      } catch (err) {
        // Leave no trace when we created the sidecar for a file we could not open.
        if (!hadSidecar) removeIfEmpty(side);
        throw err;
      }
    }
    const info = readSidecar(side);
    if (info?.socket) {
      try {
        return await connectTrusted(realPath, info, opts);
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

/**
 * Connects to the host the sidecar records once it is verified to be the sidecar's lock
 * holder, run by a trusted user, serving that socket (storage/host/trust.ts): nothing is sent
 * to a socket before that. The host must then answer ping with the same pid.
 */
async function connectTrusted(realPath: string, info: SidecarInfo, opts: ElectionOptions): Promise<HostClient> {
  verifyHost(realPath, info, { trustFileOwner: opts.trustFileOwner });
  const client = await connectClient(info.socket, { path: realPath });
  if (client.hostIdentity.pid !== info.pid) {
    client.destroy();
    throw new HostUnresponsiveError(`the host on ${info.socket} answered as PID ${client.hostIdentity.pid}, not PID ${info.pid}`, {
      socket: info.socket,
      lost: true,
      sent: false,
    });
  }
  return client;
}

/**
 * Opens the file with `engine` while holding the sidecar `lock`, serves it on a socket and
 * publishes the sidecar. Releases the lock on failure.
 */
export async function startHostHere(realPath: string, lock: HeldFlock, engine: HostedEngine, opts: HostOptions): Promise<ServedHost> {
  let host: ServedHost;
  try {
    engine.checkPath(realPath);
    host = await engine.startHost(realPath, lock, opts);
  } catch (err) {
    lock.release();
    throw err;
  }
  // The host before us, if it died (we hold its flock): nobody else will remove its socket file.
  const previous = readSidecar(sidecarPath(realPath));
  try {
    const server = await startHostServer(host);
    host.servingOn(server.socketPath);
    const me = selfIdentity();
    writeSidecar(lock, {
      pid: me.pid,
      processStartTime: me.startTime,
      socket: server.socketPath,
      startedAt: host.startedAt.toISOString(),
      version: BOLT_VERSION,
    });
  } catch (err) {
    host.closeNow();
    throw err;
  }
  registerHost(host);
  if (previous?.socket) {
    const socket = previous.socket;
    void removeDeadHostSocket(socket).catch((err: unknown) => log('election').debug({ err, socket }, "removing the previous host's socket failed"));
  }
  return host;
}

/**
 * Election from a worker thread: connect to the published host; when there is none, start a
 * host process (`engine.hostProcess`) and connect to it. Never takes the flock itself.
 */
async function electFromWorker(realPath: string, engine: HostedEngine, opts: ElectionOptions): Promise<Backend> {
  const lockTimeoutMs = opts.lockTimeoutMs ?? 30_000;
  const deadline = Date.now() + (opts.deadlineMs ?? lockTimeoutMs + 5_000);
  checkDirectory(realPath);
  let lastProblem = 'no host yet';
  for (let attempt = 0; ; attempt++) {
    const info = readSidecar(sidecarPath(realPath));
    if (info?.socket) {
      try {
        return await connectTrusted(realPath, info, opts);
      } catch (err) {
        if (!hasCode(err, 'BOLT_HOST_UNRESPONSIVE', 'BOLT_PROTOCOL', 'BOLT_CLOSED')) throw err;
        lastProblem = (err as Error).message;
      }
    }
    // Nobody answers. A live process holding the sidecar lock is a host still opening the file
    // (replaying its WAL, say): wait for it. Only when nobody holds it, start a host process.
    // Measured in the 16-process soak (8 agents each): before this check, up to 13 spawned
    // host processes ran at once during each takeover, competing with the new host's WAL
    // replay; takeover p50 1.75 s / p99 2.4 s, then 0.47 s / 1.0 s with none spawned.
    const starting = sidecarHeld(realPath);
    if (!starting) {
      const r = await spawnHostProcess(engine.hostProcess, realPath, { ...opts, lockTimeoutMs: Math.max(0, Math.min(lockTimeoutMs, deadline - Date.now())) });
      if (r.ready) continue;
    }
    if (Date.now() >= deadline) {
      throw new LockTimeoutError(`could not reach or start the Bolt host of ${realPath} from a worker thread (${lastProblem})`, { path: realPath });
    }
    // Polling a host that is starting costs little: retry soon, as main threads do.
    const wait = backoffDelay(attempt, starting ? { baseMs: 5, capMs: 200 } : { baseMs: 20, capMs: 2_000 });
    await delay(Math.min(Math.max(1, deadline - Date.now()), wait));
  }
}

/** Starts a host process for `realPath`; resolves when it is serving (or says it is busy). */
function spawnHostProcess(hostProcess: string, realPath: string, opts: HostOptions): Promise<{ ready: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [hostProcess, realPath, JSON.stringify(opts)], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: process.env,
    });
    let out = '';
    let settled = false;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      child.stdout!.destroy();
      child.unref();
      fn();
    };
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl < 0) return;
      let msg: { ready?: boolean; busy?: boolean; error?: SerializedError };
      try {
        msg = JSON.parse(out.slice(0, nl)) as typeof msg;
      } catch {
        return done(() => reject(new InternalError(`the host process said: ${out.slice(0, nl)}`)));
      }
      if (msg.error) return done(() => reject(errorFromJSON(msg.error!)));
      done(() => resolve({ ready: Boolean(msg.ready) }));
    });
    child.once('error', (err) => done(() => reject(new InternalError(`cannot start a host process: ${err.message}`))));
    child.once('exit', (code) => done(() => (code === 0 ? resolve({ ready: false }) : reject(new InternalError(`the host process exited with code ${code}`)))));
  });
}

/** True when a live process holds the sidecar flock of `realPath` (readable from any thread). */
function sidecarHeld(realPath: string): boolean {
  return lockHolders(sidecarPath(realPath)).some((h) => h.class === 'FLOCK' && !h.blocked && h.alive);
}

function removeIfEmpty(path: string): void {
  try {
    if (statSync(path).size === 0) unlinkSync(path);
  } catch {
    /* gone already */
  }
}
