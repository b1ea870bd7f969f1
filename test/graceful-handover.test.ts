/**
 * Graceful handover: when the host process ends normally (its work done, or close()), it
 * finishes in-flight requests, CHECKPOINTs and releases; a client takes over and its callers
 * see no error.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import type { LockInfo } from '../core/database.js';
import { readSidecar, sidecarPath } from '../storage/platform/sidecar.js';
import { tempDir } from './helpers/tmp.js';
import { spawnAgent } from './helpers/agents.js';

type LoopResult = { acked: number[]; errors: unknown[]; reads: number };

test('the host closes while clients write: a client takes over, nothing lost, no errors', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const host = await spawnAgent(t, path);
  await host.call('open');
  await host.call('execute', { sql: 'CREATE TABLE w (writer VARCHAR, seq INTEGER)' });
  const clients = await Promise.all([spawnAgent(t, path), spawnAgent(t, path)]);
  for (const c of clients) assert.equal((await c.call<{ lockInfo: LockInfo }>('open')).lockInfo.role, 'client');
  const loops = clients.map((c, i) => c.call<LoopResult>('writeLoop', { writer: `c${i}`, callers: 3 }));
  const count = async () => Number((await clients[0]!.call<Array<{ n: bigint }>>('query', { sql: 'SELECT count(*) AS n FROM w' }))[0]!.n);
  const end = Date.now() + 20_000;
  while ((await count()) < 200) if (Date.now() > end) throw new Error('no writes');
  // Normal end of the host process: close(), then exit 0.
  await host.call('close');
  host.child!.send({ op: 'exit' });
  await host.exited;
  assert.equal(host.child!.exitCode, 0);
  const end2 = Date.now() + 20_000;
  while (!readSidecar(sidecarPath(path)) || readSidecar(sidecarPath(path))!.pid === host.pid) {
    if (Date.now() > end2) throw new Error('no new host');
    await new Promise((r) => setTimeout(r, 20));
  }
  const before = await count();
  while ((await count()) < before + 200) if (Date.now() > end2) throw new Error('no writes after handover');
  await Promise.all(clients.map((c) => c.call('stopWriting')));
  const results = await Promise.all(loops);
  let total = 0;
  for (const [i, r] of results.entries()) {
    assert.deepEqual(r.errors, [], `c${i}`);
    total += r.acked.length;
    const rows = await clients[0]!.call<Array<{ seq: number }>>('query', { sql: 'SELECT seq FROM w WHERE writer = ?', params: [`c${i}`] });
    const present = new Set(rows.map((x) => x.seq));
    const missing = r.acked.filter((s) => !present.has(s));
    assert.deepEqual(missing, [], `c${i}: acknowledged rows missing (of ${r.acked.length}; ${rows.length} present)`);
  }
  const counts = [];
  // Repeated counts (a stale prepared plan once answered these with the pre-handover count).
  for (let i = 0; i < 24; i++) counts.push(await count());
  assert.deepEqual([...new Set(counts)], [total], 'every count sees every row');
  for (const c of clients) await c.call('close');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM w'), [{ n: total }]);
});
