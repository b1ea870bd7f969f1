/**
 * A command whose output nobody takes (`| head -1`, `> /dev/full`) runs to its end and closes
 * its database: it neither crashes nor hangs holding the DuckDB file it hosts (exiting where it
 * stood, with a statement running in DuckDB's threads, died of SIGSEGV about one run in four).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { openSync, closeSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { BOLT_BIN, runBolt } from './helpers/cli.js';

/** Runs bolt and closes its stdout after the first chunk, as `| head -c1` would. */
function runReadingOneChunk(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BOLT_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.once('data', () => child.stdout.destroy());
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

test('a reader that goes away: the command ends normally and lets go of the file', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'out.db');
  const docs = join(dir, 'docs');
  mkdirSync(docs);
  for (let i = 0; i < 20; i++) writeFileSync(join(docs, `f${i}.md`), `# note ${i}\n\nretry with backoff ${i}\n`);
  assert.equal((await runBolt(['query', 'CREATE TABLE t (x INTEGER)', '--db', db])).code, 0);
  const runs = [
    ...Array.from({ length: 3 }, () => ['query', "SELECT range AS i, repeat('x', 50) AS s FROM range(200000)", '--db', db]),
    ...Array.from({ length: 2 }, () => ['index', docs, '--db', db]),
  ];
  for (const args of runs) {
    const r = await runReadingOneChunk(args);
    assert.deepEqual({ code: r.code, signal: r.signal }, { code: 0, signal: null }, `bolt ${args[0]}: ${r.stderr.slice(-2000)}`);
    assert.doesNotMatch(r.stderr, /error/i);
  }
  // Nobody holds the file now: a new command opens it at once.
  const after = await runBolt(['query', 'SELECT COUNT(*) AS n FROM t', '--db', db, '--json'], { timeoutMs: 30_000 });
  assert.equal(after.code, 0, after.stderr);
});

test('bolt start whose reader went away drains and exits, as on SIGTERM', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'rt.db');
  const r = await runReadingOneChunk(['start', '--agents', '1', '--db', db]);
  assert.deepEqual({ code: r.code, signal: r.signal }, { code: 0, signal: null }, r.stderr.slice(-2000));
  const info = await runBolt(['db', 'info', db, '--json']);
  assert.equal((JSON.parse(info.stdout) as { state: string }).state, 'free', info.stdout);
});

/** Runs bolt with its stdout on /dev/full (every write fails with ENOSPC). */
function runToFullDisk(t: TestContext, args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }> {
  const full = openSync('/dev/full', 'w');
  t.after(() => closeSync(full));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BOLT_BIN, ...args], { stdio: ['ignore', full, 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 50_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stderr });
    });
  });
}

test('output to a full disk: a typed error, exit 2, the database closed', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'full.db');
  assert.equal((await runBolt(['query', 'CREATE TABLE t (x INTEGER)', '--db', db])).code, 0);
  const r = await runToFullDisk(t, ['query', 'SELECT range AS i FROM range(50000)', '--db', db]);
  assert.deepEqual({ code: r.code, signal: r.signal }, { code: 2, signal: null }, r.stderr);
  assert.match(r.stderr, /error \[BOLT_DISK_FULL\]: cannot write the output \(ENOSPC\)/);
  assert.equal((await runBolt(['query', 'SELECT 1 AS one', '--db', db], { timeoutMs: 30_000 })).code, 0);
});

test('bolt soak --json to a full disk exits 2 with BOLT_DISK_FULL', { timeout: 60_000 }, async (t) => {
  // Its verdict is the last thing it writes: that write's error arrived after the command had
  // ended, and the exit code stayed 0 (a script saw a passing run whose verdict was lost).
  const r = await runToFullDisk(t, ['soak', '--processes', '1', '--agents', '1', '--duration', '1', '--seed', '9', '--json']);
  assert.deepEqual({ code: r.code, signal: r.signal }, { code: 2, signal: null }, r.stderr);
  assert.match(r.stderr, /error \[BOLT_DISK_FULL\]: cannot write the output \(ENOSPC\)/);
});
