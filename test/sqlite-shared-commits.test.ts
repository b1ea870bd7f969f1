/**
 * Shared commits (adapters/sqlite/shared-commit.ts): a write transaction of a SQLite handle that
 * ends while another one of the handle waits leaves its work open for that one's COMMIT. What
 * must hold: a transaction is acknowledged only once its work is committed; one that fails is
 * undone alone; a COMMIT that fails (a deferred foreign key) makes the others re-run and commit,
 * and only the culprit fail; a session waiting behind finds the work committed; and a SIGKILL
 * loses no acknowledged transaction.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import { openSqlite } from '../adapters/sqlite/open.js';
import type { Database, Transaction } from '../core/database.js';
import { hasCode } from '../core/errors.js';
import { spawnChild } from './helpers/child.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const CHILD = fileURLToPath(new URL('./fixtures/sqlite-shared-commit-child.js', import.meta.url));

const leftOpen = (db: Database): number => (db.stats().sharedCommits as { leftOpen: number }).leftOpen;

async function open(t: TestContext, name: string): Promise<{ db: Database; path: string }> {
  const path = join(tempDir(t), name);
  const db = await openSqlite(path, { writeLockTimeoutMs: 5_000 });
  t.after(() => db.close());
  await db.execute('CREATE TABLE log (v TEXT NOT NULL)');
  return { db, path };
}

/**
 * Starts a transaction that logs `v` and then holds the writer turn until `release` is called,
 * so that the transactions started next queue behind it.
 */
async function holding(db: Database, v: string): Promise<{ done: Promise<void>; release: () => void; runs: () => number }> {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let runs = 0;
  let inside = false;
  const done = db.transaction(async (tx) => {
    runs++;
    await tx.execute('INSERT INTO log VALUES (?)', [v]);
    inside = true;
    await gate;
  });
  await waitFor(() => inside, 5_000, `transaction ${v} to begin`);
  return { done, release, runs: () => runs };
}

async function logged(db: Database): Promise<string[]> {
  return (await db.query<{ v: string }>('SELECT v FROM log ORDER BY v')).map((r) => r.v);
}

async function queued(db: Database, n: number): Promise<void> {
  await waitFor(
    () => db.stats().writersWaiting === n,
    5_000,
    () => `${n} writers waiting (${String(db.stats().writersWaiting)})`,
  );
}

test('a transaction that fails among shared ones is undone alone; each is acknowledged only once committed', { timeout: 60_000 }, async (t) => {
  const { db, path } = await open(t, 'undo.db');
  const raw = new BetterSqlite3(path, { readonly: true });
  t.after(() => raw.close());
  const visible = (v: string): number => (raw.prepare('SELECT count(*) AS n FROM log WHERE v = ?').get(v) as { n: number }).n;
  const before = leftOpen(db);
  const a = await holding(db, 'a');
  const seenAtAck: Record<string, number> = {};
  const b = db.transaction(async (tx: Transaction) => {
    await tx.execute('INSERT INTO log VALUES (?)', ['b']);
    throw new Error('b changed its mind');
  });
  const c = db.transaction((tx) => tx.execute('INSERT INTO log VALUES (?)', ['c']));
  await queued(db, 2);
  const acked = (v: string, p: Promise<unknown>): Promise<unknown> => p.then(() => (seenAtAck[v] = visible(v)));
  a.release();
  const [ra, rb, rc] = await Promise.allSettled([acked('a', a.done), b, acked('c', c)]);
  assert.equal(ra.status, 'fulfilled');
  assert.equal(rc.status, 'fulfilled');
  assert.equal(rb.status, 'rejected');
  assert.match(String((rb as PromiseRejectedResult).reason), /b changed its mind/);
  assert.deepEqual(await logged(db), ['a', 'c']);
  // Another connection saw each row when its transaction was acknowledged: committed by then.
  assert.deepEqual(seenAtAck, { a: 1, c: 1 });
  assert.ok(leftOpen(db) > before, 'a left its work open for the next transaction');
  assert.equal(a.runs(), 1);
});

test("a session's transaction behind shared ones finds them committed, also when the last of them fails", { timeout: 60_000 }, async (t) => {
  const { db } = await open(t, 'session.db');
  const s = await db.session({ name: 'behind' });
  t.after(() => s.close());
  for (const lastFails of [false, true]) {
    await db.execute('DELETE FROM log');
    const a = await holding(db, 'a');
    const b = db.transaction(async (tx: Transaction) => {
      await tx.execute('INSERT INTO log VALUES (?)', ['b']);
      if (lastFails) throw new Error('b fails');
    });
    await queued(db, 1);
    const fromSession = s.transaction((tx) => tx.execute('INSERT INTO log VALUES (?)', ['s']));
    await queued(db, 2);
    a.release();
    const [ra, rb, rs] = await Promise.allSettled([a.done, b, fromSession]);
    assert.equal(ra.status, 'fulfilled');
    assert.equal(rs.status, 'fulfilled', String((rs as PromiseRejectedResult).reason));
    assert.equal(rb.status, lastFails ? 'rejected' : 'fulfilled');
    assert.deepEqual(await logged(db), lastFails ? ['a', 's'] : ['a', 'b', 's']);
  }
});

test('a deferred foreign key breaks a shared COMMIT: the others are re-run and committed, the culprit fails alone', { timeout: 60_000 }, async (t) => {
  const { db } = await open(t, 'fk.db');
  await db.execute('CREATE TABLE p (id INTEGER PRIMARY KEY)');
  await db.execute('CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)');
  const a = await holding(db, 'a');
  const bad = db.transaction((tx) => tx.execute('INSERT INTO c (pid) VALUES (999)'));
  const good = db.transaction((tx) => tx.execute('INSERT INTO log VALUES (?)', ['good']));
  await queued(db, 2);
  a.release();
  const [ra, rbad, rgood] = await Promise.allSettled([a.done, bad, good]);
  assert.equal(ra.status, 'fulfilled', String((ra as PromiseRejectedResult).reason));
  assert.equal(rgood.status, 'fulfilled', String((rgood as PromiseRejectedResult).reason));
  assert.equal(rbad.status, 'rejected');
  const err = (rbad as PromiseRejectedResult).reason as Error;
  assert.ok(hasCode(err, 'BOLT_SQL') && /FOREIGN KEY/.test(err.message), String(err));
  assert.deepEqual(await logged(db), ['a', 'good'], 'each once');
  assert.equal(a.runs(), 2, 'the shared COMMIT failed, so a ran again');
  assert.deepEqual(await db.query('SELECT count(*) AS n FROM c'), [{ n: 0 }]);
});

test('concurrent read-modify-write transactions with request ids share commits and apply once each', { timeout: 60_000 }, async (t) => {
  const { db } = await open(t, 'rmw.db');
  await db.execute('CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER NOT NULL)');
  await db.execute('INSERT INTO kv VALUES (1, 0), (2, 0)');
  const bump = (i: number): Promise<unknown> =>
    db.transaction(
      async (tx) => {
        const k = 1 + (i % 2);
        const row = await tx.queryOne<{ v: number }>('SELECT v FROM kv WHERE k = ?', [k]);
        await tx.execute('UPDATE kv SET v = ? WHERE k = ?', [row!.v + 1, k]);
      },
      { requestId: `bump-${i}` },
    );
  const before = leftOpen(db);
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < 400) await bump(next++);
    }),
  );
  assert.deepEqual(await db.query('SELECT sum(v) AS total FROM kv'), [{ total: 400 }]);
  assert.ok(leftOpen(db) - before > 100, `transactions shared commits (${leftOpen(db) - before} of 400)`);
  // Sent again, all at once: every one was recorded, nothing runs twice.
  await Promise.all(Array.from({ length: 400 }, (_, i) => bump(i)));
  assert.deepEqual(await db.query('SELECT sum(v) AS total FROM kv'), [{ total: 400 }]);
});

test('SIGKILL while 8 callers share commits: every acknowledged transaction is there, once, and the counter agrees', { timeout: 120_000 }, async (t) => {
  const path = join(tempDir(t), 'killed.db');
  const child = spawnChild(t, process.execPath, [CHILD, path]);
  await child.waitForLine(/^stats .*"leftOpen":[1-9]/, 90_000);
  await child.waitForLine(/^acked 3\d\d\d$/, 90_000);
  child.child.kill('SIGKILL');
  assert.equal((await child.exited).signal, 'SIGKILL');
  const acked = child
    .stdout()
    .split('\n')
    .filter((l) => l.startsWith('acked '))
    .map((l) => Number(l.slice(6)));
  const raw = new BetterSqlite3(path);
  t.after(() => raw.close());
  assert.equal(raw.pragma('integrity_check', { simple: true }), 'ok');
  const steps = new Set((raw.prepare('SELECT n FROM steps').all() as Array<{ n: number }>).map((r) => r.n));
  const missing = acked.filter((n) => !steps.has(n));
  assert.deepEqual(missing, [], 'acknowledged steps missing after the kill');
  assert.deepEqual(raw.prepare('SELECT v FROM counter').get(), { v: steps.size }, 'the counter moved with the steps');
});

/** A transaction that logs `v` and then waits for `release` (queued behind others, it holds the group open). */
function gated(db: Database, v: string): { done: Promise<unknown>; release: () => void; inside: () => boolean } {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let inside = false;
  const done = db.transaction(async (tx) => {
    await tx.execute('INSERT INTO log VALUES (?)', [v]);
    inside = true;
    await gate;
  });
  return { done, release, inside: () => inside };
}

test(
  'a re-send joining its original in a shared group is acknowledged only once the original is committed, and applies it when that COMMIT fails',
  { timeout: 60_000 },
  async (t) => {
    const { db, path } = await open(t, 'resend.db');
    await db.execute('CREATE TABLE p (id INTEGER PRIMARY KEY)');
    await db.execute('CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)');
    await db.execute('INSERT INTO log VALUES (?)', ['first'], { requestId: 'first' }); // the request log, committed
    const raw = new BetterSqlite3(path, { readonly: true });
    t.after(() => raw.close());
    const visible = (v: string): number => (raw.prepare('SELECT count(*) AS n FROM log WHERE v = ?').get(v) as { n: number }).n;
    // The original of request X holds the turn; its deferred foreign key will fail the shared COMMIT.
    let releaseOriginal!: () => void;
    const originalGate = new Promise<void>((r) => (releaseOriginal = r));
    let originalInside = false;
    const original = db.transaction(
      async (tx) => {
        await tx.execute('INSERT INTO log VALUES (?)', ['x']);
        await tx.execute('INSERT INTO c (pid) VALUES (999)');
        originalInside = true;
        await originalGate;
      },
      { requestId: 'X' },
    );
    await waitFor(() => originalInside, 5_000, 'the original to begin');
    let seenAtResendAck: number | undefined;
    const resend = db
      .transaction((tx) => tx.execute('INSERT INTO log VALUES (?)', ['x']), { requestId: 'X' })
      .then((v) => ((seenAtResendAck = visible('x')), v));
    await queued(db, 1);
    // A third transaction joins behind the re-send and holds the group open.
    const third = gated(db, 'third');
    await queued(db, 2);
    releaseOriginal();
    await waitFor(third.inside, 5_000, 'the third transaction to join');
    await waitFor(() => leftOpen(db) >= 1, 5_000, 'the original to leave its work open');
    assert.equal(seenAtResendAck, undefined, 'the re-send was acknowledged while request X was not committed');
    third.release();
    const [ro, rr, rt] = await Promise.allSettled([original, resend, third.done]);
    assert.equal(rt.status, 'fulfilled', String((rt as PromiseRejectedResult).reason));
    // Both re-run after the failed COMMIT: the original fails on its foreign key, or finds X applied by the re-send.
    if (ro.status === 'rejected') assert.match(String(ro.reason), /FOREIGN KEY/);
    assert.equal(rr.status, 'fulfilled', String((rr as PromiseRejectedResult).reason));
    assert.equal(seenAtResendAck, 1, 'the re-send is acknowledged with request X committed, once');
    assert.deepEqual(await logged(db), ['first', 'third', 'x']);
  },
);

test('a request log created in a shared group whose COMMIT fails is created again: request ids keep working', { timeout: 60_000 }, async (t) => {
  const { db } = await open(t, 'requestlog.db');
  await db.execute('CREATE TABLE p (id INTEGER PRIMARY KEY)');
  await db.execute('CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)');
  // The first request id of the handle creates bolt_requests; its deferred foreign key fails the shared COMMIT.
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let inside = false;
  const culprit = db.transaction(
    async (tx) => {
      await tx.execute('INSERT INTO c (pid) VALUES (999)');
      inside = true;
      await gate;
    },
    { requestId: 'culprit' },
  );
  await waitFor(() => inside, 5_000, 'the first transaction to begin');
  // This one joins and finds bolt_requests, created but not committed.
  const joiner = db.transaction((tx) => tx.execute('INSERT INTO log VALUES (?)', ['joiner']), { requestId: 'joiner' });
  await queued(db, 1);
  release();
  const [rc, rj] = await Promise.allSettled([culprit, joiner]);
  assert.equal(rc.status, 'rejected');
  assert.match(String((rc as PromiseRejectedResult).reason), /FOREIGN KEY/);
  assert.equal(rj.status, 'fulfilled', String((rj as PromiseRejectedResult).reason));
  assert.deepEqual(await db.execute('INSERT INTO log VALUES (?)', ['later'], { requestId: 'later' }), { rowsChanged: 1 });
  assert.deepEqual(await logged(db), ['joiner', 'later']);
});
