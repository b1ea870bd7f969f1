/**
 * One host per file per machine: the first opener hosts; another process and a worker thread
 * of the host process become clients over the socket (0600, short path, in the sidecar), and
 * all writes land in the one DuckDB instance.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { readSidecar, sidecarPath } from '../storage/locks/sidecar.js';
import { isFlocked } from '../storage/locks/flock.js';
import type { LockInfo } from '../core/database.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';
import { spawnAgent, spawnWorkerAgent } from './helpers/agents.js';

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
    db.insertMany('w', ['writer', 'seq'], Array.from({ length: 1000 }, (_, i) => ['host', i])),
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
