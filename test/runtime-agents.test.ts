/**
 * BoltIntegration in-process with real worker threads and a real DuckDB file: built-in agents,
 * a TypeScript agent module, retries and dead letter, crash / hang / out-of-memory in an agent
 * (only that worker dies, the task is retried, the runtime keeps going), cancel through the
 * signal, dedupe, sequential order, a module that fails to load.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { tempDir } from './helpers/tmp.js';
import { nextEvent, waitForValue } from './helpers/wait.js';
import { testRuntime } from './helpers/runtime.js';
import { spawnBolt } from './helpers/runtime-process.js';
import { writeTestAgents } from './helpers/agents-fixture.js';
import { openDatabase } from '../storage/open-database.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import { BoltIntegration } from '../core/runtime/bolt-integration.js';
import { hasCode, type SerializedError } from '../core/errors.js';
import { EinsteinSearch } from '../search/einstein-search.js';
import type { TaskDoneEvent } from '../core/events.js';

function done(bolt: BoltIntegration, id: number): Promise<TaskDoneEvent> {
  return nextEvent<TaskDoneEvent>(bolt, 'task:done', (e) => e.id === id, 30_000);
}

test('built-in agents run durable tasks; sql goes through ctx.db; events carry agent ids', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t);
  assert.deepEqual(
    bolt
      .agents()
      .map((a) => a.name)
      .sort(),
    [
      'bad-error',
      'crash',
      'die-writing',
      'echo',
      'fail',
      'find',
      'flood',
      'hang',
      'hold',
      'index',
      'join',
      'later',
      'leave-open',
      'oom',
      'reassign',
      'record',
      'search',
      'signal-self',
      'sleep',
      'slow',
      'spoof',
      'sql',
      'stall',
      'stray',
      'unstorable',
      'wait',
    ],
  );
  const started: number[] = [];
  bolt.on('task:started', (e) => started.push(e.id));
  const echoId = await bolt.submit('echo', { hello: 'world' });
  const e = await done(bolt, echoId);
  assert.deepEqual(e.result, { hello: 'world' });
  assert.match(e.agentId, /^agent-[12]$/);
  assert.ok(started.includes(echoId));

  const db = bolt.getDatabaseManager();
  await db.execute('CREATE TABLE seen (task_id BIGINT, agent_id TEXT)');
  const sqlId = await bolt.submit('sql', { sql: 'SELECT 40 + ? AS answer', params: [2] }, { priority: 1, maxAttempts: 3 });
  const s = await done(bolt, sqlId);
  assert.deepEqual(s.result, { rows: [{ answer: 42 }], rowCount: 1, truncated: false });
  const recId = await bolt.submit('record', null);
  await done(bolt, recId);
  const seen = await db.query('SELECT task_id, agent_id FROM seen');
  assert.equal(seen.length, 1);
  assert.equal(Number(seen[0]!.task_id), recId);
  await new EinsteinSearch(db).indexStats(); // an empty index: a search never creates one
  const findId = await bolt.submit('find', { query: 'anything' });
  assert.deepEqual((await done(bolt, findId)).result, [], 'ctx.search works (nothing indexed yet)');
  const stored = await bolt.getTask(sqlId);
  assert.equal(stored.status, 'done');
  assert.deepEqual(stored.result, s.result, 'the result is stored in the queue');
  assert.ok(bolt.status().agents.every((a) => /^agent-\d$/.test(a.agentId)));
});

test('a throwing agent is retried with backoff, then dead-lettered; retry redrives it', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t);
  const failed: number[] = [];
  bolt.on('task:failed', (e) => failed.push(e.attempt));
  const id = await bolt.submit('fail', null, { maxAttempts: 3 });
  const dead = await nextEvent<{ id: number; attempt: number; error: { code: string; message: string } }>(bolt, 'task:dead', (e) => e.id === id);
  assert.equal(dead.attempt, 3);
  assert.deepEqual(failed, [1, 2]);
  assert.match(dead.error.message, /always fails/);
  const task = await bolt.getTask(id);
  assert.equal(task.status, 'dead');
  assert.equal(task.attempts, 3);
  const redriven = await bolt.retry(id);
  assert.equal(redriven.status, 'queued');
  await nextEvent<{ id: number }>(bolt, 'task:dead', (e) => e.id === id);
  assert.equal((await bolt.getTask(id)).attempts, 3);
});

test('process.exit in an agent kills only its worker: the task is retried, the worker replaced', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t);
  const downs: string[] = [];
  bolt.on('agent:down', (e) => downs.push(e.reason));
  const failedEv = nextEvent<{ id: number; error: { code: string; message: string } }>(bolt, 'task:failed');
  const id = await bolt.submit('crash', null);
  const f = await failedEv;
  assert.equal(f.id, id);
  assert.equal(f.error.code, 'BOLT_AGENT');
  assert.match(f.error.message, /exited \(code 3\)/);
  const d = await done(bolt, id);
  assert.equal((d.result as { attempt: number }).attempt, 2);
  await waitForValue(
    'the worker to be replaced',
    () => bolt.status().agents.length,
    (n) => n === 2,
  );
  assert.ok(
    downs.some((r) => /crashed/.test(r)),
    `agent:down reported the crash: ${JSON.stringify(downs)}`,
  );
  assert.deepEqual(
    bolt
      .status()
      .agents.map((a) => a.agentId)
      .sort(),
    ['agent-1', 'agent-2'],
    'the replacement reuses the stable id',
  );
  const after = await bolt.submit('echo', 'still alive');
  assert.equal((await done(bolt, after)).result, 'still alive');
});

test('a result that cannot leave its thread fails its task; the thread stays, the agent count stays right', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t);
  const downs: string[] = [];
  bolt.on('agent:down', (e) => downs.push(e.reason));
  for (let i = 0; i < 3; i++) {
    const id = await bolt.submit('unstorable', { fn: true }, { maxAttempts: 1 });
    const dead = await nextEvent<{ id: number; error: { code: string } }>(bolt, 'task:dead', (e) => e.id === id);
    assert.equal(dead.error.code, 'BOLT_BAD_INPUT');
  }
  const after = await bolt.submit('echo', 'still alive');
  assert.equal((await done(bolt, after)).result, 'still alive');
  assert.deepEqual(downs, [], 'no agent thread went down');
  await waitForValue(
    'two agents listed',
    () =>
      bolt
        .status()
        .agents.map((a) => a.agentId)
        .sort()
        .join(','),
    (ids) => ids === 'agent-1,agent-2',
  );
});

test('a result only structured clone refuses (a Proxy) fails its task at once; the thread is replaced', { timeout: 60_000 }, async (t) => {
  // The agent's thread ends (piscina could not post the reply), even though agent threads log
  // and survive errors that agents leave behind: the task must fail now, not at its timeout.
  const { bolt } = await testRuntime(t, { taskTimeoutMs: 30_000 });
  const id = await bolt.submit('unstorable', { proxy: true }, { maxAttempts: 1 });
  const dead = await nextEvent<{ id: number; error: { code: string } }>(bolt, 'task:dead', (e) => e.id === id, 20_000);
  assert.equal(dead.error.code, 'BOLT_BAD_INPUT');
  const after = await bolt.submit('echo', 'still serving');
  assert.equal((await done(bolt, after)).result, 'still serving');
});

test('an agent stuck in an infinite loop is terminated at its timeout and the task retried', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t);
  const failedEv = nextEvent<{ id: number; error: { message: string } }>(bolt, 'task:failed');
  const id = await bolt.submit('hang', null, { timeoutMs: 300 });
  const f = await failedEv;
  assert.equal(f.id, id);
  assert.match(f.error.message, /timed out after 300 ms/);
  assert.equal((await done(bolt, id)).result, 'recovered');
  const other = await bolt.submit('echo', 1);
  assert.equal((await done(bolt, other)).result, 1);
});

test('a task that never yields is reported started while it runs: task:started, status() and cancel reach it', { timeout: 60_000 }, async (t) => {
  // Agent threads post no start message: the runtime reads starts from shared memory, at the
  // latest every 100 ms, so a task that blocks its thread is still seen (agents/start-marks.ts).
  const { bolt } = await testRuntime(t);
  const submittedAt = Date.now();
  const id = await bolt.submit('hang', null, { timeoutMs: 30_000 });
  const started = await nextEvent<{ id: number; agentId: string; waitMs: number }>(bolt, 'task:started', (e) => e.id === id);
  assert.match(started.agentId, /^agent-[12]$/);
  assert.ok(started.waitMs >= 0 && started.waitMs <= Date.now() - submittedAt, `waitMs ${started.waitMs}`);
  const slot = bolt.status().agents.find((a) => a.taskId === id);
  assert.ok(slot, 'status() shows the task on its agent');
  assert.equal(slot.agentId, started.agentId);
  assert.equal(slot.agent, 'hang');
  assert.ok(slot.since! >= submittedAt - 1000 && slot.since! <= Date.now(), `since ${slot.since}`);
  const cancelled = nextEvent<{ id: number }>(bolt, 'task:cancelled', (e) => e.id === id);
  await bolt.cancel(id);
  await cancelled;
  await waitForValue('the agent to be idle', () => bolt.status().agents.every((a) => a.taskId === undefined), Boolean);
});

test('an agent in JavaScript may assign ctx.log and ctx.signal, as when they were plain properties', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t);
  const id = await bolt.submit('reassign', null);
  assert.deepEqual((await done(bolt, id)).result, { log: true, signal: true });
});

test('an agent that runs out of heap kills only its worker', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t, { agentHeapMb: 48 });
  const failedEv = nextEvent<{ id: number; error: { message: string } }>(bolt, 'task:failed', () => true, 40_000);
  const id = await bolt.submit('oom', null);
  const f = await failedEv;
  assert.equal(f.id, id);
  assert.match(f.error.message, /out of heap|exited/);
  assert.equal((await done(bolt, id)).result, 'recovered');
});

test('cancel aborts a running task through its signal; progress is reported', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t);
  const progress = nextEvent<{ id: number; fraction: number; note?: string }>(bolt, 'task:progress');
  const id = await bolt.submit('wait', null);
  const p = await progress;
  assert.deepEqual([p.id, p.fraction, p.note], [id, 0.5, 'waiting']);
  await waitForValue('the task to show as busy', () => bolt.status().agents.some((a) => a.taskId === id), Boolean);
  const cancelled = nextEvent<{ id: number }>(bolt, 'task:cancelled', (e) => e.id === id);
  const task = await bolt.cancel(id);
  assert.equal(task.status, 'cancelled');
  await cancelled;
  assert.equal((await bolt.getTask(id)).status, 'cancelled');
  await waitForValue('the agent to be idle', () => bolt.status().agents.every((a) => a.taskId === undefined), Boolean);
  const queued = await bolt.submit('sleep', { ms: 10 }, { delayMs: 60_000 });
  assert.equal((await bolt.cancel(queued)).status, 'cancelled');
});

test("an idle agent's thread keeps running: a timer its task left fires with no task to follow", { timeout: 60_000 }, async (t) => {
  // piscina's 'sync' atomics would park an idle worker in Atomics.wait, freezing its timers,
  // sockets and abort channel until the next task.
  const { bolt, dir } = await testRuntime(t);
  const marker = join(dir, 'later.marker');
  const id = await bolt.submit('later', { marker });
  assert.equal((await done(bolt, id)).result, 'returned');
  await waitForValue('the timer left by the finished task', () => existsSync(marker), Boolean, { timeoutMs: 10_000 });
  assert.ok(
    bolt.status().agents.every((a) => a.taskId === undefined),
    'no task ran meanwhile',
  );
});

for (const how of ['throw', 'reject'] as const) {
  test(`an error a finished task left behind (${how}) is logged; it fails no other task and the thread stays`, { timeout: 60_000 }, async (t) => {
    const { bolt, dir } = await testRuntime(t, { agents: 1 });
    const downs: unknown[] = [];
    bolt.on('agent:down', (e) => downs.push(e));
    // One agent: the next task runs in the thread the stray error hits, while it sleeps
    // (or, if it is dispatched late, right after the error hit an idle thread).
    const marker = join(dir, `stray.${how}`);
    const strayDone = nextEvent<TaskDoneEvent>(bolt, 'task:done', (e) => e.agent === 'stray', 30_000);
    const slowDone = nextEvent<TaskDoneEvent>(bolt, 'task:done', (e) => e.agent === 'slow', 30_000);
    await bolt.submit('stray', { marker, how, ms: 100 });
    await bolt.submit('slow', { ms: 400 });
    assert.equal((await strayDone).result, 'returned');
    const slow = await slowDone;
    assert.ok(existsSync(marker), 'the stray error was raised');
    assert.equal(slow.attempt, 1, 'the next task was not failed by the error');
    const echoId = await bolt.submit('echo', { after: how });
    assert.deepEqual((await done(bolt, echoId)).result, { after: how });
    assert.deepEqual(downs, [], 'the thread was not replaced');
  });
}

for (const how of ['busy', 'exit'] as const) {
  test(
    `a thread that code a finished task left keeps busy (${how === 'busy' ? 'until the timeout' : 'then exits'}) fails no task handed to it`,
    { timeout: 60_000 },
    async (t) => {
      // One agent: the next task is handed to the thread the left-over timer keeps busy. It never
      // begins there; when the thread is terminated at the task's timeout (or exits), the task goes
      // back to the queue uncounted and runs in the new thread.
      const { bolt, dir } = await testRuntime(t, { agents: 1 });
      const failed: unknown[] = [];
      bolt.on('task:failed', (e) => failed.push(e));
      const downs: string[] = [];
      bolt.on('agent:down', (e) => downs.push(e.reason));
      const marker = join(dir, 'stall.marker');
      const gate = join(dir, 'stall.gate');
      const a = await bolt.submit('stall', { marker, ...(how === 'exit' ? { gate } : {}) });
      assert.equal((await done(bolt, a)).result, 'stalling');
      await waitForValue('the left-over timer to keep the thread busy', () => existsSync(marker), Boolean, { timeoutMs: 10_000 });
      // The timeout also bounds the attempt in the replacement thread, which loads the agent
      // modules (TypeScript, through tsx) at its first task: over 500 ms on a loaded machine.
      const b = await bolt.submit('echo', 'innocent', { timeoutMs: 3000 });
      await waitForValue(
        'the next task to be handed to the busy thread',
        () => bolt.status().dispatcher,
        (d) => d.running === 1 && d.buffered === 0,
      );
      if (how === 'exit') writeFileSync(gate, '');
      const d = await done(bolt, b);
      assert.equal(d.result, 'innocent');
      assert.equal(d.attempt, 1, 'the attempt it never began was not counted');
      assert.equal((await bolt.getTask(b)).attempts, 1);
      assert.deepEqual(failed, [], 'no task failed');
      assert.equal(downs.length, 1, `the stalled thread was replaced: ${JSON.stringify(downs)}`);
    },
  );
}

test('a thread whose agent modules fail to load fails that task and ends; its replacement loads them afresh', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const flag = join(dir, 'fail-loading');
  const flaky = join(dir, 'flaky-agent.mjs');
  writeFileSync(
    flaky,
    `import { existsSync } from 'node:fs';\nif (existsSync(${JSON.stringify(flag)})) throw new Error('cannot load now');\nexport const name = 'flaky';\nexport function run() { return 'loaded'; }\n`,
  );
  // Loaded in the first thread at start; a replacement thread loads them at its first task.
  const { bolt } = await testRuntime(t, { agents: 1, agentModules: [writeTestAgents(dir), flaky] });
  const downs: string[] = [];
  bolt.on('agent:down', (e) => downs.push(e.reason));
  writeFileSync(flag, '');
  const crash = await bolt.submit('crash', null, { maxAttempts: 1 });
  await nextEvent<{ id: number }>(bolt, 'task:dead', (e) => e.id === crash);
  const x = await bolt.submit('echo', 'while failing', { maxAttempts: 1 });
  const dead = await nextEvent<{ id: number; error: SerializedError }>(bolt, 'task:dead', (e) => e.id === x);
  assert.equal(dead.error.code, 'BOLT_AGENT');
  assert.match(dead.error.message, /flaky-agent\.mjs failed to load/);
  await waitForValue(
    'the thread to retire',
    () => downs,
    (r) => r.some((reason) => /^retired: its agent modules failed to load/.test(reason)),
  );
  rmSync(flag);
  const y = await bolt.submit('flaky', null, { maxAttempts: 1 });
  const d = await done(bolt, y);
  assert.equal(d.result, 'loaded', 'the new thread loaded the module');
});

test('dedupe: one task per key; sequential mode runs tasks strictly in submission order', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t, { sequential: true, agents: undefined });
  assert.equal(bolt.status().agents.length, 1);
  const a = await bolt.submitDetailed('echo', 'a', { dedupeKey: 'same' });
  const b = await bolt.submitDetailed('echo', 'b', { dedupeKey: 'same' });
  assert.equal(b.id, a.id);
  assert.equal(b.deduplicated, true);
  const order: number[] = [];
  bolt.on('task:started', (e) => order.push(e.id));
  const ids = await bolt.submitMany(Array.from({ length: 12 }, (_, i) => ({ agent: 'sleep', payload: { ms: 1 }, options: { priority: i % 3 } })));
  await waitForValue(
    'all tasks to finish',
    () => bolt.counts(),
    (c) => c.done === 13,
    { timeoutMs: 40_000 },
  );
  assert.deepEqual(
    order.filter((id) => ids.includes(id)),
    ids,
    'submission order, priorities ignored',
  );
  assert.equal((await bolt.listTasks({ status: 'done' })).length, 13);
});

test('an agent module that fails to load is reported once, clearly, and nothing keeps respawning', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const bad = join(dir, 'bad-agent.ts');
  writeFileSync(bad, `import './does-not-exist.js';\nexport const name = 'bad';\nexport function run() { return 1; }\n`);
  const bolt = new BoltIntegration({ agents: 2, database: join(dir, 'a.db'), agentModules: [bad] });
  await assert.rejects(bolt.initialize(), (e: unknown) => {
    assert.ok(hasCode(e, 'BOLT_AGENT'), String(e));
    assert.match((e as Error).message, /bad-agent\.ts failed to load/);
    return true;
  });
  const none = join(dir, 'no-agent.mjs');
  writeFileSync(none, `export const answer = 42;\n`);
  const bolt2 = new BoltIntegration({ agents: 1, database: join(dir, 'a.db'), agentModules: [none] });
  await assert.rejects(bolt2.initialize(), /exports no agent/);
  const missing = new BoltIntegration({ agents: 1, database: join(dir, 'a.db'), agentModules: [join(dir, 'nope.ts')] });
  await assert.rejects(missing.initialize(), (e: unknown) => hasCode(e, 'BOLT_BAD_INPUT'));
});

for (const file of ['q.sqlite', 'analytics.db']) {
  test(`a task that returns with ctx.db work left open has it rolled back; the runtime goes on [${file}]`, { timeout: 90_000 }, async (t) => {
    // One agent: the next task runs in the thread that held the work. On SQLite an open
    // transaction held the file's write lock: the runtime's own completion writes waited on it
    // and the task stayed running for good.
    const { bolt } = await testRuntime(t, { agents: 1, file, ...(file.endsWith('.sqlite') ? { engine: 'sqlite' as const } : {}) });
    const db = bolt.getDatabaseManager();
    await db.execute('CREATE TABLE seen (task_id BIGINT, agent_id TEXT)');
    for (const payload of [{}, { session: true }]) {
      const id = await bolt.submit('leave-open', payload, { maxAttempts: 1 });
      assert.match(String((await done(bolt, id)).result), /left a (transaction|session) open/);
      const next = await bolt.submit('record', null);
      await done(bolt, next);
      const count = async (task: number): Promise<number> => Number((await db.query('SELECT count(*) AS n FROM seen WHERE task_id = ?', [task]))[0]!.n);
      assert.equal(await count(next), 1, 'the next task wrote');
      assert.equal(await count(id), 0, 'the work left open was rolled back');
    }
    await bolt.shutdown();
  });
}

test("an agent cannot abort another task or report progress for it: messages need the task's key", { timeout: 60_000 }, async (t) => {
  const { bolt, dir } = await testRuntime(t);
  const payload = { marker: join(dir, 'started'), abortedMarker: join(dir, 'aborted'), gate: join(dir, 'gate') };
  const victim = await bolt.submit('hold', payload, { maxAttempts: 1 });
  await waitForValue('the victim to start', () => existsSync(`${payload.marker}.${victim}.1`), Boolean);
  const forged: unknown[] = [];
  bolt.on('task:progress', (e) => {
    if (e.id === victim) forged.push(e);
  });
  assert.equal((await done(bolt, await bolt.submit('spoof', { victim }))).result, 'posted');
  // The victim polls its signal every 20 ms: an abort that got through shows within a few.
  const probe = await bolt.submit('sleep', { ms: 200 });
  await done(bolt, probe);
  assert.equal(existsSync(`${payload.abortedMarker}.${victim}.1`), false, 'the victim was not aborted');
  assert.deepEqual(forged, [], 'no progress for the victim from another thread');
  writeFileSync(payload.gate, '');
  const v = await done(bolt, victim);
  assert.equal(v.attempt, 1);
});

test('an error that cannot be stored as thrown is recorded bounded: its task fails with it, at once', { timeout: 60_000 }, async (t) => {
  const { bolt } = await testRuntime(t);
  const dead = (id: number) => nextEvent<{ id: number; error: SerializedError }>(bolt, 'task:dead', (e) => e.id === id, 30_000);
  const circular = await bolt.submit('bad-error', { kind: 'circular' }, { maxAttempts: 1 });
  const c = await dead(circular);
  assert.deepEqual([c.error.code, c.error.message], ['BOLT_AGENT', 'duck-typed']);
  assert.match(String(c.error.details.note), /could not be stored/);
  const huge = await bolt.submit('bad-error', { mib: 20 }, { maxAttempts: 1 });
  const h = await dead(huge);
  assert.ok(h.error.message.length < 17 * 1024, `message of ${h.error.message.length} characters`);
  assert.match(h.error.message, /\(20971520 characters, cut\)$/);
  const stored = await bolt.getTask(huge);
  assert.ok(JSON.stringify(stored.error).length < 40 * 1024, 'stored bounded');
});

/** `bolt start` with one agent in a child process (what an agent does there cannot end this test's process), and its queue. */
async function childRuntime(t: TestContext): Promise<{ rt: ReturnType<typeof spawnBolt>; queue: TaskQueue }> {
  const cwd = tempDir(t);
  const rt = spawnBolt(t, ['start', '--agents', '1', '--agent-module', writeTestAgents(cwd), '--db', join(cwd, 'q.sqlite'), '--no-status'], {
    cwd,
    env: { ...process.env, BOLT_POLL_MS: '20' },
  });
  await rt.waitForLine('ready: ', 60_000);
  const db = await openDatabase(join(cwd, 'q.sqlite'), { engine: 'sqlite' });
  t.after(() => db.close());
  return { rt, queue: new TaskQueue(db) };
}

test("an agent cannot signal its runtime's process: the task fails, the runtime keeps serving", { timeout: 120_000 }, async (t) => {
  const { rt, queue } = await childRuntime(t);
  for (const payload of [{ signal: 'SIGTERM' }, { signal: 'SIGTERM', asText: true }, { signal: 'SIGINT', pid: 0 }]) {
    const { id } = await queue.submit('signal-self', payload, { maxAttempts: 1 });
    const task = await waitForValue(
      'the task to end',
      () => queue.get(id),
      (x) => x.status === 'dead',
      { timeoutMs: 30_000 },
    );
    assert.match(task.error?.message ?? '', /cannot send signals to its runtime's process/);
  }
  const { id } = await queue.submit('echo', 'still here');
  assert.equal(
    (
      await waitForValue(
        'echo',
        () => queue.get(id),
        (x) => x.status === 'done',
        { timeoutMs: 30_000 },
      )
    ).result,
    'still here',
  );
  assert.equal(rt.child.exitCode, null, 'the runtime still runs');
  rt.child.kill('SIGINT');
  assert.equal((await rt.exited).code, 0);
});

test('errors left behind are logged at most 10 a second per thread, then how many were not', { timeout: 120_000 }, async (t) => {
  const { rt, queue } = await childRuntime(t);
  const { id } = await queue.submit('flood', { ms: 1500 });
  await waitForValue(
    'the flood task',
    () => queue.get(id),
    (x) => x.status === 'done',
    { timeoutMs: 30_000 },
  );
  // The interval runs 1.5 s: the first second's dropped errors are counted at the first error after it.
  await waitForValue(
    'a line saying how many were not logged',
    () => rt.stderr(),
    (e) => /more errors agents' code left behind were not logged/.test(e),
    {
      timeoutMs: 30_000,
    },
  );
  rt.child.kill('SIGINT');
  await rt.exited;
  const logged = rt
    .stderr()
    .split('\n')
    .filter((l) => l.includes('raised an error no task could catch')).length;
  assert.ok(logged >= 10 && logged <= 40, `${logged} stray errors logged in about 1.5 s`);
});
