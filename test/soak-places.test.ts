/**
 * Where `bolt soak` writes, checked before it runs: a `--report`, `--db` or `--work-dir` it
 * cannot write is refused at once with a typed error (exit 2), not found out after the whole
 * run (which then lost its verdict), and nothing is left behind — not even an empty
 * temporary work directory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';

test('bolt soak refuses a --report, --db or --work-dir it cannot write before running, and leaves nothing behind', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const tmp = join(dir, 'tmp'); // TMPDIR of the runs: where a default work directory would go
  mkdirSync(tmp);
  mkdirSync(join(dir, 'a-dir'));
  writeFileSync(join(dir, 'precious.txt'), 'keep me');
  symlinkSync(join(dir, 'precious.txt'), join(dir, 'link.html'));
  symlinkSync(join(dir, 'elsewhere.duckdb'), join(dir, 'dangling.duckdb'));
  writeFileSync(join(dir, 'a-file'), 'x');
  const before = readdirSync(dir).sort();
  const cases: Array<[string[], RegExp]> = [
    [['--report', join(dir, 'missing', 'r.html')], /^error \[BOLT_NOT_FOUND\]: --report .*the folder .*missing does not exist/m],
    [['--report', join(dir, 'a-dir')], /^error \[BOLT_BAD_INPUT\]: --report .*a-dir is a directory/m],
    [['--report', join(dir, 'link.html')], /^error \[BOLT_BAD_INPUT\]: --report .*link\.html is a symbolic link/m],
    [['--db', join(dir, 'missing', 'x.duckdb')], /^error \[BOLT_NOT_FOUND\]: directory .*missing does not exist/m],
    [['--engine', 'sqlite', '--db', join(dir, 'missing', 'x.sqlite')], /^error \[BOLT_NOT_FOUND\]: directory .*missing does not exist/m],
    [['--db', join(dir, 'dangling.duckdb')], /^error \[BOLT_BAD_INPUT\]: --db .*dangling\.duckdb exists/m],
    [['--work-dir', join(dir, 'a-file', 'sub')], /^error \[BOLT_BAD_INPUT\]: --work-dir .*a-file is not a directory/m],
  ];
  for (const [extra, message] of cases) {
    // --duration 300: a check made only after the run would time this out.
    const r = await runBolt(['soak', '--processes', '1', '--agents', '1', '--duration', '300', '--seed', '3', ...extra], {
      timeoutMs: 20_000,
      env: { TMPDIR: tmp },
    });
    assert.equal(r.code, 2, `${extra.join(' ')}: exit ${r.code ?? r.signal}; ${r.stderr.slice(-1500)}`);
    assert.match(r.stderr, message, extra.join(' '));
    assert.doesNotMatch(r.stderr, /^\s+at /m, 'no stack trace');
    assert.equal(r.stdout, '');
    assert.deepEqual(readdirSync(tmp), [], `${extra.join(' ')}: no temporary work directory is left behind`);
    assert.deepEqual(readdirSync(dir).sort(), before, `${extra.join(' ')}: nothing was created`);
  }
});

test('bolt soak --report never names the soak database, a file beside it or a journal; it may go in the new work directory', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'r.duckdb');
  const work = join(dir, 'work');
  const cases: Array<[string[], RegExp]> = [
    [['--db', db, '--report', db], /^error \[BOLT_BAD_INPUT\]: --report .*r\.duckdb is the soak's database/m],
    [['--db', db, '--report', `${db}.wal`], /^error \[BOLT_BAD_INPUT\]: --report .*r\.duckdb\.wal is the soak's database's \.wal file/m],
    [
      ['--engine', 'sqlite', '--db', join(dir, 'r.sqlite'), '--report', join(dir, 'r.sqlite-wal')],
      /^error \[BOLT_BAD_INPUT\]: --report .* is the soak's database's -wal file/m,
    ],
    [
      ['--work-dir', work, '--report', join(work, 'ledger-0.log')],
      /^error \[BOLT_BAD_INPUT\]: --report .*ledger-0\.log is a file the soak writes in its work directory/m,
    ],
    [['--work-dir', work, '--report', work], /^error \[BOLT_BAD_INPUT\]: --report .*work is the work directory/m],
    [['--work-dir', work, '--report', join(work, 'soak.duckdb')], /^error \[BOLT_BAD_INPUT\]: --report .* is the soak's database/m],
  ];
  for (const [extra, message] of cases) {
    const r = await runBolt(['soak', '--processes', '1', '--agents', '1', '--duration', '300', '--seed', '3', ...extra], { timeoutMs: 20_000 });
    assert.equal(r.code, 2, `${extra.join(' ')}: exit ${r.code ?? r.signal}; ${r.stderr.slice(-1500)}`);
    assert.match(r.stderr, message, extra.join(' '));
    assert.deepEqual(readdirSync(dir), [], `${extra.join(' ')}: nothing was created`);
  }
  // A report in the work directory the soak makes is fine.
  const ok = await runBolt(
    ['soak', '--processes', '1', '--agents', '1', '--duration', '1', '--seed', '3', '--work-dir', work, '--report', join(work, 'report.html')],
    {
      timeoutMs: 60_000,
    },
  );
  assert.equal(ok.code, 0, ok.stderr.slice(-2000));
  assert.match(readFileSync(join(work, 'report.html'), 'utf8'), /^<!doctype html>/);
});
