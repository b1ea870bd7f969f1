import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { fixturePath, sigkill, spawnChild, startFixture } from './helpers/fixture.js';
import { waitFor } from './helpers/wait.js';
import { lockHolders } from '../storage/platform/proc-locks.js';
import { probeDatabase } from '../storage/host/host-probe.js';
import { sidecarPath, readSidecar } from '../storage/platform/sidecar.js';
import { isAlive } from '../storage/platform/process-identity.js';
import type { DbInfoReport } from '../tools/db/inspect-file.js';
import type { FixReport } from '../tools/db/fix-dir.js';

test('db info and db fix against a real Bolt host: asked, left alone, then cleaned up after SIGKILL', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'real.duckdb');
  const host = await startFixture(t, 'bolt-host', [db, '6']);
  const side = readSidecar(sidecarPath(db));
  assert.equal(side?.pid, host.pid);
  const socket = side?.socket as string;

  const info = await runBolt(['db', 'info', db, '--json', '--ping-timeout', '10000']);
  assert.equal(info.code, 0, info.stderr);
  const r = JSON.parse(info.stdout) as DbInfoReport;
  assert.equal(r.state, 'bolt-host');
  assert.equal(r.host?.pid, host.pid);
  assert.equal(r.host?.socket, socket);
  assert.equal(typeof r.host?.uptimeMs, 'number');
  assert.equal(r.tablesSource, 'host');
  assert.equal(typeof r.host?.pool?.size, 'number');
  assert.equal(r.host?.wire?.refused, 0);
  assert.equal(typeof r.host?.wire?.connections, 'number');
  assert.ok(r.tables?.some((x) => x.name === 't' && x.rows === 6));
  const human = await runBolt(['db', 'info', db, '--ping-timeout', '10000']);
  assert.match(human.stdout, /host .*\d+ connections?/);

  const fix = await runBolt(['db', 'fix', dir, '--json', '--ping-timeout', '10000', '--kill-hung']);
  assert.equal(fix.code, 0, fix.stdout);
  assert.deepEqual((JSON.parse(fix.stdout) as FixReport).findings, []);
  assert.ok(isAlive({ pid: host.pid, startTime: side?.processStartTime ?? 0 }));

  await sigkill(host);
  assert.ok(existsSync(socket), 'SIGKILL leaves the socket behind');
  const after = await runBolt(['db', 'fix', dir, '--json']);
  assert.equal(after.code, 0, after.stdout);
  const f = JSON.parse(after.stdout) as FixReport;
  const stale = f.findings.find((x) => x.kind === 'stale-sidecar');
  assert.equal(stale?.status, 'fixed');
  assert.match(stale?.action ?? '', /removed its socket/);
  assert.ok(!existsSync(sidecarPath(db)));
  assert.ok(!existsSync(socket), 'the dead socket (outside the scanned directory, named by the sidecar) is removed');
  assert.ok(!existsSync(`${db}.wal`));
  const free = JSON.parse((await runBolt(['db', 'info', db, '--json'])).stdout) as DbInfoReport;
  assert.equal(free.state, 'free');
  assert.ok(free.tables?.some((x) => x.name === 't' && x.rows === 6));
});

test('a Bolt process waiting for a foreign holder is not hung: the foreign holder is reported, nobody is signalled', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'contested.duckdb');
  const foreign = await startFixture(t, 'duckdb-holder', [db, '1']);
  // The Bolt process takes the sidecar lock, then waits (up to 50 s) for DuckDB's lock.
  const bolt = spawnChild(t, process.execPath, [fixturePath('bolt-host'), db, '0', '50000']);
  await waitFor(
    () => lockHolders(sidecarPath(db)).some((h) => h.pid === bolt.pid && h.class === 'FLOCK'),
    20_000,
    () => 'the Bolt process never took the sidecar lock',
    bolt.exited,
  );

  const p = await probeDatabase(db, { engine: 'duckdb', pingTimeoutMs: 300 });
  assert.equal(p.state, 'foreign', p.reason);
  assert.match(p.reason, new RegExp(`pid ${foreign.pid} .*Bolt process pid ${bolt.pid} holds the sidecar lock and waits`));

  const fix = await runBolt(['db', 'fix', dir, '--json', '--kill-hung', '--ping-timeout', '300']);
  assert.equal(fix.code, 1);
  const r = JSON.parse(fix.stdout) as FixReport;
  assert.deepEqual(
    r.findings.map((f) => [f.kind, f.pid, f.status]),
    [['foreign-holder', foreign.pid, 'remains']],
  );
  assert.ok(isAlive({ pid: bolt.pid, startTime: 0 }), 'the waiting Bolt process was not signalled');
  assert.ok(isAlive({ pid: foreign.pid, startTime: 0 }));
  assert.doesNotMatch(foreign.stdout(), /signal/);
});
