/**
 * Spawns test fixtures (compiled to dist/test/fixtures/*.js) and other real child
 * processes, waits for their "ready" line or a condition, and reaps them after the test.
 */
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { spawnChild, type Child } from './child.js';

/** A spawned child (see ./child.ts). */
export type Spawned = Child;
export { spawnChild };

/** Absolute path of a compiled fixture. */
export function fixturePath(name: string): string {
  return fileURLToPath(new URL(`../fixtures/${name}.js`, import.meta.url));
}

/** Spawns a fixture with node and waits for its "ready" line. */
export async function startFixture(t: TestContext, name: string, args: string[], timeoutMs = 20_000): Promise<Spawned> {
  const s = spawnChild(t, process.execPath, [fixturePath(name), ...args]);
  await s.waitForLine(/^ready$/, timeoutMs);
  return s;
}

/** SIGKILLs a child and waits until it has exited (and been reaped). */
export async function sigkill(s: Spawned): Promise<void> {
  s.child.kill('SIGKILL');
  await s.exited;
}
