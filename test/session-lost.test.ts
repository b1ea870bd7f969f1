/**
 * A session lives on its host: when the host is SIGKILLed, the session's calls say so with
 * BOLT_SESSION_LOST (its transaction was rolled back with the host), not as an unresponsive
 * host; a write whose outcome is open stays BOLT_OUTCOME_UNKNOWN; `transaction()` re-runs a
 * closure whose session was lost on the new host. A host that closes gracefully (handing the
 * file over) ends its sessions the same way.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';
import { sigkill, startFixture } from './helpers/fixture.js';
import { spawnAgent } from './helpers/agents.js';
import { waitFor } from './helpers/wait.js';

const T = { timeout: 60_000 };
/** Runs for far longer than any test: only a host kill ends it. */
const ENDLESS = 'SELECT sum(a.range * b.range) AS s FROM range(1000000) a, range(1000000) b';

/** `p` with its rejection marked handled (it is asserted on later, after the host is killed). */
function settled<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

test('statements of a session whose host was killed fail with BOLT_SESSION_LOST', T, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const host = await startFixture(t, 'bolt-host', [path, '3']);
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  assert.equal(db.lockInfo().role, 'client');

  const inTx = await db.session({ name: 'in-tx' });
  await inTx.begin();
  await inTx.execute('INSERT INTO t VALUES (100)');
  const reading = await db.session({ name: 'reading' });
  // Settled (never left rejected unhandled) while the host is being killed.
  const inFlight = settled(reading.query(ENDLESS));
  const autocommit = await db.session({ name: 'autocommit' });
  await nextTurn();
  const writeInFlight = settled(autocommit.execute(`INSERT INTO t SELECT count(*) FROM (${ENDLESS})`));
  await nextTurn();
  await sigkill(host);

  await assert.rejects(
    inFlight,
    (e) => hasCode(e, 'BOLT_SESSION_LOST') && e.details.sent === true && hasCode(e.cause, 'BOLT_HOST_UNRESPONSIVE'),
    'a read in flight, caused by the lost connection',
  );
  await assert.rejects(writeInFlight, (e) => hasCode(e, 'BOLT_OUTCOME_UNKNOWN'), 'a write outside a transaction in flight');
  await assert.rejects(
    inTx.execute('INSERT INTO t VALUES (101)'),
    (e) => hasCode(e, 'BOLT_SESSION_LOST') && /rolled back/.test(e.message),
    'next statement in the transaction',
  );
  await assert.rejects(inTx.commit(), (e) => hasCode(e, 'BOLT_SESSION_LOST'), 'commit after the loss');
  await assert.rejects(reading.query('SELECT 1'), (e) => hasCode(e, 'BOLT_SESSION_LOST'), 'a later read');
  await inTx.rollback(); // the transaction is gone already: nothing to do, no error
  await Promise.all([inTx.close(), reading.close(), autocommit.close()]);

  // The handle itself fails over: its new host has none of the lost transaction's rows.
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t WHERE i >= 100'), [{ n: 0 }]);
  const fresh = await db.session();
  assert.deepEqual(await fresh.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 3 }]);
  await fresh.close();
});

test('transaction() re-runs a closure whose session was lost with its host, even without a request id', T, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const host = await startFixture(t, 'bolt-host', [path, '0']);
  const db = await ConcurrentDatabase.open(path, { exactlyOnce: false });
  t.after(() => db.close());
  let runs = 0;
  await db.transaction(async (tx) => {
    runs++;
    await tx.execute('INSERT INTO t VALUES (?)', [runs]);
    if (runs === 1) await sigkill(host);
    await tx.execute('INSERT INTO t VALUES (?)', [runs * 10]);
  });
  assert.equal(runs, 2);
  assert.deepEqual(await db.query('SELECT i FROM t ORDER BY i'), [{ i: 2 }, { i: 20 }]);
  assert.equal(db.lockInfo().role, 'host');
});

test('a host that closes gracefully ends its sessions with BOLT_SESSION_LOST; transaction() re-runs on the next host', T, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const host = await spawnAgent(t, path);
  await host.call('open');
  await host.call('execute', { sql: 'CREATE TABLE t (i INTEGER)' });
  const db = await ConcurrentDatabase.open(path, { exactlyOnce: false });
  t.after(() => db.close());
  assert.equal(db.lockInfo().role, 'client');
  const s = await db.session({ name: 'open-tx' });
  await s.begin();
  await s.execute('INSERT INTO t VALUES (1)');
  // A statement still running when the host closes is interrupted: the session is gone.
  const reading = await db.session({ name: 'reading' });
  const inFlight = settled(reading.query(ENDLESS));
  await waitFor(async () => ((await (db as ConcurrentDatabase).hostInfo()).sessions as number) >= 2, 10_000, 'both sessions on the host');
  let runs = 0;
  await db.transaction(async (tx) => {
    runs++;
    await tx.execute('INSERT INTO t VALUES (?)', [runs * 10]);
    if (runs === 1) await host.call('close');
    await tx.execute('INSERT INTO t VALUES (?)', [runs * 10 + 1]);
  });
  assert.equal(runs, 2);
  await assert.rejects(inFlight, (e) => hasCode(e, 'BOLT_SESSION_LOST'), 'the statement the closing host interrupted');
  await reading.close();
  await assert.rejects(s.execute('INSERT INTO t VALUES (2)'), (e) => hasCode(e, 'BOLT_SESSION_LOST'));
  await s.close();
  assert.deepEqual(await db.query('SELECT i FROM t ORDER BY i'), [{ i: 20 }, { i: 21 }]);
});
