import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, writeFileSync } from 'node:fs';
import { tempDir } from './helpers/tmp.js';
import { sigkill, spawnChild, startFixture } from './helpers/fixture.js';
import { waitFor } from './helpers/wait.js';
import { probeDatabase } from '../storage/host/host-probe.js';
import { sidecarPath } from '../storage/platform/sidecar.js';
import { processStartTime } from '../storage/platform/process-identity.js';
import { oneShotRequest, pingHost, socketHasListener } from '../storage/host/wire/one-shot-request.js';
import { hasCode } from '../core/errors.js';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';

test('a healthy host is bolt-host, answers ping and info; its DuckDB lock is tagged bolt-host', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'h.duckdb');
  const sock = join(dir, 'h.sock');
  const host = await startFixture(t, 'fake-host', [db, sock, 'serve', '5']);
  const p = await probeDatabase(db, { engine: 'duckdb', pingTimeoutMs: 5000 });
  assert.equal(p.state, 'bolt-host', p.reason);
  assert.equal(p.host?.pid, host.pid);
  assert.equal(p.ping?.pid, host.pid);
  assert.equal(p.sidecar.stale, false);
  assert.ok(p.holders.some((h) => h.pid === host.pid && h.role === 'bolt-host' && h.file === 'database'));
  assert.deepEqual(p.foreign, []);
  const info = await oneShotRequest<{ tables: Array<{ name: string; rows: number }> }>(sock, 'info');
  assert.deepEqual(info.tables, [{ name: 't', rows: 5 }]);
  await assert.rejects(oneShotRequest(sock, 'no-such-op'), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'));
});

test('a host that holds the sidecar lock but does not answer is bolt-host-hung', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'h.duckdb');
  const sock = join(dir, 'h.sock');
  const host = await startFixture(t, 'fake-host', [db, sock, 'hang']);
  await assert.rejects(pingHost(sock, 300), (e: unknown) => hasCode(e, 'BOLT_HOST_UNRESPONSIVE'));
  const p = await probeDatabase(db, { engine: 'duckdb', pingTimeoutMs: 500 });
  assert.equal(p.state, 'bolt-host-hung', p.reason);
  assert.equal(p.host?.pid, host.pid);
  assert.equal(p.host?.startTime, processStartTime(host.pid));
  assert.equal(p.pingError?.code, 'BOLT_HOST_UNRESPONSIVE');
});

test('a SIGKILLed host leaves a stale sidecar and a socket nobody listens on', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'h.duckdb');
  const sock = join(dir, 'h.sock');
  const host = await startFixture(t, 'fake-host', [db, sock, 'serve']);
  await sigkill(host);
  assert.ok(existsSync(sidecarPath(db)));
  assert.ok(existsSync(sock));
  assert.equal(await socketHasListener(sock), false);
  await assert.rejects(pingHost(sock, 1000), (e: unknown) => hasCode(e, 'BOLT_HOST_UNREACHABLE'));
  const p = await probeDatabase(db, { engine: 'duckdb', pingTimeoutMs: 500 });
  assert.equal(p.state, 'stale-sidecar', p.reason);
  assert.equal(p.sidecar.stale, true);
  assert.equal(p.sidecar.flocked, false);
  assert.match(p.reason, /is dead/);
  assert.deepEqual(p.holders, []);
});

test('a sidecar naming a live pid with another start time (recycled pid) is stale', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'r.duckdb');
  const other = spawnChild(t, process.execPath, ['-e', 'setInterval(() => {}, 60000)']);
  await waitFor(
    () => processStartTime(other.pid) !== undefined,
    5000,
    () => 'child never started',
  );
  const start = processStartTime(other.pid) as number;
  writeFileSync(
    sidecarPath(db),
    JSON.stringify({ pid: other.pid, processStartTime: start - 1, socket: join(dir, 'gone.sock'), startedAt: new Date().toISOString(), version: '0.0.0' }),
  );
  const p = await probeDatabase(db, { engine: 'duckdb' });
  assert.equal(p.state, 'stale-sidecar', p.reason);
  assert.match(p.reason, /recycled/);
  // With the right start time the same sidecar is not stale: a live process is never called stale.
  writeFileSync(sidecarPath(db), JSON.stringify({ pid: other.pid, processStartTime: start, socket: join(dir, 'gone.sock'), startedAt: '', version: '' }));
  const q = await probeDatabase(db, { engine: 'duckdb' });
  assert.equal(q.sidecar.stale, false);
  assert.equal(q.state, 'free');
});

test('a plain DuckDB process holding the file is foreign; a free file is free', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'f.duckdb');
  const holder = await startFixture(t, 'duckdb-holder', [db]);
  const p = await probeDatabase(db, { engine: 'duckdb' });
  assert.equal(p.state, 'foreign', p.reason);
  assert.equal(p.foreign[0].pid, holder.pid);
  assert.match(p.reason, new RegExp(`pid ${holder.pid}`));
  await sigkill(holder);
  const q = await probeDatabase(db, { engine: 'duckdb' });
  assert.equal(q.state, 'free', q.reason);
  assert.equal(q.sidecar.present, false);
});

test('a host that closed cleanly leaves an empty sidecar: the file is free (and db fix may still tidy it)', { timeout: 30_000 }, async (t) => {
  const db = join(tempDir(t), 'closed.duckdb');
  const h = await ConcurrentDatabase.open(db);
  await h.execute('CREATE TABLE t (x INTEGER)');
  await h.close();
  assert.ok(existsSync(sidecarPath(db)), 'the sidecar stays (removing a lock file others may wait on is a race)');
  const p = await probeDatabase(db, { engine: 'duckdb', pingTimeoutMs: 500 });
  assert.equal(p.state, 'free', p.reason);
  assert.equal(p.sidecar.empty, true);
  assert.match(p.reason, /empty sidecar is what a host leaves when it closes/);
});
