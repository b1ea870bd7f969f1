/**
 * WAL checkpoints in a thread of the handle's own (adapters/sqlite/checkpointer.ts): the WAL
 * stays bounded under a stream of small transactions, nothing is lost when the process is
 * SIGKILLed while checkpoints run, the thread never keeps a process alive or leaves the WAL
 * behind a closed handle, and handles in worker threads keep SQLite's own checkpoints. The
 * WAL's size comes from its wal-index (adapters/sqlite/wal-index.ts).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import BetterSqlite3 from 'better-sqlite3';
import { openSqlite } from '../adapters/sqlite/open.js';
import { WalIndexReader } from '../adapters/sqlite/wal-index.js';
import type { Database } from '../core/database.js';
import { hasCode } from '../core/errors.js';
import { spawnChild } from './helpers/child.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor, waitForValue } from './helpers/wait.js';

const CHILD = fileURLToPath(new URL('./fixtures/sqlite-checkpoint-child.js', import.meta.url));
const OPEN = new URL('../adapters/sqlite/open.js', import.meta.url).href;

interface Stats {
  thread: string;
  by: string;
  checkpoints: number;
  caughtUp: number;
  failures: number;
}
const checkpoints = (db: { stats(): unknown }): Stats | 'inline' => (db.stats() as { checkpoints: Stats | 'inline' }).checkpoints;

/**
 * A handle on a new file with table `t` and its writer connection open (one opened later would
 * open the path anew): what the tests below then tamper with.
 */
async function handleWithWriter(t: TestContext, path: string): Promise<Database> {
  const db = await openSqlite(path);
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (n INTEGER)');
  await db.transaction((tx) => tx.execute('INSERT INTO t VALUES (?)', [-1]));
  return db;
}

/** Enough one-row transactions alone (five looks of 256 commits) for the thread to take over. */
async function writeAlone(db: Database): Promise<void> {
  for (let n = 0; n < 1_500; n++) await db.transaction((tx) => tx.execute('INSERT INTO t VALUES (?)', [n]));
}

test(
  'a stream of small transactions: the thread checkpoints and catches up, and the WAL starts over, which stays short; every write is there',
  { timeout: 120_000 },
  async (t) => {
    const path = join(tempDir(t), 'stream.db');
    const db = await openSqlite(path);
    t.after(() => db.close());
    await db.execute('CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER)');
    await db.transaction(async (tx) => {
      for (let k = 0; k < 1000; k++) await tx.execute('INSERT INTO kv VALUES (?, 0)', [k]);
    });
    const N = 12_000;
    let largest = 0;
    // One caller, so that each transaction commits alone (concurrent ones of a handle share
    // their COMMITs): each changes one page, one WAL frame.
    for (let n = 0; n < N; n++) {
      const k = (n * 7919) % 1000;
      await db.transaction(async (tx) => {
        const row = await tx.queryOne<{ v: number }>('SELECT v FROM kv WHERE k = ?', [k]);
        await tx.execute('UPDATE kv SET v = ? WHERE k = ?', [row!.v + 1, k]);
      });
      if (n % 500 === 0) largest = Math.max(largest, statSync(`${path}-wal`).size);
    }
    // On a loaded machine the thread may still be behind when the stream ends (one CI run: 9
    // checkpoints, none caught up yet); with the writes over, it catches up.
    const s = await waitForValue(
      'the checkpoint thread to catch up',
      () => checkpoints(db),
      (x) => x === 'inline' || x.caughtUp > 0,
      { timeoutMs: 20_000 },
    );
    assert.ok(s !== 'inline', 'a main thread handle has the thread');
    assert.equal(s.thread, 'running');
    assert.equal(s.by, 'thread', 'alone, the handle has its thread checkpoint');
    assert.ok(s.checkpoints > 0 && s.caughtUp > 0, JSON.stringify(s));
    assert.equal(s.failures, 0);
    // 12,000 frames if it never started over (48 MB); SQLite's own fallback checkpoint would allow 10,000 (40 MB).
    assert.ok(largest < 32 * 1024 * 1024, `the WAL grew to ${largest} bytes`);
    assert.deepEqual(await db.queryOne('SELECT sum(v) AS total FROM kv'), { total: N });

    // Another connection writing too (a second handle: to SQLite, another process): commits checkpoint again.
    const other = await openSqlite(path, { checkpoints: 'inline' });
    t.after(() => other.close());
    for (let i = 0; i < 600; i++) {
      await db.execute('UPDATE kv SET v = v + 1 WHERE k = ?', [i % 1000]);
      await other.execute('UPDATE kv SET v = v + 1 WHERE k = ?', [i % 1000]);
    }
    assert.equal((checkpoints(db) as Stats).by, 'commits');
  },
);

test(
  'SIGKILL while transactions commit and the thread checkpoints: the file is intact and every acknowledged step is there once',
  { timeout: 120_000 },
  async (t) => {
    const path = join(tempDir(t), 'killed.db');
    const child = spawnChild(t, process.execPath, [CHILD, path, '0', 'leave']);
    // Killed after it has caught up with the WAL at least once, in the middle of its stream.
    await child.waitForLine(/^stats .*"caughtUp":[1-9]/, 90_000);
    const acked = Math.max(
      ...child
        .stdout()
        .split('\n')
        .filter((l) => l.startsWith('acked '))
        .map((l) => Number(l.slice(6))),
    );
    child.child.kill('SIGKILL');
    assert.equal((await child.exited).signal, 'SIGKILL');
    const raw = new BetterSqlite3(path);
    t.after(() => raw.close());
    assert.deepEqual(raw.pragma('integrity_check', { simple: true }), 'ok');
    const { steps, top } = raw.prepare('SELECT count(*) AS steps, max(n) AS top FROM steps').get() as { steps: number; top: number };
    assert.ok(top >= acked, `acknowledged up to ${acked}, found up to ${top}`);
    assert.equal(steps, top, 'no step is missing or doubled');
    assert.deepEqual(raw.prepare('SELECT v FROM counter').get(), { v: top }, 'the counter moved with the steps');
  },
);

test('the thread never keeps a process alive, and a closed handle leaves no WAL behind', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  for (const end of ['leave', 'close'] as const) {
    const path = join(dir, `${end}.db`);
    const child = spawnChild(t, process.execPath, [CHILD, path, '3000', end]);
    const exit = await child.exited;
    assert.equal(exit.code, 0, child.stderr());
    assert.match(child.stdout(), /"thread":"running"/);
    assert.match(child.stdout(), /\nend\n$/);
    if (end === 'close') assert.equal(existsSync(`${path}-wal`), false, 'the last connection checkpointed and removed the WAL');
  }
});

test(
  "a handle in a worker thread, `checkpoints: 'inline'` or a wal_autocheckpoint pragma: SQLite's own checkpoints; a bad mode is BOLT_BAD_INPUT",
  { timeout: 60_000 },
  async (t) => {
    const dir = tempDir(t);
    const inline = await openSqlite(join(dir, 'inline.db'), { checkpoints: 'inline' });
    t.after(() => inline.close());
    assert.equal(checkpoints(inline), 'inline');
    const pragma = await openSqlite(join(dir, 'pragma.db'), { pragmas: { wal_autocheckpoint: 100 } });
    t.after(() => pragma.close());
    assert.equal(checkpoints(pragma), 'inline');
    await assert.rejects(openSqlite(join(dir, 'bad.db'), { checkpoints: 'sometimes' as 'inline' }), (err) => hasCode(err, 'BOLT_BAD_INPUT'));
    assert.equal(existsSync(join(dir, 'bad.db')), false, 'nothing was created');
    const w = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
     import(workerData.open).then(async ({ openSqlite }) => {
       const db = await openSqlite(workerData.path);
       await db.execute('CREATE TABLE t (x)');
       for (let i = 0; i < 100; i++) await db.execute('INSERT INTO t VALUES (?)', [i]);
       parentPort.postMessage(db.stats().checkpoints);
       await db.close();
     });`,
      { eval: true, workerData: { open: OPEN, path: join(dir, 'thread.db') } },
    );
    const [msg] = await Promise.all([new Promise((resolve) => w.once('message', resolve)), new Promise((resolve) => w.once('exit', resolve))]);
    assert.equal(msg, 'inline');
  },
);

test(
  "the WAL's progress read from its wal-index: frames and frames copied, none while there is no index, a FIFO in its place read as none",
  { timeout: 30_000 },
  (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'index.db');
    const raw = new BetterSqlite3(path);
    t.after(() => raw.close());
    raw.pragma('journal_mode = WAL');
    raw.pragma('wal_autocheckpoint = 0');
    const reader = new WalIndexReader(path);
    t.after(() => reader.close());
    raw.exec('CREATE TABLE t (x)');
    const insert = raw.prepare('INSERT INTO t VALUES (?)');
    for (let i = 0; i < 50; i++) insert.run(i);
    const before = reader.read();
    assert.ok(before && before.frames > 50 && before.backfilled === 0, JSON.stringify(before));
    const [r] = raw.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number; checkpointed: number }>;
    assert.deepEqual(reader.read(), { frames: r!.log, backfilled: r!.checkpointed });
    insert.run(51); // all of it copied: this write starts the WAL over
    assert.deepEqual(reader.read(), { frames: 1, backfilled: 0 });

    assert.equal(new WalIndexReader(join(dir, 'none.db')).read(), undefined);
    const fifo = join(dir, 'fifo.db');
    assert.equal(spawnSync('mkfifo', [`${fifo}-shm`]).status, 0);
    const planted = new WalIndexReader(fifo);
    t.after(() => planted.close());
    assert.equal(planted.read(), undefined, 'read at once, not blocked waiting for a writer');
  },
);

test(
  'the thread never opens a file renamed away or replaced since the handle opened it; no catch-up under a short writer timeout',
  { timeout: 60_000 },
  async (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'moved.db');
    const db = await handleWithWriter(t, path);
    renameSync(path, join(dir, 'elsewhere.db'));
    // The thread would take over now: it must refuse, and checkpoints stay with commits.
    await writeAlone(db);
    const s = checkpoints(db) as Stats;
    assert.equal(s.thread, 'failed', JSON.stringify(s));
    assert.equal(s.by, 'commits');
    assert.equal(existsSync(path), false, 'no new, empty file was made at the old path');

    const quick = await openSqlite(join(dir, 'quick.db'), { writeLockTimeoutMs: 50 });
    t.after(() => quick.close());
    await quick.execute('CREATE TABLE t (n INTEGER, pad TEXT)');
    for (let n = 0; n < 6_000; n++) await quick.transaction((tx) => tx.execute('INSERT INTO t VALUES (?, ?)', [n, 'x'.repeat(2000)]));
    const q = checkpoints(quick) as Stats;
    assert.equal(q.by, 'thread');
    assert.equal(q.caughtUp, 0, 'writers that wait at most 50 ms are never held behind a catch-up');
  },
);

test('a thread that cannot read the wal-index (a directory planted as -shm) gives checkpoints back to commits', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'blind.db');
  const db = await handleWithWriter(t, path);
  // SQLite keeps the -shm it has mapped; the name now holds a directory, which the thread will find.
  unlinkSync(`${path}-shm`);
  mkdirSync(`${path}-shm`);
  await writeAlone(db);
  assert.equal((checkpoints(db) as Stats).by, 'thread', 'alone: the thread took over');
  await waitFor(
    () => (checkpoints(db) as Stats).thread === 'failed',
    30_000,
    () => JSON.stringify(checkpoints(db)),
  );
  assert.equal((checkpoints(db) as Stats).by, 'commits');
  assert.deepEqual(await db.queryOne('SELECT count(*) AS n FROM t'), { n: 1_501 });
});
