/**
 * Ctrl-C stops `bolt index --agents N` at once, as it stops `bolt index`: the shard tasks are
 * cancelled (not left to finish, nor queued for the next runtime) and the command fails with
 * BOLT_ABORTED. It used to wait for every shard to finish first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { BOLT_BIN } from './helpers/cli.js';
import { waitFor } from './helpers/wait.js';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';

test('SIGINT stops bolt index --agents: shard tasks cancelled, BOLT_ABORTED', { timeout: 120_000 }, async (t) => {
  const cwd = tempDir(t);
  for (let i = 0; i < 3000; i++) {
    const dir = join(cwd, 'proj', `d${i % 30}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, `f${i}.ts`), `export function handler${i}(input: number) {\n  return input * ${i}; // words to index\n}\n`);
  }
  const child = spawn(process.execPath, [BOLT_BIN, 'index', 'proj', '--agents', '2', '--db', 'x.db'], { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));

  await waitFor(() => existsSync(join(cwd, 'x.db')), 30_000, 'the database file', exited);
  const db = await ConcurrentDatabase.open(join(cwd, 'x.db'));
  t.after(() => db.close());
  const statuses = async () => (await db.query<{ status: string }>("SELECT status FROM bolt_tasks WHERE agent = 'index'").catch(() => [])).map((r) => r.status);
  await waitFor(async () => (await statuses()).includes('running'), 60_000, 'a running index shard task', exited);
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 2, stderr);
  assert.match(stderr, /^error \[BOLT_ABORTED\]: Indexing aborted/m);
  const after = await statuses();
  assert.ok(after.includes('cancelled'), `shard tasks: ${after.join(', ')}`);
  assert.ok(!after.includes('running') && !after.includes('queued'), `shard tasks: ${after.join(', ')}`);
});
