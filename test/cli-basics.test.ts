import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { jsonError, runBolt } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

test('bolt --help lists the commands', { timeout: 30_000 }, async () => {
  const r = await runBolt(['--help']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: bolt/);
  assert.match(r.stdout, /\bdb\b/);
});

test('an unknown command exits non-zero without a stack trace', { timeout: 30_000 }, async () => {
  const r = await runBolt(['no-such-command']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /unknown command/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('usage errors read as every other error: error [BOLT_BAD_INPUT], exit 2', { timeout: 30_000 }, async () => {
  for (const [args, what] of [
    [['no-such-command'], "unknown command 'no-such-command'"],
    [['tasks', '--bogus'], "unknown option '--bogus'"],
    [['submit'], "missing required argument 'agent'"],
  ] as const) {
    const r = await runBolt([...args]);
    assert.equal(r.code, 2, r.stderr);
    assert.ok(r.stderr.startsWith(`error [BOLT_BAD_INPUT]: ${what}\n`), r.stderr);
  }
});

test('with --json an error is one JSON object on stdout, and the same line on stderr; without, stdout stays empty', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const missing = join(dir, 'missing.db');
  const db = join(dir, 'q.sqlite');
  const cases: Array<[string[], string]> = [
    [['tasks', '--db', missing], 'BOLT_NOT_FOUND'],
    [['db', 'info', missing], 'BOLT_NOT_FOUND'],
    [['submit', 'echo', '--payload', '{oops', '--db', db], 'BOLT_BAD_INPUT'],
    [['query', 'SELECT * FROM no_such_table', '--db', db], 'BOLT_SQL'],
    // Usage errors, which commander reports before any action runs.
    [['tasks', '--bogus', '--db', db], 'BOLT_BAD_INPUT'],
    [['submit', '--db', db], 'BOLT_BAD_INPUT'],
  ];
  for (const [args, code] of cases) {
    const plain = await runBolt(args);
    assert.equal(plain.code, 2, plain.stderr);
    assert.equal(plain.stdout, '', `${args.join(' ')}: nothing on stdout without --json`);
    const json = await runBolt([...args, '--json']);
    assert.equal(json.code, 2, json.stderr);
    const e = jsonError(json);
    assert.equal(e.code, code, args.join(' '));
    assert.ok(plain.stderr.startsWith(`error [${e.code}]: ${e.message}\n`), `the same error either way: ${plain.stderr}`);
  }
});
