import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, rmSync, utimesSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { openTestDb } from './helpers/einstein-db.js';
import { EinsteinSearch } from '../search/einstein-search.js';
import { HashEmbedder } from '../search/embedder.js';
import type { IndexProgress } from '../search/indexer.js';

/** A word that the tokenizer keeps whole and that only file `i` contains. */
const marker = (i: number) => `zz${String.fromCharCode(97 + (i % 26))}${String.fromCharCode(97 + Math.floor(i / 26))}marker`;

function makeTree(root: string, files: number): void {
  for (let i = 0; i < files; i++) {
    const dir = join(root, `pkg${i % 5}`);
    mkdirSync(dir, { recursive: true });
    const body = Array.from({ length: 30 }, (_, l) => `export function fn${i}_${l}(value${l}: number) { return value${l} * ${i}; } // ${marker(i)}`).join('\n');
    writeFileSync(join(dir, `file${i}.ts`), `${body}\n`);
  }
}

const embedder = () => new HashEmbedder({ dim: 32 });

/** A temp dir with a tree of `files` source files and a database: what every test here starts from. */
async function setup(t: TestContext, files: number) {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeTree(src, files);
  const db = await openTestDb(t, join(dir, 'a.db'));
  return { dir, src, db, einstein: new EinsteinSearch(db, { embedder: embedder() }) };
}

test('a second run re-indexes only changed files, removes deleted ones, and ends identical to a fresh build', { timeout: 60_000 }, async (t) => {
  const { dir, src, einstein } = await setup(t, 12);
  const first = await einstein.index(src);
  assert.equal(first.filesIndexed, 12);

  const again = await einstein.index(src);
  assert.deepEqual([again.filesIndexed, again.filesUnchanged, again.filesRemoved, again.filesToIndex], [0, 12, 0, 0]);
  assert.equal(again.version, first.version, 'nothing changed: same index version');

  writeFileSync(join(src, 'pkg1', 'file1.ts'), 'export const replaced = "brandnewtoken";\n'); // changed content
  rmSync(join(src, 'pkg2', 'file2.ts')); // deleted
  writeFileSync(join(src, 'pkg0', 'added.ts'), 'export const added = "anothernewtoken";\n'); // new
  const st = statSync(join(src, 'pkg3', 'file3.ts'));
  utimesSync(join(src, 'pkg3', 'file3.ts'), st.atime, new Date(st.mtimeMs + 5000)); // touched, same content
  const third = await einstein.index(src);
  assert.equal(third.filesToIndex, 3, 'changed, new and touched files are looked at');
  assert.equal(third.filesIndexed, 2, 'only changed and new files are re-indexed');
  assert.equal(third.filesUnchanged, 10, 'the touched file is unchanged by hash');
  assert.equal(third.filesRemoved, 1);
  assert.ok(third.version > first.version);

  assert.equal((await einstein.search('brandnewtoken', { mode: 'bm25' }))[0]?.path.endsWith('pkg1/file1.ts'), true);
  assert.equal((await einstein.search('anothernewtoken', { mode: 'bm25' }))[0]?.path.endsWith('pkg0/added.ts'), true);
  assert.deepEqual(await einstein.search(marker(2), { mode: 'bm25' }), [], 'deleted file is gone');
  assert.deepEqual(await einstein.search(marker(1), { mode: 'bm25' }), [], 'old content of the changed file is gone');
  const fourth = await einstein.index(src);
  assert.equal(fourth.filesToIndex, 0, 'the touched mtime was recorded');

  // the incrementally maintained index holds exactly what a fresh build holds
  const fresh = new EinsteinSearch(await openTestDb(t, join(dir, 'b.db')), { embedder: embedder() });
  await fresh.index(src);
  const [inc, full] = [await einstein.indexStats(), await fresh.indexStats()];
  assert.deepEqual({ ...inc, version: 0 }, { ...full, version: 0 });
  // same scores for every chunk (ids differ, so ties may order differently: compare sorted by path)
  const scores = async (e: EinsteinSearch, q: string, mode: 'bm25' | 'vector') =>
    (await e.search(q, { k: 1000, mode })).map((h) => `${h.path}:${h.startLine} ${h.score.toFixed(9)}`).sort();
  for (const q of ['value7 number', 'fn4_3', marker(11)]) {
    for (const mode of ['bm25', 'vector'] as const) assert.deepEqual(await scores(einstein, q, mode), await scores(fresh, q, mode), `${mode} ${q}`);
  }
});

test('abort stops indexing with BOLT_ABORTED; committed batches stay; the next run finishes the job', { timeout: 60_000 }, async (t) => {
  const { src, einstein } = await setup(t, 40);
  const ac = new AbortController();
  const seen: IndexProgress[] = [];
  await assert.rejects(
    einstein.index(src, {
      signal: ac.signal,
      batchChunks: 2, // every file is its own transaction
      concurrency: 2,
      onProgress: (p) => {
        seen.push(p);
        if (p.filesIndexed >= 10) ac.abort();
      },
    }),
    { code: 'BOLT_ABORTED' },
  );
  const partial = await einstein.indexStats();
  assert.ok(partial.files >= 10 && partial.files < 40, `partial index holds ${partial.files} files`);
  assert.ok(seen.some((p) => p.phase === 'indexing' && p.filesToIndex === 40));
  const rest = await einstein.index(src);
  assert.equal(rest.filesIndexed, 40 - partial.files);
  assert.equal(rest.filesUnchanged, partial.files);
  assert.equal((await einstein.indexStats()).files, 40);
  const hits = await einstein.search(marker(39), { mode: 'bm25' });
  assert.equal(hits.length, 1);
});

test('results are cached per (query, options, index version) and dropped when any writer changes the index', { timeout: 60_000 }, async (t) => {
  const { src, db, einstein: reader } = await setup(t, 3);
  const writer = new EinsteinSearch(db, { embedder: embedder() }); // stands for another agent
  await writer.index(src);
  const first = await reader.search(`${marker(1)} value`, { k: 3 });
  const second = await reader.search(`${marker(1)} value`, { k: 3 });
  assert.equal(second, first, 'same array object: served from the cache');
  assert.equal(reader.stats().cacheHits, 1);
  await reader.search(`${marker(1)} value`, { k: 2 });
  assert.equal(reader.stats().cacheMisses, 2, 'other options are another cache entry');

  writeFileSync(join(src, 'pkg0', 'file0.ts'), `export const moved = "${marker(1)}";\n`);
  await writer.index(src);
  const after = await reader.search(`${marker(1)} value`, { k: 3 });
  assert.notEqual(after, first);
  assert.ok(
    after.some((h) => h.path.endsWith('pkg0/file0.ts')),
    'the new content is found',
  );
  const s = reader.stats();
  assert.equal(s.cacheInvalidations, 1);
  assert.equal(s.queries, 4);
  assert.ok(s.latencyMs.p50 > 0 && s.latencyMs.max >= s.latencyMs.p99);
});

test('the embedder is recorded with the index; another embedder is refused with a clear error', { timeout: 30_000 }, async (t) => {
  const { src, db } = await setup(t, 1);
  await new EinsteinSearch(db, { embedder: embedder() }).index(src);
  const other = new EinsteinSearch(db, { embedder: new HashEmbedder({ dim: 48 }) });
  await assert.rejects(other.search('x'), (err: Error & { code?: string }) => err.code === 'BOLT_BAD_INPUT' && /--reset/.test(err.message));
  await other.reset();
  const r = await other.index(src);
  assert.equal(r.filesIndexed, 1);
});

test('compaction re-sorts postings by term without changing any score, and is skipped while the tail is small', { timeout: 60_000 }, async (t) => {
  const { src, db, einstein } = await setup(t, 20);
  await einstein.index(src, { batchChunks: 1 });
  const unsorted = async () =>
    Number(
      (
        await db.query<{ n: bigint }>(
          'SELECT count(*) AS n FROM (SELECT term, lag(term) OVER (ORDER BY rowid) AS prev FROM einstein_postings) WHERE prev > term',
        )
      )[0]!.n,
    );
  assert.ok((await unsorted()) > 0, 'appended postings are not in term order');
  assert.equal((await einstein.compact()).compacted, false, 'a small tail is left alone');
  const before = await einstein.search('value3 number fn7_2', { k: 50, mode: 'bm25' });
  const r = await einstein.compact({ force: true });
  assert.equal(r.compacted, true);
  assert.equal(r.rows, (await einstein.indexStats()).postings);
  assert.equal(await unsorted(), 0);
  const uncached = new EinsteinSearch(db, { embedder: embedder(), cacheSize: 0 }); // compaction keeps the index version
  const after = await uncached.search('value3 number fn7_2', { k: 50, mode: 'bm25' });
  assert.equal(uncached.stats().cacheHits, 0);
  assert.deepEqual(
    after.map((h) => [h.path, h.startLine]),
    before.map((h) => [h.path, h.startLine]),
  );
  after.forEach((h, i) => assert.ok(Math.abs(h.score - before[i]!.score) < 1e-9, 'same score up to summation order'));
  const again = await einstein.compact();
  assert.deepEqual([again.compacted, again.tail], [false, 0]);
  // a second compaction on the same pooled connections (prepared statements are cached there)
  makeTree(join(src, 'more'), 5);
  await einstein.index(src, { batchChunks: 1 });
  assert.ok((await unsorted()) > 0);
  assert.equal((await einstein.compact({ force: true })).compacted, true);
  assert.equal(await unsorted(), 0);
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM einstein_postings_stage'), [{ n: 0 }]);
});

test('indexStats and the index version stay exact across many runs, writers and compactions', { timeout: 60_000 }, async (t) => {
  const { dir, einstein } = await setup(t, 0);
  await einstein.indexStats(); // first run of the statement on empty tables
  let chunks = 0;
  for (let i = 0; i < 6; i++) {
    const root = join(dir, `copy${i}`);
    makeTree(root, 4 + i);
    const r = await einstein.index(root, { batchChunks: 1, concurrency: 2 });
    chunks += r.chunks;
    if (i % 2 === 1) await einstein.compact({ force: true });
    const s = await einstein.indexStats();
    assert.equal(s.chunks, chunks, `after run ${i}`);
    assert.equal(s.files, 4 * (i + 1) + (i * (i + 1)) / 2);
    assert.equal(s.version, r.version);
  }
});
