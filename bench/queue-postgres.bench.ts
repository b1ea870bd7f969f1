/**
 * Durable queue throughput on PostgreSQL: trivial tasks run by `bolt start` runtimes in their
 * own processes sharing one queue (FOR UPDATE SKIP LOCKED claims), measured in the same run:
 * baseline 1 runtime × 4 agents, then 2 runtimes × 4 agents. Tasks are submitted in chunks of
 * 1,000 from this process; the clock runs from the first submit to the last completion.
 * Needs BOLT_TEST_PG_URL (or BOLT_BENCH_PG_URL); BOLT_BENCH_QUICK=1 for a short smoke run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Database } from '../core/database.js';
import { withFreshPgDatabase } from './support/fresh-pg-database.js';
import { TaskQueue } from '../core/runtime/task-queue.js';

const QUICK = process.env.BOLT_BENCH_QUICK === '1';
const N = QUICK ? 1_000 : 10_000;
const AGENTS = 4;
const PG = process.env.BOLT_BENCH_PG_URL ?? process.env.BOLT_TEST_PG_URL;
const BOLT = fileURLToPath(new URL('../tools/bolt.js', import.meta.url));
const PROBE = fileURLToPath(new URL('./support/probe-agent.js', import.meta.url));

/** A `bolt start` runtime on `url`; resolves once it printed `ready:`. */
function startRuntime(url: string): Promise<ChildProcess> {
  const c = spawn(process.execPath, [BOLT, 'start', '--agents', String(AGENTS), '--agent-module', PROBE, '--db', url, '--no-status'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    c.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready: ')) resolve(c);
    });
    c.once('exit', (code) => reject(new Error(`bolt start exited (${code}) before it was ready`)));
  });
}

async function stop(c: ChildProcess): Promise<void> {
  const exited = new Promise((r) => c.once('exit', r));
  c.kill('SIGINT');
  await exited;
}

/** Submits `n` probe tasks and waits until all are done; tasks/s. */
async function run(queue: TaskQueue, n: number): Promise<number> {
  const before = (await queue.counts()).done ?? 0;
  const t0 = performance.now();
  for (let c = 0; c < n; c += 1000) await queue.submitMany(Array.from({ length: Math.min(1000, n - c) }, () => ({ agent: 'probe' })));
  while (((await queue.counts()).done ?? 0) - before < n) await new Promise((r) => setTimeout(r, 20));
  return (n / (performance.now() - t0)) * 1000;
}

function withDatabase<T>(fn: (url: string, db: Database) => Promise<T>): Promise<T> {
  return withFreshPgDatabase(PG!, 'q', fn);
}

if (!PG) {
  process.stdout.write('queue-postgres: skipped (BOLT_TEST_PG_URL not set)\n');
} else {
  const rows = await withDatabase(async (url, db) => {
    const queue = new TaskQueue(db);
    await queue.ensureSchema();
    const a = await startRuntime(url);
    await run(queue, AGENTS * 20); // warm up
    const one = await run(queue, N);
    const b = await startRuntime(url);
    await run(queue, AGENTS * 20);
    const two = await run(queue, N);
    await Promise.all([stop(a), stop(b)]);
    return { one, two };
  });
  process.stdout.write(`${QUICK ? '(quick run) ' : ''}Durable queue on PostgreSQL, trivial tasks, ${N} per measurement, runtimes as separate processes.\n\n`);
  process.stdout.write('| runtimes | agents | tasks/s | vs 1 runtime |\n|---|---:|---:|---:|\n');
  process.stdout.write(`| 1 | ${AGENTS} | ${Math.round(rows.one)} | 1.00× |\n`);
  process.stdout.write(`| 2 | ${2 * AGENTS} | ${Math.round(rows.two)} | ${(rows.two / rows.one).toFixed(2)}× |\n\n`);
}
