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
