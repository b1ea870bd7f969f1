import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunkText } from '../search/chunker.js';

function numbered(n: number, indent = '  '): string[] {
  return Array.from({ length: n }, (_, i) => `${indent}line${i + 1}();`);
}

test('hard cuts repeat the last `overlap` lines and cover every line', { timeout: 5_000 }, () => {
  const text = numbered(100).join('\n');
  const chunks = chunkText(text, { maxLines: 30, overlap: 5 });
  assert.deepEqual(
    chunks.map((c) => [c.startLine, c.endLine]),
    [
      [1, 30],
      [26, 55],
      [51, 80],
      [76, 100],
    ],
  );
  assert.equal(chunks[1]!.text.split('\n')[0], '  line26();');
  assert.equal(chunks[3]!.text.split('\n').length, 25);
});

test('prefers to cut before a top-level declaration, without overlap', { timeout: 5_000 }, () => {
  const lines = [...['export function a() {', ...numbered(20), '}'], ...['export function b() {', ...numbered(20), '}']];
  const chunks = chunkText(lines.join('\n'), { maxLines: 30, overlap: 5 });
  assert.deepEqual(
    chunks.map((c) => [c.startLine, c.endLine]),
    [
      [1, 22],
      [23, 44],
    ],
  );
  assert.match(chunks[1]!.text, /^export function b/);
});

test('prefers to cut after a blank line', { timeout: 5_000 }, () => {
  const lines = [...numbered(25), '', ...numbered(25)];
  const chunks = chunkText(lines.join('\n'), { maxLines: 30, overlap: 3 });
  assert.deepEqual(
    chunks.map((c) => [c.startLine, c.endLine]),
    [
      [1, 26],
      [27, 51],
    ],
  );
});

test('a boundary in the first half of the window is not used (chunks stay reasonably big)', { timeout: 5_000 }, () => {
  const lines = [...numbered(3), '', ...numbered(60)];
  const chunks = chunkText(lines.join('\n'), { maxLines: 30, overlap: 2 });
  assert.deepEqual(chunks[0], { startLine: 1, endLine: 30, text: lines.slice(0, 30).join('\n') });
});

test('blank-only chunks are dropped, empty text has no chunks, character budget splits long lines', { timeout: 5_000 }, () => {
  assert.deepEqual(chunkText(''), []);
  assert.deepEqual(chunkText('\n\n\n'), []);
  const long = Array.from({ length: 10 }, () => 'x'.repeat(1000)).join('\n');
  const chunks = chunkText(long, { maxLines: 40, maxChars: 2500, overlap: 0 });
  assert.deepEqual(
    chunks.map((c) => [c.startLine, c.endLine]),
    [
      [1, 2],
      [3, 4],
      [5, 6],
      [7, 8],
      [9, 10],
    ],
  );
});

test('CRLF line endings are handled', { timeout: 5_000 }, () => {
  const chunks = chunkText('a\r\nb\r\nc\r\n');
  assert.deepEqual(chunks, [{ startLine: 1, endLine: 3, text: 'a\nb\nc' }]);
});
