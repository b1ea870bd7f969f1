/**
 * Child processes for multi-process tests: spawned with piped stdio (env merged over this
 * process's), killed (SIGKILL) and reaped when the test ends, with a bounded wait for output.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import type { TestContext } from 'node:test';

export interface Child {
  child: ChildProcess;
  pid: number;
  /** Everything the child printed on stdout so far. */
  stdout(): string;
  stderr(): string;
  /**
   * Resolves when the output shows `match`: a string anywhere in stdout (resolves with it), or
   * the first stdout line matching a RegExp (resolves with that line). Rejects if the child
   * exits first or after `ms`.
   */
  waitForLine(match: string | RegExp, ms?: number): Promise<string>;
  /** Resolves with the exit code or signal once the child has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `cmd args` for this test; it is SIGKILLed (if still running) and reaped after the test. */
export function spawnChild(t: TestContext, cmd: string, args: string[], opts: SpawnOptions = {}): Child {
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'], ...opts, env: { ...process.env, ...opts.env } });
  if (child.pid === undefined) throw new Error(`could not spawn ${cmd}`);
  let out = '';
  let err = '';
  const listeners = new Set<() => void>();
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
    for (const l of [...listeners]) l();
  });
  child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => {
      resolve({ code, signal });
      for (const l of [...listeners]) l();
    });
  });
  let done = false;
  void exited.then(() => (done = true));
  t.after(async () => {
    if (!done) child.kill('SIGKILL');
    await exited;
  });
  const what = `${cmd} ${args.join(' ')}`.slice(0, 300);
  return {
    child,
    pid: child.pid,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForLine(match, ms = 30_000) {
      return new Promise((resolve, reject) => {
        const found = (): string | undefined =>
          typeof match === 'string' ? (out.includes(match) ? match : undefined) : out.split('\n').find((l) => match.test(l));
        const check = (): void => {
          const line = found();
          if (line !== undefined) finish(undefined, line);
          else if (done || child.exitCode !== null || child.signalCode !== null) {
            finish(
              new Error(
                `${what} exited (${child.exitCode ?? child.signalCode}) before printing ${String(match)}\nstdout: ${out.slice(-2000)}\nstderr: ${err.slice(-2000)}`,
              ),
            );
          }
        };
        const timer = setTimeout(
          () => finish(new Error(`${what} did not print ${String(match)} within ${ms} ms\nstdout: ${out.slice(-2000)}\nstderr: ${err.slice(-2000)}`)),
          ms,
        );
        const finish = (e?: Error, line?: string): void => {
          clearTimeout(timer);
          listeners.delete(check);
          if (e) reject(e);
          else resolve(line!);
        };
        listeners.add(check);
        check();
      });
    },
  };
}
