/**
 * Schedules with real runtimes (`bolt start` in child processes) on DuckDB and PostgreSQL:
 * a tick is one task however many runtimes fire it, with no gaps, even when a runtime is
 * SIGKILLed; ticks missed while no runtime ran follow the catch-up policy; bad input is
 * BOLT_BAD_INPUT with nothing stored, and one line and a non-zero exit on the command line.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { Cron } from 'croner';
import { BadInputError, hasCode } from '../core/errors.js';
import { MAX_CATCH_UP, type Schedule, type ScheduleSpec } from '../core/runtime/schedules.js';
import { MAX_TICKS_PER_PASS, planTicks, watchedSince } from '../core/runtime/schedule-ticks.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import type { Task } from '../core/runtime/task.js';
import { openDatabase } from '../storage/open-database.js';
import { startedMarkers, writeTestAgents } from './helpers/agents-fixture.js';
import { runBolt } from './helpers/cli.js';
import { freshPgDatabase, PG_SKIP } from './helpers/pg.js';
import { spawnBolt, type RuntimeProcess } from './helpers/runtime-process.js';
import { tempDir } from './helpers/tmp.js';
import { waitForValue } from './helpers/wait.js';

type Engine = 'duckdb' | 'postgres';
const ENGINES: readonly Engine[] = ['duckdb', 'postgres'];
/** Short leases (a killed runtime's task is re-run soon) and frequent heartbeats. */
const ENV = { BOLT_LEASE_MS: '1500', BOLT_HEARTBEAT_MS: '100', BOLT_POLL_MS: '20', BOLT_PREFETCH: '0', BOLT_HEALTH_MS: '500' };
const EVERY_SECOND = '* * * * * *';

function skip(engine: Engine): string | undefined {
  return engine === 'postgres' ? PG_SKIP : undefined;
}

/** A fresh database for this test: a DuckDB file in its temp dir, or a PostgreSQL database. */
async function freshLocation(t: TestContext, engine: Engine, dir: string): Promise<string> {
  if (engine === 'duckdb') return join(dir, 'queue.db');
  return (await freshPgDatabase(t, 'bolt_sched')).tcp;
}

/** The queue of `location`, opened in this process (closed after the test). */
async function openQueue(t: TestContext, location: string): Promise<TaskQueue> {
  const db = await openDatabase(location);
  t.after(() => db.close());
  const q = new TaskQueue(db);
  await q.ensureSchema();
  return q;
}

/** The tick time of a task a schedule submitted (from its dedupe key), undefined for other tasks. */
function tickOf(task: Task, name: string): number | undefined {
  const prefix = `schedule:${name}@`;
  return task.dedupeKey?.startsWith(prefix) ? Date.parse(task.dedupeKey.slice(prefix.length)) : undefined;
}

async function scheduleTasks(q: TaskQueue, name: string): Promise<Array<Task & { tick: number }>> {
  const all = await q.list({ limit: 10_000, order: 'oldest' });
  return all.flatMap((x) => {
    const tick = tickOf(x, name);
    return tick === undefined ? [] : [{ ...x, tick }];
  });
}

/** Asserts the ticks are every second from `first` on, each once. */
function assertEverySecond(ticks: number[], first: number, what: string): void {
  const sorted = [...ticks].sort((x, y) => x - y);
  assert.equal(new Set(sorted).size, sorted.length, `${what}: no tick submitted twice`);
  assert.equal(new Date(sorted[0]!).toISOString(), new Date(first).toISOString(), `${what}: the first tick`);
  for (let i = 1; i < sorted.length; i++) {
    assert.equal(sorted[i]! - sorted[i - 1]!, 1000, `${what}: no gap after ${new Date(sorted[i - 1]!).toISOString()}`);
  }
}

/** The first whole second after `ms`. */
const secondAfter = (ms: number): number => Math.floor(ms / 1000) * 1000 + 1000;

for (const engine of ENGINES) {
  test(
    `a schedule every second, two runtimes, one SIGKILLed midway: each tick is one task, run once, no gaps [${engine}]`,
    { timeout: 170_000, skip: skip(engine) },
    async (t) => {
      const cwd = tempDir(t);
      const location = await freshLocation(t, engine, cwd);
      const module = writeTestAgents(cwd);
      const start = (): RuntimeProcess =>
        spawnBolt(t, ['start', '--agents', '2', '--agent-module', module, '--db', location, '--no-status'], { cwd, env: ENV });
      // On DuckDB the first runtime hosts the file: it is the one killed, so the survivor takes over.
      const a = start();
      await a.waitForLine('ready: ', 60_000);
      const b = start();
      await b.waitForLine('ready: ', 60_000);

      const marker = join(cwd, 'started');
      const payload = JSON.stringify({ ms: 100, marker });
      const set = await runBolt(
        ['schedule', 'set', 'every-second', '--cron', EVERY_SECOND, '--agent', 'slow', '--payload', payload, '--db', location, '--json'],
        {
          cwd,
          env: ENV,
        },
      );
      assert.equal(set.code, 0, set.stderr);
      const anchor = (JSON.parse(set.stdout) as Schedule).lastTick;
      const q = await openQueue(t, location);

      // Both runtimes run the schedule's tasks, then one dies in the middle of the run.
      await waitForValue(
        'both runtimes ran ticks',
        () => [...startedMarkers(cwd).values()].flat(),
        (pids) => pids.includes(a.pid) && pids.includes(b.pid),
        { timeoutMs: 60_000, everyMs: 100 },
      );
      await waitForValue(
        '4 s of ticks',
        () => scheduleTasks(q, 'every-second'),
        (ts) => ts.some((x) => x.tick >= anchor + 4000),
        { timeoutMs: 60_000, everyMs: 100 },
      );
      a.child.kill('SIGKILL');
      assert.equal((await a.exited).signal, 'SIGKILL');
      await waitForValue(
        '10 s of ticks',
        () => scheduleTasks(q, 'every-second'),
        (ts) => ts.some((x) => x.tick >= anchor + 10_000),
        {
          timeoutMs: 90_000,
          everyMs: 100,
        },
      );
      const removed = await runBolt(['schedule', 'remove', 'every-second', '--db', location], { cwd, env: ENV });
      assert.equal(removed.code, 0, removed.stderr);
      const removedAt = Date.now();
      await waitForValue(
        'the ticks done',
        () => scheduleTasks(q, 'every-second'),
        (ts) => ts.every((x) => x.status === 'done'),
        {
          timeoutMs: 60_000,
          everyMs: 100,
        },
      );
      b.child.kill('SIGINT');
      assert.equal((await b.exited).code, 0, b.stderr());

      const tasks = await scheduleTasks(q, 'every-second');
      t.diagnostic(`${tasks.length} ticks from ${new Date(anchor).toISOString()}`);
      assert.ok(tasks.length >= 10, `ran ${tasks.length} ticks`);
      assertEverySecond(
        tasks.map((x) => x.tick),
        secondAfter(anchor),
        engine,
      );
      const runs = startedMarkers(cwd);
      let rerun = 0;
      for (const task of tasks) {
        // A pass that read the schedule just before it was removed may submit one more tick,
        // which the survivor's drain then leaves queued.
        if (task.status !== 'done') {
          assert.ok(task.createdAt >= removedAt - 2000 && task.status === 'queued', `tick task ${task.id} is ${task.status}`);
          continue;
        }
        // By attempt; an attempt the killed runtime claimed but had not started has no marker.
        const pids = (runs.get(task.id) ?? []).filter((pid) => pid !== undefined);
        const result = task.result as { pid: number; attempt: number };
        assert.equal(result.attempt, task.attempts, 'the result is the last attempt');
        if (pids.length === 1) continue;
        // The queue runs a task at least once: one the killed runtime was running is run again.
        assert.deepEqual(pids, [a.pid, b.pid], `task ${task.id}: started on the killed runtime, run again by the survivor`);
        rerun++;
      }
      t.diagnostic(`${rerun} tick task(s) were running on the killed runtime and ran again on the survivor`);
    },
  );

  test(`catch-up none, last and all after a time with no runtime [${engine}]`, { timeout: 120_000, skip: skip(engine) }, async (t) => {
    const cwd = tempDir(t);
    const location = await freshLocation(t, engine, cwd);
    const q = await openQueue(t, location);
    const anchors = new Map<string, number>();
    for (const catchUp of ['none', 'last', 'all'] as const) {
      anchors.set(catchUp, (await q.setSchedule(catchUp, { cron: EVERY_SECOND, agent: 'echo', payload: { catchUp }, catchUp })).lastTick);
    }
    // No runtime yet: let at least three ticks go by.
    const latest = Math.max(...anchors.values());
    await waitForValue(
      '3.5 s with no runtime',
      () => Date.now(),
      (now) => now >= latest + 3500,
      { timeoutMs: 10_000, everyMs: 50 },
    );
    assert.deepEqual(await q.list(), [], 'nothing submitted while no runtime ran');

    const r = spawnBolt(t, ['start', '--agents', '2', '--db', location, '--no-status'], { cwd, env: ENV });
    await r.waitForLine('ready: ', 60_000);
    const [runtime] = await waitForValue(
      'the runtime registered',
      () => q.runtimes(60_000),
      (rs) => rs.length === 1,
      { timeoutMs: 30_000 },
    );
    const startedAt = runtime!.startedAt;
    for (const name of anchors.keys()) {
      await waitForValue(
        `${name}: ticks after the start`,
        () => scheduleTasks(q, name),
        (ts) => ts.some((x) => x.tick >= startedAt + 2000),
        {
          timeoutMs: 60_000,
          everyMs: 100,
        },
      );
    }
    for (const name of anchors.keys()) await q.removeSchedule(name);
    r.child.kill('SIGINT');
    assert.equal((await r.exited).code, 0, r.stderr());

    const ticks = async (name: string) => (await scheduleTasks(q, name)).map((x) => x.tick);
    const lastMissed = Math.ceil(startedAt / 1000) * 1000 - 1000;
    // all: every tick since the schedule was set; last: only the newest tick before the runtime
    // started, then every one; none: only from the runtime's start on.
    assertEverySecond(await ticks('all'), secondAfter(anchors.get('all')!), 'all');
    assertEverySecond(await ticks('last'), lastMissed, 'last');
    assert.ok(lastMissed > anchors.get('last')! + 1000, 'more than one tick was missed');
    assertEverySecond(await ticks('none'), lastMissed + 1000, 'none');
  });
}

test('bad schedules are BOLT_BAD_INPUT and store nothing; setting a name again replaces it', { timeout: 60_000 }, async (t) => {
  const q = await openQueue(t, join(tempDir(t), 'queue.db'));
  const ok: ScheduleSpec = { cron: '*/5 * * * * *', agent: 'echo' };
  const circular: Record<string, unknown> = {};
  circular.self = circular;
  const bad: Array<[string, string, ScheduleSpec]> = [
    ['invalid cron', 'a', { ...ok, cron: 'every minute' }],
    ['out-of-range field', 'a', { ...ok, cron: '61 * * * * *' }],
    ['never fires', 'a', { ...ok, cron: '0 0 30 2 *' }],
    ['unknown zone', 'a', { ...ok, tz: 'Mars/Olympus_Mons' }],
    ['unknown policy', 'a', { ...ok, catchUp: 'sometimes' as 'all' }],
    ['payload not JSON', 'a', { ...ok, payload: circular }],
    ['payload too big', 'a', { ...ok, payload: 'x'.repeat(1024 * 1024 + 1) }],
    ['bad agent name', 'a', { ...ok, agent: 'no spaces' }],
    ['empty name', '', ok],
    ['huge name', 'n'.repeat(101), ok],
    ['name with @', 'a@b', ok],
    ['NaN in the payload', 'a', { ...ok, payload: { x: Number.NaN } }],
  ];
  for (const [what, name, spec] of bad) {
    await assert.rejects(q.setSchedule(name, spec), (e: unknown) => e instanceof BadInputError && hasCode(e, 'BOLT_BAD_INPUT'), what);
  }
  assert.deepEqual(await q.schedules(), [], 'nothing stored');

  await q.setSchedule('report', ok);
  const replaced = await q.setSchedule('report', { cron: '0 9 * * 1-5', agent: 'sql', payload: { sql: 'SELECT 1' }, tz: 'Europe/Berlin', catchUp: 'none' });
  const [only, ...rest] = await q.schedules();
  assert.deepEqual(rest, [], 'one schedule per name');
  assert.deepEqual({ ...only, nextRun: undefined }, { ...replaced, nextRun: undefined });
  assert.equal(only!.agent, 'sql');
  assert.equal(new Date(only!.nextRun!).getUTCMinutes(), 0, 'next run at 9:00 Berlin time');
  assert.ok([7, 8].includes(new Date(only!.nextRun!).getUTCHours()), '9:00 in Berlin is 7:00 or 8:00 UTC');
  await assert.rejects(q.setSchedule('report', { ...ok, cron: 'nope' }), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'));
  assert.equal((await q.schedules())[0]!.agent, 'sql', 'a bad replacement leaves the old schedule');
  await q.removeSchedule('report');
  await assert.rejects(q.removeSchedule('report'), (e: unknown) => hasCode(e, 'BOLT_NOT_FOUND'));
  assert.equal((await q.setSchedule('zone', { ...ok, tz: 'europe/berlin' })).tz, 'Europe/Berlin', 'the zone as the time zone data spells it');
  assert.equal((await q.setSchedule('tabs', { ...ok, cron: ' */5\t*  *\t* * *\n' })).cron, '*/5 * * * * *', 'fields one space apart');
});

test('bolt schedule: bad input is one line and exit 2, nothing created; --help; set, list --json, remove', { timeout: 120_000 }, async (t) => {
  const cwd = tempDir(t);
  const db = join(cwd, 'queue.db');
  const set = (...args: string[]) => runBolt(['schedule', 'set', ...args, '--db', db], { cwd });
  const bad: Array<[string[], RegExp]> = [
    [['s', '--cron', 'bad', '--agent', 'echo'], /Invalid cron expression "bad"/],
    [['s', '--cron', EVERY_SECOND, '--agent', 'echo', '--tz', 'Nowhere/Land'], /Unknown time zone "Nowhere\/Land"/],
    [['s', '--cron', EVERY_SECOND, '--agent', 'echo', '--catch-up', 'some'], /Unknown --catch-up "some"; one of none, last, all/],
    [['s', '--cron', EVERY_SECOND, '--agent', 'echo', '--payload', '{oops'], /--payload is not valid JSON/],
    [['', '--cron', EVERY_SECOND, '--agent', 'echo'], /Invalid schedule name ""/],
    [['x'.repeat(5000), '--cron', EVERY_SECOND, '--agent', 'echo'], /Invalid schedule name x{40}… \(5000 characters\)/],
  ];
  for (const [args, message] of bad) {
    const r = await set(...args);
    assert.equal(r.code, 2, `${args.join(' ').slice(0, 80)}: ${r.stderr}`);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^error \[BOLT_BAD_INPUT\]: [^\n]+\n$/, 'one line, no stack');
    assert.match(r.stderr, message);
  }
  assert.equal(existsSync(db), false, 'bad input creates no database');
  const missing = await set('s', '--agent', 'echo');
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /required option '--cron <expr>' not specified/);

  for (const sub of ['set', 'list', 'remove']) {
    const help = await runBolt(['schedule', sub, '--help'], { cwd });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, new RegExp(`^Usage: bolt schedule ${sub}`));
  }

  const created = await set(
    'nightly',
    '--cron',
    '0 2 * * *',
    '--agent',
    'sql',
    '--payload',
    '{"sql":"SELECT 1"}',
    '--tz',
    'America/New_York',
    '--catch-up',
    'all',
    '--json',
  );
  assert.equal(created.code, 0, created.stderr);
  assert.equal(typeof (JSON.parse(created.stdout) as { nextRun: unknown }).nextRun, 'number', 'set --json shows the next tick, as list does');
  const list = await runBolt(['schedule', 'list', '--db', db, '--json'], { cwd });
  assert.equal(list.code, 0, list.stderr);
  const [s] = (JSON.parse(list.stdout) as { schedules: Array<Schedule & { nextRun: number }> }).schedules;
  assert.deepEqual(
    { name: s!.name, cron: s!.cron, agent: s!.agent, payload: s!.payload, tz: s!.tz, catchUp: s!.catchUp },
    { name: 'nightly', cron: '0 2 * * *', agent: 'sql', payload: { sql: 'SELECT 1' }, tz: 'America/New_York', catchUp: 'all' },
  );
  assert.ok([6, 7].includes(new Date(s!.nextRun).getUTCHours()), '2:00 in New York is 6:00 or 7:00 UTC');
  const human = await runBolt(['schedule', 'list', '--db', db], { cwd });
  assert.match(human.stdout, /nightly\s+0 2 \* \* \*\s+America\/New_York\s+sql\s+all/);
  assert.equal((await runBolt(['schedule', 'remove', 'nightly', '--db', db], { cwd })).code, 0);
  const gone = await runBolt(['schedule', 'remove', 'nightly', '--db', db], { cwd });
  assert.equal(gone.code, 2);
  assert.match(gone.stderr, /^error \[BOLT_NOT_FOUND\]: No schedule named "nightly"\n$/);
});

test('catch-up all is bounded: after a day away a per-second schedule submits the newest missed ticks only', () => {
  const cron = new Cron(EVERY_SECOND, { paused: true, timezone: 'UTC' });
  const now = Date.parse('2026-06-01T12:00:00.500Z');
  const since = now - 2000;
  const s: Schedule = {
    name: 's',
    cron: EVERY_SECOND,
    agent: 'echo',
    payload: null,
    tz: null,
    catchUp: 'all',
    lastTick: now - 86_400_000,
    createdAt: 0,
    updatedAt: 0,
  };
  const all = planTicks(s, cron, now, since);
  assert.equal(all.fire.length, MAX_CATCH_UP + 2, 'the newest missed ticks, then the on-time ones');
  assert.ok(all.skipped >= 1);
  assert.equal(all.fire.at(-1), Date.parse('2026-06-01T12:00:00.000Z'));
  assert.equal(all.handledUpTo, all.fire.at(-1));
  const last = planTicks({ ...s, catchUp: 'last' }, cron, now, since);
  assert.deepEqual(last.fire, [since - 500, since + 500, now - 500]);
  const none = planTicks({ ...s, catchUp: 'none' }, cron, now, since);
  assert.deepEqual(none.fire, [since + 500, now - 500]);
  assert.equal(none.handledUpTo, now - 500);
  // A runtime long behind (say its database was away) catches up in bounded passes.
  const behind = planTicks({ ...s, lastTick: now - 86_400_000 }, cron, now, now - 86_400_000);
  assert.equal(behind.fire.length, MAX_TICKS_PER_PASS);
  // Runtimes that overlap (directly or through another) make one stretch.
  assert.equal(
    watchedSince(100, [
      { startedAt: 50, upUntil: 120 },
      { startedAt: 10, upUntil: 60 },
      { startedAt: 0, upUntil: 5 },
    ]),
    10,
  );
});
