/**
 * Hostile clients of a host (a real host in a child process, real raw sockets from the test):
 * one that never reads its replies, one that sends a truncated frame, more connections than the
 * host allows. Each is contained to its own connection and the host keeps serving the others.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { readSidecar, sidecarPath } from '../storage/platform/sidecar.js';
import { encodeFrame, FrameDecoder } from '../storage/host/wire/frame.js';
import { oneShotRequest, pingHost, type HostInfo } from '../storage/host/wire/one-shot-request.js';
import { fixturePath, spawnChild, type Spawned } from './helpers/fixture.js';
import { tempDir } from './helpers/tmp.js';
import { rawConnect, type RawClient } from './helpers/raw-client.js';
import { residentBytes } from '../storage/platform/process-identity.js';
import { waitFor } from './helpers/wait.js';

const MB = 1024 * 1024;

/** A Bolt host of a fresh file in a child process, with `env` (wire limits) set. */
async function startHost(t: import('node:test').TestContext, env: Record<string, string> = {}): Promise<{ host: Spawned; path: string; socket: string }> {
  const path = join(tempDir(t), 'a.db');
  const host = spawnChild(t, process.execPath, [fixturePath('bolt-host'), path, '10'], { env: { BOLT_LOG_LEVEL: 'fatal', ...env } });
  await host.waitForLine(/^ready$/, 30_000);
  const socket = readSidecar(sidecarPath(path))!.socket!;
  return { host, path, socket };
}

/** Resident memory of `pid`, in bytes. */
function rssBytes(pid: number): number {
  const rss = residentBytes(pid);
  if (rss === undefined) throw new Error(`no VmRSS for pid ${pid}`);
  return rss;
}

/** Sends `req` on `raw` and waits for its reply. */
async function call(raw: RawClient, req: { id: number; op: string; [k: string]: unknown }, ms = 20_000): Promise<RawClient['replies'][number]> {
  raw.sock.write(encodeFrame(req));
  await waitFor(() => raw.replies.some((r) => r.id === req.id), ms, `reply ${req.id} to ${req.op}`);
  return raw.replies.find((r) => r.id === req.id)!;
}

const wireOf = (info: HostInfo) => info.wire;

test(
  'a client that never reads: the host holds a bounded amount of its replies, serves others, and delivers all once it reads',
  { timeout: 180_000 },
  async (t) => {
    const { host, path, socket } = await startHost(t);
    const db = await ConcurrentDatabase.open(path);
    t.after(() => db.close());
    assert.equal(db.lockInfo().role, 'client');
    await db.query("SELECT repeat('x', 10000000) AS s"); // DuckDB's first large string: warm up
    const baseline = rssBytes(host.pid);

    // 150 requests whose replies are 10 MB each: 1.5 GB of replies nobody reads.
    const count = 150;
    const replyBytes = 10_000_000;
    const hog = await rawConnect(socket, { t, read: false });
    for (let id = 1; id <= count; id++) hog.sock.write(encodeFrame({ id, op: 'query', sql: `SELECT repeat('x', ${replyBytes}) AS s` }));

    // Bound: the default limits (8 MiB of unsent replies, 8 requests in flight per lane) let the
    // host hold at most 8 MiB + 8 replies = ~90 MB of replies for this client; 500 MB leaves room
    // for garbage not yet collected and DuckDB's own buffers (measured peak: ~350 MB). Unbounded
    // buffering reaches ~1.8 GB.
    const bound = 500 * MB;
    let peak = 0;
    const sample = (): number => {
      const grown = rssBytes(host.pid) - baseline;
      peak = Math.max(peak, grown);
      return grown;
    };
    let info: HostInfo | undefined;
    await waitFor(
      async () => {
        if (sample() > bound) return true;
        // A host too busy to answer is sampled again (its memory is what this test bounds).
        info = await oneShotRequest<HostInfo>(socket, 'info', {}, { timeoutMs: 10_000 }).catch(() => info);
        if (!info) return false;
        const w = wireOf(info);
        // Steady: the hog's connection is held and nothing of it runs any more (the one request
        // running is this `info`).
        return w !== undefined && w.held >= 1 && w.running === 1;
      },
      120_000,
      () => `the host to hold the non-reading client (RSS grew ${Math.round(peak / MB)} MB; info.wire ${JSON.stringify(info && wireOf(info))})`,
      host.exited,
    );
    sample();
    assert.ok(peak <= bound, `host RSS grew by ${Math.round(peak / MB)} MB (bound ${bound / MB} MB) for ${(count * replyBytes) / 1e6} MB of unread replies`);
    const w = wireOf(info!)!;
    assert.ok(w.waiting > 0, 'requests of the non-reading client wait');
    assert.ok(w.unsentBytes <= 8 * MB + 9 * (replyBytes + 100), `unsent ${w.unsentBytes}`);

    // Everyone else is served meanwhile.
    assert.equal((await pingHost(socket, 5_000)).pid, host.pid);
    assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 10 }]);
    assert.equal(rssBytes(host.pid) - baseline <= bound, true);

    // Once it reads, it gets every reply, in full.
    const got = new Map<number, number>();
    const dec = new FrameDecoder((m) => {
      const r = m as { id: number; ok: boolean; result: Array<{ s: string }> };
      got.set(r.id, r.ok ? r.result[0]!.s.length : -1);
    });
    hog.sock.on('data', (c: Buffer) => dec.push(c));
    await waitFor(
      () => got.size === count,
      120_000,
      () => `all ${count} replies (have ${got.size})`,
      host.exited,
    );
    for (let id = 1; id <= count; id++) assert.equal(got.get(id), replyBytes, `reply ${id}`);
    assert.equal(host.child.exitCode, null, 'the host is alive');
  },
);

test('a truncated frame: its connection is closed after the frame timeout, the host keeps serving', { timeout: 60_000 }, async (t) => {
  const { host, socket } = await startHost(t, { BOLT_FRAME_TIMEOUT_MS: '300' });
  const good = await rawConnect(socket, { t });
  const bad = await rawConnect(socket, { t });
  // A header promising 1000 bytes, then 10 of them, then nothing.
  const head = Buffer.alloc(4);
  head.writeUInt32BE(1000);
  bad.sock.write(Buffer.concat([head, Buffer.alloc(10, 7)]));
  let closed = false;
  void bad.closed.then(() => (closed = true));
  await waitFor(() => closed, 20_000, 'the host to close the connection with the truncated frame', host.exited);
  assert.equal((await call(good, { id: 1, op: 'ping' })).ok, true);
  const q = await call(good, { id: 2, op: 'query', sql: 'SELECT count(*)::INTEGER AS n FROM t' });
  assert.deepEqual(q.result, [{ n: 10 }]);
  assert.equal(host.child.exitCode, null, 'the host is alive');
});

test('the connection limit: beyond it a typed refusal (BOLT_HOST_BUSY), probes use the reserve, clients unaffected', { timeout: 60_000 }, async (t) => {
  const { host, path, socket } = await startHost(t, { BOLT_HOST_MAX_CONNECTIONS: '4', BOLT_HOST_CONNECTION_RESERVE: '2' });
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  assert.equal(db.lockInfo().role, 'client');
  // Three more connections fill the limit of four (each answered once, so each is counted).
  const idle: RawClient[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await rawConnect(socket, { t });
    assert.equal((await call(r, { id: 1, op: 'ping' })).ok, true);
    idle.push(r);
  }
  // A new client is refused with a typed error…
  await assert.rejects(
    ConcurrentDatabase.open(path, { lockTimeoutMs: 2_000 }),
    (e) => hasCode(e, 'BOLT_HOST_BUSY') && /BOLT_HOST_MAX_CONNECTIONS/.test(e.message),
  );
  // …while a probe (`bolt db info`, a liveness check) is still answered from the reserve.
  assert.equal((await pingHost(socket, 5_000)).pid, host.pid);
  const viaProbe = await oneShotRequest<HostInfo>(socket, 'info', {}, { timeoutMs: 5_000 });
  assert.equal(wireOf(viaProbe)!.connections, 4);

  // Probes that never ask anything fill the reserve; then even probes get the refusal frame.
  const squatters = [await rawConnect(socket, { t }), await rawConnect(socket, { t })];
  await waitFor(async () => wireOf((await call(idle[0]!, { id: Date.now(), op: 'info' })).result as HostInfo)!.probes === 2, 10_000, 'two probes held');
  const late = await rawConnect(socket, { t });
  await late.closed;
  assert.equal(late.replies.length, 1);
  assert.equal(late.replies[0]!.id, 0);
  assert.equal(late.replies[0]!.error!.code, 'BOLT_HOST_BUSY');
  await assert.rejects(pingHost(socket, 5_000), (e) => hasCode(e, 'BOLT_HOST_BUSY'));

  // Existing clients are unaffected and the host is alive.
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 10 }]);
  assert.equal((await call(idle[1]!, { id: 2, op: 'ping' })).ok, true);
  assert.equal(host.child.exitCode, null);

  // A freed slot admits a new client.
  for (const s of squatters) s.sock.destroy();
  idle[2]!.sock.destroy();
  await waitFor(
    async () => wireOf((await (db as ConcurrentDatabase).hostInfo()) as unknown as HostInfo)!.connections === 3,
    10_000,
    'a connection to be freed',
  );
  const db2 = await ConcurrentDatabase.open(path);
  t.after(() => db2.close());
  assert.deepEqual(await db2.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 10 }]);
});

test('default limits: a burst of idle connections is refused past 1,000 + 16, the host keeps serving', { timeout: 120_000 }, async (t) => {
  const { host, path, socket } = await startHost(t);
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  const burst: RawClient[] = [];
  for (let i = 0; i < 1_050; i++) burst.push(await rawConnect(socket, { t }));
  // 999 more than `db` fill the limit, 16 take the reserve, the last 35 are refused.
  const refused = burst.slice(999 + 16);
  let closed = 0;
  for (const r of refused) void r.closed.then(() => closed++);
  await waitFor(
    () => closed === refused.length,
    20_000,
    () => `the ${refused.length} connections past the limits to be closed (${closed} are)`,
    host.exited,
  );
  for (const r of refused) assert.equal(r.replies[0]?.error?.code, 'BOLT_HOST_BUSY');
  const info = (await (db as ConcurrentDatabase).hostInfo()) as unknown as HostInfo;
  assert.equal(info.wire!.connections, 1_000);
  assert.equal(info.wire!.probes, 16);
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 10 }]);
  assert.equal(host.child.exitCode, null);
});

test('a 60 MB frame in 64 KiB chunks is copied once, not once per chunk', { timeout: 60_000 }, async () => {
  const text = 'x'.repeat(60 * 1000 * 1000);
  const frame = encodeFrame({ id: 1, ok: true, result: text });
  let copied = 0;
  const concat = Buffer.concat;
  const copy = Buffer.prototype.copy;
  const set = Uint8Array.prototype.set;
  Buffer.concat = function (list: readonly Uint8Array[], total?: number) {
    const out = concat.call(Buffer, list, total);
    copied += out.length;
    return out;
  } as typeof Buffer.concat;
  Buffer.prototype.copy = function (this: Buffer, ...args: Parameters<Buffer['copy']>) {
    const n = copy.apply(this, args);
    copied += n;
    return n;
  };
  Uint8Array.prototype.set = function (this: Uint8Array, array: ArrayLike<number>, offset?: number) {
    copied += array.length;
    return set.call(this, array, offset);
  };
  let decoded: { result: string } | undefined;
  let messages = 0;
  try {
    const dec = new FrameDecoder((m) => {
      messages++;
      decoded = m as { result: string };
    });
    for (let off = 0; off < frame.length; off += 64 * 1024) {
      dec.push(frame.subarray(off, off + 64 * 1024));
      // A decoder that re-copies its buffer per chunk passes this after ~90 of ~920 chunks.
      if (copied > 2 * frame.length) break;
    }
  } finally {
    Buffer.concat = concat;
    Buffer.prototype.copy = copy;
    Uint8Array.prototype.set = set;
  }
  assert.ok(copied <= frame.length + 64, `copied ${copied} bytes to reassemble a ${frame.length}-byte frame`);
  assert.equal(messages, 1);
  assert.equal(decoded!.result.length, text.length);
});

test('frames split anywhere (headers across chunks, several frames per chunk) decode intact', { timeout: 30_000 }, () => {
  const msgs = [{ a: 1 }, 'two', { big: 'y'.repeat(100_000) }, [3n, new Date(0)], null];
  const stream = Buffer.concat(msgs.map((m) => encodeFrame(m)));
  for (const size of [1, 3, 4, 5, 7, 4096, stream.length]) {
    const out: unknown[] = [];
    const dec = new FrameDecoder((m) => out.push(m));
    for (let off = 0; off < stream.length; off += size) dec.push(stream.subarray(off, off + size));
    assert.deepEqual(out, msgs, `chunks of ${size}`);
    assert.equal(dec.pendingBytes, 0);
  }
});

test('insertMany of 400k rows from a client', { timeout: 120_000 }, async (t) => {
  const { path } = await startHost(t);
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  assert.equal(db.lockInfo().role, 'client');
  await db.execute('CREATE TABLE big (i INTEGER, name VARCHAR, score DOUBLE)');
  const rows = Array.from({ length: 400_000 }, (_, i) => [i, `name-${i}`, i / 7]);
  assert.equal((await db.insertMany('big', ['i', 'name', 'score'], rows)).rowsChanged, 400_000);
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n, sum(i)::BIGINT AS s FROM big'), [{ n: 400_000, s: 79_999_800_000n }]);
});

test('many requests waiting on one connection do not hold up the session statements that free pooled connections', { timeout: 60_000 }, async (t) => {
  // The pool (8 connections) is held by this client's 8 open transactions; 40 plain queries
  // then wait for it. Their COMMITs must still be read, or the queries fail at the pool
  // timeout (BOLT_POOL_TIMEOUT) instead of running as soon as the transactions end.
  const { path } = await startHost(t, { BOLT_POOL_TIMEOUT: '20000' });
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  const sessions = await Promise.all(Array.from({ length: 8 }, (_, i) => db.session({ name: `tx-${i}` })));
  for (const [i, s] of sessions.entries()) {
    await s.begin();
    await s.execute('INSERT INTO t VALUES (?)', [100 + i]);
  }
  const queries = Array.from({ length: 40 }, () => db.query('SELECT count(*)::INTEGER AS n FROM t'));
  // Let every query reach the host before the transactions end.
  await waitFor(() => Number(db.stats().pending ?? 0) >= 40, 10_000, 'the queries in flight');
  await Promise.all(
    sessions.map(async (s) => {
      await s.commit();
      await s.close();
    }),
  );
  const counts = await Promise.all(queries);
  assert.ok(
    counts.every((r) => Number(r[0]!.n) >= 10),
    JSON.stringify(counts.slice(0, 3)),
  );
});

test(
  'hostile cancel frames: odd targets, ids never sent, a flood, a cancel of another connection’s request; the host keeps serving and cancels only its own',
  { timeout: 60_000 },
  async (t) => {
    const { host, socket } = await startHost(t);
    const victim = await rawConnect(socket, { t });
    const attacker = await rawConnect(socket, { t });
    // The victim's statement runs long; the attacker cancels its id from its own connection.
    victim.sock.write(encodeFrame({ id: 7, op: 'query', sql: 'SELECT count(*) AS n FROM range(3000000000) r(i) WHERE i % 7 = 0' }));
    for (const target of [7, -1, 0, 1.5, NaN, 2 ** 53, 'x', null, {}, [7], undefined]) attacker.sock.write(encodeFrame({ id: 1, op: 'cancel', target }));
    for (let i = 0; i < 20_000; i++) attacker.sock.write(encodeFrame({ id: 100 + i, op: 'cancel', target: 100 + i }));
    // Cancels have no reply; the attacker is served on, in order.
    assert.equal((await call(attacker, { id: 50_000, op: 'ping' })).ok, true);
    assert.deepEqual((await call(attacker, { id: 50_001, op: 'query', sql: 'SELECT count(*)::INTEGER AS n FROM t' })).result, [{ n: 10 }]);
    assert.equal(attacker.replies.length, 2, 'no reply to any cancel');
    // The victim's statement was not stopped by another connection: it completes.
    await waitFor(() => victim.replies.some((x) => x.id === 7), 50_000, 'the long statement');
    const r = victim.replies.find((x) => x.id === 7)!;
    assert.equal(r.ok, true, JSON.stringify(r.error));
    // Its own cancel of a statement it runs stops it.
    victim.sock.write(encodeFrame({ id: 9, op: 'query', sql: 'SELECT count(*) AS n FROM range(1000000000000) r(i) WHERE i % 7 = 0' }));
    victim.sock.write(encodeFrame({ id: 10, op: 'cancel', target: 9 }));
    await waitFor(() => victim.replies.some((x) => x.id === 9), 20_000, 'the cancelled statement');
    assert.equal(victim.replies.find((x) => x.id === 9)!.error?.code, 'BOLT_ABORTED');
    assert.equal(host.child.exitCode, null, 'the host is alive');
  },
);
