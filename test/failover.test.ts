/**
 * Failover: SIGKILL the host process while clients write. A client takes over (DuckDB replays
 * its WAL), the others reconnect, and every acknowledged insert is present exactly once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import type { LockInfo } from '../core/database.js';
import { readSidecar, sidecarPath } from '../storage/platform/sidecar.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';
import { spawnAgent } from './helpers/agents.js';
import { sigkill, startFixture } from './helpers/fixture.js';

type LoopResult = { acked: number[]; errors: unknown[]; reads: number };

/** Waits until the sidecar of `path` names a host other than `oldPid` (a client took over). */
function waitForNewHost(path: string, oldPid: number): Promise<void> {
  return waitFor(
    () => {
      const s = readSidecar(sidecarPath(path));
      return !!s && s.pid !== oldPid;
    },
    20_000,
    'a new host',
  );
}

test('SIGKILL of the host: a client takes over, no acknowledged write lost or doubled', { timeout: 90_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const host = await spawnAgent(t, path);
  await host.call('open');
  await host.call('execute', { sql: 'CREATE TABLE w (writer VARCHAR, seq INTEGER)' });
  const clients = await Promise.all([spawnAgent(t, path), spawnAgent(t, path), spawnAgent(t, path)]);
  for (const c of clients) assert.equal((await c.call<{ lockInfo: LockInfo }>('open')).lockInfo.role, 'client');

  const loops = clients.map((c, i) => c.call<LoopResult>('writeLoop', { writer: `c${i}`, callers: 4 }));
  // Let them write, then kill the host mid-stream.
  await waitFor(
    async () => Number((await clients[0]!.call<Array<{ n: bigint }>>('query', { sql: 'SELECT count(*) AS n FROM w' }))[0]!.n) > 300,
    20_000,
    'writes before the kill',
  );
  const deadSocket = readSidecar(sidecarPath(path))!.socket;
  assert.ok(existsSync(deadSocket), 'the host serves on its socket');
  host.kill('SIGKILL');
  await host.exited;
  // A client has become the host.
  await waitForNewHost(path, host.pid);
  const newHost = readSidecar(sidecarPath(path))!;
  assert.ok(
    clients.some((c) => c.pid === newHost.pid),
    'the new host is one of the clients',
  );
  // The dead host could not remove its socket file; the new host does (each failover left one).
  await waitFor(() => !existsSync(deadSocket), 10_000, `the dead host's socket ${deadSocket} to be removed`);
  assert.ok(existsSync(newHost.socket), "the new host's socket stays");
  // Keep writing through the new host for a while, then stop.
  await waitFor(
    async () => Number((await clients[1]!.call<Array<{ n: bigint }>>('query', { sql: 'SELECT count(*) AS n FROM w' }))[0]!.n) > 1500,
    30_000,
    'writes after the kill',
  );
  await Promise.all(clients.map((c) => c.call('stopWriting')));
  const results = await Promise.all(loops);
  for (const [i, r] of results.entries()) {
    assert.deepEqual(r.errors, [], `client c${i} saw errors`);
    const rows = await clients[0]!.call<Array<{ seq: number; n: bigint }>>('query', {
      sql: 'SELECT seq, count(*) AS n FROM w WHERE writer = ? GROUP BY seq',
      params: [`c${i}`],
    });
    const doubled = rows.filter((x) => x.n !== 1n);
    assert.deepEqual(doubled, [], `c${i}: rows applied more than once`);
    const present = new Set(rows.map((x) => x.seq));
    const missing = r.acked.filter((s) => !present.has(s));
    assert.deepEqual(missing, [], `c${i}: acknowledged rows missing`);
    // Unacknowledged seqs (none expected: every write is retried to success) must not appear either.
    assert.equal(rows.length, r.acked.length, `c${i}: rows present = acknowledged`);
  }
  for (const c of clients) await c.call('close');
  // The file is consistent afterwards for a fresh opener.
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  const total = results.reduce((a, r) => a + r.acked.length, 0);
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM w'), [{ n: total }]);
});

test('exactlyOnce: false — a write in flight at the kill fails with BOLT_OUTCOME_UNKNOWN, never silently', { timeout: 90_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const host = await spawnAgent(t, path);
  await host.call('open');
  await host.call('execute', { sql: 'CREATE TABLE w (writer VARCHAR, seq INTEGER)' });
  const clients = await Promise.all([spawnAgent(t, path, { exactlyOnce: false }), spawnAgent(t, path, { exactlyOnce: false })]);
  for (const c of clients) await c.call('open');
  const loops = clients.map((c, i) => c.call<LoopResult>('writeLoop', { writer: `c${i}`, callers: 4 }));
  await waitFor(
    async () => Number((await clients[0]!.call<Array<{ n: bigint }>>('query', { sql: 'SELECT count(*) AS n FROM w' }))[0]!.n) > 300,
    20_000,
    'writes before the kill',
  );
  host.kill('SIGKILL');
  await host.exited;
  await waitForNewHost(path, host.pid);
  await waitFor(
    async () => Number((await clients[1]!.call<Array<{ n: bigint }>>('query', { sql: 'SELECT count(*) AS n FROM w' }))[0]!.n) > 1000,
    30_000,
    'writes after the kill',
  );
  await Promise.all(clients.map((c) => c.call('stopWriting')));
  const results = await Promise.all(loops);
  for (const [i, r] of results.entries()) {
    const codes = new Set((r.errors as Array<{ code: string }>).map((e) => e.code));
    assert.ok(
      [...codes].every((c) => c === 'BOLT_OUTCOME_UNKNOWN'),
      `c${i}: ${[...codes].join(',')}`,
    );
    const rows = await clients[0]!.call<Array<{ seq: number; n: bigint }>>('query', {
      sql: 'SELECT seq, count(*) AS n FROM w WHERE writer = ? GROUP BY seq',
      params: [`c${i}`],
    });
    assert.deepEqual(
      rows.filter((x) => x.n !== 1n),
      [],
      `c${i}: a row applied twice`,
    );
    const present = new Set(rows.map((x) => x.seq));
    assert.deepEqual(
      r.acked.filter((s) => !present.has(s)),
      [],
      `c${i}: acknowledged rows missing`,
    );
    // Rows present but never acknowledged can only be the ones reported as unknown.
    assert.ok(rows.length - r.acked.length <= r.errors.length, `c${i}: unreported extra rows`);
    t.diagnostic(`c${i}: ${r.acked.length} acknowledged, ${r.errors.length} BOLT_OUTCOME_UNKNOWN, ${rows.length - r.acked.length} of those applied`);
  }
  for (const c of clients) await c.call('close');
});

test("SIGKILL of the host during a client's backup: the backup runs again on the next host", { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'a.db');
  // Enough rows that the copy takes about a second on this machine.
  const host = await startFixture(t, 'bolt-host', [path, '60000000'], 60_000);
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  assert.ok(db instanceof ConcurrentDatabase);
  assert.equal(db.lockInfo().role, 'client');
  const dest = join(dir, 'nightly.db');
  const backup = db.backup(dest);
  await waitFor(() => readdirSync(dir).some((n) => n.startsWith('.bolt-backup-')), 30_000, 'the host writing the copy');
  await sigkill(host);
  // It was a write without a request id (BOLT_OUTCOME_UNKNOWN); a backup is published whole or not at all.
  const r = await backup;
  assert.deepEqual(
    r.tables.map((x) => [x.name, Number(x.rows)]),
    [['t', 60_000_000]],
  );
  assert.ok(existsSync(dest));
  assert.equal(db.lockInfo().role, 'host');
});
