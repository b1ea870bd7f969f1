/**
 * Every option of the public search and index API is checked: a bad one is BOLT_BAD_INPUT
 * naming it, never an SQL error, SQL run as given, or a run that hangs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { openTestDb } from './helpers/einstein-db.js';
import { EinsteinSearch, type SearchOptions } from '../search/einstein-search.js';
import type { IndexOptions } from '../search/indexer.js';
import { hasCode } from '../core/errors.js';

const badInput = (name: RegExp) => (e: unknown) => {
  assert.ok(hasCode(e, 'BOLT_BAD_INPUT'), String(e));
  assert.match((e as Error).message, name);
  assert.doesNotMatch((e as Error).message, /bm_p|LIMIT/, 'no SQL statement in the message');
  return true;
};

test('search options: depth, k, mode, pathGlob and signal are checked before any SQL', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.ts'), 'export const answer = 42;\n');
  const db = await openTestDb(t, join(tempDir(t), 'x.db'));
  const einstein = new EinsteinSearch(db);
  await einstein.index(dir);
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ depth: -1 }, /^depth must be a whole number from 1 to 10000, got -1/],
    [{ depth: Number.NaN }, /^depth .* got NaN/],
    [{ depth: 1.5 }, /^depth /],
    [{ depth: 1e9 }, /^depth /],
    [{ depth: '(SELECT count(*) FROM einstein_files)' }, /^depth .* got "\(/],
    [{ k: '5' }, /^k must be/],
    [{ k: 0 }, /^k must be/],
    [{ mode: 'fuzzy' }, /^mode must be/],
    [{ pathGlob: 'x'.repeat(65_537) }, /pathGlob pattern is 65537 characters long/],
    [{ pathGlob: [] }, /^pathGlob must hold/],
    [{ pathGlob: [3] }, /^pathGlob must be a non-empty glob/],
    [{ signal: 'stop' }, /^signal must be an AbortSignal/],
  ];
  for (const [opts, message] of bad) await assert.rejects(einstein.search('answer', opts as SearchOptions), badInput(message), JSON.stringify(opts));
  await assert.rejects(einstein.search('answer', 'k=5' as unknown as SearchOptions), badInput(/^search options must be an object/));
  const hits = await einstein.search('answer', { depth: 1, k: 1 });
  assert.equal(hits.length, 1);
  assert.equal((await einstein.indexStats()).files, 1);
});

test('index options are checked before anything is read or written', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.ts'), 'export const answer = 42;\n');
  const db = await openTestDb(t, join(tempDir(t), 'x.db'));
  const einstein = new EinsteinSearch(db);
  const bad: Array<[Record<string, unknown>, RegExp]> = [
    [{ concurrency: 0 }, /^concurrency must be/],
    [{ concurrency: Number.POSITIVE_INFINITY }, /^concurrency must be/],
    [{ batchChunks: Number.NaN }, /^batchChunks must be/],
    [{ maxFileBytes: Number.NaN }, /^maxFileBytes must be/],
    [{ maxFileBytes: -1 }, /^maxFileBytes must be/],
    [{ maxFileBytes: 2 ** 40 }, /^maxFileBytes must be/],
    [{ ignorePatterns: '*.log' }, /^ignorePatterns must be a list of strings/],
    [{ chunking: { maxLines: 0 } }, /^chunking\.maxLines must be/],
    [{ chunking: { overlap: -1 } }, /^chunking\.overlap must be/],
    [{ chunking: { maxChars: '4000' } }, /^chunking\.maxChars must be/],
    [{ onProgress: 'yes' }, /^onProgress must be a function/],
    [{ signal: {} }, /^signal must be an AbortSignal/],
  ];
  for (const [opts, message] of bad) await assert.rejects(einstein.index(dir, opts as IndexOptions), badInput(message), JSON.stringify(opts));
  await assert.rejects(einstein.index(42 as unknown as string), badInput(/^dir must be a non-empty path/));
  await assert.rejects(einstein.plan(dir, { concurrency: -2 }), badInput(/^concurrency/));
  assert.equal((await einstein.indexStats()).files, 0);
});
