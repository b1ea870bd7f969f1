/**
 * `bolt soak` stopped by SIGINT or SIGTERM sent to its own PID (a supervisor, `kill`, a CI
 * timeout) in the middle of a run: every soak process it started is stopped and reaped before
 * it exits (none is left running until the deadline, hours later), it says what happened and
 * where the journals are, and exits 128 + the signal's number.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { spawnBolt } from './helpers/runtime-process.js';
import { waitFor } from './helpers/wait.js';
import { socketsUnder } from './helpers/sockets.js';
import { freshPgDatabase, PG_SKIP } from './helpers/pg.js';
import { openPostgres } from '../adapters/postgres/open.js';

/** PIDs of live soak processes whose config names `workDir`. */
function soakProcesses(workDir: string): number[] {
  const pids: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const cmd = readFileSync(`/proc/${name}/cmdline`, 'utf8');
      const state = readFileSync(`/proc/${name}/stat`, 'utf8').replace(/^.*\) /, '')[0];
      if (cmd.includes('soak-process.js') && cmd.includes(JSON.stringify(workDir)) && state !== 'Z') pids.push(Number(name));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

/** Waits until both soak processes run their workload: the measured time has begun once each writes its metrics. */
function bothRunning(work: string, exited: Promise<unknown>): Promise<void> {
  return waitFor(
    () => existsSync(join(work, 'metrics-0-0.jsonl')) && existsSync(join(work, 'metrics-1-0.jsonl')),
    60_000,
    'both soak processes running their workload',
    exited,
  );
}

async function interruptMidRun(t: TestContext, signal: 'SIGINT' | 'SIGTERM', exitCode: number): Promise<void> {
  const dir = tempDir(t, 'bsi-');
  const work = join(dir, 'work');
  const tmp = join(dir, 't'); // TMPDIR of the run: where its hosts' sockets go
  mkdirSync(tmp);
  // Whatever happens, no soak process of this test outlives it.
  t.after(() => {
    for (const pid of soakProcesses(work)) process.kill(pid, 'SIGKILL');
  });
  const soak = spawnBolt(t, ['soak', '--processes', '2', '--agents', '1', '--duration', '600', '--seed', '7', '--work-dir', work], {
    cwd: dir,
    env: { TMPDIR: tmp },
  });
  await bothRunning(work, soak.exited);
  assert.equal(soakProcesses(work).length, 2, 'two soak processes run');
  process.kill(soak.pid, signal);
  const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`bolt soak did not exit within 30 s of ${signal}`)), 30_000).unref());
  const { code } = await Promise.race([soak.exited, timeout]);
  assert.equal(code, exitCode, `exit code after ${signal}; stderr: ${soak.stderr()}`);
  assert.deepEqual(soakProcesses(work), [], `every soak process is stopped once bolt soak has exited after ${signal}`);
  assert.match(soak.stderr(), new RegExp(`^error \\[BOLT_ABORTED\\]: .*${signal}`, 'm'));
  assert.ok(soak.stderr().includes(work), `the message names the kept work directory: ${soak.stderr()}`);
  assert.doesNotMatch(soak.stderr(), /^\s+at /m, 'no stack trace');
  assert.equal(soak.stdout(), '', 'no verdict is printed for an interrupted run');
  assert.ok(existsSync(join(work, 'ledger-0.log')), 'the journals are kept');
  assert.deepEqual(socketsUnder(tmp), [], 'the SIGKILLed hosts leave no socket file');
}

test('bolt soak: SIGTERM mid-run stops and reaps every soak process, exits 143', { timeout: 120_000 }, async (t) => {
  await interruptMidRun(t, 'SIGTERM', 143);
});

test('bolt soak: SIGINT mid-run stops and reaps every soak process, exits 130', { timeout: 120_000 }, async (t) => {
  await interruptMidRun(t, 'SIGINT', 130);
});

test('bolt soak: its soak processes end on their own when it is SIGKILLed mid-run', { timeout: 120_000 }, async (t) => {
  const dir = tempDir(t);
  const work = join(dir, 'work');
  t.after(() => {
    for (const pid of soakProcesses(work)) process.kill(pid, 'SIGKILL');
  });
  const soak = spawnBolt(t, ['soak', '--processes', '2', '--agents', '1', '--duration', '600', '--seed', '7', '--work-dir', work], { cwd: dir });
  await bothRunning(work, soak.exited);
  assert.equal(soakProcesses(work).length, 2, 'two soak processes run');
  process.kill(soak.pid, 'SIGKILL');
  await soak.exited;
  // Not until the deadline, 10 minutes away: they notice their orchestrator is gone.
  await waitFor(
    () => soakProcesses(work).length === 0,
    20_000,
    () => `soak processes ${soakProcesses(work).join(', ')} to end`,
  );
});

test(
  "bolt soak on PostgreSQL: SIGINT mid-run keeps the run's schema, as it keeps the journals, and says so",
  { timeout: 120_000, skip: PG_SKIP },
  async (t) => {
    const dir = tempDir(t);
    const work = join(dir, 'work');
    const { tcp } = await freshPgDatabase(t, 'bolt_soak_int');
    t.after(() => {
      for (const pid of soakProcesses(work)) process.kill(pid, 'SIGKILL');
    });
    const soak = spawnBolt(
      t,
      ['soak', '--engine', 'postgres', '--db', tcp, '--processes', '2', '--agents', '1', '--duration', '600', '--seed', '7', '--work-dir', work],
      {
        cwd: dir,
      },
    );
    await bothRunning(work, soak.exited);
    process.kill(soak.pid, 'SIGINT');
    assert.equal((await soak.exited).code, 130, soak.stderr());
    const schema = /the run's schema (bolt_soak_\w+) kept \(drop it with DROP SCHEMA \1 CASCADE\)/.exec(soak.stderr())?.[1];
    assert.ok(schema, `the message names the kept schema: ${soak.stderr()}`);
    const db = await openPostgres(tcp, { maxConnections: 1, readOnly: true });
    try {
      const tables = await db.query<{ n: number }>('SELECT count(*)::INTEGER AS n FROM pg_tables WHERE schemaname = ?', [schema]);
      assert.ok(tables[0]!.n > 0, `schema ${schema} is still there with its tables`);
    } finally {
      await db.close();
    }
  },
);
