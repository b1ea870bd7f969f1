/**
 * A `bolt start` (or other long-running bolt command) in a child process: output captured,
 * wait for a line, signal it, reaped after the test.
 */
import type { TestContext } from 'node:test';
import { spawnChild, type Child } from './child.js';
import { BOLT_BIN } from './cli.js';

export type RuntimeProcess = Child;

/** Runs `bolt …args` in `cwd` as a child process of this test. */
export function spawnBolt(t: TestContext, args: string[], opts: { cwd: string; env?: NodeJS.ProcessEnv }): RuntimeProcess {
  return spawnChild(t, process.execPath, [BOLT_BIN, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
}
