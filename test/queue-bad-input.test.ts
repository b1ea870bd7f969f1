/**
 * What the queue refuses before it stores anything, on every engine: options outside what every
 * engine stores (32-bit INTEGER columns) or a timer can wait, numbers JSON cannot hold, bad
 * agent names and dedupe keys. The command line checks before it opens (or creates) a database,
 * reads of a database that is not there are BOLT_NOT_FOUND (not an empty queue made at a
 * mistyped path), a repeated --depends-on adds up, and a schedule row no runtime can fire is
 * listed with why instead of hiding every other.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { tempDir } from './helpers/tmp.js';
import type { SubmitOptions } from '../core/runtime/task.js';
import { hasCode } from '../core/errors.js';
import { PG_SKIP } from './helpers/pg.js';
import { freshQueue } from './helpers/queue.js';
import { jsonError, runBolt } from './helpers/cli.js';

const bad = (e: unknown): boolean => hasCode(e, 'BOLT_BAD_INPUT');

for (const engine of ['duckdb', 'sqlite', 'postgres'] as const) {
  test(
    `submit refuses what an engine cannot store or JSON cannot hold, and stores nothing [${engine}]`,
    { timeout: 60_000, skip: engine === 'postgres' ? PG_SKIP : undefined },
    async (t) => {
      const q = await freshQueue(t, engine, 'bolt_badq');
      const options: SubmitOptions[] = [
        { priority: 2 ** 31 },
        { priority: -(2 ** 31) - 1 },
        { maxAttempts: 2 ** 31 },
        { timeoutMs: 2 ** 31 }, // a timer that long fires at once: the task timed out as it started
        { timeoutMs: 1.5 },
        { delayMs: -1 },
        { delayMs: Number.MAX_SAFE_INTEGER },
        { dedupeKey: '' },
        { dedupeKey: 'k'.repeat(501) },
        { group: '   ' },
        { group: 'a\nb' },
        { group: 'tab\there' },
      ];
      for (const o of options) await assert.rejects(q.submit('echo', null, o), bad, JSON.stringify(o));
      for (const payload of [{ x: Number.NaN }, { x: [1, Infinity] }, -Infinity]) {
        await assert.rejects(q.submit('echo', payload), bad, String(payload));
      }
      await assert.rejects(q.submitMany([{ agent: 'echo' }, { agent: 'echo', payload: { x: Number.NaN } }]), bad, 'one bad item: none stored');
      await assert.rejects(q.submit('bad agent', null), bad);
      await assert.rejects(q.setSchedule('s', { cron: '* * * * *', agent: 'echo', payload: { x: Infinity } }), bad);
      await assert.rejects(q.setSchedule('s', { cron: '* * * * *', agent: 'bad agent' }), bad);
      assert.equal((await q.list({})).length, 0, 'nothing stored');
      assert.deepEqual(await q.schedules(), []);

      // The edges are stored and read back as given.
      const edge = await q.submit('echo', null, { priority: 2 ** 31 - 1, maxAttempts: 2 ** 31 - 1, timeoutMs: 2 ** 31 - 1, dedupeKey: 'k'.repeat(500) });
      const back = await q.get(edge.id);
      assert.deepEqual([back.priority, back.maxAttempts, back.timeoutMs], [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1]);
      assert.equal((await q.submit('echo', null, { priority: -(2 ** 31 - 1) })).deduplicated, false);
    },
  );
}

test('the command line checks a submit, a schedule and a group before it opens the database: nothing is created', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const refusals: Array<[string[], RegExp]> = [
    [['submit', 'bad agent'], /Invalid agent name/],
    [['submit', 'echo', '--group', ''], /a group must be 1 to 200 characters/],
    [['submit', 'echo', '--priority', '3000000000'], /--priority must be a whole number from -2147483647 to 2147483647/],
    [['submit', 'echo', '--timeout', '3000000000'], /--timeout must be a whole number from 1 to 2147483647/],
    [['submit', 'echo', '--max-attempts', '0x10'], /--max-attempts must be a whole number/],
    [['submit', 'echo', '--payload', '{"x":1e400}'], /the payload holds Infinity/],
    [['submit', 'echo', '--dedupe-key', ''], /dedupeKey must be a string of 1 to 500 characters/],
    [['schedule', 'set', 'x', '--cron', '* * * * *', '--agent', 'bad agent'], /Invalid agent name/],
    [['schedule', 'set', 'x', '--cron', '* * * * *', '--agent', 'echo', '--payload', '{"x":-1e400}'], /the payload holds -Infinity/],
    [['limits', 'set', 'g', '--rate', '0.0000000000000001/s'], /the rate must be from 0.000001/],
    [['limits', 'set', 'g', '--concurrency', '3000000000'], /--concurrency must be a whole number from 1 to 2147483647/],
    [['limits', 'remove', ''], /a group must be 1 to 200 characters/],
    [['start', '--agents', '100000'], /--agents must be a whole number from 1 to 1024/],
    [['tasks', '--status', ''], /--status needs at least one of queued/],
    [['tasks', '--status', ' , '], /--status needs at least one of queued/],
  ];
  for (const [i, [args, message]] of refusals.entries()) {
    const r = await runBolt([...args, '--db', join(dir, `new${i}.db`)], { cwd: dir });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error \[BOLT_BAD_INPUT\]: /m, args.join(' '));
    assert.match(r.stderr, message, args.join(' '));
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  assert.deepEqual(readdirSync(dir), [], 'no database, sidecar or directory created');
});

test('reading a queue that is not there is BOLT_NOT_FOUND, and creates nothing', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const typo = join(dir, 'no', 'such', 'typo.db');
  for (const args of [['tasks'], ['task', '1'], ['schedule', 'list'], ['limits', 'list'], ['cancel', '1'], ['schedule', 'remove', 's']]) {
    const r = await runBolt([...args, '--db', typo, '--json']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error \[BOLT_NOT_FOUND\]: no database at /m, args.join(' '));
    assert.equal(jsonError(r).code, 'BOLT_NOT_FOUND', 'the error alone on stdout');
  }
  assert.equal(existsSync(join(dir, 'no')), false, 'no directory made for the mistyped path');
});

test('a repeated --depends-on adds up; a task whose parent already ended says it is cancelled; task ids are digits only', { timeout: 120_000 }, async (t) => {
  const db = join(tempDir(t), 'q.db');
  for (let i = 0; i < 2; i++) assert.equal((await runBolt(['submit', 'echo', '--db', db])).code, 0);
  const r = await runBolt(['submit', 'echo', '--depends-on', '1', '--depends-on', '2', '--db', db, '--json']);
  assert.equal(r.code, 0, r.stderr);
  const shown = await runBolt(['task', String(JSON.parse(r.stdout).id), '--db', db, '--json']);
  const parents = (JSON.parse(shown.stdout) as { dependsOn: Array<{ id: number }> }).dependsOn.map((p) => p.id);
  assert.deepEqual(parents, [1, 2], 'both parents, not the last option only');
  assert.equal((await runBolt(['cancel', '1', '--db', db])).code, 0);
  const late = await runBolt(['submit', 'echo', '--depends-on', '1', '--db', db]);
  assert.equal(late.code, 0, late.stderr);
  assert.match(late.stdout, /^submitted task \d+ \(echo\), cancelled at once: Task 1, which this task depends on, ended cancelled$/m);
  const table = (await runBolt(['tasks', '--db', db])).stdout;
  assert.match(table, /^3\s+cancelled\s+echo\s+0\/3\s/m, 'a cancelled task shows no parents it waits on');
  assert.match(table, /^4\s+cancelled\s+echo\s+0\/3\s/m);
  const hex = await runBolt(['task', '0x1', '--db', db]);
  assert.equal(hex.code, 2);
  assert.match(hex.stderr, /Task id must be a positive integer/);
});

test('bolt schedule list shows a schedule no runtime can fire, with why, beside the others; exit 1', { timeout: 120_000 }, async (t) => {
  const db = join(tempDir(t), 'q.db');
  assert.equal((await runBolt(['schedule', 'set', 'good', '--cron', '0 0 * * *', '--agent', 'echo', '--db', db])).code, 0);
  const written = await runBolt([
    'query',
    "INSERT INTO bolt_schedules (name, cron, tz, agent, payload, catch_up, last_tick, created_at, updated_at) VALUES ('broken', 'nope', 'Mars/Olympus', 'echo', 'null', 'last', 0, 0, 0)",
    '--db',
    db,
  ]);
  assert.equal(written.code, 0, written.stderr);
  const json = await runBolt(['schedule', 'list', '--db', db, '--json']);
  assert.equal(json.code, 1, json.stderr);
  const { schedules } = JSON.parse(json.stdout) as { schedules: Array<{ name: string; nextRun: number | null; problem?: string }> };
  assert.deepEqual(
    schedules.map((s) => [s.name, s.nextRun === null, typeof s.problem]),
    [
      ['broken', true, 'string'],
      ['good', false, 'undefined'],
    ],
  );
  const text = await runBolt(['schedule', 'list', '--db', db]);
  assert.equal(text.code, 1);
  assert.match(text.stdout, /^broken .* never: /m);
  assert.match(text.stdout, /^good /m);
});

test('bolt db verify and bolt db backup of a database that is not there: BOLT_NOT_FOUND, nothing created', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  for (const args of [
    ['db', 'verify', join(dir, 'm1.sqlite')],
    ['db', 'backup', join(dir, 'm2.sqlite'), join(dir, 'copy.sqlite')],
    ['db', 'verify', join(dir, 'm3.db')],
  ]) {
    const r = await runBolt(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stdout}${r.stderr}`);
    assert.match(r.stderr, /^error \[BOLT_NOT_FOUND\]: no database at /m);
  }
  assert.deepEqual(readdirSync(dir), []);
});

test(
  '--payload @FILE reads the payload from a regular file, past the 128 KiB a command-line argument may hold; /dev/zero, a FIFO or a folder are refused',
  { timeout: 60_000 },
  async (t) => {
    const dir = tempDir(t);
    const db = join(dir, 'q.db');
    const big = { blob: 'x'.repeat(300_000) };
    writeFileSync(join(dir, 'big.json'), JSON.stringify(big));
    writeFileSync(join(dir, 'bad.json'), 'not json');
    const sub = await runBolt(['submit', 'echo', '--payload', `@${join(dir, 'big.json')}`, '--db', db, '--json']);
    assert.equal(sub.code, 0, sub.stderr);
    const shown = await runBolt(['task', String((JSON.parse(sub.stdout) as { id: number }).id), '--db', db, '--json']);
    assert.deepEqual((JSON.parse(shown.stdout) as { payload: unknown }).payload, big);
    const sched = await runBolt(['schedule', 'set', 'big', '--cron', '0 0 * * *', '--agent', 'echo', '--payload', `@${join(dir, 'big.json')}`, '--db', db]);
    assert.equal(sched.code, 0, sched.stderr);
    const missing = await runBolt(['submit', 'echo', '--payload', `@${join(dir, 'nope.json')}`, '--db', db]);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^error \[BOLT_NOT_FOUND\]: --payload @.*nope\.json: no such file/m);
    // Not a regular file: refused at once, not read until memory runs out or forever.
    execFileSync('mkfifo', [join(dir, 'pipe')]);
    for (const hostile of ['/dev/zero', join(dir, 'pipe'), dir]) {
      const r = await runBolt(['submit', 'echo', '--payload', `@${hostile}`, '--db', db], { timeoutMs: 20_000 });
      assert.equal(r.code, 2, `${hostile}: ${r.stderr}`);
      assert.match(r.stderr, /^error \[BOLT_BAD_INPUT\]: --payload @.*: not a regular file/m, hostile);
    }
    const bad = await runBolt(['submit', 'echo', '--payload', `@${join(dir, 'bad.json')}`, '--db', db]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /^error \[BOLT_BAD_INPUT\]: --payload @.*bad\.json is not valid JSON/m);
  },
);
