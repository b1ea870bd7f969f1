/**
 * Database locations Bolt cannot use are refused up front with BOLT_BAD_INPUT, before anything
 * is created: a file name too long for the lock file Bolt keeps beside it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';

/** A name of `bytes` bytes ending in `ext`. */
const nameOf = (bytes: number, ext: string): string => 'm'.repeat(bytes - ext.length) + ext;

test('a database file name too long for its .bolt.lock beside it: BOLT_BAD_INPUT naming the limit, nothing created', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  // 253 bytes is a valid file name; with ".bolt.lock" it would be 263, over Linux's 255.
  for (const name of [nameOf(253, '.db'), nameOf(250, '.sqlite')]) {
    const r = await runBolt(['submit', 'echo', '--db', join(dir, 'sub', name)]);
    assert.equal(r.code, 2, r.stderr);
    assert.match(
      r.stderr,
      /^error \[BOLT_BAD_INPUT\]: database file name too long \(\d+ bytes\): .*"\.bolt\.lock".* at most 255 bytes; use a name of at most 245 bytes\n$/,
    );
    for (const engine of ['duckdb', 'sqlite'] as const) {
      await assert.rejects(
        ConcurrentDatabase.open(join(dir, name), { engine }),
        (e) => hasCode(e, 'BOLT_BAD_INPUT') && /at most 245 bytes/.test((e as Error).message),
      );
    }
  }
  assert.deepEqual(readdirSync(dir), [], 'nothing created, not even the missing directory');

  // The longest name that fits works.
  const r = await runBolt(['submit', 'echo', '--db', join(dir, nameOf(245, '.db'))]);
  assert.equal(r.code, 0, r.stderr);
});
