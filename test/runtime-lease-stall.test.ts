/**
 * A runtime that stalls longer than a lease, made real and deterministic with PostgreSQL locks
 * held by this test: a renewal that waits on a lock, a heartbeat stuck in its reap, a claim or a
 * direct submit that waits on the table. Found by `runtime-postgres.test.ts` failing 1 run in 30:
 * a task started twice by the same runtime ([a, b, b]). Such a runtime must not reap its own
 * tasks because its renewal was slow; when its task was reaped and it claims it again, the
 * earlier attempt must end first; and leases that ran out while the statement taking them
 * waited are renewed before their tasks run, so no other runtime reaps them meanwhile.
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { openPostgres } from '../adapters/postgres/open.js';
import { BoltIntegration } from '../core/runtime/bolt-integration.js';
import type { Database } from '../core/database.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import { writeTestAgents } from './helpers/agents-fixture.js';
import { spawnChild, type Child } from './helpers/child.js';
import { BOLT_BIN } from './helpers/cli.js';
import { freshPgDatabase, PG_SKIP } from './helpers/pg.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const LEASE_MS = 1500;

interface Setup {
  cwd: string;
  db: Database;
  queue: TaskQueue;
  b: Child;
  payload: { marker: string; abortedMarker: string; gate: string };
}

/** `healthMs`: how often the health check (which reaps too) runs; by default never, so the heartbeat is the only reaper. */
async function setup(t: TestContext, heartbeatMs: number, healthMs = 3_600_000): Promise<Setup> {
  const cwd = tempDir(t);
  const { tcp } = await freshPgDatabase(t, 'bolt_stall');
  const module = writeTestAgents(cwd);
  const env = {
    BOLT_LEASE_MS: String(LEASE_MS),
    BOLT_HEARTBEAT_MS: String(heartbeatMs),
    BOLT_POLL_MS: '20',
    BOLT_PREFETCH: '0',
    BOLT_HEALTH_MS: String(healthMs),
  };
  const b = spawnChild(t, process.execPath, [BOLT_BIN, 'start', '--agents', '2', '--agent-module', module, '--db', tcp, '--no-status'], { env });
  await b.waitForLine('ready: ', 60_000);
  const db = await openPostgres(tcp, { maxConnections: 3 });
  t.after(() => db.close());
  const payload = { marker: join(cwd, 'started'), abortedMarker: join(cwd, 'aborted'), gate: join(cwd, 'gate') };
  return { cwd, db, queue: new TaskQueue(db), b, payload };
}

/** The start time (ms) of a statement of this database that waits on a lock and starts with `sqlStart`. */
async function blockedSince(db: Database, sqlStart: string, exited: Promise<unknown>): Promise<number> {
  let since = 0;
  await waitFor(
    async () => {
      const rows = await db.query(
        `SELECT (extract(epoch FROM query_start) * 1000)::bigint AS since FROM pg_stat_activity ` +
          `WHERE datname = current_database() AND wait_event_type = 'Lock' AND starts_with(query, ?)`,
        [sqlStart],
      );
      since = rows.length ? Number(rows[0]!.since) : 0;
      return since > 0;
    },
    30_000,
    `a statement starting "${sqlStart}" waiting on a lock`,
    exited,
  );
  return since;
}

const pids = (s: Pick<Setup, 'payload'>, prefix: string, id: number): Array<number | undefined> =>
  [1, 2, 3].map((n) => (existsSync(`${prefix}.${id}.${n}`) ? Number(readFileSync(`${prefix}.${id}.${n}`, 'utf8')) : undefined));

test(
  'a renewal slower than the lease does not make the runtime reap its own task, by heartbeat or health check',
  { timeout: 90_000, skip: PG_SKIP },
  async (t) => {
    // A heartbeat of a third of the lease: every heartbeat also reaps (at most every quarter lease).
    // The health check reaps every 200 ms: with `now` as its cutoff it took the task back (attempt 2).
    const s = await setup(t, 500, 200);
    const [{ id }] = await s.queue.submitMany([{ agent: 'hold', payload: s.payload }]);
    await waitFor(() => existsSync(`${s.payload.marker}.${id}.1`), 30_000, 'the task started', s.b.exited);
    let releasedAt = 0;
    await s.db.transaction(async (tx) => {
      await tx.query('SELECT id FROM bolt_tasks WHERE id = ? FOR UPDATE', [id]);
      // The runtime's renewal waits for this lock until the lease it will write has run out.
      const since = await blockedSince(s.db, 'UPDATE bolt_tasks SET lease_expires', s.b.exited);
      await waitFor(() => Date.now() > since + LEASE_MS + 100, 30_000, 'the renewal outlasted a lease');
      releasedAt = Date.now();
    });
    // Heartbeats do not overlap: once a renewal begun after the lock went has written its lease,
    // the slow heartbeat (and its reap) is over.
    await waitFor(
      async () => {
        const task = await s.queue.get(id);
        return task.status !== 'running' || task.attempts !== 1 || Number(task.leaseExpires ?? 0) >= releasedAt + LEASE_MS;
      },
      30_000,
      'a later renewal',
      s.b.exited,
    );
    const task = await s.queue.get(id);
    assert.deepEqual([task.status, task.attempts], ['running', 1], 'still the first attempt, not reaped by its own runtime');
    writeFileSync(s.payload.gate, '');
    await waitFor(async () => (await s.queue.get(id)).status === 'done', 30_000, 'the task done', s.b.exited);
    assert.deepEqual(pids(s, s.payload.marker, id), [s.b.pid, undefined, undefined], 'started once');
    s.b.child.kill('SIGINT');
    assert.equal((await s.b.exited).code, 0, s.b.stderr());
  },
);

test('a runtime that claims back a task it still runs ends the earlier attempt before starting the next', { timeout: 90_000, skip: PG_SKIP }, async (t) => {
  const s = await setup(t, 100);
  const [{ id }] = await s.queue.submitMany([{ agent: 'hold', payload: s.payload }]);
  await waitFor(() => existsSync(`${s.payload.marker}.${id}.1`), 30_000, 'the task started', s.b.exited);
  // A task of a dead runtime, its lease about to run out; no runtime here runs its agent.
  const [{ id: ghost }] = await s.queue.submitMany([{ agent: 'ghost', payload: null }]);
  await s.db.execute(`UPDATE bolt_tasks SET status = 'running', attempts = 1, lease_owner = 'ghost', lease_expires = ? WHERE id = ?`, [
    Date.now() + 2000,
    ghost,
  ]);
  await s.db.transaction(async (tx) => {
    const rows = await tx.query(`SELECT lease_owner FROM bolt_tasks WHERE id = ? FOR UPDATE`, [ghost]);
    assert.equal(rows[0]?.lease_owner, 'ghost', 'locked before its lease ran out');
    // The runtime's heartbeat reaps it and waits for this lock: its renewals stop meanwhile.
    await blockedSince(s.db, 'UPDATE bolt_tasks SET status = CASE', s.b.exited);
    // Another runtime reaps our runtime's task once its lease has run out…
    await waitFor(
      async () =>
        (
          await s.db.query(
            `UPDATE bolt_tasks SET status = 'queued', lease_owner = NULL, lease_expires = NULL, run_at = ?, updated_at = ? ` +
              `WHERE id = ? AND status = 'running' AND lease_expires < ? RETURNING id`,
            [Date.now(), Date.now(), id, Date.now()],
          )
        ).length === 1,
      30_000,
      "the runtime's lease ran out",
      s.b.exited,
    );
    // … and our runtime, an agent free, claims it again while its first attempt still runs.
    await waitFor(() => existsSync(`${s.payload.marker}.${id}.2`), 30_000, 'the second attempt started', s.b.exited);
    assert.deepEqual(pids(s, s.payload.abortedMarker, id), [s.b.pid, undefined, undefined], 'the first attempt was aborted before the second started');
  });
  writeFileSync(s.payload.gate, '');
  await waitFor(async () => (await s.queue.get(id)).status === 'done', 30_000, 'the task done', s.b.exited);
  const task = await s.queue.get(id);
  assert.equal(task.attempts, 2);
  assert.deepEqual(task.result, { pid: s.b.pid, attempt: 2 }, 'the second attempt is recorded');
  assert.deepEqual(pids(s, s.payload.marker, id), [s.b.pid, s.b.pid, undefined]);
  s.b.child.kill('SIGINT');
  assert.equal((await s.b.exited).code, 0, s.b.stderr());
});

/** A runtime in this process (its direct submits need one), one agent, health checks off. */
async function inProcess(t: TestContext): Promise<Omit<Setup, 'b'> & { bolt: BoltIntegration }> {
  const cwd = tempDir(t);
  const { tcp } = await freshPgDatabase(t, 'bolt_late');
  const bolt = new BoltIntegration({
    agents: 1,
    database: tcp,
    agentModules: [writeTestAgents(cwd)],
    leaseMs: LEASE_MS,
    heartbeatMs: 500,
    pollMs: 20,
    prefetch: 0,
    healthIntervalMs: 3_600_000,
  });
  await bolt.initialize();
  // If the test fails before it stops the runtime (after its database is dropped: hooks run in order).
  t.after(() => bolt.shutdown({ immediate: true }));
  const db = await openPostgres(tcp, { maxConnections: 3 });
  t.after(() => db.close());
  const payload = { marker: join(cwd, 'started'), abortedMarker: join(cwd, 'aborted'), gate: join(cwd, 'gate') };
  return { cwd, db, queue: new TaskQueue(db), bolt, payload };
}

/**
 * Holds `bolt_tasks` locked against writes (this test's own transaction may write) until a
 * statement of the runtime starting with `sqlStart` has waited longer than a lease.
 */
async function outlastLease(
  db: Database,
  sqlStart: string,
  inside: (tx: { execute(sql: string, params?: unknown[]): Promise<unknown> }) => Promise<void>,
): Promise<void> {
  await db.transaction(async (tx) => {
    await tx.execute('LOCK TABLE bolt_tasks IN SHARE ROW EXCLUSIVE MODE');
    await inside(tx);
    const since = await blockedSince(db, sqlStart, new Promise(() => undefined));
    await waitFor(() => Date.now() > since + LEASE_MS + 100, 30_000, 'the statement outlasted a lease');
  });
}

/** Once the task started, another runtime's reap takes nothing back; the task then ends, started once, and the runtime stops. */
async function reapThenFinish(s: Omit<Setup, 'b'> & { bolt: BoltIntegration }, id: number): Promise<void> {
  await waitFor(() => existsSync(`${s.payload.marker}.${id}.1`), 30_000, 'the task started');
  const reaped = await s.queue.reapExpired(Date.now());
  assert.deepEqual(
    reaped.map((r) => r.id),
    [],
    "the running task's lease had not run out",
  );
  writeFileSync(s.payload.gate, '');
  await waitFor(async () => (await s.queue.get(id)).status === 'done', 30_000, 'the task done');
  assert.deepEqual(pids(s, s.payload.marker, id), [process.pid, undefined, undefined], 'started once');
  await s.bolt.shutdown();
}

test('a direct submit that waited longer than a lease renews it before its task runs', { timeout: 90_000, skip: PG_SKIP }, async (t) => {
  const s = await inProcess(t);
  let submitted: Promise<number> | undefined;
  await outlastLease(s.db, 'INSERT INTO bolt_tasks', async () => {
    // An agent is idle: the task is inserted already claimed, its lease counted from now.
    submitted = s.bolt.submit('hold', s.payload);
  });
  const id = await submitted!;
  assert.equal((await s.queue.get(id)).leaseOwner, s.bolt.config.runtimeId, 'inserted claimed by the runtime');
  await reapThenFinish(s, id);
});

test('a claim that waited longer than a lease renews its leases before its tasks run', { timeout: 90_000, skip: PG_SKIP }, async (t) => {
  const s = await inProcess(t);
  let id = 0;
  await outlastLease(s.db, 'UPDATE bolt_tasks SET status', async (tx) => {
    // Inserted by the lock's holder, so only a claim that waits for the lock can take it.
    await tx.execute(
      `INSERT INTO bolt_tasks (agent, payload, status, priority, attempts, max_attempts, run_at, created_at, updated_at) ` +
        `VALUES ('hold', ?, 'queued', 0, 0, 3, ?, ?, ?)`,
      [JSON.stringify(s.payload), Date.now(), Date.now(), Date.now()],
    );
  });
  await waitFor(
    async () => {
      const rows = await s.db.query(`SELECT id FROM bolt_tasks WHERE status = 'running'`);
      id = rows.length ? Number(rows[0]!.id) : 0;
      return id > 0;
    },
    30_000,
    'the task claimed',
  );
  await reapThenFinish(s, id);
});
