/**
 * `bolt db fix` attacked as a careless or hostile user would, with real processes, files,
 * sockets and users: each test failed before the fix its comment names.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import BetterSqlite3 from 'better-sqlite3';
import { DuckDBInstance } from '@duckdb/node-api';
import { connect } from 'node:net';
import { tempDir } from './helpers/tmp.js';
import { BOLT_BIN, jsonError, runBolt } from './helpers/cli.js';
import { fixturePath, sigkill, spawnChild, startFixture } from './helpers/fixture.js';
import { otherUser, otherUserUnavailable, spawnAs, type OtherUser } from './helpers/other-user.js';
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

/** Runs `bolt …args` as `user` (reaped with the test). */
async function boltAsUser(t: import('node:test').TestContext, user: OtherUser, args: string[]) {
  const c = spawnChild(t, process.execPath, [BOLT_BIN, ...args], {
    uid: user.uid,
    gid: user.gid,
    env: { PATH: process.env.PATH, HOME: '/nonexistent', BOLT_LOG_LEVEL: 'fatal' },
  });
  user.children.push(c);
  const { code, signal } = await c.exited;
  return { code, signal, stdout: c.stdout(), stderr: c.stderr() };
}

/** Leaves a socket file nobody listens on at `path` (its listener SIGKILLed); returns the dead pid. */
async function deadSocketAt(t: import('node:test').TestContext, path: string): Promise<void> {
  const c = spawnChild(t, process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('ready'))`]);
  await c.waitForLine(/^ready$/, 10_000);
  await sigkill(c);
}

/** A SQLite file in WAL mode whose committed rows sit in its -wal (the writer SIGKILLed). */
async function sqliteWithWal(t: import('node:test').TestContext, path: string, rows: number): Promise<void> {
  const w = await startFixture(t, 'sqlite-writer', [path, String(rows)]);
  await sigkill(w);
}

/** Every entry of `dir` (not following links) with its fingerprint and owner. */
function snapshotDir(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir).sort()) out[name] = `${lstatSync(join(dir, name)).uid}:${fingerprint(join(dir, name))}`;
  return out;
}

// `db fix` run by root removed and replayed any user's leftovers in a shared folder: their
// stale sidecar and dead socket went, their DuckDB and SQLite files were opened read-write and
// rewritten by root. Only the user running it may have its files repaired; the owner can.
test(
  "another user's leftovers are reported, never removed or replayed; that user's own db fix repairs them",
  { timeout: 120_000, skip: otherUserUnavailable() },
  async (t) => {
    const dir = tempDir(t);
    chmodSync(dir, 0o1777);
    const user = otherUser(t);
    const duck = join(dir, 'b.duckdb');
    await duckWithWal(duck, 1, 5);
    writeFileSync(sidecarPath(duck), ''); // what a host that died before writing it leaves
    const lite = join(dir, 'b.sqlite');
    await sqliteWithWal(t, lite, 40);
    const sock = join(dir, 'bolt-0123456789abcdef-4242.sock');
    await deadSocketAt(t, sock);
    for (const name of readdirSync(dir)) chownSync(join(dir, name), user.uid, user.gid);
    const before = snapshotDir(dir);
    assert.deepEqual(Object.keys(before), [
      'b.duckdb',
      'b.duckdb.bolt.lock',
      'b.duckdb.wal',
      'b.sqlite',
      'b.sqlite-shm',
      'b.sqlite-wal',
      'bolt-0123456789abcdef-4242.sock',
    ]);

    const { code, report } = await fixJson(dir);
    assert.deepEqual(snapshotDir(dir), before, 'nothing of the other user was changed');
    assert.deepEqual(
      report.findings.map((f) => [relative(dir, f.path), f.kind, f.status]).sort(),
      [
        ['b.duckdb.bolt.lock', 'stale-sidecar', 'kept'],
        ['b.duckdb.wal', 'duckdb-wal', 'kept'],
        ['b.sqlite', 'sqlite-leftovers', 'kept'],
        ['bolt-0123456789abcdef-4242.sock', 'dead-socket', 'kept'],
      ],
      JSON.stringify(report.findings),
    );
    for (const f of report.findings) assert.match(f.found, new RegExp(`belongs to ${user.name} \\(uid ${user.uid}\\)`), f.path);
    assert.equal(code, 0, 'nothing this user may repair remains');

    const own = await boltAsUser(t, user, ['db', 'fix', dir, '--json']);
    assert.equal(own.code, 0, own.stdout + own.stderr);
    assert.deepEqual(readdirSync(dir).sort(), ['b.duckdb', 'b.sqlite']);
    assert.equal(await duckRows(duck), 6);
    const s = new BetterSqlite3(lite, { readonly: true });
    t.after(() => s.close());
    assert.equal(s.prepare('SELECT count(*) FROM t').pluck().get(), 40);
  },
);

// A user who may write in a shared folder planted a WAL beside someone else's database: the
// database's owner's db fix replayed it (here it dropped their table).
test("a WAL of another user beside this user's database is not replayed", { timeout: 120_000, skip: otherUserUnavailable() }, async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o1777);
  const user = otherUser(t);
  const mine = join(dir, 'mine.duckdb');
  await duckWithWal(mine, 7, 0);
  // The planted WAL: what DuckDB logs when a copy of that file drops its table.
  const scratch = tempDir(t);
  const copy = join(scratch, 'copy.duckdb');
  copyFileSync(mine, copy);
  const inst = await DuckDBInstance.create(copy);
  const conn = await inst.connect();
  await conn.run('PRAGMA disable_checkpoint_on_shutdown');
  await conn.run('DROP TABLE t');
  conn.closeSync();
  inst.closeSync();
  copyFileSync(`${copy}.wal`, `${mine}.wal`);
  chownSync(`${mine}.wal`, user.uid, user.gid);
  const before = snapshotDir(dir);
  const { code, report } = await fixJson(dir);
  assert.deepEqual(snapshotDir(dir), before);
  const f = report.findings.find((x) => x.path === `${mine}.wal`);
  assert.deepEqual([f?.kind, f?.status], ['duckdb-wal', 'remains'], JSON.stringify(report.findings));
  assert.match(f?.found ?? '', new RegExp(`belongs to ${user.name}`));
  assert.equal(code, 1);
  unlinkSync(`${mine}.wal`);
  assert.equal(await duckRows(mine), 7, 'the table is still there');
});

// Another user's db fix in a shared folder stopped at the first file of someone else's: a live
// host's lock file (mode 0600) failed the whole run with BOLT_PERMISSION, a stale sidecar it
// could read but not unlink (sticky folder) with BOLT_INTERNAL EPERM; nothing else was checked.
test(
  "another user's db fix over this user's files: nothing is touched, the run is not cut short, the host keeps serving",
  { timeout: 120_000, skip: otherUserUnavailable() },
  async (t) => {
    const dir = tempDir(t);
    chmodSync(dir, 0o1777);
    const user = otherUser(t);
    const live = join(dir, 'a.duckdb');
    const { host, id } = await liveHost(t, live);
    const stale = join(dir, 'b.duckdb');
    await duckWithWal(stale, 1, 4);
    writeFileSync(sidecarPath(stale), '');
    for (const f of [stale, `${stale}.wal`, sidecarPath(stale)]) chmodSync(f, 0o666); // the other user could even write them
    const theirs = join(dir, 'theirs.duckdb');
    await duckWithWal(theirs, 1, 2);
    for (const f of [theirs, `${theirs}.wal`]) chownSync(f, user.uid, user.gid);
    const before = snapshotDir(dir);
    delete before['a.duckdb'];
    delete before['a.duckdb.wal'];

    const r = await boltAsUser(t, user, ['db', 'fix', dir, '--json']);
    assert.equal(r.signal, null);
    assert.doesNotMatch(r.stderr, /error \[/, r.stderr);
    const report = JSON.parse(r.stdout) as FixReport;
    const by = Object.fromEntries(report.findings.map((f) => [relative(dir, f.path), [f.kind, f.status]]));
    assert.deepEqual(by, {
      'a.duckdb': ['unreadable', 'remains'],
      'b.duckdb.bolt.lock': ['stale-sidecar', 'kept'],
      'b.duckdb.wal': ['duckdb-wal', 'kept'],
      'theirs.duckdb.wal': ['duckdb-wal', 'fixed'],
    });
    assert.match(report.findings.find((f) => f.kind === 'unreadable')?.found ?? '', /BOLT_PERMISSION.*a\.duckdb\.bolt\.lock \(owner uid 0, mode 0600\)/);
    assert.equal(r.code, 1);
    const after = snapshotDir(dir);
    delete after['a.duckdb'];
    delete after['a.duckdb.wal'];
    delete before['theirs.duckdb'];
    delete before['theirs.duckdb.wal'];
    delete after['theirs.duckdb'];
    assert.deepEqual(after, before, "this user's files are as they were");
    assert.ok(isAlive(id));
    assert.equal(host.child.exitCode, null);
    const probe = await probeDatabase(live, { engine: 'duckdb' });
    assert.equal(probe.state, 'bolt-host', probe.reason);
  },
);

// As root, --kill-hung signalled a hung Bolt host of any user.
test("--kill-hung never signals another user's hung host", { timeout: 120_000, skip: otherUserUnavailable() }, async (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o1777);
  const user = otherUser(t);
  const db = join(dir, 'h.duckdb');
  const hung = spawnAs(t, user, 'fake-host', [db, join(dir, 'h.sock'), 'hang', '2']);
  await hung.waitForLine(/^ready$/, 30_000);
  const id = { pid: hung.pid, startTime: processStartTime(hung.pid) as number };
  const { code, report } = await fixJson(dir, '--kill-hung', '--kill-grace', '200', '--ping-timeout', '300');
  const f = report.findings.find((x) => x.kind === 'hung-host');
  assert.equal(f?.status, 'remains', JSON.stringify(report.findings));
  assert.equal(f?.pid, hung.pid);
  assert.match(f?.action ?? '', new RegExp(`^not signalled: pid ${hung.pid} runs as ${user.name} \\(uid ${user.uid}\\)`));
  assert.equal(code, 1);
  assert.ok(isAlive(id), 'not signalled');
  assert.ok(existsSync(sidecarPath(db)));
});

// A stale sidecar's record names its socket, and db fix removed whatever dead socket that record
// named, anywhere: a command pointed at one folder deleted a file in another.
test('the socket a stale sidecar names is removed only in a Bolt socket folder or under the scanned one', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const elsewhere = tempDir(t);
  const far = join(elsewhere, 'service.sock');
  await deadSocketAt(t, far);
  const near = join(dir, 'near.sock');
  await deadSocketAt(t, near);
  const exited = spawnChild(t, process.execPath, ['-e', '']);
  await exited.exited;
  const gone = exited.pid;
  for (const [name, socket] of [
    ['far.duckdb', far],
    ['near.duckdb', near],
  ]) {
    writeFileSync(join(dir, `${name}.bolt.lock`), JSON.stringify({ pid: gone, processStartTime: 1, socket, startedAt: '', version: '' }));
  }
  const { code, report } = await fixJson(dir);
  assert.equal(code, 0, JSON.stringify(report.findings));
  const of = (name: string) => report.findings.find((f) => f.path === join(dir, `${name}.bolt.lock`));
  assert.equal(of('far.duckdb')?.status, 'fixed');
  assert.match(of('far.duckdb')?.action ?? '', /^removed; its socket .*service\.sock is left in place: not in a Bolt socket folder nor under /);
  assert.equal(of('near.duckdb')?.action, `removed; removed its socket ${near}`);
  assert.ok(lstatSync(far).isSocket(), 'the socket outside the scanned folder is still there');
  assert.ok(!existsSync(near));
});

// File names and command lines went to the terminal as they were: a name with a newline printed
// a fake "fixed:" line, and escape sequences in it could clear or recolour the screen.
test('names with newlines and escape sequences cannot fake lines or drive the terminal in the human output', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const sub = join(dir, 'dir\u001b[31m');
  mkdirSync(sub);
  writeFileSync(join(sub, 'evil\nfixed: etc-passwd\n  action: removed\u001b[2J.bolt.lock'), 'my notes\n');
  writeFileSync(join(sub, 'été\u202e.bolt.lock'), '');
  const r = await runBolt(['db', 'fix', sub]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  assert.doesNotMatch(r.stdout, /[\u0000-\u0008\u000b-\u001f\u007f\u202e]/, 'no control character reaches the terminal');
  const lines = r.stdout.trimEnd().split('\n');
  assert.deepEqual(lines.filter((l) => /^(fixed|kept|PROBLEM|would fix):/.test(l)).sort(), [
    `fixed: ${sub.replace('\u001b', '\\x1b')}/été\\u202e.bolt.lock`,
    `kept: ${sub.replace('\u001b', '\\x1b')}/evil\\nfixed: etc-passwd\\n  action: removed\\x1b[2J.bolt.lock`,
  ]);
  assert.equal(lines.length, 1 + 2 * 3 + 1, r.stdout);
  // --json prints names exactly.
  const { report } = await fixJson(sub, '--dry-run');
  assert.ok(report.findings.some((f) => f.path.endsWith('removed\u001b[2J.bolt.lock')));
});

// SQLite takes a -wal without a WAL header for an empty WAL and a -journal without a journal
// header for a finished one, and deletes either when it closes: db fix "fixed" a DuckDB WAL
// renamed beside a SQLite file, and a text file named like a journal, by deleting them.
test(
  "a -wal or -journal that is not SQLite's (another engine's WAL, a text file) is not opened, so SQLite does not delete it",
  { timeout: 60_000 },
  async (t) => {
    const dir = tempDir(t);
    const duck = join(tempDir(t), 'd.duckdb');
    await duckWithWal(duck, 0, 30);
    const w = join(dir, 'w.sqlite');
    const a = new BetterSqlite3(w);
    a.pragma('journal_mode = WAL');
    a.exec('CREATE TABLE t (a); INSERT INTO t VALUES (1)');
    a.close();
    copyFileSync(`${duck}.wal`, `${w}-wal`);
    const j = join(dir, 'j.sqlite');
    const b = new BetterSqlite3(j);
    b.exec('CREATE TABLE t (a); INSERT INTO t VALUES (1)');
    b.close();
    writeFileSync(`${j}-journal`, 'dear diary, today I renamed some files\n');
    // A real leftover beside them is still repaired.
    const real = join(dir, 'real.sqlite');
    await sqliteWithWal(t, real, 25);
    const before = snapshotDir(dir);
    const { code, report } = await fixJson(dir);
    const of = (p: string) => report.findings.find((f) => f.path === p);
    assert.deepEqual([of(w)?.status, of(j)?.status, of(real)?.status], ['remains', 'remains', 'fixed'], JSON.stringify(report.findings));
    assert.match(of(w)?.found ?? '', /-wal does not start with a SQLite WAL header/);
    assert.match(of(j)?.found ?? '', /-journal does not start with a SQLite journal header/);
    assert.equal(code, 1);
    const after = snapshotDir(dir);
    for (const name of ['w.sqlite', 'w.sqlite-wal', 'j.sqlite', 'j.sqlite-journal']) assert.equal(after[name], before[name], name);
    assert.deepEqual(Object.keys(after).sort(), ['j.sqlite', 'j.sqlite-journal', 'real.sqlite', 'w.sqlite', 'w.sqlite-wal']);
  },
);

// Held up (kept as a regression test): a live SQLite writer in the middle of a transaction, through
// Bolt, is a foreign holder; its -wal and -shm are not touched, and its transaction commits whole.
test('a SQLite writer mid-transaction: db fix --kill-hung leaves its -wal/-shm alone and loses no row', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'w.sqlite');
  const seed = new BetterSqlite3(path);
  seed.pragma('journal_mode = WAL');
  seed.exec("CREATE TABLE t (id INTEGER PRIMARY KEY, who TEXT); INSERT INTO t VALUES (1, 'seed')");
  seed.close();
  const child = spawnChild(t, process.execPath, [fixturePath('sqlite-child'), 'hold', path]);
  await child.waitForLine('holding');
  assert.ok(existsSync(`${path}-wal`) && existsSync(`${path}-shm`));
  const before = [`${path}-wal`, `${path}-shm`].map((p) => lstatSync(p).ino);
  const { code, report } = await fixJson(dir, '--kill-hung', '--kill-grace', '200', '--ping-timeout', '300');
  assert.equal(report.databases[0]?.state, 'foreign', JSON.stringify(report));
  assert.ok(
    report.findings.every((f) => f.kind === 'foreign-holder' && f.pid === child.pid),
    JSON.stringify(report.findings),
  );
  assert.equal(code, 0, 'a SQLite connection is normal, not a problem');
  assert.deepEqual(
    [`${path}-wal`, `${path}-shm`].map((p) => lstatSync(p).ino),
    before,
    'the same -wal and -shm files',
  );
  child.child.stdin?.write('commit\n');
  await child.waitForLine('committed');
  const check = new BetterSqlite3(path, { readonly: true });
  t.after(() => check.close());
  assert.deepEqual(check.prepare('SELECT id, who FROM t ORDER BY id').all(), [
    { id: 1, who: 'seed' },
    { id: 1000, who: 'child' },
  ]);
});

// Held up (kept as a regression test): a real Bolt host that is SIGSTOPped is hung, not dead: it
// is reported, stopped only with --kill-hung, and the rows it had committed survive.
test('a SIGSTOPped Bolt host: hung, signalled only with --kill-hung, its committed rows kept', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'stopped.duckdb');
  const { host, id } = await liveHost(t, db);
  process.kill(host.pid, 'SIGSTOP');
  t.after(() => {
    if (host.child.exitCode === null && host.child.signalCode === null) process.kill(host.pid, 'SIGCONT');
  });
  const first = await fixJson(dir, '--ping-timeout', '300');
  assert.equal(first.report.databases[0]?.state, 'bolt-host-hung');
  assert.equal(first.code, 1);
  assert.ok(isAlive(id));
  assert.ok(existsSync(sidecarPath(db)));
  const second = await fixJson(dir, '--kill-hung', '--ping-timeout', '300', '--kill-grace', '200');
  const f = second.report.findings.find((x) => x.kind === 'hung-host');
  assert.equal(f?.status, 'fixed', JSON.stringify(second.report.findings));
  assert.match(f?.action ?? '', /then SIGKILL/, 'a stopped process does not act on SIGTERM');
  assert.equal((await host.exited).signal, 'SIGKILL');
  assert.equal(second.code, 0);
  assert.equal(await duckRows(db), 3);
});

// SQLite's PERSIST and TRUNCATE journal modes keep the -journal between transactions (header
// zeroed, or emptied): not hot, nothing to roll back. db fix called a PERSIST database a problem
// it could not repair ("-journal still hold data", exit 1) on every run, and a TRUNCATE one "fixed".
test('a -journal that PERSIST or TRUNCATE mode keeps between transactions is not a leftover', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  for (const mode of ['PERSIST', 'TRUNCATE']) {
    const db = new BetterSqlite3(join(dir, `${mode.toLowerCase()}.sqlite`));
    db.pragma(`journal_mode = ${mode}`);
    db.exec('CREATE TABLE t (a); INSERT INTO t VALUES (1); INSERT INTO t VALUES (2)');
    db.close();
  }
  assert.ok(lstatSync(join(dir, 'persist.sqlite-journal')).size > 0);
  assert.equal(lstatSync(join(dir, 'truncate.sqlite-journal')).size, 0);
  const before = snapshotDir(dir);
  const { code, report } = await fixJson(dir);
  assert.deepEqual(report.findings, []);
  assert.equal(code, 0);
  assert.deepEqual(snapshotDir(dir), before, 'not even opened');
});
