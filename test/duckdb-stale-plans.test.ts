/**
 * The premise of the host's statement cache: with the optimizers the host turns off
 * (HOST_DISABLED_OPTIMIZERS), a statement prepared long ago returns exactly what a freshly
 * prepared one does, whatever happened to the data in between (empty table, new value ranges,
 * longer strings, NULLs, updates, deletes, checkpoints). Each query is prepared while the tables
 * are empty, and again once they hold a few rows, and re-run after every change against the same
 * SQL prepared anew (helpers/stale-plans.ts).
 * The same scenario with every optimizer on must show a difference: the test can fail. That
 * run is a child process: stale plans with those optimizers can crash DuckDB (a SIGSEGV in CI),
 * and a crash counts as a difference.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOST_DISABLED_OPTIMIZERS } from '../adapters/duckdb/connect.js';
import { staleDifferences } from './helpers/stale-plans.js';
import { spawnChild } from './helpers/child.js';
import { tempDir } from './helpers/tmp.js';

const CHILD = fileURLToPath(new URL('./fixtures/stale-plans-child.js', import.meta.url));

test("with the host's optimizer settings, plans prepared on an empty table stay right as the data changes", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  assert.deepEqual(await staleDifferences(join(dir, 'host.db'), HOST_DISABLED_OPTIMIZERS), []);
  const all = spawnChild(t, process.execPath, [CHILD, join(dir, 'all.db'), '']);
  const { code, signal } = await all.exited;
  const crashed = signal !== null;
  if (!crashed) assert.equal(code, 0, all.stderr());
  const differences = crashed ? [] : (JSON.parse(all.stdout()) as string[]);
  assert.ok(crashed || differences.length > 0, 'with every optimizer on, some stale plan must differ (else this test proves nothing)');
});
