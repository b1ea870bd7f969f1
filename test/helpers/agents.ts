/**
 * Spawns db-agent fixtures (child processes or worker threads) and calls them. Every agent is
 * killed/terminated when the test ends.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { errorFromJSON, type SerializedError } from '../../core/errors.js';

const AGENT = fileURLToPath(new URL('../fixtures/db-agent.js', import.meta.url));
const WORKER = fileURLToPath(new URL('../fixtures/db-agent-worker.js', import.meta.url));

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: SerializedError };

/** A remote-controlled database handle. */
export interface Agent {
  readonly pid: number;
  /** Sends one op and waits for its reply (typed BoltError on failure). */
  call<T = unknown>(op: string, args?: Record<string, unknown>): Promise<T>;
  /** Child process agents only. */
  readonly child?: ChildProcess;
  /** Resolves when the agent process/thread has exited. */
  readonly exited: Promise<void>;
  kill(signal?: NodeJS.Signals): void;
}

function wire(send: (m: unknown) => void, on: (fn: (m: unknown) => void) => void): Agent['call'] {
  let next = 1;
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  on((m) => {
    const r = m as Reply;
    const p = pending.get(r.id);
    if (!p) return;
    pending.delete(r.id);
    if (r.ok) p.resolve(r.result);
    else p.reject(errorFromJSON(r.error));
  });
  return <T>(op: string, args: Record<string, unknown> = {}) =>
    new Promise<T>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      send({ ...args, id, op });
    });
}

/** Forks a child process agent for `dbPath`. */
export async function spawnAgent(t: TestContext, dbPath: string, opts: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}): Promise<Agent> {
  const child = fork(AGENT, [dbPath, JSON.stringify(opts)], {
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env },
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    child.once('message', () => resolve());
    child.once('exit', (code) => reject(new Error(`agent exited early (${code})`)));
  });
  const call = wire(
    (m) => child.send(m as object),
    (fn) => child.on('message', fn),
  );
  return { pid: child.pid!, call, child, exited, kill: (s = 'SIGKILL') => void child.kill(s) };
}

/** Starts a worker-thread agent (in this process) for `dbPath`. */
export async function spawnWorkerAgent(t: TestContext, dbPath: string, opts: Record<string, unknown> = {}): Promise<Agent> {
  const w = new Worker(WORKER, { workerData: { path: dbPath, opts } });
  const exited = new Promise<void>((r) => w.once('exit', () => r()));
  t.after(async () => {
    await w.terminate();
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    w.once('message', () => resolve());
    w.once('error', reject);
  });
  const call = wire(
    (m) => w.postMessage(m),
    (fn) => w.on('message', fn),
  );
  return { pid: process.pid, call, exited, kill: () => void w.terminate() };
}
