/**
 * Closing a client handle while its requests are in flight (a real host in a child process):
 * a request that may have written is BOLT_OUTCOME_UNKNOWN, not BOLT_CLOSED (the host may well
 * apply it), and the closed handle does not fail over: it leaves no connection to the host.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { clientOfChildHost } from './helpers/child-host.js';
import { waitFor } from './helpers/wait.js';

interface WireInfo {
  clients: number;
  wire: { running: number };
}

test('closing a client handle with writes in flight: BOLT_OUTCOME_UNKNOWN, and no connection left behind', { timeout: 120_000 }, async (t) => {
  const { host, path, db: observer } = await clientOfChildHost(t);
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await db.execute('CREATE TABLE u (k BIGINT)');
  const info = async () => (await observer.hostInfo()) as unknown as WireInfo;
  assert.equal((await info()).clients, 2);

  const settled = [
    db.execute('INSERT INTO u SELECT range FROM range(200000000)'),
    db.insertMany('u', ['k'], [[1], [2]]),
    db.transaction(async (tx) => {
      await tx.execute('INSERT INTO u VALUES (3)');
      await tx.query('SELECT count(*) FROM range(2000000000)');
    }),
  ].map((p) =>
    p.then(
      () => 'applied',
      (e: unknown) => e,
    ),
  );
  await waitFor(async () => (await info()).wire.running >= 2, 30_000, 'the requests to be running on the host');
  await db.close();
  const outcomes = await Promise.all(settled);
  for (const o of outcomes) {
    assert.ok(o === 'applied' || hasCode(o, 'BOLT_OUTCOME_UNKNOWN'), `applied or BOLT_OUTCOME_UNKNOWN, got ${String((o as Error).stack ?? o)}`);
  }
  assert.ok(
    outcomes.some((o) => o !== 'applied'),
    'at least one request was still in flight at close',
  );
  // The closed handle re-elected nothing: only the observer is connected.
  await waitFor(async () => (await info()).clients === 1, 10_000, 'the closed handle to leave no connection to the host');
  await assert.rejects(db.query('SELECT 1'), (e) => hasCode(e, 'BOLT_CLOSED'));
  assert.equal(host.child.exitCode, null, 'the host still serves');
});
