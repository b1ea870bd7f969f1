/**
 * A request whose reply is larger than a frame may hold (BOLT_MAX_FRAME_BYTES, here 1 MiB on
 * both sides): the host answers BOLT_BAD_INPUT once, instead of sending a frame the client
 * drops, takes for a lost host, and sends the request again until its failover deadline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { fixturePath, spawnChild } from './helpers/fixture.js';
import { tempDir } from './helpers/tmp.js';

const LIMIT = String(1024 * 1024);

test('a reply over the frame limit is BOLT_BAD_INPUT at once; the connection and the host keep serving', { timeout: 60_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const host = spawnChild(t, process.execPath, [fixturePath('bolt-host'), path, '0'], { env: { BOLT_LOG_LEVEL: 'fatal', BOLT_MAX_FRAME_BYTES: LIMIT } });
  await host.waitForLine(/^ready$/, 30_000);
  const before = process.env.BOLT_MAX_FRAME_BYTES;
  process.env.BOLT_MAX_FRAME_BYTES = LIMIT;
  t.after(() => {
    if (before === undefined) delete process.env.BOLT_MAX_FRAME_BYTES;
    else process.env.BOLT_MAX_FRAME_BYTES = before;
  });
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  assert.equal(db.lockInfo().role, 'client');
  const started = Date.now();
  await assert.rejects(db.query("SELECT repeat('x', 2000000) AS s"), (e) => hasCode(e, 'BOLT_BAD_INPUT') && /more than a frame may hold/.test((e as Error).message));
  assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
  assert.deepEqual(await db.query("SELECT length(repeat('x', 1000))::INTEGER AS n"), [{ n: 1000 }]);
  assert.equal(host.child.exitCode, null);
});
