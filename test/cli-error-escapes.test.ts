/**
 * A failing command's error line on stderr shows control characters of what it names (a path
 * given by the user, a SQL engine's text) escaped: a file name cannot recolour or clear the
 * terminal, and a line break in it (or in a SQL engine's message, which has some: DuckDB's
 * caret line) goes on an indented line, so it cannot start a line of its own (a fake
 * `error [...]`). `--json` keeps the message exact.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { jsonError, runBolt } from './helpers/cli.js';
import { printableLines } from '../tools/format.js';

test('printableLines escapes each line and indents the lines after the first', () => {
  assert.equal(printableLines('one line \x1b[2J'), 'one line \\x1b[2J');
  assert.equal(printableLines('syntax error\n\nLINE 1: SELEC 1\n        ^'), 'syntax error\n  \n  LINE 1: SELEC 1\n          ^');
  assert.equal(printableLines('a\r\nerror [BOLT_FAKE]: b'), 'a\\r\n  error [BOLT_FAKE]: b');
});

test('an error naming a hostile path prints it escaped on stderr, exact with --json', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'evil\x1b[2J\nerror [BOLT_FAKE]: all good\x1b[0m.db');

  const human = await runBolt(['db', 'info', path]);
  assert.equal(human.code, 2, human.stderr);
  assert.doesNotMatch(human.stderr, /\x1b/, 'no escape character reaches the terminal');
  const lines = human.stderr.trimEnd().split('\n');
  assert.ok(lines.length >= 1 && lines.every((l, i) => (i === 0 ? l.startsWith('error [BOLT_') : l.startsWith('  '))), human.stderr);
  assert.ok(!/^error \[BOLT_FAKE\]/m.test(human.stderr), human.stderr);
  assert.match(human.stderr, /evil\\x1b\[2J\n {2}error \[BOLT_FAKE\]: all good\\x1b\[0m\.db/);

  const json = await runBolt(['db', 'info', path, '--json']);
  assert.equal(json.code, 2);
  assert.ok(jsonError(json).message.includes(path), jsonError(json).message);
});
