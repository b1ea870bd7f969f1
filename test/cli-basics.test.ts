import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBolt } from './helpers/cli.js';

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
