/**
 * The runtime's health check finds and fixes stale Bolt locks of other databases next to its
 * own: a sidecar and socket left by a SIGKILLed host are removed and reported in `db:health`;
 * a live host's sidecar and socket, and the runtime's own sidecar, are left alone.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { sigkill, startFixture } from './helpers/fixture.js';
import { BoltIntegration } from '../core/runtime/bolt-integration.js';
import type { DbHealthEvent } from '../core/events.js';
import { sidecarPath } from '../storage/platform/sidecar.js';
import { hostSocketPath } from '../storage/platform/socket-path.js';
import { sweepStaleLocks } from '../storage/host/stale-sweep.js';
import { spawnBolt } from './helpers/runtime-process.js';
import { otherUser, otherUserUnavailable } from './helpers/other-user.js';

test("db:health removes a dead host's sidecar and socket next to the database and leaves a live host's alone", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const deadDb = join(dir, 'dead.db');
  const liveDb = join(dir, 'live.db');
  const dead = await startFixture(t, 'sidecar-host', [deadDb]);
  const deadSocket = hostSocketPath(deadDb, dead.pid);
  const live = await startFixture(t, 'sidecar-host', [liveDb]);
  const liveSocket = hostSocketPath(liveDb, live.pid);
  await sigkill(dead);
  // What a SIGKILLed host leaves: its sidecar (no flock any more) and its socket file.
  assert.ok(existsSync(sidecarPath(deadDb)) && existsSync(deadSocket), 'the killed host left its files');
  assert.ok(existsSync(sidecarPath(liveDb)) && existsSync(liveSocket));

  const bolt = new BoltIntegration({ agents: 1, database: join(dir, 'analytics.db'), healthIntervalMs: 100 });
  t.after(() => bolt.shutdown({ immediate: true }));
  const events: DbHealthEvent[] = [];
  const fixedSeen = new Promise<DbHealthEvent>((resolve) => {
    bolt.on('db:health', (e) => {
      events.push(e);
      if (e.fixed.length) resolve(e);
    });
  });
  await bolt.initialize();
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no db:health reported a fix in ${events.length} checks`)), 20_000).unref(),
  );
  const ev = await Promise.race([fixedSeen, timeout]);
  assert.equal(ev.ok, true);
  assert.deepEqual(
    [...ev.fixed].sort((a, b) => a.kind.localeCompare(b.kind)),
    [
      { path: deadSocket, kind: 'dead-socket' },
      { path: sidecarPath(deadDb), kind: 'stale-sidecar' },
    ],
  );
  assert.equal(existsSync(sidecarPath(deadDb)), false, 'stale sidecar removed');
  assert.equal(existsSync(deadSocket), false, 'dead socket removed');
  assert.equal(bolt.status().fixedTotal, 2);

  // Later checks keep finding nothing to fix, and never touch the live host or our own files.
  const n = events.length;
  while (events.length < n + 3) await new Promise<void>((r) => bolt.once('db:health', () => r()));
  assert.ok(
    events.slice(n).every((e) => e.ok && e.fixed.length === 0),
    JSON.stringify(events.slice(n)),
  );
  assert.ok(existsSync(sidecarPath(liveDb)), 'live host sidecar kept');
  assert.ok(existsSync(liveSocket), 'live host socket kept');
  assert.ok(existsSync(sidecarPath(join(dir, 'analytics.db'))), 'own sidecar kept');
  assert.equal(live.child.exitCode, null, 'the live host was not signalled');
  const row = await bolt.getDatabaseManager(join(dir, 'analytics.db')).query('SELECT 1 AS ok');
  assert.equal(Number(row[0].ok), 1);
});

test(
  "the sweep skips a directory with too many entries and ignores non-sidecar files and files that only have a sidecar's name",
  { timeout: 10_000 },
  async (t) => {
    const dir = tempDir(t);
    // An unreadable, old-enough "sidecar" would be removed; in a crowded directory nothing is looked at.
    writeFileSync(join(dir, 'x.db.bolt.lock'), '');
    for (let i = 0; i < 5; i++) writeFileSync(join(dir, `f${i}`), '');
    mkdirSync(join(dir, 'd.bolt.lock'));
    const r = await sweepStaleLocks(join(dir, 'main.db'), { maxEntries: 3 });
    assert.deepEqual(r.fixed, []);
    assert.match(r.skipped ?? '', /more than 3/);
    // A young empty sidecar may be a host still writing it: kept even when the dir is swept.
    const r2 = await sweepStaleLocks(join(dir, 'main.db'));
    assert.deepEqual(r2, { fixed: [] });
    assert.deepEqual(readdirSync(dir).sort(), ['d.bolt.lock', 'f0', 'f1', 'f2', 'f3', 'f4', 'x.db.bolt.lock']);
    // Once it is old, an unflocked empty sidecar is debris; a file of that name holding anything
    // Bolt does not write is somebody else's, and stays.
    writeFileSync(join(dir, 'notes.bolt.lock'), 'my notes\n');
    const old = new Date(Date.now() - 60_000);
    utimesSync(join(dir, 'x.db.bolt.lock'), old, old);
    utimesSync(join(dir, 'notes.bolt.lock'), old, old);
    const r3 = await sweepStaleLocks(join(dir, 'main.db'));
    assert.deepEqual(r3, { fixed: [{ path: join(dir, 'x.db.bolt.lock'), kind: 'stale-sidecar' }] });
    assert.deepEqual(readdirSync(dir).sort(), ['d.bolt.lock', 'f0', 'f1', 'f2', 'f3', 'f4', 'notes.bolt.lock']);
  },
);

test(
  "the sweep leaves another user's stale sidecar and socket to that user, and removes its own user's",
  { timeout: 60_000, skip: otherUserUnavailable() },
  async (t) => {
    const dir = tempDir(t);
    const user = otherUser(t);
    const theirs = join(dir, 'theirs.db');
    const mine = join(dir, 'mine.db');
    const a = await startFixture(t, 'sidecar-host', [theirs]);
    const b = await startFixture(t, 'sidecar-host', [mine]);
    const theirSocket = hostSocketPath(theirs, a.pid);
    await sigkill(a);
    await sigkill(b);
    // What that user's SIGKILLed host would have left: its sidecar and socket, owned by them.
    chownSync(sidecarPath(theirs), user.uid, user.gid);
    chownSync(theirSocket, user.uid, user.gid);
    const r = await sweepStaleLocks(join(dir, 'analytics.db'));
    assert.deepEqual(
      r.fixed.map((f) => [f.kind, f.path]).sort(),
      [
        ['dead-socket', hostSocketPath(mine, b.pid)],
        ['stale-sidecar', sidecarPath(mine)],
      ].sort(),
    );
    assert.ok(existsSync(sidecarPath(theirs)) && existsSync(theirSocket), "the other user's files are kept");
  },
);

test('bolt start logs each stale lock it removed as a plain line', { timeout: 60_000 }, async (t) => {
  const cwd = tempDir(t);
  const db = join(cwd, 'data', 'main.db');
  mkdirSync(join(cwd, 'data'));
  const otherDb = join(cwd, 'data', 'other.db');
  const dead = await startFixture(t, 'sidecar-host', [otherDb]);
  const socket = hostSocketPath(otherDb, dead.pid);
  await sigkill(dead);
  const rt = spawnBolt(t, ['start', '--agents', '1', '--db', db], { cwd, env: { BOLT_HEALTH_MS: '100' } });
  await rt.waitForLine(/^ready: /);
  const line = await rt.waitForLine(/removed stale sidecar/);
  assert.ok(line.includes(sidecarPath(otherDb)), line);
  await rt.waitForLine(new RegExp(`removed dead socket ${socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.equal(existsSync(sidecarPath(otherDb)), false);
  assert.equal(existsSync(socket), false);
  rt.child.kill('SIGINT');
  assert.equal((await rt.exited).code, 0);
});
