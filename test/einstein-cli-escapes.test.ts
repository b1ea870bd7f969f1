/**
 * `bolt search` human output shows control characters of file names and file content
 * escaped (a name or a line cannot recolour the terminal or fake output lines); `--json`
 * keeps them exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { printable } from '../tools/format.js';

test('printable escapes control characters, separators and bidi overrides, and keeps tabs and text', () => {
  assert.equal(printable('a\tb ü 漢'), 'a\tb ü 漢');
  assert.equal(printable('x\x1b[31my\nz\r\x00\x7f\x9b\u2028\u202e'), 'x\\x1b[31my\\nz\\r\\x00\\x7f\\x9b\\u2028\\u202e');
});

test('bolt search escapes control characters in paths and snippets; --json is exact', { timeout: 60_000 }, async (t) => {
  const cwd = tempDir(t);
  mkdirSync(join(cwd, 'proj'));
  const name = 'evil\x1b[2J\nfake.md';
  writeFileSync(join(cwd, 'proj', name), 'marker \x1b[31mred\x1b[0m line\n');
  const index = await runBolt(['index', 'proj', '--db', 'x.db'], { cwd });
  assert.equal(index.code, 0, index.stderr);

  const human = await runBolt(['search', 'marker', '--db', 'x.db', '--mode', 'bm25'], { cwd });
  assert.equal(human.code, 0, human.stderr);
  assert.doesNotMatch(human.stdout, /\x1b/, 'no escape character reaches the terminal');
  assert.match(human.stdout, /^proj\/evil\\x1b\[2J\\nfake\.md:1-1 {2}score/m);
  assert.match(human.stdout, /\| «marker» \\x1b\[31mred\\x1b\[0m line$/m);

  const json = await runBolt(['search', 'marker', '--db', 'x.db', '--mode', 'bm25', '--json'], { cwd });
  const hit = (JSON.parse(json.stdout) as { hits: Array<{ path: string; snippet: string }> }).hits[0]!;
  assert.equal(hit.path, `proj/${name}`);
  assert.equal(hit.snippet, 'marker \x1b[31mred\x1b[0m line');
});
