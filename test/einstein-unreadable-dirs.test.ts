/**
 * A directory that cannot be listed is skipped, counted and reported; the rest is indexed.
 * Tests run as root in CI, where chmod 000 stops nothing, so the unreadable directory here is
 * one whose path is longer than PATH_MAX (readdir fails with ENAMETOOLONG, for root too).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { openTestDb } from './helpers/einstein-db.js';
import { EinsteinSearch } from '../search/einstein-search.js';

/**
 * Makes `<parent>/<name>` a chain of directories whose deepest one has a path over 4,096
 * bytes, holding a file. Built inside out by renames, so no system call is given a long path.
 */
function tooDeep(scratch: string, parent: string, name: string): void {
  const segment = 'd'.repeat(200);
  mkdirSync(join(scratch, 'chain'));
  writeFileSync(join(scratch, 'chain', 'deep.txt'), 'unreachable words\n');
  for (let i = 0; i < 25; i++) {
    mkdirSync(join(scratch, 'next', segment), { recursive: true });
    renameSync(join(scratch, 'chain'), join(scratch, 'next', segment, 'c'));
    renameSync(join(scratch, 'next'), join(scratch, 'chain'));
  }
  renameSync(join(scratch, 'chain'), join(parent, name));
}

test('a directory that cannot be listed is skipped and reported; the index run goes on', { timeout: 60_000 }, async (t) => {
  const cwd = tempDir(t);
  const proj = join(cwd, 'proj');
  mkdirSync(join(proj, 'src'), { recursive: true });
  writeFileSync(join(proj, 'src', 'a.ts'), 'export const reachable = 1;\n');
  writeFileSync(join(proj, 'z.md'), '# after the deep folder\n');
  const scratch = join(cwd, 'scratch');
  mkdirSync(scratch);
  tooDeep(scratch, proj, 'm');
  try {
    await indexAroundIt(t, cwd, proj);
  } finally {
    removeDeep(join(proj, 'm'));
  }
});

/** Removes a tree with paths over PATH_MAX (rmSync, used by tempDir, fails on them; rm does not). */
function removeDeep(path: string): void {
  execFileSync('rm', ['-rf', path]);
}

async function indexAroundIt(t: TestContext, cwd: string, proj: string): Promise<void> {
  const cli = await runBolt(['index', 'proj', '--db', 'x.db'], { cwd });
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /indexed 2 files .*, 1 skipped/);
  assert.match(cli.stdout, /^could not list 1 directory, skipped: m\/d+\/c\/.*\(ENAMETOOLONG\)$/m);

  const db = await openTestDb(t, join(cwd, 'api.db'));
  const r = await new EinsteinSearch(db).index(proj);
  assert.equal(r.filesIndexed, 2);
  assert.equal(r.filesSkipped, 1);
  assert.equal(r.unreadableDirs.length, 1);
  assert.equal(r.unreadableDirs[0]!.code, 'ENAMETOOLONG');
}

test('an unlistable root is a typed error, not BOLT_INTERNAL', { timeout: 30_000 }, async (t) => {
  const cwd = tempDir(t);
  const scratch = join(cwd, 'scratch');
  mkdirSync(scratch);
  tooDeep(scratch, cwd, 'm');
  try {
    let deep = join(cwd, 'm');
    for (let i = 0; i < 25; i++) deep = join(deep, 'd'.repeat(200), 'c');
    const db = await openTestDb(t, join(cwd, 'api.db'));
    await assert.rejects(new EinsteinSearch(db).index(deep), (e: unknown) => {
      assert.match(String((e as { code?: string }).code), /^BOLT_(BAD_INPUT|NOT_FOUND)$/, String(e));
      return true;
    });
  } finally {
    removeDeep(join(cwd, 'm'));
  }
});
