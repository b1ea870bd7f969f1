/**
 * A stopped (hung) host: waiting client requests fail after BOLT_HOST_TIMEOUT_MS of silence —
 * reads with BOLT_HOST_UNRESPONSIVE, writes with BOLT_OUTCOME_UNKNOWN — instead of hanging;
 * once the host runs again the client reconnects. A long query on a healthy host does not
 * trip the watchdog.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';
import { spawnAgent } from './helpers/agents.js';

test('requests to a SIGSTOPped host fail with typed errors, then recover on SIGCONT', { timeout: 60_000 }, async (t) => {
  process.env.BOLT_HOST_TIMEOUT_MS = '1200';
  t.after(() => delete process.env.BOLT_HOST_TIMEOUT_MS);
  const path = join(tempDir(t), 'a.db');
  const host = await spawnAgent(t, path);
  await host.call('open');
  await host.call('execute', { sql: 'CREATE TABLE t (x INTEGER)' });
  const db = await ConcurrentDatabase.open(path, { lockTimeoutMs: 20_000 });
  t.after(() => db.close());
  assert.equal(db.lockInfo().role, 'client');

  // A long query on a healthy host: the host keeps answering pings, nothing trips.
  const t0 = Date.now();
  const rows = await db.query('SELECT count(*)::INTEGER AS n FROM range(1000000000) r(i) WHERE i % 7 = 0');
  assert.deepEqual(rows, [{ n: 142857143 }]);
  t.diagnostic(`long query took ${Date.now() - t0} ms with a 1200 ms silence limit`);

  process.kill(host.pid, 'SIGSTOP');
  t.after(() => {
    try {
      process.kill(host.pid, 'SIGCONT');
    } catch {
      /* gone */
    }
  });
  const started = Date.now();
  const [read, write] = await Promise.allSettled([db.query('SELECT 1 AS x'), db.execute('INSERT INTO t VALUES (1)')]);
  const waited = Date.now() - started;
  assert.equal(read.status, 'rejected');
  assert.equal(write.status, 'rejected');
  assert.ok(hasCode((read as PromiseRejectedResult).reason, 'BOLT_HOST_UNRESPONSIVE'), String((read as PromiseRejectedResult).reason));
  assert.ok(hasCode((write as PromiseRejectedResult).reason, 'BOLT_OUTCOME_UNKNOWN'), String((write as PromiseRejectedResult).reason));
  assert.ok(waited >= 1000 && waited < 15_000, `failed after ${waited} ms`);

  process.kill(host.pid, 'SIGCONT');
  assert.deepEqual(await db.query('SELECT 2 AS x'), [{ x: 2 }]);
  assert.equal(db.lockInfo().host?.pid, host.pid);
});
