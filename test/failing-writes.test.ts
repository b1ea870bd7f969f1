/**
 * Writes that fail in DuckDB — constraint violations, unknown columns, failing scripts — on
 * every write path, with and without request ids: the caller gets a typed error, nothing is
 * written, and the process that hosts the file keeps serving (no unhandled rejection).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setImmediate as nextTurn, setTimeout as sleep } from 'node:timers/promises';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ConcurrentDatabase } from '../index.js';
import type { Database } from '../core/database.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';
import { startFixture } from './helpers/fixture.js';
import { runBolt } from './helpers/cli.js';

const T = { timeout: 60_000 };

/** Every kind of failing write, each expected to reject with a typed error and write nothing. */
async function sendFailingWrites(db: Database): Promise<void> {
  const sql = (p: Promise<unknown>, what: string) => assert.rejects(p, (e) => hasCode(e, 'BOLT_SQL'), what);
  const badInput = (p: Promise<unknown>, what: string) => assert.rejects(p, (e) => hasCode(e, 'BOLT_BAD_INPUT'), what);
  await sql(db.insertMany('k', ['id'], [[100], [1]], { requestId: 'dup-bulk' }), 'insertMany: duplicate key, request id');
  await sql(db.insertMany('k', ['id'], [[100], [1]]), 'insertMany: duplicate key');
  await badInput(db.insertMany('k', ['id', 'nope'], [[101, 1]], { requestId: 'unknown-col' }), 'insertMany: unknown column, request id');
  await sql(db.insertMany('k', ['id'], [['not a number']], { requestId: 'bad-value' }), 'insertMany: a value of the wrong type, request id');
  await sql(db.execute('INSERT INTO k VALUES (?)', [1], { requestId: 'dup-exec' }), 'execute: duplicate key, request id');
  await sql(db.execute('INSERT INTO nowhere VALUES (?)', [1], { requestId: 'no-table' }), 'execute: unknown table, request id');
  await sql(db.execute('INSERT INTO k VALUES (?)', [1]), 'execute: duplicate key');
  await sql(db.execute('INSERT INTO k VALUES (102); INSERT INTO k VALUES (1)', [], { requestId: 'script' }), 'script, request id');
  await sql(db.execute('INSERT INTO k VALUES (103); INSERT INTO k VALUES (1)'), 'script');
  // The same request id again after a failure: still a typed error, still nothing written.
  await sql(db.execute('INSERT INTO k VALUES (?)', [1], { requestId: 'dup-exec' }), 'execute: same id again');
  const s = await db.session({ name: 'failing' });
  try {
    await sql(s.execute('INSERT INTO k VALUES (?)', [1], { requestId: 'dup-session' }), 'session.execute: duplicate key, request id');
    await s.begin();
    await sql(s.execute('INSERT INTO k VALUES (?)', [1], { requestId: 'dup-session-tx' }), 'session.execute in a transaction');
    await s.rollback();
  } finally {
    await s.close();
  }
  await sql(
    db.transaction(
      async (tx) => {
        await tx.execute('INSERT INTO k VALUES (104)');
        await tx.execute('INSERT INTO k VALUES (1)');
      },
      { requestId: 'dup-tx' },
    ),
    'transaction with a request id',
  );
}

async function setUp(db: Database): Promise<void> {
  await db.execute('CREATE TABLE k (id INTEGER PRIMARY KEY)');
  await db.execute('INSERT INTO k VALUES (1)');
}

async function assertUnchanged(db: Database): Promise<void> {
  assert.deepEqual(await db.query('SELECT id FROM k ORDER BY id'), [{ id: 1 }]);
}

/** Records unhandled rejections of this process for the rest of the test. */
function unhandledRejections(t: TestContext): unknown[] {
  const seen: unknown[] = [];
  const onRejection = (reason: unknown) => void seen.push(reason);
  process.on('unhandledRejection', onRejection);
  t.after(() => void process.off('unhandledRejection', onRejection));
  return seen;
}

test('in the host process: failing writes reject, write nothing, and leave no unhandled rejection', T, async (t) => {
  const rejections = unhandledRejections(t);
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'));
  t.after(() => db.close());
  assert.equal(db.lockInfo().role, 'host');
  await setUp(db);
  await sendFailingWrites(db);
  // Unhandled rejections are reported once the microtask queue has drained.
  await nextTurn();
  await nextTurn();
  assert.deepEqual(rejections.map(String), []);
  await assertUnchanged(db);
  assert.equal((await db.execute('INSERT INTO k VALUES (2)', [], { requestId: 'after' })).rowsChanged, 1);
});

test("an error whose text claims DuckDB's FATAL error does not close the host under the others", T, async (t) => {
  // DuckDB prefixes its own errors with their class ("Invalid Input Error: …"); the host once
  // matched "FATAL Error" anywhere, so this statement closed it at once and interrupted every
  // other caller's statement.
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'f.db'));
  t.after(() => db.close());
  const startedAt = db.lockInfo().host?.startedAt;
  const long = db.query('SELECT count(*) AS n FROM range(600000000) r WHERE r.range % 7 = 0');
  for (const text of ['FATAL Error: pretend', 'Failed: database has been invalidated because of a previous fatal error']) {
    await assert.rejects(db.query('SELECT error(?)', [text]), (e) => hasCode(e, 'BOLT_SQL'));
  }
  assert.equal(Number((await long)[0]!.n), 85714286, 'the read running beside them completed');
  assert.equal(db.lockInfo().host?.startedAt, startedAt, 'the same host serves');
});

test("text a statement chose never passes for DuckDB's own conditions: BOLT_SQL, not conflict, disk full, lock or permission", T, async (t) => {
  // The class at the start of DuckDB's message ("IO Error", "TransactionContext Error") says
  // whose condition it is; the words after it can come from the statement. Matched anywhere,
  // error('Conflict on update') was re-run as a conflict, and error('… Conflicting lock is held
  // in x (PID 1)') returned PID 1's command line read from /proc.
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'i.db'));
  t.after(() => db.close());
  const texts = [
    'Conflict on update!',
    'TransactionContext Error: Conflict on tuple deletion!',
    'No space left on device',
    'Permission denied',
    'not a valid DuckDB database file',
    `IO Error: Could not set lock on file "x": Conflicting lock is held in /sbin/init (PID 1). See also`,
  ];
  for (const text of texts) {
    await assert.rejects(
      db.query('SELECT error(?)', [text]),
      (e: unknown) => hasCode(e, 'BOLT_SQL') && (e as { details: Record<string, unknown> }).details.pid === undefined,
      text,
    );
  }
  // Nor does a path the statement chose, which DuckDB quotes in its IO errors.
  const dir = tempDir(t);
  for (const name of ['No space left on device.csv', 'Permission denied.csv', 'not a valid DuckDB database file.csv']) {
    const path = join(dir, name).replaceAll("'", "''");
    await assert.rejects(db.query(`SELECT * FROM read_csv('${path}')`), (e: unknown) => hasCode(e, 'BOLT_SQL'), name);
  }
  // A stored string that fails a cast, or a duplicate key, is the data's error, whatever it says.
  await db.execute('CREATE TABLE said (s VARCHAR PRIMARY KEY)');
  await db.execute('INSERT INTO said VALUES (?)', ['Conflict on update']);
  await assert.rejects(db.query('SELECT CAST(s AS INTEGER) AS n FROM said'), (e: unknown) => hasCode(e, 'BOLT_SQL'));
  await assert.rejects(
    db.transaction((tx) => tx.execute('INSERT INTO said VALUES (?)', ['Conflict on update'])),
    (e: unknown) => hasCode(e, 'BOLT_SQL'),
  );
});

test('from a client: failing writes reject with BOLT_SQL and the host process keeps serving', T, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const host = await startFixture(t, 'bolt-host', [path, '0']);
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  assert.equal(db.lockInfo().role, 'client');
  const hostPid = async () => (await (db as ConcurrentDatabase).hostInfo()).pid;
  await db.execute('DROP TABLE t');
  await setUp(db);
  await sendFailingWrites(db);
  await assertUnchanged(db);
  // Still the same host: it did not die (which would have made this client take over).
  assert.equal(await hostPid(), host.pid);
  assert.equal(host.child.exitCode, null);
  assert.equal((await db.execute('INSERT INTO k VALUES (2)')).rowsChanged, 1);
  assert.equal(await hostPid(), host.pid);
});

test('bolt query: a failing script leaves nothing, whether the CLI hosts the file or is a client', T, async (t) => {
  const dir = tempDir(t);
  for (const withHost of [false, true]) {
    const path = join(dir, `${withHost ? 'hosted' : 'alone'}.db`);
    const db = await ConcurrentDatabase.open(path);
    await setUp(db);
    await db.close();
    if (withHost) await startFixture(t, 'bolt-host', [path, '0']);
    const r = await runBolt(['query', 'INSERT INTO k VALUES (5); INSERT INTO k VALUES (5)', '--db', path]);
    assert.notEqual(r.code, 0, r.stdout);
    assert.match(r.stderr, /BOLT_SQL/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    const after = await runBolt(['query', 'SELECT id FROM k ORDER BY id', '--db', path, '--json']);
    assert.equal(after.code, 0, after.stderr);
    assert.deepEqual(JSON.parse(after.stdout).rows, [{ id: 1 }], withHost ? 'through a client' : 'as the host');
  }
});

test('a failed bulk insert leaves nothing on its connection that could spoil a later transaction', T, async (t) => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  // One pooled connection: the transaction below runs where the failed bulk insert ran.
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'), { maxConnections: 1 });
  t.after(() => db.close());
  await setUp(db);
  await db.execute('CREATE TABLE n (v INTEGER)');
  await db.execute('INSERT INTO n VALUES (0)');
  for (let i = 1; i <= 3; i++) {
    await assert.rejects(db.insertMany('k', ['id'], [[100 + i], [1]]), (e) => hasCode(e, 'BOLT_SQL'));
    await db.transaction(async (tx) => {
      await tx.execute('UPDATE n SET v = v + 1');
      // An appender the failed insert left open would flush its rows here, when collected,
      // and silently invalidate this transaction.
      gc();
      await sleep(20);
      gc();
    });
    assert.deepEqual(await db.query('SELECT v FROM n'), [{ v: i }], `the transaction after failed bulk insert ${i} was applied`);
  }
  await assertUnchanged(db);
});
