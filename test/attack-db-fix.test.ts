/**
 * `bolt db fix` attacked as a careless or hostile user would, with real processes, files,
 * sockets and users: each test failed before the fix its comment names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, readFileSync, readlinkSync, renameSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { DuckDBInstance } from '@duckdb/node-api';
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

/** A DuckDB file with table t of `rows` rows checkpointed, and `walRows` more left in its WAL. */
async function duckWithWal(db: string, rows: number, walRows: number): Promise<void> {
  const inst = await DuckDBInstance.create(db);
  const conn = await inst.connect();
  await conn.run('CREATE TABLE t (i INTEGER)');
  if (rows > 0) await conn.run(`INSERT INTO t SELECT range FROM range(${rows})`);
  await conn.run('CHECKPOINT');
  if (walRows > 0) {
    await conn.run('PRAGMA disable_checkpoint_on_shutdown');
    await conn.run("SET checkpoint_threshold = '10GB'");
    await conn.run(`INSERT INTO t SELECT range FROM range(${walRows})`);
  }
  conn.closeSync();
  inst.closeSync();
}

/** sha256 of a file's bytes, or of a link itself (lstat), so a test sees any change. */
function fingerprint(path: string): string {
  const st = lstatSync(path, { throwIfNoEntry: false });
  if (!st) return 'missing';
  if (st.isSymbolicLink()) return `link:${readlinkSync(path)}`;
  if (!st.isFile()) return `${st.mode}`;
  return `${st.size}:${st.mtimeMs}:${createHash('sha256').update(readFileSync(path)).digest('hex')}`;
}

// Sidecars and companions were opened the way a regular file is: a FIFO named like a sidecar
// beside a database blocked `db fix` (and `db info`) forever on open(); a FIFO `.wal` hung the
// DuckDB replay, a FIFO `-journal` the SQLite open.
test('FIFOs named like a sidecar, a WAL or a journal: db fix finishes, reports them, and leaves them', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const a = join(dir, 'a.duckdb');
  const b = join(dir, 'b.duckdb');
  await duckWithWal(a, 2, 0);
  await duckWithWal(b, 2, 3);
  const lite = join(dir, 'c.sqlite');
  const s = new BetterSqlite3(lite);
  s.exec('CREATE TABLE t (a); INSERT INTO t VALUES (1)');
  s.close();
  const fifos = [sidecarPath(a), `${b}.wal.tmp`, `${lite}-journal`];
  renameSync(`${b}.wal`, fifos[1]); // keep b's real WAL aside; a FIFO takes its name
  fifos[1] = `${b}.wal`;
  for (const f of fifos) assert.equal(spawnSync('mkfifo', [f]).status, 0);
  const r = await runBolt(['db', 'fix', dir, '--json'], { timeoutMs: 30_000 });
  assert.equal(r.signal, null, `db fix hung: ${r.stderr}`);
  const report = JSON.parse(r.stdout) as FixReport;
  const of = (p: string) => report.findings.find((f) => f.path === p);
  assert.equal(of(sidecarPath(a))?.kind, 'not-bolt-file', JSON.stringify(report.findings));
  assert.equal(of(sidecarPath(a))?.status, 'kept');
  assert.match(of(sidecarPath(a))?.found ?? '', /a FIFO/);
  assert.equal(of(`${b}.wal`)?.kind, 'duckdb-wal');
  assert.equal(of(`${b}.wal`)?.status, 'remains');
  assert.match(of(`${b}.wal`)?.found ?? '', /a FIFO/);
  assert.equal(of(lite)?.kind, 'sqlite-leftovers');
  assert.equal(of(lite)?.status, 'remains');
  assert.match(of(lite)?.found ?? '', /-journal is a FIFO/);
  assert.equal(r.code, 1);
  for (const f of fifos) assert.ok(lstatSync(f).isFIFO(), `${f} is still there`);
  const info = await runBolt(['db', 'info', a, '--json'], { timeoutMs: 30_000 });
  assert.equal(info.signal, null, `db info hung: ${info.stderr}`);
  assert.equal(info.code, 0, info.stderr);
});

// A `.wal` that is a symbolic link was followed: DuckDB replayed the linked file (here another
// database's WAL, outside the scanned directory) into this database, wrote into that file and
// deleted the link, so the other database's pending rows were merged into the wrong file and
// its own WAL was changed by a command pointed at another directory.
test('a .wal, -wal or sidecar that is a symbolic link is never followed: nothing outside the directory changes', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t);
  const other = join(outside, 'other.duckdb');
  await duckWithWal(other, 1, 50);
  const victim = join(outside, 'victim.txt');
  writeFileSync(victim, 'precious\n'.repeat(500));
  const a = join(dir, 'a.duckdb');
  await duckWithWal(a, 1, 0);
  symlinkSync(`${other}.wal`, `${a}.wal`);
  const lite = join(dir, 'l.sqlite');
  const s = new BetterSqlite3(lite);
  s.pragma('journal_mode = WAL');
  s.exec('CREATE TABLE t (a); INSERT INTO t VALUES (1)');
  s.close();
  symlinkSync(victim, `${lite}-wal`);
  const side = join(dir, 'x.duckdb');
  await duckWithWal(side, 1, 0);
  symlinkSync(victim, sidecarPath(side));
  const watched = [`${other}.wal`, other, victim, a, `${a}.wal`, lite, `${lite}-wal`, sidecarPath(side)];
  const before = watched.map(fingerprint);
  const { code, report } = await fixJson(dir);
  assert.deepEqual(watched.map(fingerprint), before, 'every file and link is as it was');
  const of = (p: string) => report.findings.find((f) => f.path === p);
  assert.deepEqual([of(`${a}.wal`)?.kind, of(`${a}.wal`)?.status], ['duckdb-wal', 'remains'], JSON.stringify(report.findings));
  assert.match(of(`${a}.wal`)?.found ?? '', /a symbolic link/);
  assert.deepEqual([of(lite)?.kind, of(lite)?.status], ['sqlite-leftovers', 'remains']);
  assert.match(of(lite)?.found ?? '', /-wal is a symbolic link/);
  assert.deepEqual([of(sidecarPath(side))?.kind, of(sidecarPath(side))?.status], ['not-bolt-file', 'kept']);
  assert.equal(code, 1);
  assert.equal(existsSync(`${lite}-shm`), false, 'SQLite was not opened');
  unlinkSync(`${a}.wal`); // (DuckDB's own open would follow it too)
  assert.equal(await duckRows(a), 1, "the other database's rows were not merged into this one");
  assert.equal(await duckRows(other), 51);
});

async function duckRows(db: string): Promise<number> {
  const inst = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
  const conn = await inst.connect();
  const n = (await conn.runAndReadAll('SELECT count(*)::INTEGER AS n FROM t')).getRowObjectsJS()[0].n;
  conn.closeSync();
  inst.closeSync();
  return Number(n);
}
