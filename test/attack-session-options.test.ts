/**
 * Session options from a careless or hostile caller: an option of the wrong type, a negative
 * or out-of-range time limit (which silently meant "no limit", or a timer that fired at once)
 * are BOLT_BAD_INPUT before any connection is taken, in the host's process and over its socket;
 * the pool keeps every connection and the host keeps serving.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { readSidecar, sidecarPath } from '../storage/platform/sidecar.js';
import { encodeFrame } from '../storage/host/wire/frame.js';
import { fixturePath, spawnChild } from './helpers/fixture.js';
import { rawConnect } from './helpers/raw-client.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const BAD: Array<[unknown, unknown?]> = [
  ['x'],
  [-1],
  [[1, 2]],
  [{ name: { a: 1 } }],
  [{ readOnly: 'yes' }],
  [{ idleTimeoutMs: -5 }],
  [{ idleTimeoutMs: '1000' }],
  [{ maxTransactionMs: Number.NaN }],
  [{ maxTransactionMs: 1e300 }],
  [{}, -1],
  [{}, Infinity],
  [{}, 1e300],
];

test('in the host process: bad session options are BOLT_BAD_INPUT and take no connection', { timeout: 60_000 }, async (t) => {
  const db = await ConcurrentDatabase.open(join(tempDir(t), 'a.db'), { maxConnections: 2 });
  t.after(() => db.close());
  for (const [opts] of BAD.filter(([, timeout]) => timeout === undefined)) {
    await assert.rejects(db.session(opts as never), (e) => hasCode(e, 'BOLT_BAD_INPUT'), JSON.stringify(opts));
  }
  assert.equal(db.stats().pool.inUse, 0);
  const s = await db.session({ name: 'fine', idleTimeoutMs: 0, maxTransactionMs: Infinity });
  assert.deepEqual(await s.query('SELECT 1 AS x'), [{ x: 1 }]);
  await s.close();
});

test('over the socket: bad session.open options are BOLT_BAD_INPUT, the pool keeps its connections', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const host = spawnChild(t, process.execPath, [fixturePath('bolt-host'), path, '0'], { env: { BOLT_LOG_LEVEL: 'fatal' } });
  await host.waitForLine(/^ready$/, 30_000);
  const raw = await rawConnect(readSidecar(sidecarPath(path))!.socket!);
  t.after(() => raw.sock.destroy());
  let id = 1;
  for (const [options, connectionTimeoutMs] of BAD) {
    const req = { id: id++, op: 'session.open', options, connectionTimeoutMs };
    raw.sock.write(encodeFrame(req));
    await waitFor(() => raw.replies.some((r) => r.id === req.id), 20_000, `reply to ${JSON.stringify(req)}`);
    const reply = raw.replies.find((r) => r.id === req.id)!;
    assert.equal(reply.ok, false, `${JSON.stringify(req)} was accepted`);
    assert.equal(reply.error?.code, 'BOLT_BAD_INPUT', JSON.stringify(reply));
  }
  raw.sock.write(encodeFrame({ id: id, op: 'stats' }));
  await waitFor(() => raw.replies.some((r) => r.id === id), 20_000, 'stats');
  const stats = raw.replies.find((r) => r.id === id)!.result as { pool: { inUse: number }; sessions: unknown[] };
  assert.equal(stats.pool.inUse, 0);
  assert.deepEqual(stats.sessions, []);
  assert.equal(host.child.exitCode, null);
});
