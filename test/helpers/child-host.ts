/**
 * A Bolt host of a fresh DuckDB file in a child process (fixture bolt-host: table t with
 * `rows` rows) and a handle of this process that is its client.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ConcurrentDatabase } from '../../index.js';
import { fixturePath, spawnChild, type Spawned } from './fixture.js';
import { tempDir } from './tmp.js';

/** Starts the host (with `env`), opens a client handle (closed after the test). */
export async function clientOfChildHost(
  t: TestContext,
  rows = 0,
  env: NodeJS.ProcessEnv = {},
): Promise<{ host: Spawned; path: string; db: ConcurrentDatabase }> {
  const path = join(tempDir(t), 'a.db');
  const host = spawnChild(t, process.execPath, [fixturePath('bolt-host'), path, String(rows)], { env: { BOLT_LOG_LEVEL: 'fatal', ...env } });
  await host.waitForLine(/^ready$/, 30_000);
  const db = (await ConcurrentDatabase.open(path)) as ConcurrentDatabase;
  t.after(() => db.close());
  assert.equal(db.lockInfo().role, 'client');
  return { host, path, db };
}
