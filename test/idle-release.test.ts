/**
 * Idle release: a host with no clients and no sessions closes DuckDB after idleReleaseMs so
 * other tools can open the file; the next request reopens it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { isFlocked } from '../storage/platform/flock.js';
import { sidecarPath } from '../storage/platform/sidecar.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';
import { spawnAgent } from './helpers/agents.js';

const HOLDER = fileURLToPath(new URL('./fixtures/plain-duckdb-holder.js', import.meta.url));

function runPlainDuckDB(path: string): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [HOLDER, path, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => c.kill('SIGKILL'), 20_000);
    c.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

test('an idle host releases the file for other tools and reopens on the next request', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(path, { idleReleaseMs: 300 });
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (x INTEGER)');
  await db.execute('INSERT INTO t VALUES (1)');
  assert.ok(isFlocked(sidecarPath(path)));
  await waitFor(() => !isFlocked(sidecarPath(path)), 10_000, 'idle release');
  // A plain DuckDB process can now open (and write) the file.
  const plain = await runPlainDuckDB(path);
  assert.equal(plain.code, 0, plain.out);
  assert.match(plain.out, /released/);
  // The next request reopens it.
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM foreign_marker'), [{ n: 1 }]);
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 1 }]);
  assert.equal(db.lockInfo().role, 'host');
  assert.ok(isFlocked(sidecarPath(path)));
});

test('a host with a connected client or an open session does not release', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(path, { idleReleaseMs: 200 });
  t.after(() => db.close());
  const s = await db.session({ name: 'keeper' });
  const agent = await spawnAgent(t, path);
  await agent.call('open');
  await new Promise((r) => setTimeout(r, 700)); // several idle periods: must not release
  assert.ok(isFlocked(sidecarPath(path)), 'released despite a session and a client');
  await s.close();
  await new Promise((r) => setTimeout(r, 700));
  assert.ok(isFlocked(sidecarPath(path)), 'released despite a connected client');
  await agent.call('close');
  await waitFor(() => !isFlocked(sidecarPath(path)), 10_000, 'idle release after the client left');
});
