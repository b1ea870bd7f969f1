/**
 * A full file system is BOLT_DISK_FULL — at open and during writes, in the host and in a
 * client, on every engine — and the database works again once space is freed. The disk is a
 * real tmpfs of a few MiB filled to the last byte: for DuckDB and SQLite it is mounted inside a
 * private mount namespace (`unshare -m`), so it disappears with the processes that use it
 * whatever happens to the test (with a second one, out of inodes, for the host's socket); for PostgreSQL a tablespace lives on one mounted for the
 * server, unmounted when the test ends. Mounting needs root: elsewhere the tests skip.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openPostgres } from '../adapters/postgres/open.js';
import { hasCode } from '../core/errors.js';
import { spawnChild } from './helpers/child.js';
import { tempDir } from './helpers/tmp.js';

const RUN = fileURLToPath(new URL('./fixtures/disk-full-run.js', import.meta.url));
const notRoot = process.getuid?.() !== 0 ? 'mounting a tmpfs needs root' : undefined;

for (const engine of ['duckdb', 'sqlite'] as const) {
  test(
    `${engine}: a full disk at open and during writes (host and client) is BOLT_DISK_FULL; writes work again once space is freed`,
    { timeout: 60_000, skip: notRoot },
    async (t) => {
      const mnt = tempDir(t);
      const run = spawnChild(t, 'unshare', [
        '-m',
        '--propagation',
        'private',
        'sh',
        '-c',
        'mount -t tmpfs -o size=8m tmpfs "$1" && mkdir "$1/sockets" && mount -t tmpfs -o size=64k,nr_inodes=8 tmpfs "$1/sockets" && exec "$2" "$3" "$1" "$4"',
        'sh',
        mnt,
        process.execPath,
        RUN,
        engine,
      ]);
      const exit = await run.exited;
      assert.equal(exit.code, 0, run.stderr());
      const line = run
        .stdout()
        .split('\n')
        .find((l) => l.startsWith('{"openNew"'));
      assert.ok(line, `no report: ${run.stdout().slice(-2000)} ${run.stderr().slice(-2000)}`);
      const report = JSON.parse(line) as Record<string, string>;
      for (const step of [
        'openNew',
        'openExistingAndWrite',
        'hostWriteFull',
        'clientWriteFull',
        ...(engine === 'duckdb' ? ['checkpointFull', 'openNoRoomForSocket'] : []),
      ]) {
        assert.match(report[step]!, /^BOLT_DISK_FULL: no space left on the file system.*: free some space and retry/, `${step}: ${report[step]}`);
      }
      assert.equal(report.clientRole, engine === 'duckdb' ? 'client' : 'direct');
      for (const step of ['hostWriteAfter', 'clientWriteAfter', 'readAfter', ...(engine === 'duckdb' ? ['readBesideFatal'] : [])]) {
        assert.equal(report[step], 'OK', step);
      }
    },
  );
}

test(
  'postgres: a full tablespace is BOLT_DISK_FULL; writes work again once space is freed',
  { timeout: 60_000, skip: notRoot ?? (process.env.BOLT_TEST_PG_DIR ? undefined : 'needs the local test cluster: eval "$(scripts/pg-test-cluster.sh start)"') },
  async (t) => {
    const url = process.env.BOLT_TEST_PG_URL!;
    const schema = `bolt_full_${process.pid}`;
    const space = `bolt_full_${process.pid}`;
    const db = await openPostgres(url, { schema });
    // Not tempDir(): its removal would run before the unmount; one hook does it all in order.
    const mnt = mkdtempSync(join(tmpdir(), 'bolt-pg-full-'));
    const serverUid = statSync(join(process.env.BOLT_TEST_PG_DIR!, 'data')).uid;
    const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=1m,uid=${serverUid},mode=0700`, 'tmpfs', mnt]);
    t.after(async () => {
      await db.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
      await db.execute(`DROP TABLESPACE IF EXISTS ${space}`).catch(() => undefined);
      await db.close();
      if (mounted.status === 0 && spawnSync('umount', [mnt]).status !== 0) spawnSync('umount', ['-l', mnt]);
      rmSync(mnt, { recursive: true, force: true });
    });
    assert.equal(mounted.status, 0, mounted.stderr.toString());
    await db.execute(`CREATE TABLESPACE ${space} LOCATION '${mnt}'`);
    await db.execute(`CREATE TABLE filler (body TEXT) TABLESPACE ${space}`);
    await db.execute(`CREATE TABLE kept (id INTEGER) TABLESPACE ${space}`);
    await db.execute('INSERT INTO kept VALUES (1)');
    let failure: unknown;
    for (let i = 0; i < 200 && failure === undefined; i++) {
      await db.execute('INSERT INTO filler SELECT md5(random()::text) FROM generate_series(1, 2000)').catch((e: unknown) => (failure = e));
    }
    assert.ok(hasCode(failure, 'BOLT_DISK_FULL'), String(failure));
    assert.match((failure as Error).message, /^no space left on the file system at .*: free some space and retry .*No space left on device/);
    const bulk = await db
      .insertMany(
        'filler',
        ['body'],
        Array.from({ length: 20_000 }, (_, i) => [`row ${i} ${'y'.repeat(50)}`]),
      )
      .catch((e: unknown) => e);
    assert.ok(hasCode(bulk, 'BOLT_DISK_FULL'), String(bulk));
    await db.execute('DROP TABLE filler');
    await db.execute('INSERT INTO kept VALUES (2)');
    assert.deepEqual(await db.query('SELECT id FROM kept ORDER BY id'), [{ id: 1 }, { id: 2 }]);
  },
);
