/**
 * Callers who fight the transactions Bolt manages on a SQLite file: transaction control sent as
 * SQL (alone, in a script, in a group-committed batch), a transaction's handle kept and used
 * after it ended, flag PRAGMAs a read-only session refuses, and a COMMIT that fails. Each gets a
 * typed error, nothing they sent is stored, nobody else's work is touched, and the handle keeps
 * serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import type { Database, Transaction } from '../core/database.js';
import { hasCode, type BoltErrorCode } from '../core/errors.js';
import { controlStatement } from '../adapters/sqlite/control-statements.js';
import { tempDir } from './helpers/tmp.js';

const code = (c: BoltErrorCode) => (e: unknown) => hasCode(e, c);

async function open(t: import('node:test').TestContext, opts: Record<string, unknown> = {}): Promise<Database> {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.sqlite'), opts);
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT UNIQUE)');
  return db;
}

async function values(db: Database): Promise<string[]> {
  return (await db.query<{ v: string }>('SELECT v FROM t ORDER BY id')).map((r) => r.v);
}

test('controlStatement finds transaction control at the start of any statement, not in strings, comments or a trigger body', () => {
  assert.equal(controlStatement('COMMIT'), 'COMMIT');
  assert.equal(controlStatement('  -- note\n /* c */ end transaction'), 'END');
  assert.equal(controlStatement("INSERT INTO t(v) VALUES ('a'); ROLLBACK"), 'ROLLBACK');
  assert.equal(controlStatement('release bolt_item'), 'RELEASE');
  assert.equal(controlStatement('INSERT INTO t(v) VALUES (\'COMMIT; END\'); SELECT "rollback"'), undefined);
  assert.equal(controlStatement('SELECT CASE WHEN 1 THEN 2 END; INSERT INTO t(v) VALUES (1) ON CONFLICT DO NOTHING'), undefined);
  const trigger = 'CREATE TEMP TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO u VALUES (new.id); UPDATE u SET n = 1; END';
  assert.equal(controlStatement(trigger), undefined);
  assert.equal(controlStatement(`${trigger}; COMMIT`), 'COMMIT');
  assert.equal(controlStatement('CREATE TABLE trigger_log (x); BEGIN'), 'BEGIN');
});

test(
  'COMMIT, ROLLBACK or RELEASE sent as SQL is refused before it runs: in a transaction, in a script, in a batch, in a session',
  { timeout: 60_000 },
  async (t) => {
    const db = await open(t);
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.execute("INSERT INTO t(v) VALUES ('tx1')");
        await assert.rejects(tx.execute('COMMIT'), code('BOLT_BAD_INPUT'));
        throw new Error('the caller gives up');
      }),
      /the caller gives up/,
    );
    await assert.rejects(db.execute("INSERT INTO t(v) VALUES ('m1'); COMMIT"), code('BOLT_BAD_INPUT'));
    // One caller's bad script among concurrent writes fails alone.
    const outcomes = await Promise.allSettled([
      ...Array.from({ length: 5 }, (_, i) => db.execute('INSERT INTO t(v) VALUES (?)', [`ok${i}`])),
      db.execute("INSERT INTO t(v) VALUES ('bad'); ROLLBACK"),
    ]);
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'fulfilled', 'rejected'],
    );
    const s = await db.session();
    await assert.rejects(s.execute("INSERT INTO t(v) VALUES ('s0'); COMMIT; INSERT INTO t(v) VALUES ('s1')"), code('BOLT_BAD_INPUT'));
    await s.close();
    assert.deepEqual(await values(db), ['ok0', 'ok1', 'ok2', 'ok3', 'ok4'], 'only the good writes');
    // A trigger's BEGIN … END is not transaction control, nor is a keyword inside a string.
    await db.execute('CREATE TABLE log (id INTEGER)');
    await db.execute('CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO log VALUES (new.id); END');
    await db.execute("INSERT INTO t(v) VALUES ('COMMIT; END')");
    assert.equal((await db.query('SELECT count(*) AS n FROM log'))[0]!.n, 1);
  },
);

test("a transaction's handle used after the transaction ended fails with BOLT_CLOSED and touches no one else's", { timeout: 60_000 }, async (t) => {
  const db = await open(t);
  let stale: Transaction | undefined;
  await db.transaction(async (tx) => {
    stale = tx;
    await tx.execute("INSERT INTO t(v) VALUES ('first')");
  });
  await assert.rejects(stale!.query('SELECT v FROM t'), code('BOLT_CLOSED'));
  await assert.rejects(
    db.transaction(async (tx) => {
      await tx.execute("INSERT INTO t(v) VALUES ('uncommitted')");
      await assert.rejects(stale!.query('SELECT v FROM t'), code('BOLT_CLOSED'), "no read of another transaction's rows");
      await assert.rejects(stale!.execute("INSERT INTO t(v) VALUES ('stale')"), code('BOLT_CLOSED'));
      throw new Error('the caller gives up');
    }),
    /the caller gives up/,
  );
  assert.deepEqual(await values(db), ['first']);
});

test(
  'a read-only session refuses flag PRAGMAs without applying them: constraints still hold for the next user of the connection',
  { timeout: 60_000 },
  async (t) => {
    const db = await open(t, { maxConnections: 1 });
    await db.execute('CREATE TABLE p (id INTEGER PRIMARY KEY)');
    await db.execute('CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id), n INTEGER CHECK (n > 0))');
    const ro = await db.session({ readOnly: true });
    for (const pragma of ['PRAGMA foreign_keys = OFF', 'PRAGMA ignore_check_constraints = ON', 'PRAGMA query_only = 0', 'PRAGMA defer_foreign_keys = ON']) {
      await assert.rejects(ro.query(pragma), code('BOLT_READ_ONLY'), pragma);
    }
    assert.equal((await ro.query('PRAGMA query_only'))[0]!.query_only, 1, "SQLite's own guard is still on");
    await ro.close();
    const s = await db.session();
    await assert.rejects(s.execute('INSERT INTO c (pid, n) VALUES (42, 1)'), code('BOLT_SQL'), 'foreign keys still enforced');
    await assert.rejects(s.execute('INSERT INTO c (pid, n) VALUES (NULL, -5)'), code('BOLT_SQL'), 'CHECK still enforced');
    await s.close();
    assert.equal((await db.query('SELECT count(*) AS n FROM c'))[0]!.n, 0);
  },
);

test(
  'a script that would change the connection (a setting PRAGMA, ATTACH, DETACH) is refused whole; the handle keeps writing',
  { timeout: 60_000 },
  async (t) => {
    const db = await open(t);
    for (const script of [
      "INSERT INTO t (v) VALUES ('a'); PRAGMA query_only = 1",
      "ATTACH ':memory:' AS m; INSERT INTO t (v) VALUES ('b')",
      "INSERT INTO t (v) VALUES ('c'); /* ; */ DETACH m",
      "PRAGMA foreign_keys = OFF; INSERT INTO t (v) VALUES ('d')",
    ]) {
      await assert.rejects(db.execute(script), code('BOLT_BAD_INPUT'), script);
      await assert.rejects(db.query(script), code('BOLT_BAD_INPUT'), script);
    }
    assert.deepEqual(await values(db), [], 'nothing of them ran');
    // Reporting PRAGMAs are reads, in a script as alone.
    assert.equal((await db.query("INSERT INTO t (v) VALUES ('e'); PRAGMA table_info(t)")).length, 2);
    assert.equal((await db.execute("INSERT INTO t (v) VALUES ('f')")).rowsChanged, 1);
    assert.deepEqual(await values(db), ['e', 'f']);
    assert.deepEqual(
      (await db.query('PRAGMA database_list')).map((r) => r.name),
      ['main'],
    );
  },
);

test("a COMMIT that fails (a deferred foreign key) gives the handle's writer turn back", { timeout: 60_000 }, async (t) => {
  const db = await open(t, { writeLockTimeoutMs: 5_000 });
  await db.execute('CREATE TABLE p (id INTEGER PRIMARY KEY)');
  await db.execute('CREATE TABLE c (id INTEGER PRIMARY KEY, pid INTEGER REFERENCES p(id) DEFERRABLE INITIALLY DEFERRED)');
  const s = await db.session({ name: 'fk' });
  await s.begin();
  await s.execute('INSERT INTO c (pid) VALUES (999)');
  await assert.rejects(s.commit(), code('BOLT_SQL'));
  // These waited out the lock timeout behind session "fk" before.
  await db.execute("INSERT INTO t(v) VALUES ('after')");
  await s.execute("INSERT INTO t(v) VALUES ('from the session')");
  await s.close();
  assert.deepEqual(await values(db), ['after', 'from the session']);
  assert.equal((await db.query('SELECT count(*) AS n FROM c'))[0]!.n, 0);
});

test('SQL that is not a string, null parameters, and a handle closed under running work: typed errors', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = await ConcurrentDatabase.open(join(dir, 'b.sqlite'));
  await db.execute('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)');
  await db.execute('INSERT INTO t (v) VALUES (?)', ['known write']);
  await assert.rejects(db.query(42 as unknown as string), code('BOLT_BAD_INPUT'));
  await assert.rejects(db.execute({} as unknown as string), code('BOLT_BAD_INPUT'));
  await assert.rejects(db.execute('INSERT INTO t (v) VALUES (?)', null as unknown as unknown[]), code('BOLT_BAD_INPUT'), 'one ? and no parameter');
  await db.execute("INSERT INTO t (v) VALUES ('no parameters')", null as unknown as unknown[]);
  const many = Array.from({ length: 40_000 }, () => 1);
  await assert.rejects(db.query(`SELECT 1 WHERE 1 IN (${many.map(() => '?').join(',')})`, many), code('BOLT_BAD_INPUT'), 'more parameters than SQLite takes');
  const running = [
    ...Array.from({ length: 20 }, (_, i) => db.execute('INSERT INTO t (v) VALUES (?)', [`w${i}`])),
    ...Array.from({ length: 5 }, () => db.transaction((tx) => tx.execute("INSERT INTO t (v) VALUES ('tx')"))),
    ...Array.from({ length: 5 }, (_, i) => db.execute('INSERT INTO t (v) VALUES (?)', [`r${i}`], { requestId: `close-${i}` })),
  ];
  await db.close();
  for (const outcome of await Promise.allSettled(running)) {
    if (outcome.status === 'rejected') assert.ok(hasCode(outcome.reason, 'BOLT_CLOSED'), String(outcome.reason));
  }
});

test('a backup is refused onto the files SQLite and DuckDB keep beside the database, and into a folder that does not exist', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  for (const [name, suffixes] of [
    ['a.sqlite', ['-wal', '-shm', '-journal']],
    ['a.db', ['.wal']],
  ] as const) {
    const path = join(dir, name);
    const db = await ConcurrentDatabase.open(path);
    await db.execute('CREATE TABLE t (i INTEGER)');
    await assert.rejects((db as unknown as { backup(dest: string): Promise<unknown> }).backup(join(dir, 'no-such-folder', 'copy')), code('BOLT_NOT_FOUND'));
    for (const suffix of suffixes) {
      await assert.rejects(
        (db as unknown as { backup(dest: string): Promise<unknown> }).backup(`${path}${suffix}`),
        code('BOLT_BAD_INPUT'),
        `${name}${suffix}`,
      );
    }
    await db.close();
  }
});
