/**
 * Spawns test fixtures (compiled to dist/test/fixtures/*.js) and other real child
 * processes, waits for their "ready" line or a condition, and reaps them after the test.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** A spawned child with everything it printed so far. */
export interface Spawned {
  child: ChildProcess;
  pid: number;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code/signal once the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Absolute path of a compiled fixture. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
}

/** Spawns `cmd args`; the child is SIGKILLed and awaited when the test ends. */
export function spawnChild(t: TestContext, cmd: string, args: string[], opts: SpawnOptions = {}): Spawned {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
  });
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  if (child.pid === undefined) throw new Error(`could not spawn ${cmd}`);
  return { child, pid: child.pid, stdout: () => out, stderr: () => err, exited };
}

/** Spawns a fixture with node and waits for its "ready" line. */
export async function startFixture(t: TestContext, name: string, args: string[], timeoutMs = 20_000): Promise<Spawned> {
  const s = spawnChild(t, process.execPath, [fixturePath(name), ...args]);
  await waitFor(() => /^ready$/m.test(s.stdout()), timeoutMs, () => `${name} never became ready; stdout: ${s.stdout()} stderr: ${s.stderr()}`, s.exited);
  return s;
}

/** SIGKILLs a child and waits until it has exited (and been reaped). */
export async function sigkill(s: Spawned): Promise<void> {
  s.child.kill('SIGKILL');
  await s.exited;
}

/**
 * Polls `cond` every 20 ms until it is true; rejects after `timeoutMs`, or as soon as
 * `exited` resolves (the process it waits for died).
 */
export async function waitFor(cond: () => boolean, timeoutMs: number, what: () => string, exited?: Promise<unknown>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let dead = false;
  void exited?.then(() => (dead = true));
  while (!cond()) {
    if (dead) {
      await new Promise((r) => setTimeout(r, 50));
      if (cond()) return;
      throw new Error(`process exited while waiting: ${what()}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
