/**
 * Odd paths given where a database file is expected: a FIFO is no database. It is refused at
 * once with a typed error (no hang on opening it, no sidecar made next to it), by the command
 * line and by `ConcurrentDatabase.open`, for DuckDB and SQLite alike. A symlink to a file not
 * created yet names its target for every opener, the first one included.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';

function fifo(t: import('node:test').TestContext): string {
  const path = join(tempDir(t), 'pipe.db');
  execFileSync('mkfifo', [path]);
  return path;
}

test('bolt query --db <FIFO>: BOLT_NOT_A_DATABASE at once, nothing made next to it', { timeout: 60_000 }, async (t) => {
  const path = fifo(t);
  const r = await runBolt(['query', 'CREATE TABLE t (i INTEGER)', '--db', path], { timeoutMs: 20_000 });
  assert.equal(r.signal, null, 'bolt query hung on a FIFO and was killed');
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^error \[BOLT_NOT_A_DATABASE\]: /);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(existsSync(`${path}.bolt.lock`), false, 'no sidecar next to a FIFO');
});

test('ConcurrentDatabase.open(<FIFO>): refused with BOLT_NOT_A_DATABASE (DuckDB and SQLite)', { timeout: 60_000 }, async (t) => {
  const path = fifo(t);
  for (const engine of ['duckdb', 'sqlite'] as const) {
    await assert.rejects(
      (async () => {
        const db = await ConcurrentDatabase.open(path, { engine });
        await db.execute('CREATE TABLE t (i INTEGER)').finally(() => db.close());
      })(),
      (e) => hasCode(e, 'BOLT_NOT_A_DATABASE'),
      engine,
    );
  }
  assert.equal(existsSync(`${path}.bolt.lock`), false);
});

test(
  'a symlink to a DuckDB file not created yet: the first opener (through the link) and later ones (through the target) share one host and one WAL',
  { timeout: 60_000 },
  async (t) => {
    const dir = tempDir(t);
    const link = join(dir, 'link.db');
    const target = join(dir, 'missing.db');
    symlinkSync('missing.db', link);
    const db = await ConcurrentDatabase.open(link);
    t.after(() => db.close());
    await db.execute('CREATE TABLE t (i INTEGER)');
    await db.execute('INSERT INTO t VALUES (42)');
    // Another process naming the target joins this process's host (it used to find the file held
    // by "a process that is not a Bolt host": the link's sidecar was not the target's).
    const r = await runBolt(['query', 'SELECT sum(i) AS s FROM t', '--db', target, '--json'], { timeoutMs: 40_000 });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).rows[0].s, 42);
    assert.equal(existsSync(`${link}.wal`), false, 'no WAL named after the link (opening the target would not replay it)');
    assert.equal(existsSync(`${link}.bolt.lock`), false, 'no sidecar named after the link');
  },
);

test('a FIFO or a text file named .sqlite is refused as not a SQLite database (the engine its name means)', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const text = join(dir, 'notes.sqlite');
  writeFileSync(text, 'hello\n');
  const pipe = join(dir, 'pipe.sqlite');
  execFileSync('mkfifo', [pipe]);
  for (const path of [text, pipe]) {
    const r = await runBolt(['query', 'SELECT 1', '--db', path], { timeoutMs: 20_000 });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error \[BOLT_NOT_A_DATABASE\]: .* is not a SQLite database/m, path);
  }
});
