/**
 * Search work is bounded whatever the query: at most MAX_QUERY_CHARS characters (beyond, or an
 * empty query: BOLT_BAD_INPUT, for the API and so for the CLI, MCP and the `search` agent), and snippets
 * highlight at most MAX_HIGHLIGHT_TERMS distinct terms (a 1 MB query took 16 s in highlighting).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { openTestDb } from './helpers/einstein-db.js';
import { runBolt } from './helpers/cli.js';
import { EinsteinSearch } from '../search/einstein-search.js';
import { MAX_QUERY_CHARS } from '../search/options.js';
import { makeSnippet, MAX_HIGHLIGHT_TERMS } from '../search/snippet.js';
import { hasCode } from '../core/errors.js';

/** `n` characters of distinct words. */
function manyWords(n: number): string {
  let s = '';
  for (let i = 0; s.length < n; i++) s += `w${i.toString(36)}x `;
  return s.slice(0, n);
}

test('a query over MAX_QUERY_CHARS is BOLT_BAD_INPUT; one of exactly that length is answered', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'a.md'), 'hello world w1x w2x\n');
  const db = await openTestDb(t, join(dir, 'x.db'));
  const einstein = new EinsteinSearch(db);
  await einstein.index(dir);
  for (const q of [manyWords(MAX_QUERY_CHARS + 1), 'x'.repeat(1024 * 1024)]) {
    await assert.rejects(einstein.search(q), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT') && /at most 10000 are allowed/.test((e as Error).message));
  }
  // An empty query is an error here as in the CLI (it returned [] through the API, the MCP tool and the search agent).
  for (const q of ['', '   \n\t']) {
    await assert.rejects(
      einstein.search(q),
      (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT') && /the query is empty/.test((e as Error).message),
      JSON.stringify(q),
    );
  }
  const hits = await einstein.search(manyWords(MAX_QUERY_CHARS), { mode: 'bm25' });
  assert.equal(hits.length, 1);
  assert.ok(hits[0]!.highlights.length > 0);

  const cli = await runBolt(['search', manyWords(MAX_QUERY_CHARS + 1), '--db', join(dir, 'x.db')], { cwd: dir });
  assert.equal(cli.code, 2);
  assert.match(cli.stderr, /^error \[BOLT_BAD_INPUT\]: the query is 10001 characters long/);
});

test('snippets highlight each distinct term once, and only the first MAX_HIGHLIGHT_TERMS of them', { timeout: 10_000 }, () => {
  const terms = Array.from({ length: MAX_HIGHLIGHT_TERMS + 10 }, (_, i) => `term${i}z`);
  const text = `first term0z here\nlast ${terms.at(-1)} there`;
  const once = makeSnippet(text, 1, ['term0z']);
  const repeated = makeSnippet(text, 1, ['term0z', 'TERM0Z', 'term0z']);
  assert.deepEqual(repeated, once);
  const capped = makeSnippet(text, 1, terms);
  const marked = capped.highlights.map(([s, e]) => capped.text.slice(s, e));
  assert.deepEqual(marked, ['term0z'], 'a term past the cap is not highlighted');
});
