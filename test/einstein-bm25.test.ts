import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { openTestDb } from './helpers/einstein-db.js';
import { EinsteinSearch } from '../search/einstein-search.js';
import { HashEmbedder } from '../search/embedder.js';
import { tokenize } from '../search/tokenizer.js';

/** Small files, one chunk each, terms easy to count by hand. */
const CORPUS: Record<string, string> = {
  'alpha.md': 'retry retry backoff\nnetwork error\n',
  'beta.md': 'retry once\n',
  'gamma.md': 'backoff backoff backoff jitter timer delay wait sleep\n',
  'delta.md': 'unrelated words about cooking pasta tomato basil\n',
};

/** BM25 as the textbook states it (Lucene idf), written independently of the SQL. */
function expectedBm25(docs: Record<string, string[]>, query: string[]): Map<string, number> {
  const names = Object.keys(docs);
  const N = names.length;
  const avgdl = names.reduce((s, n) => s + docs[n]!.length, 0) / N;
  const scores = new Map<string, number>();
  for (const name of names) {
    const d = docs[name]!;
    let score = 0;
    for (const q of new Set(query)) {
      const tf = d.filter((t) => t === q).length;
      if (tf === 0) continue;
      const df = names.filter((n) => docs[n]!.includes(q)).length;
      const idf = Math.log(1 + (N - df + 0.5) / (df + 0.5));
      score += (idf * tf * (1.2 + 1)) / (tf + 1.2 * (1 - 0.75 + 0.75 * (d.length / avgdl)));
    }
    if (score > 0) scores.set(name, score);
  }
  return scores;
}

async function setup(t: import('node:test').TestContext) {
  const dir = tempDir(t);
  const src = join(dir, 'corpus');
  mkdirSync(src);
  for (const [name, text] of Object.entries(CORPUS)) writeFileSync(join(src, name), text);
  const db = await openTestDb(t, join(dir, 'index.db'));
  const einstein = new EinsteinSearch(db, { embedder: new HashEmbedder({ dim: 64 }) });
  const result = await einstein.index(src);
  assert.equal(result.filesIndexed, 4);
  assert.equal(result.chunks, 4);
  // what each chunk holds: its path's terms, then its text's terms (see indexer.ts)
  const docs = Object.fromEntries(Object.entries(CORPUS).map(([n, text]) => [n, [...tokenize(n), ...tokenize(text.trimEnd())]]));
  return { einstein, docs };
}

test('BM25 scores and order match an independent computation (k1=1.2, b=0.75)', { timeout: 30_000 }, async (t) => {
  const { einstein, docs } = await setup(t);
  for (const query of ['retry backoff', 'backoff', 'retry', 'pasta retry jitter', 'md']) {
    const expected = expectedBm25(docs, tokenize(query));
    const hits = await einstein.search(query, { mode: 'bm25', k: 10 });
    const got = hits.map((h) => [h.path.split('/').pop()!, h.score] as const);
    const want = [...expected.entries()].sort((a, b) => b[1] - a[1] || 0);
    assert.equal(got.length, want.length, `hit count for ${query}`);
    for (const [name, score] of got) {
      assert.ok(expected.has(name), `${name} should not match ${query}`);
      assert.ok(Math.abs(score - expected.get(name)!) < 1e-9, `${query}: ${name} scored ${score}, expected ${expected.get(name)}`);
    }
    for (let i = 1; i < got.length; i++) assert.ok(got[i - 1]![1] >= got[i]![1], 'hits are sorted by score');
    assert.ok(hits.every((h, i) => h.matched.bm25Rank === i + 1 && h.matched.vectorRank === undefined));
  }
  // 'retry': alpha has tf 2 in a 7-term chunk and ranks above beta (tf 1, shorter)
  const retry = await einstein.search('retry', { mode: 'bm25' });
  assert.deepEqual(
    retry.map((h) => h.path.split('/').pop()),
    ['alpha.md', 'beta.md'],
  );
  assert.equal(retry[0]!.startLine, 1);
  assert.equal(retry[0]!.endLine, 2);
  assert.match(retry[0]!.snippet, /retry retry backoff/);
  assert.deepEqual(retry[0]!.highlights[0], [0, 5]);
});

test('vector scores are the cosine of the embedder vectors; hybrid is RRF(k=60) of both lists', { timeout: 30_000 }, async (t) => {
  const { einstein } = await setup(t);
  const embedder = new HashEmbedder({ dim: 64 });
  const query = 'retrying with backof';
  const [qv] = await embedder.embed([query]);
  const expected = new Map<string, number>();
  for (const [name, text] of Object.entries(CORPUS)) {
    const [dv] = await embedder.embed([`${name}\n${text.trimEnd()}`]);
    let dot = 0;
    for (let i = 0; i < 64; i++) dot += qv![i]! * dv![i]!;
    expected.set(name, dot);
  }
  const vec = await einstein.search(query, { mode: 'vector', k: 4 });
  assert.equal(vec.length, 4);
  for (const h of vec) assert.ok(Math.abs(h.score - expected.get(h.path.split('/').pop()!)!) < 1e-4, `${h.path} ${h.score}`);
  assert.deepEqual(
    vec.map((h) => h.path.split('/').pop()),
    [...expected.entries()].sort((a, b) => b[1] - a[1]).map((e) => e[0]),
  );
  assert.equal(vec[0]!.path.split('/').pop(), 'alpha.md'); // typo-tolerant: trigrams of retry/backoff

  const hybrid = await einstein.search('retry jitter', { mode: 'hybrid', k: 4 });
  assert.equal(hybrid.length, 4);
  for (let i = 1; i < hybrid.length; i++) assert.ok(hybrid[i - 1]!.score >= hybrid[i]!.score, 'hybrid hits are in fused order');
  for (const h of hybrid) {
    const rrf = (h.matched.bm25Rank ? 1 / (60 + h.matched.bm25Rank) : 0) + (h.matched.vectorRank ? 1 / (60 + h.matched.vectorRank) : 0);
    assert.ok(Math.abs(h.score - rrf) < 1e-12);
  }
  const bm = await einstein.search('retry jitter', { mode: 'bm25', k: 4 });
  const vs = await einstein.search('retry jitter', { mode: 'vector', k: 4 });
  for (const h of hybrid) {
    assert.equal(h.matched.bm25Rank, bm.findIndex((b) => b.path === h.path) + 1 || undefined);
    assert.equal(h.matched.vectorRank, vs.findIndex((v) => v.path === h.path) + 1 || undefined);
  }
});

test('pathGlob restricts hits without changing BM25 statistics; bad input is BOLT_BAD_INPUT', { timeout: 30_000 }, async (t) => {
  const { einstein, docs } = await setup(t);
  const all = expectedBm25(docs, tokenize('retry backoff'));
  const hits = await einstein.search('retry backoff', { mode: 'bm25', pathGlob: '**/g*.md' });
  assert.deepEqual(
    hits.map((h) => h.path.split('/').pop()),
    ['gamma.md'],
  );
  assert.ok(Math.abs(hits[0]!.score - all.get('gamma.md')!) < 1e-9);
  assert.deepEqual(await einstein.search('retry', { pathGlob: 'nothing/**' }), []);
  await assert.rejects(einstein.search('', {}), { code: 'BOLT_BAD_INPUT' });
  assert.deepEqual(await einstein.search('the of and', { mode: 'bm25' }), []);
  await assert.rejects(einstein.search('x', { k: 0 }), { code: 'BOLT_BAD_INPUT' });
  await assert.rejects(einstein.search('x', { mode: 'fuzzy' as 'bm25' }), { code: 'BOLT_BAD_INPUT' });
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(einstein.search('retry', { signal: ac.signal }), { code: 'BOLT_ABORTED' });
});
