/**
 * Requests and replies larger than a frame may hold (BOLT_MAX_FRAME_BYTES, here 1 MiB on both
 * sides) are BOLT_BAD_INPUT at once: the receiving side would close the connection, the client
 * take that for a lost host and send the request again until its failover deadline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { fixturePath, spawnChild } from './helpers/fixture.js';
import { tempDir } from './helpers/tmp.js';

const LIMIT = String(1024 * 1024);

/** A host with a 1 MiB frame limit and a client of it with the same limit. */
async function smallFrames(t: import('node:test').TestContext) {
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
  return { host, db };
}

test('a request over the frame limit is BOLT_BAD_INPUT before it is sent; nothing is written', { timeout: 60_000 }, async (t) => {
  const { host, db } = await smallFrames(t);
  await db.execute('CREATE TABLE s (v VARCHAR)');
  const started = Date.now();
  await assert.rejects(
    db.execute('INSERT INTO s VALUES (?)', ['x'.repeat(2_000_000)]),
    (e) => hasCode(e, 'BOLT_BAD_INPUT') && /more than a frame may hold/.test((e as Error).message),
  );
  await assert.rejects(db.insertMany('s', ['v'], [['x'.repeat(2_000_000)]]), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
  assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM s'), [{ n: 0 }]);
  assert.equal(host.child.exitCode, null);
});

test('a reply over the frame limit is BOLT_BAD_INPUT at once; the connection and the host keep serving', { timeout: 60_000 }, async (t) => {
  const { host, db } = await smallFrames(t);
  const started = Date.now();
  await assert.rejects(
    db.query("SELECT repeat('x', 2000000) AS s"),
    (e) => hasCode(e, 'BOLT_BAD_INPUT') && /more than a frame may hold/.test((e as Error).message),
  );
  assert.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
  assert.deepEqual(await db.query("SELECT length(repeat('x', 1000))::INTEGER AS n"), [{ n: 1000 }]);
  assert.equal(host.child.exitCode, null);
});
