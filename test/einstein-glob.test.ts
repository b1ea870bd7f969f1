/**
 * `pathGlob` matching (search/glob.ts) means what picomatch (`dot: true`), which it replaced,
 * meant: a table of the cases users write, and random globs and paths compared with picomatch
 * itself (a dev dependency kept for this comparison).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import picomatch from 'picomatch';
import { MAX_EXPANSIONS, compileGlob, compileGlobs } from '../search/glob.js';
import { pathMatcher } from '../search/path-filter.js';
import { hasCode } from '../core/errors.js';

test('globs people write match as picomatch matched them', { timeout: 10_000 }, () => {
  const cases: Array<[string, string, boolean]> = [
    ['src/**', 'src', true],
    ['src/**', 'src/a/b.ts', true],
    ['src/**', 'lib/src/a.ts', false],
    ['**/*.ts', 'a.ts', true],
    ['**/*.ts', 'a/b/c.ts', true],
    ['**/*.ts', '../up/c.ts', false], // `**` does not climb out with `..`
    ['**/*.ts', '/home/u/c.ts', true],
    ['*.{md,txt}', 'a.txt', true],
    ['{src,lib}/**/*.{ts,js}', 'lib/x/y.js', true],
    ['{1..3}.log', '2.log', true],
    ['{a..c}.log', 'd.log', false],
    ['.github/**', '.github/workflows/ci.yml', true],
    ['*', '.env', true],
    ['*/x', '../x', false],
    ['a/**/b', 'a/b', true],
    ['a/**/b', 'a/x/y/b', true],
    ['./src/*', 'src/x', true],
    ['src/*', './src/x', false],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['[a-c]x', 'bx', true],
    ['[^a]b', 'xb', true],
    ['[[:digit:]].txt', '7.txt', true],
    ['!*.md', 'x.ts', true],
    ['!*.md', 'x.md', false],
    ['a/*', 'a/', false],
    ['**/b', 'a//b', true],
  ];
  for (const [glob, path, expected] of cases) {
    assert.equal(compileGlob(glob)(path), expected, `${glob} ${path}`);
    assert.equal(picomatch(glob, { dot: true })(path), expected, `picomatch: ${glob} ${path}`);
  }
  assert.ok(pathMatcher(['*.md', 'docs/**'])('docs/x/y.txt'));
});

test('random globs and paths: the same answers as picomatch', { timeout: 60_000 }, () => {
  let seed = 20261207;
  const next = (n: number): number => (seed = (seed * 1103515245 + 12345) % 2147483648) % n;
  const pick = <T>(xs: readonly T[]): T => xs[next(xs.length)]!;
  const atoms = [
    'a',
    'b',
    'ab',
    '.',
    '.x',
    'x.ts',
    'src',
    '*',
    '?',
    '**',
    '[ab]',
    '[a-c]',
    '[^a]',
    '{a,b}',
    '{a,{b,c}}',
    '{,a}',
    '{1..3}',
    '\\*',
    '*.ts',
    'a*',
    '*b',
    '[[:alpha:]]',
    '',
  ];
  const parts = ['a', 'b', 'ab', 'ba', 'aab', '.', '..', '.x', 'x.ts', 'y.ts', 'src', '1', '2', 'a b', '*', '[a]', ''];
  let compared = 0;
  let matched = 0;
  for (let k = 0; k < 5_000; k++) {
    const body = Array.from({ length: 1 + next(4) }, () => Array.from({ length: 1 + next(2) }, () => pick(atoms)).join('')).join('/');
    const glob = (next(6) === 0 ? './' : next(9) === 0 ? '!' : '') + body + (next(8) === 0 ? '/' : '');
    const ours = compileGlob(glob);
    const theirs = picomatch(glob, { dot: true });
    for (let q = 0; q < 10; q++) {
      const segments = Array.from({ length: 1 + next(4) }, () => pick(parts));
      // A path that is only slashes ("/", "//") is no file's path; picomatch's `*` matched its empty parts.
      if (segments.every((s) => s === '')) continue;
      const path = (next(8) === 0 ? '/' : '') + segments.join('/');
      const a = ours(path);
      assert.equal(a, theirs(path), `${JSON.stringify(glob)} on ${JSON.stringify(path)}`);
      compared++;
      if (a) matched++;
    }
  }
  assert.ok(compared > 40_000 && matched > 2_000, `${compared} compared, ${matched} matched`);
});

test('what glob.ts does not take is BOLT_BAD_INPUT', { timeout: 10_000 }, () => {
  for (const glob of ['@(a|b)', '*.+(ts|js)', '!(x)', 'a/*(b)', '?(a)', '[[:nope:]]', '{a,b}'.repeat(7)]) {
    assert.throws(
      () => compileGlob(glob),
      (e) => hasCode(e, 'BOLT_BAD_INPUT'),
      glob,
    );
  }
  assert.equal(2 ** 6 <= MAX_EXPANSIONS, true);
  assert.ok(compileGlob('{a,b}'.repeat(6))('abaaba'), 'six braces stand for 64 globs, still taken');
  assert.ok(compileGlob('a\\(1\\).txt')('a(1).txt'), 'an escaped parenthesis is a character');
});

test('ranges, negations and classes that picomatch read oddly; globs too long once expanded are refused', { timeout: 10_000 }, () => {
  assert.ok(compileGlob('{01..10}.log')('01.log') && compileGlob('{01..10}.log')('10.log'), 'zero-padded range');
  assert.ok(!compileGlob('{01..10}.log')('1.log'));
  assert.ok(
    compileGlob('x{Z..a}y')('x[y') && compileGlob('x{Z..a}y')('x\\y') && !compileGlob('x{Z..a}y')('xy'),
    'a letter range gives characters, not glob syntax',
  );
  assert.ok(compileGlob('!!a')('a') && !compileGlob('!!a')('b'), 'two negations cancel');
  assert.ok(compileGlob('[[:blank:]]x')(' x') && compileGlob('[[:print:]]')('~'));
  assert.ok(compileGlob('a[b')('a[b'), 'an unclosed class is characters');
  for (const glob of ['{a,b}'.repeat(6) + '['.repeat(4_000), '{a,b}'.repeat(6) + '{'.repeat(4_000), '*' + 'a'.repeat(2_000) + '{b,c}'.repeat(6)]) {
    assert.throws(
      () => compileGlob(glob),
      (e) => hasCode(e, 'BOLT_BAD_INPUT') && /once its braces are expanded/.test((e as Error).message),
      glob.slice(0, 30),
    );
  }
  assert.throws(
    () => compileGlobs(Array.from({ length: 100 }, () => `*${'a'.repeat(200)}`)),
    (e) => hasCode(e, 'BOLT_BAD_INPUT'),
  );
  assert.equal(compileGlob('['.repeat(4_096))('['.repeat(4_096)), true);
});
