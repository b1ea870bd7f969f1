/**
 * Child processes for multi-process tests: spawned with piped stdio, killed (SIGKILL) and
 * reaped when the test ends, with a bounded wait for a line of output.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { TestContext } from 'node:test';

export interface Child {
  proc: ChildProcessWithoutNullStreams;
  /** Everything the child printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when stdout contains `text`; rejects if the child exits first or after `ms`. */
  waitFor(text: string, ms?: number): Promise<void>;
  /** Resolves with the exit code or signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `cmd args` for this test; it is SIGKILLed (if still running) and reaped after the test. */
export function spawnChild(t: TestContext, cmd: string, args: string[], env: NodeJS.ProcessEnv = {}): Child {
  const proc = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of listeners) l();
  });
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => {
      for (const l of listeners) l();
      resolve({ code, signal });
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  t.after(async () => {
    if (!done) proc.kill('SIGKILL');
    await exited;
  });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitFor(text, ms = 20_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (out.includes(text)) finish();
          else if (done || proc.exitCode !== null || proc.signalCode !== null) finish(new Error(`child exited before printing ${JSON.stringify(text)}; stderr: ${err.slice(-2000)}`));
        };
        const timer = setTimeout(() => finish(new Error(`child did not print ${JSON.stringify(text)} within ${ms} ms; stderr: ${err.slice(-2000)}`)), ms);
        const finish = (e?: Error): void => {
          clearTimeout(timer);
          listeners.delete(check);
          if (e) reject(e);
          else resolve();
        };
        listeners.add(check);
        check();
      });
    },
  };
}
