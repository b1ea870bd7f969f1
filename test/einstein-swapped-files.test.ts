/**
 * What the walk saw may be replaced before it is read: a symbolic link to a file outside the
 * folder must not be indexed (its content would become searchable), a FIFO must not hang the
 * run, a .gitignore that is a FIFO or a link to /dev/zero must not hang or exhaust the walk.
 * The swaps are made between the plan and the read, so nothing races.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { openTestDb } from './helpers/einstein-db.js';
import { EinsteinSearch } from '../search/einstein-search.js';
import { readRegularFile } from '../search/regular-file.js';
import { walk } from '../search/walker.js';

const mkfifo = (path: string) => execFileSync('mkfifo', [path]);

async function walked(root: string): Promise<string[]> {
  const files: string[] = [];
  for await (const e of walk(root)) files.push(e.path);
  return files;
}

test('readRegularFile reads a regular file and skips links, FIFOs and files over the limit', { timeout: 10_000 }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.txt'), 'hello\n');
  symlinkSync(join(dir, 'a.txt'), join(dir, 'link.txt'));
  symlinkSync('/dev/zero', join(dir, 'zero'));
  mkfifo(join(dir, 'fifo'));
  assert.equal(String(await readRegularFile(join(dir, 'a.txt'), { maxBytes: 100 })), 'hello\n');
  assert.equal(String(await readRegularFile(join(dir, 'a.txt'), { maxBytes: 100, prefix: 2 })), 'he');
  assert.equal(await readRegularFile(join(dir, 'a.txt'), { maxBytes: 3 }), 'huge');
  assert.equal(await readRegularFile(join(dir, 'link.txt'), { maxBytes: 100 }), 'not-regular');
  assert.equal(await readRegularFile(join(dir, 'zero'), { maxBytes: 100 }), 'not-regular');
  assert.equal(await readRegularFile(join(dir, 'fifo'), { maxBytes: 100 }), 'not-regular');
  assert.equal(await readRegularFile(join(dir, 'missing'), { maxBytes: 100 }), 'unreadable');
});

test('a .gitignore that is a FIFO or a link to /dev/zero is not read, and the walk finishes', { timeout: 10_000 }, async (t) => {
  const fifo = tempDir(t);
  mkfifo(join(fifo, '.gitignore'));
  writeFileSync(join(fifo, 'a.txt'), 'a\n');
  assert.deepEqual(await walked(fifo), ['a.txt']);

  const zero = tempDir(t);
  symlinkSync('/dev/zero', join(zero, '.gitignore'));
  writeFileSync(join(zero, 'a.txt'), 'a\n');
  assert.deepEqual(await walked(zero), ['a.txt']);
});

test('files replaced by a link to an outside file or by a FIFO after the walk are not indexed', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const outside = join(tempDir(t), 'secret.txt');
  writeFileSync(outside, 'topsecret password hunter2\n');
  writeFileSync(join(dir, 'linked.txt'), 'harmless words\n');
  writeFileSync(join(dir, 'piped.txt'), 'more harmless words\n');
  writeFileSync(join(dir, 'kept.txt'), 'kept words\n');
  const db = await openTestDb(t, join(tempDir(t), 'x.db'));
  const einstein = new EinsteinSearch(db);
  const plan = await einstein.plan(dir);
  assert.equal(plan.toIndex.length, 3);

  rmSync(join(dir, 'linked.txt'));
  symlinkSync(outside, join(dir, 'linked.txt'));
  rmSync(join(dir, 'piped.txt'));
  mkfifo(join(dir, 'piped.txt'));
  const r = await einstein.indexEntries(plan, plan.toIndex);
  assert.equal(r.filesIndexed, 1);
  assert.equal(r.filesSkipped, 2);
  assert.deepEqual(await einstein.search('hunter2 topsecret', { mode: 'bm25' }), []);
  assert.equal((await einstein.indexStats()).files, 1);
});
