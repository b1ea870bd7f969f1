/**
 * `bolt soak` flags a careless user gets wrong: an --engine that contradicts the --db name (a
 * DuckDB file named x.sqlite, counted and reported as a DuckDB soak), a --chaos list naming a
 * fault twice or none at all, and a random seed that `--seed` would refuse to repeat.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { randomSeed } from '../tools/soak/seeded-random.js';
import type { SoakResult } from '../tools/soak/soak-result.js';

const SMALL = ['soak', '--processes', '1', '--agents', '1', '--duration', '1', '--seed', '5'];

test('bolt soak refuses an --engine the --db name contradicts, and a --chaos naming a fault twice or none', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const cases: Array<[string[], RegExp]> = [
    [['--engine', 'duckdb', '--db', join(dir, 'x.sqlite')], /^error \[BOLT_BAD_INPUT\]: --db .*x\.sqlite is named as a SQLite file.*--engine duckdb/m],
    [['--engine', 'sqlite', '--db', join(dir, 'x.duckdb')], /^error \[BOLT_BAD_INPUT\]: --db .*x\.duckdb is named as a DuckDB file.*--engine sqlite/m],
    [['--chaos', 'kill-host,kill-agent,kill-host'], /^error \[BOLT_BAD_INPUT\]: --chaos names kill-host twice/m],
    [['--chaos', ','], /^error \[BOLT_BAD_INPUT\]: --chaos names no fault/m],
    [['--chaos', ''], /^error \[BOLT_BAD_INPUT\]: --chaos names no fault/m],
  ];
  for (const [extra, message] of cases) {
    const r = await runBolt([...SMALL, '--work-dir', join(dir, 'work'), ...extra], { timeoutMs: 20_000 });
    assert.equal(r.code, 2, `${extra.join(' ')}: exit ${r.code ?? r.signal}; ${r.stderr.slice(-1500)}`);
    assert.match(r.stderr, message, extra.join(' '));
    assert.equal(r.stdout, '');
    assert.deepEqual(readdirSync(dir), [], `${extra.join(' ')}: nothing was created`);
  }
});

test('bolt soak --db x.sqlite without --engine runs on SQLite, as its name says', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'x.sqlite');
  const r = await runBolt([...SMALL, '--db', db, '--work-dir', join(dir, 'work'), '--json'], { timeoutMs: 50_000 });
  assert.equal(r.code, 0, r.stderr.slice(-2000));
  assert.equal((JSON.parse(r.stdout) as SoakResult).config.engine, 'sqlite');
  assert.equal(readFileSync(db).subarray(0, 15).toString(), 'SQLite format 3');
});

test('a random soak seed is one --seed accepts (1 to 2^31), so the run can be repeated', () => {
  const real = Math.random;
  try {
    for (const r of [0, 0.5, 1 - Number.EPSILON]) {
      Math.random = () => r;
      const seed = randomSeed();
      assert.ok(Number.isSafeInteger(seed) && seed >= 1 && seed <= 2 ** 31, `Math.random() = ${r} gives seed ${seed}`);
    }
  } finally {
    Math.random = real;
  }
});
