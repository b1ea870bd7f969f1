/**
 * PostgreSQL statements whose caller gives up (`signal` aborts) are cancelled on the server, and
 * their client is lent out again only once they have ended: handle, transaction and session
 * statements; a late cancel never stops the next borrower's statement; a server that does not
 * answer the cancel costs that client, not the handle.
 */
import assert from 'node:assert/strict';
import net from 'node:net';
import { test, type TestContext } from 'node:test';
import { openPostgres } from '../adapters/postgres/open.js';
import type { Database } from '../core/database.js';
import { hasCode } from '../core/errors.js';
import { PG_SKIP, PG_URL, freshPgDatabase } from './helpers/pg.js';
import { waitForValue } from './helpers/wait.js';

/** A handle on a fresh database of its own, and an admin handle beside it to watch the server. */
async function handles(t: TestContext, maxConnections: number, url?: (tcp: string) => string): Promise<{ db: Database; admin: Database }> {
  // Hooks run in the order they were added: the handles close before their database is dropped.
  const opened: Database[] = [];
  t.after(() => Promise.all(opened.map((h) => h.close())));
  const { tcp } = await freshPgDatabase(t, 'bolt_cancel');
  const db = await openPostgres(url ? url(tcp) : tcp, { maxConnections });
  const admin = await openPostgres(tcp, { maxConnections: 1 });
  opened.push(db, admin);
  return { db, admin };
}

/** Backends of other connections now running a statement that holds `marker`. */
async function running(admin: Database, marker: string): Promise<number> {
  const rows = await admin.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid() AND strpos(query, ?) > 0",
    [marker],
  );
  return rows[0]!.n;
}

/** Waits until `n` statements holding `marker` run on the server. */
async function untilRunning(admin: Database, marker: string, n: number): Promise<void> {
  await waitForValue(
    `${n} statement(s) ${marker} running`,
    () => running(admin, marker),
    (now) => now === n,
  );
}

const aborted = (e: unknown): boolean => hasCode(e, 'BOLT_ABORTED');

test('aborted handle statements are cancelled on the server: their clients serve the next caller at once', { timeout: 30_000, skip: PG_SKIP }, async (t) => {
  const { db, admin } = await handles(t, 2);
  const stops = [new AbortController(), new AbortController()];
  const sleeps = stops.map((c) => db.query('SELECT pg_sleep(60) /* runaway-1 */', [], { signal: c.signal }));
  await untilRunning(admin, 'runaway-1', 2);
  for (const c of stops) c.abort();
  for (const outcome of await Promise.all(
    sleeps.map((p) =>
      p.then(
        () => 'completed',
        (e: unknown) => e,
      ),
    ),
  ))
    assert.ok(aborted(outcome), String(outcome));
  // Both pooled clients were busy with a 60 s statement: without the cancel this waits for one.
  assert.deepEqual(await db.query('SELECT 1 AS x'), [{ x: 1 }]);
  assert.equal(await running(admin, 'runaway-1'), 0, 'nothing left running on the server');
});

test('a transaction whose statement is aborted while it runs is rolled back at once; nothing is written', { timeout: 30_000, skip: PG_SKIP }, async (t) => {
  const { db, admin } = await handles(t, 1);
  await db.execute('CREATE TABLE t (x int)');
  const stop = new AbortController();
  const tx = db.transaction(async (h) => {
    await h.execute('INSERT INTO t VALUES (1)');
    await h.query('SELECT pg_sleep(60) /* runaway-2 */', [], { signal: stop.signal });
  });
  await untilRunning(admin, 'runaway-2', 1);
  stop.abort();
  await assert.rejects(tx, aborted);
  assert.deepEqual(await db.query('SELECT count(*)::int AS n FROM t'), [{ n: 0 }]);
});

test(
  "a session's aborted statement ends on the server; the session's next statement runs on the same backend",
  { timeout: 30_000, skip: PG_SKIP },
  async (t) => {
    const { db, admin } = await handles(t, 1);
    const s = await db.session({ name: 'kept' });
    const [{ pid }] = (await s.query('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
    const stop = new AbortController();
    const sleep = s.query('SELECT pg_sleep(60) /* runaway-3 */', [], { signal: stop.signal });
    await untilRunning(admin, 'runaway-3', 1);
    stop.abort();
    await assert.rejects(sleep, aborted);
    assert.deepEqual(await s.query('SELECT pg_backend_pid() AS pid'), [{ pid }]);
    await s.close();
  },
);

test("a cancel never stops the next borrower's statement (one client, aborts at random moments)", { timeout: 60_000, skip: PG_SKIP }, async (t) => {
  const { db } = await handles(t, 1);
  let cancelled = 0;
  for (let round = 0; round < 150; round++) {
    const stop = new AbortController();
    const victim = db.query('SELECT pg_sleep(?)', [(round % 4) * 0.001], { signal: stop.signal }).then(
      () => 'completed',
      (e: unknown) => (aborted(e) ? 'aborted' : e),
    );
    // Queued behind it on the one client: it must never see the victim's cancel.
    const next = db.query('SELECT pg_sleep(0.002), ?::int AS round', [round]);
    setTimeout(() => stop.abort(), round % 3);
    const outcome = await victim;
    assert.ok(outcome === 'completed' || outcome === 'aborted', `round ${round}: ${String(outcome)}`);
    if (outcome === 'aborted') cancelled++;
    assert.equal((await next)[0]!.round, round);
  }
  assert.ok(cancelled > 0, 'some statements were aborted');
});

test("a session's statement aborted while it waits behind another is never sent; the running one completes", { timeout: 30_000, skip: PG_SKIP }, async (t) => {
  const { db, admin } = await handles(t, 2);
  const s = await db.session();
  const innocent = s.query('SELECT pg_sleep(0.5) AS slept /* runaway-5 */');
  const stop = new AbortController();
  const victim = s.query('SELECT 2 AS x', [], { signal: stop.signal });
  await untilRunning(admin, 'runaway-5', 1);
  stop.abort();
  await assert.rejects(victim, aborted);
  assert.equal((await innocent).length, 1);
  await s.close();
});

test('aborts in sessions and transactions at random moments never cancel another caller’s statement', { timeout: 120_000, skip: PG_SKIP }, async (t) => {
  const { db } = await handles(t, 2);
  const pause = (n: number): number => (n * 7919) % 30;
  const swallowAbort = (e: unknown): void => {
    if (!aborted(e)) throw e;
  };
  const aborting = async (loop: number, inTransaction: boolean): Promise<void> => {
    for (let i = 0; i < 40; i++) {
      const stop = new AbortController();
      setTimeout(() => stop.abort(), pause(loop * 100 + i));
      const sleep = (q: Pick<Database, 'query'>): Promise<unknown> =>
        q.query('SELECT pg_sleep(?)', [pause(loop * 100 + i + 1) / 1000], { signal: stop.signal }).catch(swallowAbort);
      if (inTransaction) {
        await db.transaction((tx) => sleep(tx).then(() => tx.query('SELECT 1'))).catch(swallowAbort);
      } else {
        const s = await db.session();
        try {
          await Promise.all([sleep(s), s.query('SELECT 1')]);
        } finally {
          await s.close();
        }
      }
    }
  };
  let innocentRuns = 0;
  const innocent = async (): Promise<void> => {
    for (let i = 0; i < 80; i++) {
      await db.query('SELECT pg_sleep(0.003)');
      innocentRuns++;
    }
  };
  await Promise.all([aborting(1, false), aborting(2, true), innocent(), innocent()]);
  assert.equal(innocentRuns, 160);
});

test(
  'a server that does not answer the cancel: BOLT_ABORTED with connectionLost, that client is dropped, the handle serves on',
  { timeout: 40_000, skip: PG_SKIP },
  async (t) => {
    // A proxy in front of the server that can stop passing anything on, as a cut network would.
    const upstream = new URL(PG_URL!);
    let frozen = false;
    const sockets = new Set<net.Socket>();
    const proxy = net.createServer((down) => {
      sockets.add(down);
      down.on('close', () => sockets.delete(down));
      if (frozen) return; // accepted, never answered
      const up = net.connect(Number(upstream.port), upstream.hostname);
      sockets.add(up);
      up.on('close', () => sockets.delete(up));
      const pass = (from: net.Socket, to: net.Socket): void => {
        from.on('data', (d) => {
          if (!frozen) to.write(d);
        });
        from.on('close', () => to.destroy());
        from.on('error', () => to.destroy());
      };
      pass(down, up);
      pass(up, down);
    });
    await new Promise<void>((res) => proxy.listen(0, '127.0.0.1', res));
    t.after(() => {
      for (const s of sockets) s.destroy();
      proxy.close();
    });
    const port = (proxy.address() as net.AddressInfo).port;
    const { db, admin } = await handles(t, 2, (tcp) => {
      const u = new URL(tcp);
      u.port = String(port);
      return u.toString();
    });
    const stop = new AbortController();
    const sleep = db.query('SELECT pg_sleep(60) /* runaway-4 */', [], { signal: stop.signal });
    await untilRunning(admin, 'runaway-4', 1);
    frozen = true;
    stop.abort();
    await assert.rejects(sleep, (e) => aborted(e) && (e as { details: Record<string, unknown> }).details.connectionLost === true);
    frozen = false;
    assert.deepEqual(await db.query('SELECT 1 AS x'), [{ x: 1 }]);
    // The lost client's backend still sleeps (its cancel never arrived); it is not the handle's any more.
    assert.equal(await running(admin, 'runaway-4'), 1);
    await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE strpos(query, 'runaway-4') > 0 AND pid <> pg_backend_pid()");
  },
);
