/**
 * Two `bolt start` runtimes share one database's queue. SIGKILL one while it runs tasks: after
 * its leases expire the other runs them, and every task ends done exactly once.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { runBolt } from './helpers/cli.js';
import { waitForValue } from './helpers/wait.js';
import { spawnBolt } from './helpers/runtime-process.js';
import { writeTestAgents } from './helpers/agents-fixture.js';
import type { Task } from '../core/runtime/task.js';

const ENV = { BOLT_LEASE_MS: '1500', BOLT_HEARTBEAT_MS: '100', BOLT_POLL_MS: '20', BOLT_PREFETCH: '0' };

async function tasks(cwd: string): Promise<Task[]> {
  const r = await runBolt(['tasks', '--json', '--limit', '100'], { cwd, env: ENV, timeoutMs: 45_000 });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { tasks: Task[] }).tasks;
}

function startedOn(cwd: string): Map<number, string[]> {
  // marker files: started.<taskId>.<attempt>, content: pid of the runtime that ran it
  const byTask = new Map<number, string[]>();
  for (const f of readdirSync(cwd).filter((x) => x.startsWith('started.'))) {
    const id = Number(f.split('.')[1]);
    byTask.set(id, [...(byTask.get(id) ?? []), f]);
  }
  return byTask;
}

async function twoRuntimes(t: TestContext, cwd: string) {
  const module = writeTestAgents(cwd);
  const a = spawnBolt(t, ['start', '--agents', '2', '--agent-module', module], { cwd, env: ENV });
  await a.waitForLine(/^ready: /);
  const b = spawnBolt(t, ['start', '--agents', '2', '--agent-module', module], { cwd, env: ENV });
  await b.waitForLine(/^ready: /);
  return { a, b };
}

for (const victim of ['host', 'client'] as const) {
  test(`SIGKILL of the ${victim} runtime: its tasks finish on the other, each exactly once`, { timeout: 120_000 }, async (t) => {
    const cwd = tempDir(t);
    const { a, b } = await twoRuntimes(t, cwd);
    // a opened the database first: it hosts it; b is a client over the socket.
    const [dead, survivor] = victim === 'host' ? [a, b] : [b, a];
    const marker = join(cwd, 'started');
    const gate = join(cwd, 'gate');
    for (let i = 0; i < 4; i++) {
      const r = await runBolt(['submit', 'slow', '--payload', JSON.stringify({ ms: 300, marker, gate })], { cwd, env: ENV });
      assert.equal(r.code, 0, r.stderr);
    }
    // Each runtime has 2 agents and claims no more (BOLT_PREFETCH=0): all 4 tasks start, 2 on each,
    // and hold at the gate.
    await waitForValue(
      'all four tasks to start',
      () => startedOn(cwd).size,
      (n) => n === 4,
      { timeoutMs: 60_000 },
    );
    const running = await waitForValue(
      'tasks running on both runtimes',
      async () => (await tasks(cwd)).filter((x) => x.status === 'running'),
      (rs) => rs.some((x) => x.leaseOwner?.includes(`:${dead.pid}:`)) && rs.some((x) => x.leaseOwner?.includes(`:${survivor.pid}:`)),
    );
    const victims = running.filter((x) => x.leaseOwner?.includes(`:${dead.pid}:`)).map((x) => x.id);
    const killedAt = Date.now();
    dead.child.kill('SIGKILL');
    assert.equal((await dead.exited).signal, 'SIGKILL');
    writeFileSync(gate, '');

    const final = await waitForValue(
      'all tasks to finish',
      () => tasks(cwd),
      (ts) => ts.length === 4 && ts.every((x) => x.status === 'done'),
      {
        timeoutMs: 60_000,
        everyMs: 200,
      },
    );
    const resumedWithin = Date.now() - killedAt;
    for (const task of final) {
      const result = task.result as { pid: number; attempt: number };
      assert.equal(task.attempts, result.attempt, 'the recorded result is the last attempt');
      if (victims.includes(task.id)) {
        assert.equal(result.pid, survivor.pid, `task ${task.id} was re-run by the survivor`);
        assert.equal(task.attempts, 2, 'the killed attempt counted once');
        assert.equal(startedOn(cwd).get(task.id)?.length, 2, 'it ran twice in total: killed, then re-run');
      }
    }
    assert.equal(new Set(final.map((x) => x.id)).size, 4, 'each task is in the results once');
    assert.ok(resumedWithin < 30_000, `resumed in ${resumedWithin} ms`);
    survivor.child.kill('SIGINT');
    assert.equal((await survivor.exited).code, 0, survivor.stderr());
  });
}
