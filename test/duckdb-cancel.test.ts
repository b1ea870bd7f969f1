/**
 * A DuckDB statement whose caller stopped waiting stops on the host: one aborted through its
 * signal (in the host's process or from a client over the socket), and one whose client went
 * away. Each would otherwise run for hours holding a pooled connection; a few of them starved
 * the host (BOLT_POOL_TIMEOUT for everyone) and kept `close()` waiting.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';
import { spawnAgent, type Agent } from './helpers/agents.js';
import type { Database } from '../core/database.js';

/** Hours of work for DuckDB on this machine. */
const RUNAWAY = 'SELECT count(*) AS n FROM range(1000000000000) r(i) WHERE i % 7 = 0';
const POOL = 4;

test('in the host process: aborted statements are interrupted and give their connections back', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'), { maxConnections: POOL });
  t.after(() => db.close());
  // More than the pool holds: the last ones wait for a connection, and are stopped there.
  const ac = new AbortController();
  const runs = Array.from({ length: POOL + 2 }, () =>
    db.query(RUNAWAY, [], { signal: ac.signal }).then(
      () => 'done',
      (e: unknown) => e,
    ),
  );
  await waitFor(() => db.stats().pool.inUse === POOL, 20_000, 'the runaway statements hold every connection');
  ac.abort();
  for (const r of await Promise.all(runs)) assert.ok(hasCode(r, 'BOLT_ABORTED'), String(r));
  await waitFor(
    () => db.stats().pool.inUse === 0,
    20_000,
    () => `connections still held: ${JSON.stringify(db.stats().pool.holders)}`,
  );
  assert.deepEqual(await db.query('SELECT 1 AS x'), [{ x: 1 }]);
});

/** A host in this process, and a client process whose runaway statements hold every pooled connection. */
async function clientHoldingEveryConnection(t: TestContext): Promise<{ db: Database; client: Agent }> {
  const file = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(file, { maxConnections: POOL });
  t.after(() => db.close());
  const client = await spawnAgent(t, file);
  await client.call('open');
  await client.call('startQueries', { n: POOL + 2, sql: RUNAWAY });
  await waitFor(() => db.stats().pool.inUse === POOL, 20_000, 'the client holds every connection');
  return { db, client };
}

async function connectionsFreed(db: Database): Promise<void> {
  await waitFor(
    () => db.stats().pool.inUse === 0,
    20_000,
    () => `connections still held: ${JSON.stringify(db.stats().pool.holders)}`,
  );
  assert.deepEqual(await db.query('SELECT 1 AS x'), [{ x: 1 }]);
}

test('from a client process: a cancel reaches the host, which interrupts the statements', { timeout: 60_000 }, async (t) => {
  const { db, client } = await clientHoldingEveryConnection(t);
  const codes = await client.call<string[]>('abortQueries');
  assert.deepEqual(codes, Array(POOL + 2).fill('BOLT_ABORTED'));
  await connectionsFreed(db);
});

test('a client killed mid-statement: the host interrupts what it sent', { timeout: 60_000 }, async (t) => {
  const { db, client } = await clientHoldingEveryConnection(t);
  client.kill('SIGKILL');
  await client.exited;
  await connectionsFreed(db);
});
