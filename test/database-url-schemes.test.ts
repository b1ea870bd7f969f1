/**
 * A database location that is a URL of a scheme Bolt does not open (http://, mysql://, file://)
 * is BOLT_BAD_INPUT naming the scheme and what Bolt opens, by the command line and by
 * `ConcurrentDatabase.open`, and nothing is created: it used to be taken for a relative path
 * (`./http:/example.com/…`) and fail as BOLT_NOT_FOUND for a directory nobody typed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';

const SUPPORTED = /Bolt opens a file path \(DuckDB or SQLite\) or a postgres:\/\/ or postgresql:\/\/ URL/;

test('URLs of other schemes: BOLT_BAD_INPUT naming the scheme (CLI and ConcurrentDatabase.open), nothing created', { timeout: 120_000 }, async (t) => {
  const cwd = tempDir(t);
  const file = join(cwd, 'x.db');
  const cases: Array<[string, string]> = [
    ['http://example.com/y', 'http'],
    ['mysql://user:secret@db.example.com/app', 'mysql'],
    [pathToFileURL(file).href, 'file'],
  ];
  for (const [url, scheme] of cases) {
    for (const args of [
      ['submit', 'echo', '--db', url],
      ['tasks', '--db', url],
    ]) {
      const r = await runBolt(args, { cwd });
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, new RegExp(`^error \\[BOLT_BAD_INPUT\\]: unsupported database URL scheme ${scheme}://: `));
      assert.match(r.stderr, SUPPORTED);
      assert.doesNotMatch(r.stderr, /secret/, 'no password in the message');
    }
    for (const engine of [undefined, 'duckdb', 'sqlite'] as const) {
      await assert.rejects(
        ConcurrentDatabase.open(url, engine ? { engine } : {}),
        (e) => hasCode(e, 'BOLT_BAD_INPUT') && (e as Error).message.includes(`${scheme}://`) && SUPPORTED.test((e as Error).message),
      );
    }
  }
  // A file:// URL names the path to give instead.
  await assert.rejects(ConcurrentDatabase.open(pathToFileURL(file).href), (e) => (e as Error).message.endsWith(`for a file URL give its path: ${file}`));
  assert.deepEqual(readdirSync(cwd), [], 'nothing created (no ./http:/… directory, no x.db)');
});
