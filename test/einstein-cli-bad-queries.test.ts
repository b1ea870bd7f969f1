/**
 * `bolt search` refuses what it cannot answer with BOLT_BAD_INPUT (exit 2) and no stack: an
 * empty query, a `--path` glob longer than the limit. `bolt index` counts a file whose name
 * is not valid UTF-8 (it cannot be opened by the name readdir gives) among the skipped.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';

test('empty queries and over-long --path globs are BOLT_BAD_INPUT; odd names count as skipped', { timeout: 60_000 }, async (t) => {
  const cwd = tempDir(t);
  mkdirSync(join(cwd, 'proj'));
  writeFileSync(join(cwd, 'proj', 'a.md'), 'hello world\n');
  writeFileSync(Buffer.from(join(cwd, 'proj', 'bad-\xff-name.md'), 'latin1'), 'hello again\n');
  const index = await runBolt(['index', 'proj', '--db', 'x.db'], { cwd });
  assert.equal(index.code, 0, index.stderr);
  assert.match(index.stdout, /^indexed 1 files .*, 1 skipped$/m);

  for (const q of ['', '   ']) {
    const r = await runBolt(['search', q, '--db', 'x.db'], { cwd });
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /^error \[BOLT_BAD_INPUT\]: the query is empty/);
  }
  const glob = await runBolt(['search', 'hello', '--db', 'x.db', '--path', `${'a'.repeat(70_000)}/**`], { cwd });
  assert.equal(glob.code, 2);
  assert.match(glob.stderr, /^error \[BOLT_BAD_INPUT\]: a pathGlob pattern is 70003 characters long/);
  assert.doesNotMatch(glob.stderr, /\n\s+at /);
});
