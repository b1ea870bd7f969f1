import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join, relative } from 'node:path';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import BetterSqlite3 from 'better-sqlite3';
import { DuckDBInstance } from '@duckdb/node-api';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { sigkill, spawnChild, startFixture } from './helpers/fixture.js';
import { waitFor } from './helpers/wait.js';
import { haveSqliteCli, sqliteCliHoldingExclusive } from './helpers/sqlite-cli.js';
import { sidecarPath } from '../storage/platform/sidecar.js';
import { isAlive, processStartTime } from '../storage/platform/process-identity.js';
import { lockHolders } from '../storage/platform/proc-locks.js';
import type { FixReport } from '../tools/db/fix-dir.js';

async function fixJson(dir: string, ...flags: string[]): Promise<{ code: number | null; report: FixReport; stderr: string }> {
  const r = await runBolt(['db', 'fix', dir, '--json', ...flags]);
  assert.doesNotMatch(r.stderr, /error \[/, r.stderr);
  return { code: r.code, report: JSON.parse(r.stdout) as FixReport, stderr: r.stderr };
}

async function duckCount(db: string): Promise<number> {
  const inst = await DuckDBInstance.create(db, { access_mode: 'READ_ONLY' });
  const conn = await inst.connect();
  const n = (await conn.runAndReadAll('SELECT count(*) AS n FROM t')).getRowObjectsJS()[0].n;
  conn.closeSync();
  inst.closeSync();
  return Number(n);
}

/** A pid that is provably dead: a child that has exited and been reaped. */
async function deadPid(t: import('node:test').TestContext): Promise<number> {
  const c = spawnChild(t, process.execPath, ['-e', '']);
  await c.exited;
  return c.pid;
}

/** Leaves a socket file behind: a child listens on it and is SIGKILLed. */
async function deadSocket(t: import('node:test').TestContext, path: string): Promise<void> {
  const c = spawnChild(t, process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('ready'))`]);
  await waitFor(
    () => /ready/.test(c.stdout()),
    10_000,
    () => 'socket child never ready',
    c.exited,
  );
  await sigkill(c);
}

test('a SIGKILLed host: its sidecar and socket are removed and its DuckDB WAL replayed', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'data', 'h.duckdb');
  mkdirSync(join(dir, 'data'));
  const sock = join(dir, 'h.sock');
  const host = await startFixture(t, 'fake-host', [db, sock, 'serve', '9']);
  await sigkill(host);
  assert.ok(existsSync(`${db}.wal`) && existsSync(sidecarPath(db)) && existsSync(sock));
  const { code, report } = await fixJson(dir);
  assert.equal(code, 0, JSON.stringify(report.findings));
  const kinds = report.findings.map((f) => [f.kind, f.status]);
  assert.deepEqual(kinds.sort(), [
    ['duckdb-wal', 'fixed'],
    ['stale-sidecar', 'fixed'],
  ]);
  assert.ok(!existsSync(sidecarPath(db)));
  assert.ok(!existsSync(sock));
  assert.ok(!existsSync(`${db}.wal`));
  assert.equal(await duckCount(db), 9);
  const again = await fixJson(dir);
  assert.equal(again.code, 0);
  assert.deepEqual(again.report.findings, []);
});

test('a recycled-PID sidecar is removed; a healthy host is left alone', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const other = spawnChild(t, process.execPath, ['-e', 'setInterval(() => {}, 60000)']);
  await waitFor(
    () => processStartTime(other.pid) !== undefined,
    5000,
    () => 'child never started',
  );
  const recycled = join(dir, 'r.duckdb');
  writeFileSync(
    sidecarPath(recycled),
    JSON.stringify({ pid: other.pid, processStartTime: (processStartTime(other.pid) as number) - 5, socket: join(dir, 'r.sock'), startedAt: '', version: '' }),
  );
  const db = join(dir, 'h.duckdb');
  const sock = join(dir, 'h.sock');
  const host = await startFixture(t, 'fake-host', [db, sock, 'serve', '1']);
  const { code, report } = await fixJson(dir);
  assert.equal(code, 0, JSON.stringify(report.findings));
  assert.deepEqual(
    report.findings.map((f) => [f.path, f.kind, f.status]),
    [[sidecarPath(recycled), 'stale-sidecar', 'fixed']],
  );
  assert.ok(!existsSync(sidecarPath(recycled)));
  assert.equal(report.databases.find((d) => d.path === db)?.state, 'bolt-host');
  assert.ok(existsSync(sidecarPath(db)) && existsSync(sock));
  assert.ok(isAlive({ pid: host.pid, startTime: processStartTime(host.pid) as number }));
  assert.ok(isAlive({ pid: other.pid, startTime: 0 }), 'the live process named by the recycled sidecar was not touched');
});

test('a hung host is reported, and stopped only with --kill-hung (SIGTERM, then SIGKILL)', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'hung.duckdb');
  const sock = join(dir, 'hung.sock');
  const host = await startFixture(t, 'fake-host', [db, sock, 'hang-ignore-term', '3']);
  const first = await fixJson(dir, '--ping-timeout', '500');
  assert.equal(first.code, 1);
  const f = first.report.findings.find((x) => x.kind === 'hung-host');
  assert.equal(f?.status, 'remains');
  assert.equal(f?.pid, host.pid);
  assert.match(f?.action ?? '', /--kill-hung/);
  assert.ok(isAlive({ pid: host.pid, startTime: 0 }), 'not signalled without --kill-hung');

  const dry = await fixJson(dir, '--kill-hung', '--dry-run', '--ping-timeout', '500');
  assert.equal(dry.code, 1);
  assert.equal(dry.report.findings.find((x) => x.kind === 'hung-host')?.status, 'would-fix');
  assert.ok(isAlive({ pid: host.pid, startTime: 0 }), 'not signalled in a dry run');

  const second = await fixJson(dir, '--kill-hung', '--kill-grace', '300', '--ping-timeout', '500');
  assert.equal(second.code, 0, JSON.stringify(second.report.findings));
  const k = second.report.findings.find((x) => x.kind === 'hung-host');
  assert.equal(k?.status, 'fixed');
  assert.match(k?.action ?? '', /SIGTERM.*then SIGKILL/);
  const exit = await host.exited;
  assert.equal(exit.signal, 'SIGKILL', 'it ignored SIGTERM, so only SIGKILL could end it');
  assert.ok(!existsSync(sidecarPath(db)), 'its sidecar is then stale and removed');
  assert.ok(!existsSync(sock));
  assert.equal(await duckCount(db), 3);
});

test('--kill-hung re-checks the lock after stopping a hung host: a child still holding it is reported as remaining', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'hung.duckdb');
  const sock = join(dir, 'hung.sock');
  const host = await startFixture(t, 'fake-host', [db, sock, 'hang-shared-lock', '2']);
  const childPid = Number(/child (\d+)/.exec(host.stdout())?.[1]);
  assert.ok(childPid > 0, host.stdout());
  t.after(() => {
    try {
      process.kill(childPid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const { code, report } = await fixJson(dir, '--kill-hung', '--kill-grace', '300', '--ping-timeout', '300');
  const f = report.findings.find((x) => x.kind === 'hung-host');
  assert.equal(f?.pid, host.pid, JSON.stringify(report.findings));
  assert.equal(f?.status, 'remains');
  assert.match(f?.action ?? '', /^sent SIGTERM to pid \d+; it exited, but the sidecar lock is still held/);
  assert.equal(code, 1);
  await host.exited;
  assert.ok(isAlive({ pid: childPid, startTime: 0 }), 'only the proven host was signalled');
  assert.ok(existsSync(sidecarPath(db)), 'a held sidecar is not removed');
});

test('--kill-hung never signals a flock(1) holding the sidecar, even one the sidecar names: reported as remaining, exit 1', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'h.duckdb');
  const inst = await DuckDBInstance.create(db);
  inst.closeSync();
  const sidecar = sidecarPath(db);
  // util-linux flock(1) forks: it and its `sleep` child share the locked descriptor. Its own
  // process group, so the test reaps both; no pipes, which `sleep` would keep open.
  const holder = spawnChild(t, 'flock', ['--exclusive', sidecar, 'sleep', '600'], { detached: true, stdio: 'ignore' });
  t.after(() => {
    try {
      process.kill(-holder.pid, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  await waitFor(
    () => lockHolders(sidecar).some((h) => h.pid === holder.pid && h.class === 'FLOCK'),
    10_000,
    'flock(1) never took the sidecar lock',
    holder.exited,
  );
  // A record that names the holder itself, with its true start time: only its command line
  // and missing socket tell it is no Bolt host.
  writeFileSync(
    sidecar,
    JSON.stringify({ pid: holder.pid, processStartTime: processStartTime(holder.pid), socket: join(dir, 'h.sock'), startedAt: '', version: '' }),
  );
  const { code, report } = await fixJson(dir, '--kill-hung', '--kill-grace', '300', '--ping-timeout', '300');
  const f = report.findings.find((x) => x.kind === 'hung-host');
  assert.equal(f?.status, 'remains', JSON.stringify(report.findings));
  assert.equal(f?.pid, holder.pid);
  assert.match(f?.action ?? '', /^not signalled: not a proven Bolt host \(pid \d+ \(flock .*\) is not a Node\.js process/);
  assert.equal(code, 1);
  assert.ok(report.problemsRemaining >= 1);
  assert.ok(isAlive({ pid: holder.pid, startTime: 0 }), 'flock(1) was not signalled');
  assert.ok(
    lockHolders(sidecar).some((h) => h.class === 'FLOCK' && !h.blocked),
    'the lock is still held',
  );
  assert.ok(existsSync(sidecar));
  const human = await runBolt(['db', 'fix', dir, '--kill-hung', '--kill-grace', '300', '--ping-timeout', '300']);
  assert.equal(human.code, 1);
  assert.doesNotMatch(human.stdout, /all fixed/);
  assert.match(human.stdout, /PROBLEM: .*h\.duckdb/);
  const info = await runBolt(['db', 'info', db, '--json', '--ping-timeout', '300']);
  assert.match((JSON.parse(info.stdout) as { advice: string[] }).advice.join(' '), /not a proven Bolt host .*will not signal it/);
});

test('a foreign DuckDB holder and the sqlite3 CLI in BEGIN EXCLUSIVE are reported, never signalled', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const duck = join(dir, 'f.duckdb');
  const holder = await startFixture(t, 'duckdb-holder', [duck, '1']);
  const haveCli = haveSqliteCli();
  const lite = join(dir, 'x.db');
  const cliPid = haveCli ? (await sqliteCliHoldingExclusive(t, lite)).pid : undefined;
  const { code, report } = await fixJson(dir, '--kill-hung');
  assert.equal(code, 1);
  const foreign = report.findings.filter((f) => f.kind === 'foreign-holder');
  assert.ok(
    foreign.some((f) => f.path === duck && f.pid === holder.pid && /duckdb-holder/.test(f.command ?? '') && f.status === 'remains'),
    JSON.stringify({ holder: holder.pid, databases: report.databases, findings: report.findings }),
  );
  if (cliPid !== undefined) {
    assert.ok(foreign.some((f) => f.path === lite && f.pid === cliPid && f.command === `sqlite3 ${lite}` && f.status === 'remains'));
    assert.ok(isAlive({ pid: cliPid, startTime: 0 }));
    assert.ok(existsSync(`${lite}-journal`), "the live transaction's journal is not touched");
  }
  assert.ok(isAlive({ pid: holder.pid, startTime: 0 }));
  assert.doesNotMatch(holder.stdout(), /signal/);
  const human = await runBolt(['db', 'fix', dir]);
  assert.equal(human.code, 1);
  assert.match(human.stdout, new RegExp(`PROBLEM: ${duck.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
  assert.match(human.stdout, new RegExp(`held by pid ${holder.pid} \\(`));
  if (!haveCli) t.diagnostic('sqlite3 CLI not installed: its half of this test was skipped');
});

test('SQLite leftovers: WAL of a SIGKILLed writer checkpointed, hot journal of a killed sqlite3 rolled back', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const wal = join(dir, 'w.sqlite');
  const writer = await startFixture(t, 'sqlite-writer', [wal, '500']);
  await sigkill(writer);
  assert.ok(statSync(`${wal}-wal`).size > 0);
  const haveCli = haveSqliteCli();
  const hot = join(dir, 'j.db');
  if (haveCli) {
    spawnSync('sqlite3', [hot, 'PRAGMA journal_mode=DELETE; CREATE TABLE t(a); INSERT INTO t VALUES (1);']);
    const cli = spawnChild(t, 'sqlite3', [hot]);
    // A big insert spills to the file, so the journal is hot when the process dies.
    cli.child.stdin?.write(
      "PRAGMA cache_size=1;\nBEGIN EXCLUSIVE;\nINSERT INTO t SELECT randomblob(1000) FROM generate_series(1, 2000);\nSELECT 'inserted';\n",
    );
    await waitFor(
      () => /inserted/.test(cli.stdout()),
      20_000,
      () => `sqlite3 never inserted: ${cli.stderr()}`,
      cli.exited,
    );
    await sigkill(cli);
    assert.ok(existsSync(`${hot}-journal`));
  }
  const { code, report } = await fixJson(dir);
  assert.equal(code, 0, JSON.stringify(report.findings));
  const w = report.findings.find((f) => f.path === wal);
  assert.equal(w?.kind, 'sqlite-leftovers');
  assert.equal(w?.status, 'fixed');
  assert.match(w?.action ?? '', /checkpointed with wal_checkpoint\(TRUNCATE\); integrity_check ok/);
  assert.ok(!existsSync(`${wal}-wal`) || statSync(`${wal}-wal`).size === 0);
  const check = new BetterSqlite3(wal, { readonly: true });
  assert.equal(check.prepare('SELECT count(*) FROM t').pluck().get(), 500);
  check.close();
  if (haveCli) {
    const j = report.findings.find((f) => f.path === hot);
    assert.equal(j?.status, 'fixed');
    assert.match(j?.action ?? '', /rolled back the hot journal; integrity_check ok/);
    assert.ok(!existsSync(`${hot}-journal`));
    const h = new BetterSqlite3(hot, { readonly: true });
    assert.equal(h.prepare('SELECT count(*) FROM t').pluck().get(), 1, 'the uncommitted insert was rolled back');
    h.close();
  } else {
    t.diagnostic('sqlite3 CLI not installed: the hot-journal half was skipped');
  }
});

test("other programs' lock files and directories are reported, never removed; only a Bolt socket is", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const dead = await deadPid(t);
  writeFileSync(join(dir, 'dead.lock'), `${dead}\n`);
  writeFileSync(join(dir, 'dead-json.lock'), JSON.stringify({ pid: dead, host: 'x' }));
  writeFileSync(join(dir, 'live.lock'), `${process.pid}\n`);
  writeFileSync(join(dir, 'yarn.lock'), '# THIS IS AN AUTOGENERATED FILE\n');
  mkdirSync(join(dir, 'dead-dir.lock'));
  writeFileSync(join(dir, 'dead-dir.lock', 'pid'), String(dead));
  mkdirSync(join(dir, 'anon.lock'));
  await deadSocket(t, join(dir, 'orphan.sock'));
  const boltSock = `bolt-0123456789abcdef-${dead}.sock`;
  await deadSocket(t, join(dir, boltSock));
  const before = snapshot(dir);
  const { code, report } = await fixJson(dir);
  const by = new Map(report.findings.map((f) => [relative(dir, f.path), [f.kind, f.status]]));
  assert.deepEqual(Object.fromEntries(by), {
    [boltSock]: ['dead-socket', 'fixed'],
    'orphan.sock': ['dead-socket', 'kept'],
    'dead.lock': ['stale-lock-file', 'kept'],
    'dead-json.lock': ['stale-lock-file', 'kept'],
    'live.lock': ['live-lock-file', 'kept'],
    'dead-dir.lock': ['lock-dir', 'kept'],
    'anon.lock': ['lock-dir', 'kept'],
  });
  assert.equal(code, 0, 'nothing Bolt may repair remains');
  before.delete(boltSock);
  assert.deepEqual(snapshot(dir), before, 'everything but the Bolt socket is untouched');
});

test('files named like lock files but not made by Bolt are never removed: shopping.lock, a sidecar name holding user text', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const dead = await deadPid(t);
  writeFileSync(join(dir, 'shopping.lock'), `${dead} eggs\n2 milk\n`);
  writeFileSync(join(dir, 'notes.bolt.lock'), 'my notes about the lock\n');
  // Bolt's own: an empty sidecar nobody holds (a host that died before writing it).
  writeFileSync(join(dir, 'e.duckdb.bolt.lock'), '');
  const before = snapshot(dir);
  const { code, report } = await fixJson(dir);
  assert.equal(code, 0, JSON.stringify(report.findings));
  assert.deepEqual(report.findings.map((f) => [relative(dir, f.path), f.kind, f.status]).sort(), [
    ['e.duckdb.bolt.lock', 'stale-sidecar', 'fixed'],
    ['notes.bolt.lock', 'not-bolt-file', 'kept'],
  ]);
  before.delete('e.duckdb.bolt.lock');
  assert.deepEqual(snapshot(dir), before, 'shopping.lock and notes.bolt.lock are byte-identical, same mtime');
});

test('symlinks out of the directory are not followed; node_modules and .git are skipped', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const outside = tempDir(t);
  const dead = await deadPid(t);
  writeFileSync(join(outside, 'outside.lock'), String(dead));
  symlinkSync(outside, join(dir, 'link'));
  symlinkSync(join(outside, 'outside.lock'), join(dir, 'link.lock'));
  for (const skip of ['node_modules', '.git']) {
    mkdirSync(join(dir, skip));
    writeFileSync(join(dir, skip, 'x.lock'), String(dead));
  }
  const { code, report } = await fixJson(dir);
  assert.equal(code, 0);
  assert.deepEqual(report.findings, []);
  assert.ok(existsSync(join(outside, 'outside.lock')));
  assert.ok(existsSync(join(dir, 'node_modules', 'x.lock')));
  assert.ok(existsSync(join(dir, '.git', 'x.lock')));
});

/** Every entry under `dir` (not following symlinks): type, size, mtime and content hash. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = lstatSync(p, { bigint: true });
      let h = '';
      if (st.isFile()) h = createHash('sha256').update(readFileSync(p)).digest('hex');
      out.set(relative(dir, p), `${st.mode}:${st.size}:${st.mtimeNs}:${h}`);
      if (st.isDirectory()) walk(p);
    }
  };
  walk(dir);
  return out;
}

test('--dry-run changes nothing: every file byte-identical with the same mtime', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const host = await startFixture(t, 'fake-host', [join(dir, 'h.duckdb'), join(dir, 'h.sock'), 'serve', '5']);
  await sigkill(host);
  const writer = await startFixture(t, 'sqlite-writer', [join(dir, 'w.sqlite'), '50']);
  await sigkill(writer);
  const dead = await deadPid(t);
  writeFileSync(join(dir, 'dead.lock'), String(dead));
  mkdirSync(join(dir, 'dead-dir.lock'));
  writeFileSync(join(dir, 'dead-dir.lock', 'pid'), String(dead));
  const boltSock = `bolt-0123456789abcdef-${dead}.sock`;
  await deadSocket(t, join(dir, boltSock));
  const before = snapshot(dir);
  const { code, report } = await fixJson(dir, '--dry-run', '--kill-hung');
  assert.equal(code, 1);
  assert.equal(report.dryRun, true);
  assert.deepEqual(report.findings.map((f) => [relative(dir, f.path), f.kind, f.status]).sort(), [
    [boltSock, 'dead-socket', 'would-fix'],
    ['dead-dir.lock', 'lock-dir', 'kept'],
    ['dead.lock', 'stale-lock-file', 'kept'],
    ['h.duckdb.bolt.lock', 'stale-sidecar', 'would-fix'],
    ['h.duckdb.wal', 'duckdb-wal', 'would-fix'],
    ['w.sqlite', 'sqlite-leftovers', 'would-fix'],
  ]);
  assert.deepEqual(snapshot(dir), before);
  const human = await runBolt(['db', 'fix', dir, '--dry-run']);
  assert.equal(human.code, 1);
  assert.match(human.stdout, /^dry run: /);
  assert.match(human.stdout, /would remove it and its socket/);
  assert.deepEqual(snapshot(dir), before);
  // The real run then fixes all of it.
  const real = await fixJson(dir);
  assert.equal(real.code, 0, JSON.stringify(real.report.findings));
  assert.deepEqual(readdirSync(dir).sort(), ['dead-dir.lock', 'dead.lock', 'h.duckdb', 'w.sqlite']);
});

test('db fix on a missing path or a file: one-line typed error, exit 2', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'f'), 'x');
  for (const [p, re] of [
    [join(dir, 'nope'), /^error \[BOLT_NOT_FOUND\]/],
    [join(dir, 'f'), /^error \[BOLT_BAD_INPUT\]: .* is not a directory/],
  ] as const) {
    const r = await runBolt(['db', 'fix', p]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, re);
    assert.equal(r.stderr.trim().split('\n').length, 1);
  }
});

test("a backup's folder left by a process that died mid-backup is removed; one in progress, or not Bolt's, is kept", { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  // A process that starts a backup folder (named as a backup names it, with a partial copy) and dies.
  const backupModule = new URL('../adapters/duckdb/backup.js', import.meta.url).href;
  const child = spawnChild(t, process.execPath, [
    '--input-type=module',
    '-e',
    `import { mkdtempSync, writeFileSync } from 'node:fs'; import { join } from 'node:path';
     const { backupWorkDirPrefix } = await import(${JSON.stringify(backupModule)});
     const work = mkdtempSync(join(${JSON.stringify(dir)}, backupWorkDirPrefix()));
     writeFileSync(join(work, 'nightly.db'), Buffer.alloc(4096, 7));
     writeFileSync(join(work, 'nightly.db.wal'), 'partial');
     console.log(work);`,
  ]);
  await child.exited;
  const left = child.stdout().trim();
  assert.ok(existsSync(left), `the child made ${left}`);
  // One of a live process (this one), and two that Bolt did not make as they are.
  const live = join(dir, `.bolt-backup-${process.pid}-${processStartTime(process.pid)}-aB3xYz`);
  mkdirSync(live);
  const foreign = join(dir, '.bolt-backup-mine');
  mkdirSync(foreign);
  const stuffed = join(dir, `.bolt-backup-${child.pid}-1-Qw12er`);
  mkdirSync(join(stuffed, 'photos'), { recursive: true });

  const dry = await fixJson(dir, '--dry-run');
  const of = (r: FixReport, path: string) => r.findings.find((f) => f.path === path);
  assert.equal(of(dry.report, left)?.status, 'would-fix', JSON.stringify(dry.report.findings));
  assert.equal(dry.code, 1);
  assert.ok(existsSync(left));

  const { code, report } = await fixJson(dir);
  assert.deepEqual(
    [left, live, foreign, stuffed].map((p) => [of(report, p)?.kind, of(report, p)?.status]),
    [
      ['backup-leftover', 'fixed'],
      ['backup-leftover', 'kept'],
      ['backup-leftover', 'kept'],
      ['backup-leftover', 'kept'],
    ],
    JSON.stringify(report.findings),
  );
  assert.equal(code, 0);
  assert.ok(!existsSync(left));
  for (const p of [live, foreign, join(stuffed, 'photos')]) assert.ok(existsSync(p), p);
  // The partial copy inside was never taken for a database.
  assert.equal(report.scanned.databases, 0);
});
