/**
 * The host keeps its WAL short (adapters/duckdb/wal-checkpointer.ts): DuckDB does not checkpoint on
 * its own while a transaction that updated rows commits beside other open transactions, so
 * without the host's checkpointer a busy host's WAL grows until it is closed, and a host
 * killed then leaves all of it to replay. The write gate (adapters/duckdb/write-gate.ts) gives the
 * checkpoint its moment, and never holds other writers while a client keeps a transaction open.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { CHECKPOINT_THRESHOLD_BYTES } from '../adapters/duckdb/connect.js';
import { WriteGate } from '../adapters/duckdb/write-gate.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

function walSize(path: string): number {
  try {
    return statSync(`${path}.wal`).size;
  } catch {
    return 0;
  }
}

test('a WAL grown while a session held a write transaction is checkpointed once it ends', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'w.duckdb');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v BIGINT)');
  await db.execute('INSERT INTO t SELECT range, 0 FROM range(20000)');
  await db.execute('CREATE TABLE s (id INTEGER PRIMARY KEY, v BIGINT)');
  await db.execute('INSERT INTO s VALUES (1, 0)');
  await db.execute('CHECKPOINT');

  const checkpoints = () => db.stats().checkpoints as { done: number; busy: number };
  // The host's checkpointer may already have checkpointed the set-up writes (a WAL over 64 KB
  // once the host is 2 s old): count from here, where the WAL is empty.
  const doneBefore = checkpoints().done;
  const session = await db.session({ name: 'holder' });
  await session.begin();
  await session.execute('UPDATE s SET v = v + 1 WHERE id = 1');
  // Updates from others while that transaction stays open: DuckDB will not checkpoint them.
  let rounds = 0;
  while (walSize(path) < 2 * CHECKPOINT_THRESHOLD_BYTES) {
    await db.execute('UPDATE t SET v = v + 1');
    rounds++;
    assert.ok(rounds < 200, `the WAL stayed at ${walSize(path)} bytes`);
  }
  const grown = walSize(path);
  // The checkpointer tries, finds the session's transaction under way, and backs off.
  await waitFor(() => checkpoints().busy >= 1, 20_000, 'a checkpoint attempt while the session holds its transaction');
  assert.equal(checkpoints().done, doneBefore);
  assert.ok(walSize(path) >= grown);
  await session.commit();
  await session.close();

  // No more writes: the host's checkpointer shrinks the WAL now. DuckDB may also checkpoint it
  // itself at the session's commit (seen in about one run in six, {"done":0,"busy":1} with the
  // WAL at 0 bytes): either way it must not stay grown.
  await waitFor(() => walSize(path) < CHECKPOINT_THRESHOLD_BYTES, 20_000, `the WAL (${grown} bytes) to be checkpointed`);
  const rows = await db.query<{ n: bigint; v: bigint }>('SELECT count(*) AS n, min(v) AS v FROM t');
  assert.deepEqual(rows, [{ n: 20000n, v: BigInt(rounds) }]);
});

test('the write gate lets maintenance in only between writers, and never waits past its bound', { timeout: 10_000 }, async () => {
  const gate = new WriteGate();
  await gate.enter();
  // A writer under way that does not finish in time: maintenance gives up, writers go on.
  let ran = false;
  assert.equal(await gate.exclusive(30, async () => void (ran = true)), false);
  assert.equal(ran, false);
  await gate.enter(); // the gate is open again
  assert.equal(gate.writers, 2);

  // Writers that finish while the gate is closed let maintenance run; newcomers wait for it.
  const order: string[] = [];
  const maintenance = gate.exclusive(5_000, async () => {
    order.push('maintenance');
  });
  const newcomer = gate.writing(async () => {
    order.push('newcomer');
  });
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(order, [], 'nothing runs while the two writers are under way');
  gate.leave();
  gate.leave();
  assert.equal(await maintenance, true);
  await newcomer;
  assert.deepEqual(order, ['maintenance', 'newcomer']);
  assert.equal(gate.writers, 0);
});
