import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { walk, type WalkEntry } from '../search/walker.js';

async function collect(root: string, opts: Parameters<typeof walk>[1] = {}): Promise<{ files: string[]; skipped: Record<string, string> }> {
  const files: string[] = [];
  const skipped: Record<string, string> = {};
  for await (const e of walk(root, { ...opts, onSkip: (p, why) => (skipped[p] = why) }) as AsyncGenerator<WalkEntry>) files.push(e.path);
  return { files, skipped };
}

function put(root: string, rel: string, content: string | Buffer): void {
  const abs = join(root, rel);
  mkdirSync(join(abs, '..'), { recursive: true });
  writeFileSync(abs, content);
}

test('honours root and nested .gitignore files, with negation, and never enters node_modules/.git/.bolt', { timeout: 10_000 }, async (t) => {
  const root = tempDir(t);
  put(root, '.gitignore', 'dist/\n*.log\n');
  put(root, 'src/a.ts', 'export const a = 1;\n');
  put(root, 'src/debug.log', 'noise\n');
  put(root, 'src/keep.log', 'kept\n');
  put(root, 'src/.gitignore', '!keep.log\ngenerated.ts\n');
  put(root, 'src/generated.ts', 'x\n');
  put(root, 'lib/generated.ts', 'not ignored here\n');
  put(root, 'dist/out.js', 'built\n');
  put(root, 'node_modules/pkg/index.js', 'dep\n');
  put(root, '.git/config', '[core]\n');
  put(root, '.bolt/analytics.db', 'db\n');
  put(root, 'README.md', '# hi\n');
  symlinkSync(join(root, 'README.md'), join(root, 'link.md'));
  const { files, skipped } = await collect(root);
  assert.deepEqual(files, ['.gitignore', 'README.md', 'lib/generated.ts', 'src/.gitignore', 'src/a.ts', 'src/keep.log']);
  assert.equal(skipped['src/debug.log'], 'ignored');
  assert.equal(skipped['src/generated.ts'], 'ignored');
});

test('skips binary files (by content and by extension) and files over the size limit', { timeout: 10_000 }, async (t) => {
  const root = tempDir(t);
  put(root, 'text.txt', 'hello\n');
  put(root, 'blob.txt', Buffer.from([0x68, 0x00, 0x69]));
  put(root, 'image.png', 'not really a png but named so\n');
  put(root, 'big.txt', 'y'.repeat(2048));
  put(root, 'empty.txt', '');
  const { files, skipped } = await collect(root, { maxFileBytes: 1024 });
  assert.deepEqual(files, ['empty.txt', 'text.txt']);
  assert.deepEqual(skipped, { 'big.txt': 'huge', 'blob.txt': 'binary', 'image.png': 'binary' });
});

test('excluded paths (the database file) are never opened, matched by inode', { timeout: 10_000 }, async (t) => {
  const root = tempDir(t);
  put(root, 'data/store', 'pretend database\n');
  put(root, 'a.txt', 'a\n');
  const { files, skipped } = await collect(root, { exclude: [join(root, 'data', '..', 'data', 'store')] });
  assert.deepEqual(files, ['a.txt']);
  assert.equal(skipped['data/store'], 'excluded');
});

test('an aborted signal stops the walk with BOLT_ABORTED', { timeout: 10_000 }, async (t) => {
  const root = tempDir(t);
  put(root, 'a/b.txt', 'b\n');
  const ac = new AbortController();
  ac.abort();
  await assert.rejects(collect(root, { signal: ac.signal }), { code: 'BOLT_ABORTED' });
});
