import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { openTestDb } from './helpers/einstein-db.js';
import { EinsteinSearch } from '../search/einstein-search.js';

test('bolt index <missing dir> --reset keeps the existing index and fails BOLT_NOT_FOUND', { timeout: 60_000 }, async (t) => {
  const cwd = tempDir(t);
  mkdirSync(join(cwd, 'proj'));
  for (let i = 0; i < 5; i++) writeFileSync(join(cwd, 'proj', `f${i}.ts`), `export const value${i} = ${i};\n`);
  const first = await runBolt(['index', 'proj', '--db', 'x.db'], { cwd });
  assert.equal(first.code, 0, first.stderr);

  const reset = await runBolt(['index', 'no-such-dir', '--reset', '--db', 'x.db'], { cwd });
  assert.equal(reset.code, 2);
  assert.match(reset.stderr, /^error \[BOLT_NOT_FOUND\]: Cannot index no-such-dir: no such directory/);
  const notDir = await runBolt(['index', 'proj/f0.ts', '--reset', '--db', 'x.db'], { cwd });
  assert.equal(notDir.code, 2);
  assert.match(notDir.stderr, /^error \[BOLT_BAD_INPUT\]: Cannot index proj\/f0\.ts: not a directory/);

  const db = await openTestDb(t, join(cwd, 'x.db'));
  assert.equal((await new EinsteinSearch(db).indexStats()).files, 5);
});

test('bolt index <missing dir> --db new/new.db creates no database and no directory', { timeout: 60_000 }, async (t) => {
  const cwd = tempDir(t);
  const r = await runBolt(['index', 'no-such-dir', '--db', 'new/new.db'], { cwd });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /BOLT_NOT_FOUND/);
  assert.equal(existsSync(join(cwd, 'new')), false);
});
