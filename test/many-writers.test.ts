/**
 * Many writers, nothing lost: 8 processes × 4 concurrent callers insert their own rows and
 * read others' for a few seconds (the issue's 10 s scaled down to keep the file under a
 * minute on 2 cores). No error reaches a caller; every acknowledged insert is present once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import type { LockInfo } from '../core/database.js';
import { tempDir } from './helpers/tmp.js';
import { spawnAgent } from './helpers/agents.js';

const PROCESSES = 8;
const CALLERS = 4;
const SECONDS = Number(process.env.BOLT_TEST_WRITERS_SECONDS ?? 4);

test(`${PROCESSES} processes × ${CALLERS} callers write for ${SECONDS} s: all acknowledged rows present exactly once`, { timeout: 120_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const agents = await Promise.all(Array.from({ length: PROCESSES }, () => spawnAgent(t, path)));
  const opened = await Promise.all(agents.map((a) => a.call<{ lockInfo: LockInfo }>('open')));
  const roles = opened.map((o) => o.lockInfo.role);
  assert.equal(roles.filter((r) => r === 'host').length, 1, `roles: ${roles.join(',')}`);
  const hostPid = opened.find((o) => o.lockInfo.role === 'host')!.lockInfo.host!.pid;
  for (const o of opened) assert.equal(o.lockInfo.host!.pid, hostPid);
  await agents[0]!.call('execute', { sql: 'CREATE TABLE IF NOT EXISTS w (writer VARCHAR, seq INTEGER)' });

  const results = await Promise.all(
    agents.map((a, i) => a.call<{ acked: number[]; errors: unknown[]; reads: number }>('writeLoop', { writer: `p${i}`, callers: CALLERS, ms: SECONDS * 1000 })),
  );
  const counts = await agents[1]!.call<Array<{ writer: string; n: number; d: number }>>('query', {
    sql: 'SELECT writer, count(*)::INTEGER AS n, count(DISTINCT seq)::INTEGER AS d FROM w GROUP BY writer ORDER BY writer',
  });
  const byWriter = new Map(counts.map((c) => [c.writer, c]));
  let total = 0;
  for (const [i, r] of results.entries()) {
    assert.deepEqual(r.errors, [], `p${i}: errors reached callers`);
    assert.ok(r.acked.length > 0 && r.reads > 0, `p${i} wrote and read`);
    const c = byWriter.get(`p${i}`)!;
    assert.equal(c.n, r.acked.length, `p${i}: rows present = acknowledged`);
    assert.equal(c.d, c.n, `p${i}: no duplicates`);
    total += r.acked.length;
  }
  t.diagnostic(`${total} inserts acknowledged in ${SECONDS} s by ${PROCESSES * CALLERS} callers (${Math.round(total / SECONDS)}/s)`);
  await Promise.all(agents.map((a) => a.call('close')));
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM w'), [{ n: total }]);
});
