/**
 * `bolt db fix` attacked as a careless or hostile user would, with real processes, files,
 * sockets and users: each test failed before the fix its comment names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { tempDir } from './helpers/tmp.js';
import { jsonError, runBolt } from './helpers/cli.js';
import { fixturePath, spawnChild, startFixture } from './helpers/fixture.js';
import { probeDatabase } from '../storage/host/host-probe.js';
import { isAlive, processStartTime } from '../storage/platform/process-identity.js';
import { readSidecar, sidecarPath } from '../storage/platform/sidecar.js';
import type { FixReport } from '../tools/db/fix-dir.js';

async function fixJson(dir: string, ...flags: string[]): Promise<{ code: number | null; report: FixReport; stderr: string }> {
  const r = await runBolt(['db', 'fix', dir, '--json', ...flags]);
  assert.doesNotMatch(r.stderr, /error \[/, r.stderr);
  return { code: r.code, report: JSON.parse(r.stdout) as FixReport, stderr: r.stderr };
}

/** A live Bolt host (ConcurrentDatabase in a child) of `db`, and its identity. */
async function liveHost(t: import('node:test').TestContext, db: string) {
  const host = await startFixture(t, 'bolt-host', [db, '3'], 30_000);
  return { host, id: { pid: host.pid, startTime: processStartTime(host.pid) as number } };
}

// A timer longer than 2^31-1 ms fires after 1 ms in Node: `--ping-timeout 3000000000` made every
// healthy host "hung" at once, and with --kill-hung it was killed.
test('--ping-timeout beyond what a timer can wait is refused; a probe with one still finds a healthy host healthy', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'h.duckdb');
  const { host, id } = await liveHost(t, db);
  for (const flag of ['--ping-timeout', '--kill-grace']) {
    const r = await runBolt(['db', 'fix', dir, '--json', '--kill-hung', flag, '3000000000']);
    assert.equal(r.code, 2, r.stdout + r.stderr);
    const e = jsonError(r);
    assert.equal(e.code, 'BOLT_BAD_INPUT');
    assert.match(e.message, new RegExp(`^${flag} must be a whole number from 1 to 2147483647`));
    assert.doesNotMatch(r.stderr, /TimeoutOverflowWarning/);
  }
  const info = await runBolt(['db', 'info', db, '--json', '--ping-timeout', '3000000000']);
  assert.equal(jsonError(info).code, 'BOLT_BAD_INPUT');
  // The library takes any number: the longest wait a timer can do is used instead.
  const probe = await probeDatabase(db, { engine: 'duckdb', pingTimeoutMs: 3_000_000_000 });
  assert.equal(probe.state, 'bolt-host', probe.reason);
  const ok = await fixJson(dir, '--kill-hung', '--ping-timeout', '2147483647');
  assert.equal(ok.code, 0, JSON.stringify(ok.report));
  assert.equal(ok.report.databases[0]?.state, 'bolt-host');
  assert.ok(isAlive(id), 'the healthy host was not signalled');
  assert.ok(existsSync(sidecarPath(db)));
  assert.equal(host.child.exitCode, null);
});

// A host at its connection limit answers every connection beyond it with BOLT_HOST_BUSY. That is
// an answer, yet the probe called it "did not answer ping" (hung), and --kill-hung killed a
// healthy host whose only fault was having many clients.
test('a host that answers BOLT_HOST_BUSY (at its connection limit) is alive, not hung: --kill-hung leaves it alone', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'busy.duckdb');
  const host = spawnChild(t, process.execPath, [fixturePath('bolt-host'), db, '3'], {
    env: { BOLT_HOST_MAX_CONNECTIONS: '1', BOLT_HOST_CONNECTION_RESERVE: '0', BOLT_LOG_LEVEL: 'fatal' },
  });
  await host.waitForLine(/^ready$/, 30_000);
  const id = { pid: host.pid, startTime: processStartTime(host.pid) as number };
  const socket = readSidecar(sidecarPath(db))?.socket as string;
  // The one connection the host keeps; the host accepts connections in order, so every later
  // one (the probe's) is beyond the limit.
  const held = connect(socket);
  t.after(() => held.destroy());
  await new Promise<void>((resolve, reject) => {
    held.once('connect', resolve);
    held.once('error', reject);
  });
  const { code, report } = await fixJson(dir, '--kill-hung', '--kill-grace', '200');
  assert.equal(report.databases[0]?.state, 'bolt-host', JSON.stringify(report));
  assert.match(report.databases[0]?.reason ?? '', /BOLT_HOST_BUSY/);
  assert.deepEqual(report.findings, []);
  assert.equal(code, 0);
  assert.ok(isAlive(id), 'the busy host was not signalled');
  assert.equal(host.child.exitCode, null);
  assert.ok(existsSync(sidecarPath(db)));
});
