/**
 * Another Unix user who can write the database's folder cannot serve it to you: a process of
 * theirs holding the sidecar lock and publishing its own socket is refused with
 * BOLT_HOST_UNTRUSTED before a single byte is sent to it (library, CLI, worker thread); socket
 * names they pre-create do not stop a host; and `trustFileOwner` (option, flag, env) trusts a
 * host run by the database file's owner. Needs root to create the second user.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, readdirSync, realpathSync } from 'node:fs';
import { basename, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { otherUser, otherUserUnavailable, runAs, spawnAs } from './helpers/other-user.js';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';
import { hostSocketPath } from '../storage/platform/socket-path.js';
import { hasCode } from '../core/errors.js';

const skip = otherUserUnavailable();

/** A 0755 test root with a world-writable data folder and a sticky, world-writable temp dir. */
function sharedPlaces(t: TestContext): { db: string; tmp: string } {
  const root = tempDir(t);
  chmodSync(root, 0o755);
  const data = join(root, 'data');
  const tmp = join(root, 'tmp');
  mkdirSync(data);
  mkdirSync(tmp);
  chmodSync(data, 0o777);
  chmodSync(tmp, 0o1777);
  return { db: join(data, 'app.duckdb'), tmp };
}

/** Opens `db` in a worker thread; resolves with the error code it met, or 'opened'. */
function openFromWorker(db: string): Promise<string> {
  const mod = pathToFileURL(join(import.meta.dirname, '..', 'storage', 'concurrent-database.js')).href;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(${JSON.stringify(mod)}).then(({ ConcurrentDatabase }) => ConcurrentDatabase.open(workerData, { lockTimeoutMs: 2000 }))
      .then(() => parentPort.postMessage('opened'), (e) => parentPort.postMessage(e.code ?? String(e)));`;
  const w = new Worker(code, { eval: true, workerData: db });
  return new Promise((resolve, reject) => {
    w.once('message', (m: string) => void w.terminate().then(() => resolve(m)));
    w.once('error', reject);
  });
}

test('a host run by another user is refused before anything is sent to it', { skip, timeout: 60_000 }, async (t) => {
  const user = otherUser(t);
  const { db, tmp } = sharedPlaces(t);
  const imp = spawnAs(t, user, 'impostor-host', [db, tmp], { TMPDIR: tmp });
  await imp.waitForLine(/^ready$/, 20_000);

  await assert.rejects(ConcurrentDatabase.open(db, { lockTimeoutMs: 2000 }), (e: unknown) => {
    assert.ok(hasCode(e, 'BOLT_HOST_UNTRUSTED'), String(e));
    assert.match(e.message, new RegExp(`PID ${imp.pid} .*${user.name}`));
    assert.equal(e.details.hostPid, imp.pid);
    return true;
  });

  const r = await runBolt(['query', 'SELECT 1 AS one', '--db', db, '--lock-timeout', '2000']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /^error \[BOLT_HOST_UNTRUSTED\]: .*nothing was sent/m);
  assert.doesNotMatch(r.stdout, /impostor/);

  assert.equal(await openFromWorker(db), 'BOLT_HOST_UNTRUSTED');
  assert.doesNotMatch(imp.stdout(), /received/, 'the impostor got request bytes');
  assert.equal(imp.child.exitCode, null);
});

test("another user's pre-created socket names and socket directory do not stop a host", { skip, timeout: 60_000 }, async (t) => {
  // Root may remove anyone's files in a sticky directory: the victim is an ordinary user too.
  const victim = otherUser(t);
  const attacker = otherUser(t);
  const { db, tmp } = sharedPlaces(t);
  const child = spawnAs(t, victim, 'open-on-cue', [db], { TMPDIR: tmp, HOME: tmp });
  const pid = Number((await child.waitForLine(/^pid \d+$/, 20_000)).split(' ')[1]);
  const name = basename(hostSocketPath(join(realpathSync(join(db, '..')), basename(db)), pid));
  // Every name this process's host could be given, its user's socket directory included, taken first.
  const dir = `${tmp}/bolt-${victim.uid}`;
  runAs(attacker, `touch '${tmp}/${name}' && mkdir -m 0777 '${dir}' && touch '${dir}/${name}'`);
  child.child.stdin!.write('go\n');
  assert.equal(await child.waitForLine(/^(ok|error) /, 30_000), 'ok host 42');
  await child.exited;
  // The host listened in a fresh directory of its own and removed it when it closed.
  assert.deepEqual(
    readdirSync(tmp).filter((n) => n.startsWith(`bolt-${victim.uid}-`)),
    [],
  );
});

test("trustFileOwner (option, --trust-file-owner, BOLT_TRUST_FILE_OWNER) trusts a host run by the file's owner", { skip, timeout: 90_000 }, async (t) => {
  const user = otherUser(t);
  const { db, tmp } = sharedPlaces(t);
  const host = spawnAs(t, user, 'bolt-host', [db, '3'], { TMPDIR: tmp, HOME: tmp });
  await host.waitForLine(/^ready$/, 30_000);

  await assert.rejects(ConcurrentDatabase.open(db, { lockTimeoutMs: 2000 }), (e: unknown) => {
    assert.ok(hasCode(e, 'BOLT_HOST_UNTRUSTED'), String(e));
    assert.match(e.message, /owns the database file.*trustFileOwner: true.*--trust-file-owner.*BOLT_TRUST_FILE_OWNER=1/);
    return true;
  });
  const handle = (await ConcurrentDatabase.open(db, { trustFileOwner: true, lockTimeoutMs: 2000 })) as ConcurrentDatabase;
  try {
    assert.equal(handle.role, 'client');
    assert.deepEqual(await handle.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 3 }]);
  } finally {
    await handle.close();
  }

  const sql = ['query', 'SELECT count(*)::INTEGER AS n FROM t', '--db', db, '--json', '--lock-timeout', '2000'];
  const flag = await runBolt(['--trust-file-owner', ...sql]);
  assert.equal(flag.code, 0, flag.stderr);
  assert.deepEqual(JSON.parse(flag.stdout).rows, [{ n: 3 }]);
  const env = await runBolt(sql, { env: { BOLT_TRUST_FILE_OWNER: '1' } });
  assert.equal(env.code, 0, env.stderr);
  const none = await runBolt(sql);
  assert.notEqual(none.code, 0);
  assert.match(none.stderr, /^error \[BOLT_HOST_UNTRUSTED\]/m);
  assert.equal(host.child.exitCode, null, 'the host kept serving');
});
