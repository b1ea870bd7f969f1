/**
 * Foreign holders: a plain @duckdb/node-api process holding the file. `open` waits with
 * backoff and succeeds when it lets go, or fails with BOLT_LOCK_FOREIGN naming its PID and
 * command line.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';

const HOLDER = fileURLToPath(new URL('./fixtures/plain-duckdb-holder.js', import.meta.url));

async function startHolder(t: TestContext, path: string, holdMs: number): Promise<{ child: ChildProcess; released: Promise<void> }> {
  const child = spawn(process.execPath, [HOLDER, path, String(holdMs)], { stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  let out = '';
  let onHeld!: () => void;
  const held = new Promise<void>((r) => (onHeld = r));
  let onReleased!: () => void;
  const released = new Promise<void>((r) => (onReleased = r));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('held\n')) onHeld();
    if (out.includes('released\n')) onReleased();
  });
  await Promise.race([held, exited.then(() => Promise.reject(new Error('holder exited early')))]);
  return { child, released };
}

test('open waits for a foreign holder and succeeds when it lets go', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const { released } = await startHolder(t, path, 1_500);
  const started = Date.now();
  const db = await ConcurrentDatabase.open(path, { lockTimeoutMs: 30_000 });
  t.after(() => db.close());
  await released;
  assert.ok(Date.now() - started >= 500, 'open waited for the holder');
  assert.equal(db.lockInfo().role, 'host');
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM foreign_marker'), [{ n: 1 }]);
});

test('open gives up with BOLT_LOCK_FOREIGN naming the PID and command line', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const { child } = await startHolder(t, path, 60_000);
  const started = Date.now();
  const err = await ConcurrentDatabase.open(path, { lockTimeoutMs: 800 }).then(
    (db) => db.close().then(() => undefined),
    (e: unknown) => e,
  );
  const waited = Date.now() - started;
  assert.ok(hasCode(err, 'BOLT_LOCK_FOREIGN'), String(err));
  assert.equal(err.details.pid, child.pid);
  assert.match(String(err.details.command), /plain-duckdb-holder/);
  assert.match(err.message, new RegExp(`PID ${child.pid}`));
  assert.ok(waited >= 700, `gave up after ${waited} ms`);
  // The sidecar lock was released: once the holder goes, a new open succeeds.
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  const db = await ConcurrentDatabase.open(path, { lockTimeoutMs: 10_000 });
  t.after(() => db.close());
  assert.equal(db.lockInfo().role, 'host');
});
