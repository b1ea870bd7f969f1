/**
 * The command line: `bolt query`, `bolt db backup` (consistent copy through the host while
 * another process keeps writing) and `bolt db verify` (through the host when one is up).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { tempDir } from './helpers/tmp.js';
import { jsonError, runBolt } from './helpers/cli.js';
import { spawnAgent } from './helpers/agents.js';
import { waitFor } from './helpers/wait.js';
import { encodeFrame } from '../storage/host/wire/frame.js';
import { rawConnect } from './helpers/raw-client.js';

test('bolt query: parameters, human and --json output, typed errors', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  let r = await runBolt(['query', 'CREATE TABLE t (id INTEGER, s VARCHAR, big BIGINT)'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  r = await runBolt(['query', 'INSERT INTO t VALUES (?, ?, ?), (2, NULL, 1)', '--param', '1', '--param', 'héllo', '-p', '9007199254740993'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /2 rows changed/);
  r = await runBolt(['query', 'SELECT id, s, big FROM t WHERE id >= ? ORDER BY id', '-p', '0', '--json'], { cwd: dir });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), {
    rows: [
      { id: 1, s: 'héllo', big: '9007199254740993' },
      { id: 2, s: null, big: 1 },
    ],
    rowsChanged: 0,
  });
  r = await runBolt(['query', 'SELECT s FROM t ORDER BY id', '--db', join(dir, '.bolt', 'analytics.db')], { cwd: dir });
  assert.match(r.stdout, /héllo/);
  assert.match(r.stdout, /NULL/);
  assert.match(r.stdout, /\(2 rows\)/);
  // Text that is not a number's canonical form stays text: codes with leading zeros, 1.50.
  r = await runBolt(
    ['query', 'INSERT INTO t (id, s) VALUES (?, ?), (?, ?), (?, ?)', '-p', '3', '-p', '00012', '-p', '4', '-p', '1.50', '-p', '5', '-p', '-0'],
    { cwd: dir },
  );
  assert.equal(r.code, 0, r.stderr);
  r = await runBolt(['query', 'SELECT s FROM t WHERE id >= ? ORDER BY id', '-p', '3', '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(r.stdout).rows, [{ s: '00012' }, { s: '1.50' }, { s: '-0' }]);
  r = await runBolt(['query', 'SELECT ? + 1 AS a, ? AS b, typeof(?) AS c', '-p', '41', '-p', '1.5', '-p', '1e+21', '--json'], { cwd: dir });
  assert.deepEqual(JSON.parse(r.stdout).rows, [{ a: 42, b: 1.5, c: 'DOUBLE' }]);
  r = await runBolt(['query', 'SELEC 1'], { cwd: dir });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error \[BOLT_SQL\]: Parser Error/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
  r = await runBolt(['query', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /--param/);
});

test('bolt query: a statement that fails on a database it had to create leaves no database behind', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  for (const name of ['new.duckdb', 'new.sqlite']) {
    const db = join(dir, name);
    const r = await runBolt(['query', 'selec 1', '--db', db]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error \[BOLT_SQL\]/);
    assert.deepEqual(readdirSync(dir), [], `${name}: nothing left`);
  }
  // Through a symlink to a file not made yet: the file made at its target goes, the link stays.
  mkdirSync(join(dir, 'target'));
  symlinkSync(join(dir, 'target', 'real.duckdb'), join(dir, 'link.duckdb'));
  assert.equal((await runBolt(['query', 'selec 1', '--db', join(dir, 'link.duckdb')])).code, 2);
  assert.deepEqual(readdirSync(join(dir, 'target')), []);
  assert.ok(lstatSync(join(dir, 'link.duckdb')).isSymbolicLink(), 'the link is kept');
  // A database that was there stays, whatever fails on it.
  const kept = join(dir, 'kept.duckdb');
  assert.equal((await runBolt(['query', 'CREATE TABLE t (x INTEGER)', '--db', kept])).code, 0);
  assert.equal((await runBolt(['query', 'SELECT * FROM nope', '--db', kept])).code, 2);
  assert.ok(existsSync(kept));
});

test('bolt query in the process that hosts the file: a result past the frame limit is BOLT_BAD_INPUT, not a crash', { timeout: 60_000 }, async (t) => {
  const db = join(tempDir(t), 'big.duckdb');
  assert.equal((await runBolt(['query', 'CREATE TABLE t AS SELECT 1 AS x', '--db', db])).code, 0);
  const env = { BOLT_MAX_FRAME_BYTES: '1000000' };
  const big = await runBolt(['query', "SELECT range AS i, repeat('x', 100) AS s FROM range(100000)", '--db', db, '--json'], { env });
  assert.equal(big.code, 2, big.stderr);
  assert.match(
    big.stderr,
    /^error \[BOLT_BAD_INPUT\]: the result is more than a frame may hold \(1000000 bytes, BOLT_MAX_FRAME_BYTES\) after \d+ rows: select fewer rows/,
  );
  assert.equal(jsonError(big).code, 'BOLT_BAD_INPUT', 'the error, and no part of the result, on stdout');
  const small = await runBolt(['query', 'SELECT range AS i FROM range(1000)', '--db', db, '--json'], { env });
  assert.equal(small.code, 0, small.stderr);
  assert.equal((JSON.parse(small.stdout) as { rows: unknown[] }).rows.length, 1000);
});

test('bolt db backup copies consistently while another process writes; verify checks both', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'live.db');
  const writer = await spawnAgent(t, path);
  await writer.call('open');
  await writer.call('execute', { sql: 'CREATE TABLE w (writer VARCHAR, seq INTEGER)' });
  await writer.call('execute', { sql: "INSERT INTO w SELECT 'seed', i FROM range(50000) r(i)" });
  const loop = writer.call<{ acked: number[]; errors: unknown[] }>('writeLoop', { writer: 'live', callers: 2 });
  const dest = join(dir, 'copy.db');
  const b = await runBolt(['db', 'backup', path, dest, '--json']);
  assert.equal(b.code, 0, b.stderr);
  const backup = JSON.parse(b.stdout) as { ok: boolean; tables: Array<{ name: string; rows: number }> };
  assert.equal(backup.ok, true);
  const v = await runBolt(['db', 'verify', path, '--json']);
  assert.equal(v.code, 0, v.stderr);
  const verify = JSON.parse(v.stdout) as { ok: boolean; via: string; tables: Array<{ name: string; rows: number }> };
  assert.equal(verify.via, 'host', 'verify went through the running host');
  await writer.call('stopWriting');
  const { errors } = await loop;
  assert.deepEqual(errors, []);
  await writer.call('close');
  // The copy is a consistent snapshot: it opens, its counts are what backup reported, and it
  // holds every seed row plus a prefix of the live writer's rows with no gaps.
  const copy = await ConcurrentDatabase.open(dest);
  t.after(() => copy.close());
  const wRows = backup.tables.find((x) => x.name === 'w')!.rows;
  assert.deepEqual(await copy.query("SELECT count(*)::INTEGER AS n FROM w WHERE writer = 'seed'"), [{ n: 50000 }]);
  const [live] = await copy.query<{ n: number; mx: number | null }>("SELECT count(*)::INTEGER AS n, max(seq) AS mx FROM w WHERE writer = 'live'");
  assert.equal(50000 + live!.n, wRows);
  const r = await runBolt(['db', 'verify', dest]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /ok, \d+ table\(s\) scanned/);
  // A file that is not a database: verify reports a problem (exit 1).
  const junk = join(dir, 'junk.db');
  writeFileSync(junk, 'not a database at all, really not\n');
  const j = await runBolt(['db', 'verify', junk, '--json']);
  assert.equal(j.code, 1);
  assert.equal(JSON.parse(j.stdout).ok, false);
  // Backup refuses to overwrite.
  const again = await runBolt(['db', 'backup', dest, dest]);
  assert.equal(again.code, 2);
  assert.match(again.stderr, /already exists/);
});

test(
  'the host refuses a backup onto anything that exists — a file, a symlink, a dangling symlink — whoever asks over its socket',
  { timeout: 30_000 },
  async (t) => {
    const dir = tempDir(t);
    const db = (await ConcurrentDatabase.open(join(dir, 'a.db'))) as ConcurrentDatabase;
    t.after(() => db.close());
    await db.execute('CREATE TABLE t AS SELECT range AS x FROM range(10)');
    const precious = join(dir, 'precious.txt');
    writeFileSync(precious, 'keep me\n');
    const toPrecious = join(dir, 'link-to-precious.db');
    symlinkSync(precious, toPrecious);
    const dangling = join(dir, 'dangling.db');
    const target = join(dir, 'would-be-created.db');
    symlinkSync(target, dangling);

    const { sock, replies } = await rawConnect(db.lockInfo().host!.socket!);
    t.after(() => sock.destroy());
    const dests = [precious, toPrecious, dangling, 'relative.db', join(dir, 'fresh.db')];
    dests.forEach((dest, i) => sock.write(encodeFrame({ id: i + 1, op: 'backup', dest })));
    await waitFor(() => replies.length === dests.length, 20_000, 'a reply to every backup');
    const byId = (id: number) => replies.find((r) => r.id === id)!;
    for (const id of [1, 2, 3, 4]) {
      assert.equal(byId(id).ok, false, dests[id - 1]);
      assert.equal(byId(id).error!.code, 'BOLT_BAD_INPUT', byId(id).error!.message);
    }
    assert.match(byId(1).error!.message, /already exists/);
    assert.match(byId(4).error!.message, /absolute path/);
    assert.equal(readFileSync(precious, 'utf8'), 'keep me\n', 'the file and the one behind the link are untouched');
    assert.equal(existsSync(target), false, 'nothing was created through the dangling link');
    assert.equal(byId(5).ok, true, JSON.stringify(byId(5).error));
    // The library refuses the same destinations before asking the host.
    await assert.rejects(db.backup(dangling), (e: Error & { code?: string }) => e.code === 'BOLT_BAD_INPUT');
    assert.equal(existsSync(target), false);
    const copy = await ConcurrentDatabase.open(join(dir, 'fresh.db'));
    t.after(() => copy.close());
    assert.deepEqual(await copy.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 10 }]);
  },
);
