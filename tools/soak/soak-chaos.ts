/**
 * Fault injection for the soak: each fault is a real process-level event (SIGKILL of the
 * database host, a foreign DuckDB process grabbing the file, a planted stale sidecar and
 * socket of a dead PID). Agent crashes are asked of a soak process over its IPC channel.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSidecar, sidecarPath, writeSidecar } from '../../storage/platform/sidecar.js';
import { tryFlockExclusive } from '../../storage/platform/flock.js';
import { processStartTime } from '../../storage/platform/process-identity.js';
import { BOLT_VERSION } from '../../core/version.js';

const here = (f: string) => fileURLToPath(new URL(f, import.meta.url));

/** Waits for a line on a child's stdout matching `re` (or its exit). */
export function waitForLine(child: ChildProcess, re: RegExp, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    let buf = '';
    const done = (v: string | undefined) => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.off('exit', onExit);
      resolve(v);
    };
    const onData = (d: Buffer) => {
      buf += d.toString();
      const m = buf.split('\n').find((l) => re.test(l));
      if (m !== undefined) done(m);
    };
    const onExit = () => done(undefined);
    const timer = setTimeout(() => done(undefined), timeoutMs);
    child.stdout?.on('data', onData);
    child.on('exit', onExit);
  });
}

/** The PID recorded as host of `db`, if the sidecar names one. */
export function currentHostPid(db: string): number | undefined {
  return readSidecar(sidecarPath(db))?.pid;
}

/** Starts a foreign plain-DuckDB process that grabs `db` when it can, until `untilEpochMs`. */
export function startForeignHolder(db: string, holdMs: number, untilEpochMs: number): ChildProcess {
  return spawn(process.execPath, [here('./foreign-holder.js'), db, String(holdMs), String(untilEpochMs)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/**
 * Starts a program that is not Bolt holding the database's locks: on SQLite its write lock
 * (sqlite-holder.ts), on PostgreSQL the soak tables' locks (pg-holder.ts).
 */
export function startForeignWriter(engine: 'sqlite' | 'postgres', db: string, mode: 'exclusive' | 'die', holdMs: number): ChildProcess {
  const script = engine === 'sqlite' ? './sqlite-holder.js' : './pg-holder.js';
  return spawn(process.execPath, [here(script), db, mode, String(holdMs)], { stdio: ['ignore', 'pipe', 'ignore'] });
}

/** Starts the hostile-client fault against the host socket `socket` for `windowMs`. */
export function startHostileClient(socket: string, windowMs: number, replyMiB: number): ChildProcess {
  return spawn(process.execPath, [here('./hostile-client.js'), socket, String(windowMs), String(replyMiB)], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/**
 * Plants a stale sidecar and socket for `db`: a socket file left by a SIGKILLed process and a
 * sidecar naming that dead PID. Returns the dead PID and the socket (which the soak removes when
 * it ends), or undefined, the socket removed, when a live host holds `db`.
 */
export async function plantStaleLock(db: string): Promise<{ pid: number; socket: string } | undefined> {
  const sock = join(tmpdir(), `bolt-stale-${process.pid}-${Date.now() % 100000}.sock`);
  rmSync(sock, { force: true });
  const child = spawn(process.execPath, [here('./dead-socket-owner.js'), sock], { stdio: ['ignore', 'pipe', 'ignore'] });
  await waitForLine(child, /^ready$/, 10_000);
  const pid = child.pid!;
  const startTime = processStartTime(pid) ?? 0;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  // Write it under the sidecar's own flock, so a live host's sidecar is never overwritten;
  // when a host holds it now, there is nothing stale to plant.
  const lock = tryFlockExclusive(sidecarPath(db));
  if (!lock) {
    rmSync(sock, { force: true });
    return undefined;
  }
  try {
    writeSidecar(lock, { pid, processStartTime: startTime, socket: sock, startedAt: new Date().toISOString(), version: BOLT_VERSION });
  } finally {
    lock.release();
  }
  return { pid, socket: sock };
}
