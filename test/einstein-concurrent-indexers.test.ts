/**
 * Two processes indexing the same folders into the same DuckDB file at once: both succeed
 * (writing the same file's row from both sides is a conflict that is re-run, not an error)
 * and the index ends consistent: one row per file, its chunks, and nothing orphaned.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { tempDir } from './helpers/tmp.js';
import { openTestDb } from './helpers/einstein-db.js';
import { EinsteinSearch } from '../search/einstein-search.js';
import { HashEmbedder } from '../search/embedder.js';

const CHILD = fileURLToPath(new URL('./fixtures/einstein-index-rounds-child.js', import.meta.url));
const ROUNDS = 6;
const FILES = 150;

/** Starts an indexing child (indexes each directory written to its stdin); `next()` reads its answers. */
function indexer(t: TestContext, dbPath: string) {
  const child = spawn(process.execPath, [CHILD, dbPath], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  t.after(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(((await lines.next()).value as string | undefined) ?? 'null') as Record<string, unknown> | null;
  return { child, next, exited, stderr: () => stderr };
}

test('two processes index the same folders at once: both succeed, the index is consistent', { timeout: 180_000 }, async (t) => {
  const dir = tempDir(t);
  const dbPath = join(dir, 'shared.db');
  // This process hosts the file, so both indexers are clients on equal terms (a hosting
  // indexer writes faster and soon runs ahead of the other: fewer races).
  const db = await openTestDb(t, dbPath);
  const a = indexer(t, dbPath);
  const b = indexer(t, dbPath);
  assert.ok((await a.next())?.ready, a.stderr());
  assert.ok((await b.next())?.ready, b.stderr());
  // Each round is a folder of new files, indexed by both at once: both insert the same rows.
  for (let round = 0; round < ROUNDS; round++) {
    const src = join(dir, `src${round}`);
    for (let i = 0; i < FILES; i++) {
      mkdirSync(join(src, `d${i % 5}`), { recursive: true });
      writeFileSync(join(src, `d${i % 5}`, `f${i}.ts`), `export function handler${i}() {\n  return ${i}; // shared words\n}\n`);
    }
    a.child.stdin!.write(`${src}\n`);
    b.child.stdin!.write(`${src}\n`);
    const [ra, rb] = await Promise.all([a.next(), b.next()]);
    assert.ok(ra?.done, `round ${round}, first indexer: ${JSON.stringify(ra)} ${a.stderr()}`);
    assert.ok(rb?.done, `round ${round}, second indexer: ${JSON.stringify(rb)} ${b.stderr()}`);
  }
  a.child.stdin!.end();
  b.child.stdin!.end();
  assert.equal(await a.exited, 0, a.stderr());
  assert.equal(await b.exited, 0, b.stderr());

  const sizes = await new EinsteinSearch(db, { embedder: new HashEmbedder({ dim: 32 }) }).indexStats();
  assert.equal(sizes.files, ROUNDS * FILES);
  assert.equal(sizes.chunks, ROUNDS * FILES);
  const [orphans] = await db.query<{ chunks: number | bigint; postings: number | bigint }>(
    `SELECT (SELECT count(*) FROM einstein_chunks c WHERE c.file_id NOT IN (SELECT id FROM einstein_files)) AS chunks,
            (SELECT count(*) FROM einstein_postings p WHERE p.chunk_id NOT IN (SELECT id FROM einstein_chunks)) AS postings`,
  );
  assert.deepEqual({ chunks: Number(orphans!.chunks), postings: Number(orphans!.postings) }, { chunks: 0, postings: 0 });
});
