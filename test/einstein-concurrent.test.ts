/**
 * Searching while another process indexes the same DuckDB file: no lock errors, and every
 * search sees a consistent snapshot — never half a file (each file is written in one
 * transaction and each search is one statement).
 */
import { test } from 'node:test';
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

const CHILD = fileURLToPath(new URL('./fixtures/einstein-index-child.js', import.meta.url));
const FILES = 60;
const CHUNKS_PER_FILE = 3;

/** Each file: three blank-line separated sections of 30 lines → exactly three chunks. */
function makeTree(root: string): void {
  for (let i = 0; i < FILES; i++) {
    const dir = join(root, `d${i % 6}`);
    mkdirSync(dir, { recursive: true });
    const section = (s: number) => Array.from({ length: 30 }, (_, l) => `  step(${i}, ${s}, ${l}); // everywhere`).join('\n');
    writeFileSync(join(dir, `f${i}.ts`), [section(0), section(1), section(2)].join('\n\n') + '\n');
  }
}

test('searches in this process while a child process indexes: no errors, never a partial file', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  makeTree(src);
  const dbPath = join(dir, 'shared.db');
  const child = spawn(process.execPath, [CHILD, dbPath, src], { stdio: ['pipe', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => JSON.parse(((await lines.next()).value as string | undefined) ?? 'null') as Record<string, unknown> | null;

  const ready = await next();
  assert.deepEqual(ready, { ready: 'host' }, 'the indexing child hosts the file');
  const db = await openTestDb(t, dbPath);
  assert.equal(db.lockInfo().role, 'client');
  const einstein = new EinsteinSearch(db, { embedder: new HashEmbedder({ dim: 32 }) });
  child.stdin!.write('go\n');

  let done: Record<string, unknown> | null = null;
  const doneP = next().then((m) => (done = m));
  const seenCounts: number[] = [];
  let searches = 0;
  while (done === null) {
    const hits = await einstein.search('everywhere step', { k: 1000, mode: searches % 2 ? 'bm25' : 'hybrid' });
    searches++;
    const perFile = new Map<string, number>();
    for (const h of hits) perFile.set(h.path, (perFile.get(h.path) ?? 0) + 1);
    for (const [path, n] of perFile) assert.equal(n, CHUNKS_PER_FILE, `${path}: a search saw ${n} of its ${CHUNKS_PER_FILE} chunks`);
    seenCounts.push(perFile.size);
  }
  await doneP;
  const result = (done as unknown as { done: { filesIndexed: number; chunks: number } }).done;
  assert.equal(result.filesIndexed, FILES);
  assert.equal(result.chunks, FILES * CHUNKS_PER_FILE);
  const final = await einstein.search('everywhere step', { k: 1000, mode: 'bm25' });
  assert.equal(final.length, FILES * CHUNKS_PER_FILE);
  assert.ok(searches >= 2, `searched ${searches} times during indexing`);
  assert.ok(
    seenCounts.some((n) => n > 0 && n < FILES),
    `some search ran mid-index (saw ${seenCounts.join(',')})`,
  );
  for (let i = 1; i < seenCounts.length; i++) assert.ok(seenCounts[i]! >= seenCounts[i - 1]!, 'files only ever appear');
  child.stdin!.end();
  assert.equal(await exited, 0);
});
