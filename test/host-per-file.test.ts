/**
 * One host per file per machine: the first opener hosts; another process and a worker thread
 * of the host process become clients over the socket (0600, short path, in the sidecar), and
 * all writes land in the one DuckDB instance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { readSidecar, sidecarPath } from '../storage/platform/sidecar.js';
import { isFlocked } from '../storage/platform/flock.js';
import type { LockInfo } from '../core/database.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';
import { spawnAgent, spawnWorkerAgent } from './helpers/agents.js';
import { sigkill, startFixture } from './helpers/fixture.js';
import { hasCode } from '../core/errors.js';

test('a process and a worker thread become clients of the one host', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await db.execute('CREATE TABLE w (writer VARCHAR, seq INTEGER)');

  const side = readSidecar(sidecarPath(path));
  assert.ok(side, 'sidecar written');
  assert.equal(side.pid, process.pid);
  assert.ok(Buffer.byteLength(side.socket) <= 107, 'socket path fits sun_path');
  assert.equal(statSync(side.socket).mode & 0o777, 0o600);
  assert.ok(isFlocked(sidecarPath(path)));

  const proc = await spawnAgent(t, path);
  const worker = await spawnWorkerAgent(t, path);
  for (const a of [proc, worker]) {
    const r = await a.call<{ lockInfo: LockInfo }>('open');
    assert.equal(r.lockInfo.role, 'client');
    assert.equal(r.lockInfo.host?.pid, process.pid);
    assert.equal(r.lockInfo.host?.socket, side.socket);
  }
  await Promise.all([
    proc.call('insertMany', { table: 'w', columns: ['writer', 'seq'], rows: Array.from({ length: 1000 }, (_, i) => ['proc', i]) }),
    worker.call('insertMany', { table: 'w', columns: ['writer', 'seq'], rows: Array.from({ length: 1000 }, (_, i) => ['worker', i]) }),
    db.insertMany(
      'w',
      ['writer', 'seq'],
      Array.from({ length: 1000 }, (_, i) => ['host', i]),
    ),
    proc.call('execute', { sql: 'INSERT INTO w VALUES (?, ?)', params: ['proc', -1] }),
    worker.call('execute', { sql: 'INSERT INTO w VALUES (?, ?)', params: ['worker', -1] }),
  ]);
  const expect = [
    { writer: 'host', n: 1000 },
    { writer: 'proc', n: 1001 },
    { writer: 'worker', n: 1001 },
  ];
  assert.deepEqual(await db.query('SELECT writer, count(*)::INTEGER AS n FROM w GROUP BY writer ORDER BY writer'), expect);
  assert.deepEqual(await proc.call('query', { sql: 'SELECT writer, count(*)::INTEGER AS n FROM w GROUP BY writer ORDER BY writer' }), expect);
  assert.deepEqual(await worker.call('query', { sql: 'SELECT writer, count(*)::INTEGER AS n FROM w GROUP BY writer ORDER BY writer' }), expect);
  const info = await (db as ConcurrentDatabase).hostInfo();
  assert.equal(info.clients, 2);
  assert.equal(info.pid, process.pid);
  await proc.call('close');
  await worker.call('close');
});

test('worker threads with no host start a host process and become its clients', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const w1 = await spawnWorkerAgent(t, path);
  const w2 = await spawnWorkerAgent(t, path);
  const [r1, r2] = await Promise.all([w1.call<{ lockInfo: LockInfo }>('open'), w2.call<{ lockInfo: LockInfo }>('open')]);
  assert.equal(r1.lockInfo.role, 'client');
  assert.equal(r2.lockInfo.role, 'client');
  const hostPid = r1.lockInfo.host!.pid;
  assert.notEqual(hostPid, process.pid, 'the host is a separate process');
  assert.equal(r2.lockInfo.host!.pid, hostPid);
  t.after(() => {
    try {
      process.kill(hostPid, 'SIGKILL');
    } catch {
      /* exited already */
    }
  });
  await w1.call('execute', { sql: 'CREATE TABLE t (x INTEGER)' });
  await w2.call('execute', { sql: 'INSERT INTO t VALUES (1), (2)' });
  assert.deepEqual(await w1.call('query', { sql: 'SELECT count(*)::INTEGER AS n FROM t' }), [{ n: 2 }]);
  await w1.call('close');
  await w2.call('close');
  // With no clients left the host process releases the file and exits.
  await waitFor(() => !isFlocked(sidecarPath(path)), 30_000, 'the spawned host to release the file');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 2 }]);
});

test('generations of worker-thread clients in the host process (fs-ext never loaded in a worker)', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (x INTEGER)');
  // Loading fs-ext in a second worker after the main thread loaded it aborts the process:
  // three generations of workers prove the client path never loads it.
  for (let gen = 0; gen < 3; gen++) {
    const w = await spawnWorkerAgent(t, path);
    assert.equal((await w.call<{ lockInfo: LockInfo }>('open')).lockInfo.role, 'client');
    await w.call('execute', { sql: 'INSERT INTO t VALUES (?)', params: [gen] });
    await w.call('close');
    w.kill();
    await w.exited;
  }
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 3 }]);
});

/** Host processes spawned by this process's worker threads that are running now. */
function spawnedHostProcesses(): number[] {
  const found: number[] = [];
  for (const p of readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      const ppid = Number(readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]);
      if (ppid === process.pid && readFileSync(`/proc/${p}/cmdline`, 'utf8').includes('host-process.js')) found.push(Number(p));
    } catch {
      /* exited meanwhile */
    }
  }
  return found;
}

test('a worker thread waits for a host that is still starting instead of spawning host processes', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  // Someone holds the sidecar lock and has not published a socket yet: a host still opening.
  const starting = await startFixture(t, 'flock-holder', [sidecarPath(path)]);
  const w = await spawnWorkerAgent(t, path, { lockTimeoutMs: 400 });
  const seen = new Set<number>();
  const sampler = setInterval(() => spawnedHostProcesses().forEach((p) => seen.add(p)), 5);
  t.after(() => clearInterval(sampler));
  await assert.rejects(w.call('open'), (e: unknown) => hasCode(e, 'BOLT_LOCK_TIMEOUT'));
  clearInterval(sampler);
  assert.deepEqual([...seen], [], 'no host process was started while the lock holder lived');
  // Once the holder is gone, the worker starts a host process as before.
  await sigkill(starting);
  const r = await w.call<{ lockInfo: LockInfo }>('open');
  assert.notEqual(r.lockInfo.host!.pid, process.pid);
  t.after(() => {
    try {
      process.kill(r.lockInfo.host!.pid, 'SIGKILL');
    } catch {
      /* exited already */
    }
  });
  await w.call('close');
});
