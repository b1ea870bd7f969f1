/**
 * A DuckDB statement whose caller stopped waiting stops on the host: one aborted through its
 * signal (in the host's process or from a client over the socket), and one whose client went
 * away. Each would otherwise run for hours holding a pooled connection; a few of them starved
 * the host (BOLT_POOL_TIMEOUT for everyone) and kept `close()` waiting.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';
import { spawnAgent, type Agent } from './helpers/agents.js';
import type { Database } from '../core/database.js';

/** CPU seconds a process has used (user and system), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // clock ticks, USER_HZ 100 on Linux
}

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

test("a closing host interrupts a client's statements after its grace; the client re-runs them on the next host", { timeout: 60_000 }, async (t) => {
  process.env.BOLT_HOST_CLOSE_GRACE_MS = '200';
  t.after(() => delete process.env.BOLT_HOST_CLOSE_GRACE_MS);
  const { db, client } = await clientHoldingEveryConnection(t);
  // Without the grace, close() waits for hours of work.
  await db.close();
  // Interrupted, not applied, so the client's handle sends them again to the host it elects
  // (itself: no one else is left), and its callers see no error from the close.
  await waitFor(
    async () =>
      (await client.call<{ role: string }>('lockInfo')).role === 'host' && (await client.call<{ pool: { inUse: number } }>('stats')).pool.inUse >= POOL,
    20_000,
    'the statements running again on the next host',
  );
  assert.deepEqual(await client.call<string[]>('abortQueries'), Array(POOL + 2).fill('BOLT_ABORTED'));
});

test('a bad BOLT_HOST_CLOSE_GRACE_MS fails the open, not a close halfway; nothing is left held', { timeout: 60_000 }, async (t) => {
  const file = join(tempDir(t), 'a.db');
  process.env.BOLT_HOST_CLOSE_GRACE_MS = 'abc';
  try {
    await assert.rejects(ConcurrentDatabase.open(file), (e) => hasCode(e, 'BOLT_BAD_INPUT') && /BOLT_HOST_CLOSE_GRACE_MS/.test((e as Error).message));
  } finally {
    delete process.env.BOLT_HOST_CLOSE_GRACE_MS;
  }
  const db = await ConcurrentDatabase.open(file, { lockTimeoutMs: 2_000 });
  t.after(() => db.close());
  assert.deepEqual(await db.query('SELECT 1 AS x'), [{ x: 1 }]);
});

test('a client killed mid-statement: the host interrupts what it sent', { timeout: 60_000 }, async (t) => {
  const { db, client } = await clientHoldingEveryConnection(t);
  client.kill('SIGKILL');
  await client.exited;
  await connectionsFreed(db);
});

test('a client with hundreds of requests waiting on its connection is still heard: its cancel, then its death', { timeout: 90_000 }, async (t) => {
  // Two requests of a connection run at once; the rest wait. The host once stopped reading a
  // connection with 128 waiting, and then saw neither its cancels nor its end.
  process.env.BOLT_HOST_MAX_IN_FLIGHT = '2';
  t.after(() => delete process.env.BOLT_HOST_MAX_IN_FLIGHT);
  const file = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(file, { maxConnections: POOL });
  t.after(() => db.close());
  for (const end of ['cancel', 'kill'] as const) {
    const client = await spawnAgent(t, file);
    await client.call('open');
    await client.call('startQueries', { n: 300, sql: RUNAWAY });
    await waitFor(() => db.stats().pool.inUse === 2, 20_000, 'two of them run');
    if (end === 'cancel') {
      const codes = await client.call<string[]>('abortQueries');
      assert.ok(
        codes.every((c) => c === 'BOLT_ABORTED'),
        `all aborted: ${[...new Set(codes)].join(', ')}`,
      );
    } else {
      client.kill('SIGKILL');
      await client.exited;
    }
    await connectionsFreed(db);
  }
});

test('transactions: a statement aborted in one is interrupted, in the host process and from a client', { timeout: 60_000 }, async (t) => {
  const file = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(file, { maxConnections: POOL });
  t.after(() => db.close());
  const ac = new AbortController();
  const here = db
    .transaction((tx) => tx.query(RUNAWAY, [], { signal: ac.signal }))
    .then(
      () => 'done',
      (e: unknown) => e,
    );
  const client = await spawnAgent(t, file);
  await client.call('open');
  await client.call('startQueries', { n: 2, sql: RUNAWAY, tx: true });
  await waitFor(() => db.stats().pool.inUse === 3, 20_000, 'three transactions run');
  ac.abort();
  assert.ok(hasCode(await here, 'BOLT_ABORTED'), String(await here));
  assert.deepEqual(await client.call<string[]>('abortQueries'), ['BOLT_ABORTED', 'BOLT_ABORTED']);
  await connectionsFreed(db);
});

test('insertMany whose caller stopped waiting for a connection writes nothing', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'), { maxConnections: 1 });
  t.after(() => db.close());
  await db.execute('CREATE TABLE im (v INTEGER)');
  const busy = new AbortController();
  const runaway = db.query(RUNAWAY, [], { signal: busy.signal }).catch(() => undefined);
  await waitFor(() => db.stats().pool.inUse === 1, 20_000, 'the runaway holds the only connection');
  const ac = new AbortController();
  const insert = db.insertMany('im', ['v'], [[1], [2], [3]], { signal: ac.signal });
  ac.abort();
  await assert.rejects(insert, (e) => hasCode(e, 'BOLT_ABORTED'));
  busy.abort();
  await runaway;
  assert.deepEqual(await db.query('SELECT count(*) AS n FROM im'), [{ n: 0n }]);
});

test(
  'process.exit() on a host running statements and holding a transaction ends the process; the next host sees nothing of it',
  { timeout: 60_000 },
  async (t) => {
    // A connection closed while its statement ran left DuckDB's thread waiting for good, and
    // Node's exit waits for that thread: the second Ctrl-C of `bolt start` never ended it.
    const file = join(tempDir(t), 'a.db');
    const host = await spawnAgent(t, file);
    await host.call('open');
    await host.call('execute', { sql: 'CREATE TABLE kept (i INTEGER)' });
    const sid = await host.call<number>('session.open');
    await host.call('session.begin', { sid });
    await host.call('session.execute', { sid, sql: 'INSERT INTO kept VALUES (1)' });
    const cpuBefore = cpuSeconds(host.pid);
    await host.call('startQueries', { n: 2, sql: RUNAWAY });
    await waitFor(
      async () => (await host.call<{ pool: { inUse: number } }>('stats')).pool.inUse === 3,
      20_000,
      'two statements and a session hold connections',
    );
    // Executing, not only sent: the process has nothing else to spend CPU on.
    await waitFor(() => cpuSeconds(host.pid) - cpuBefore >= 0.5, 20_000, 'the statements running in DuckDB');
    let exited = false;
    void host.exited.then(() => (exited = true));
    host.call('exit').catch(() => undefined); // answered by the process's end
    await waitFor(() => exited, 20_000, 'the host process exited');
    const db = await ConcurrentDatabase.open(file, { lockTimeoutMs: 10_000 });
    try {
      assert.deepEqual(await db.query('SELECT count(*) AS n FROM kept'), [{ n: 0n }]);
    } finally {
      await db.close(); // before the directory goes: it checkpoints the WAL it replayed
    }
  },
);

test(
  "a closing host interrupts a client's writes riding in a group commit; none is applied, and the client re-runs them on the next host",
  { timeout: 60_000 },
  async (t) => {
    // A client's write without a request id of its caller gets an automatic one and joins a group
    // commit with other such writes; those were never interrupted, and kept close() waiting.
    process.env.BOLT_HOST_CLOSE_GRACE_MS = '200';
    t.after(() => delete process.env.BOLT_HOST_CLOSE_GRACE_MS);
    const file = join(tempDir(t), 'a.db');
    const db = await ConcurrentDatabase.open(file, { maxConnections: POOL });
    t.after(() => db.close());
    await db.execute('CREATE TABLE slow (n BIGINT)');
    const client = await spawnAgent(t, file);
    await client.call('open');
    await client.call('startQueries', { n: 3, sql: `INSERT INTO slow ${RUNAWAY}` });
    await waitFor(() => db.stats().pool.inUse === 3, 20_000, 'the three writes hold connections');
    await db.close();
    await waitFor(
      async () =>
        (await client.call<{ role: string }>('lockInfo')).role === 'host' && (await client.call<{ pool: { inUse: number } }>('stats')).pool.inUse >= 3,
      20_000,
      'the writes running again on the next host',
    );
    assert.deepEqual(await client.call<string[]>('abortQueries'), Array(3).fill('BOLT_ABORTED'));
    assert.deepEqual(await client.call('query', { sql: 'SELECT count(*) AS n FROM slow' }), [{ n: 0n }]);
  },
);
