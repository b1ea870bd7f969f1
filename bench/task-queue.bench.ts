/**
 * Durable task queue vs raw piscina, measured in the same run on this machine.
 *
 * - raw piscina: 8 worker threads, a trivial task, no queue, no database (the limit).
 * - durable: BoltIntegration with 8 agents on a fresh DuckDB file; each task is inserted into
 *   `bolt_tasks`, claimed with a lease, run by an agent and its completion written back.
 *
 * Latency first, on a fresh queue: tasks submitted one by one, paced, each timed from just
 * before `submit` (or `pool.run`) to the moment the agent starts running it; beside it the
 * floor, one durable single-row INSERT on the same database. Then throughput: N tasks
 * submitted at once (durable: `submitMany`), timed from the first submit to the last completion.
 * Env BOLT_BENCH_QUICK=1 for a short smoke run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { BoltIntegration } from '../core/runtime/bolt-integration.js';
import { nowMs } from './support/probe-agent.js';
import { percentile } from '../core/latency-summary.js';

const QUICK = process.env.BOLT_BENCH_QUICK === '1';
const AGENTS = 8;
const N = QUICK ? 2000 : 20_000;
const LAT_N = QUICK ? 100 : 600;
const PACE_MS = 3;
const PROBE = new URL('./support/probe-agent.js', import.meta.url).href;

/** Percentile `p` of unsorted samples. */
function pct(xs: number[], p: number): number {
  return percentile(
    [...xs].sort((a, b) => a - b),
    p,
  );
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Row {
  mode: string;
  tasks: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

async function raw(): Promise<Row> {
  const pool = new Piscina({ filename: PROBE, minThreads: AGENTS, maxThreads: AGENTS, atomics: 'disabled' });
  await Promise.all(Array.from({ length: AGENTS * 4 }, () => pool.run(null))); // warm up
  const t0 = nowMs();
  await Promise.all(Array.from({ length: N }, () => pool.run(null)));
  const seconds = (nowMs() - t0) / 1000;
  const lat: number[] = [];
  const pending: Promise<void>[] = [];
  for (let i = 0; i < LAT_N; i++) {
    const at = nowMs();
    pending.push(pool.run(null).then((r: { startedAt: number }) => void lat.push(r.startedAt - at)));
    await sleep(PACE_MS);
  }
  await Promise.all(pending);
  await pool.destroy();
  return { mode: 'raw piscina (no queue)', tasks: N, seconds, perSecond: N / seconds, p50: pct(lat, 50), p99: pct(lat, 99) };
}

async function durable(): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'bolt-bench-'));
  try {
    const bolt = new BoltIntegration({ agents: AGENTS, database: join(dir, 'bench.db'), agentModules: [PROBE] });
    await bolt.initialize();
    const started = new Map<number, number>();
    let done = 0;
    let resolveAll: () => void = () => undefined;
    let target = Infinity;
    bolt.on('task:done', (e) => {
      done++;
      started.set(e.id, (e.result as { startedAt: number }).startedAt);
      if (done >= target) resolveAll();
    });
    // warm up
    target = AGENTS * 4;
    let all = new Promise<void>((r) => (resolveAll = r));
    await bolt.submitMany(Array.from({ length: target }, () => ({ agent: 'probe' })));
    await all;
    // Latency first, on a fresh queue (then throughput grows the table to N rows).
    done = 0;
    target = LAT_N;
    all = new Promise<void>((r) => (resolveAll = r));
    const enq = new Map<number, number>();
    for (let i = 0; i < LAT_N; i++) {
      const at = nowMs();
      const id = await bolt.submit('probe');
      enq.set(id, at);
      await sleep(PACE_MS);
    }
    await all;
    const lat = [...enq].map(([id, at]) => started.get(id)! - at);
    // The floor under enqueue→start: one durable single-row INSERT … RETURNING on this database.
    const db = bolt.getDatabaseManager();
    await db.execute('CREATE TABLE bench_floor (id INTEGER, v TEXT)');
    const floor: number[] = [];
    for (let i = 0; i < LAT_N; i++) {
      const at = nowMs();
      await db.query('INSERT INTO bench_floor VALUES (?, ?) RETURNING id', [i, 'x']);
      floor.push(nowMs() - at);
      await sleep(PACE_MS);
    }
    insertFloor = { p50: pct(floor, 50), p99: pct(floor, 99) };
    done = 0;
    target = N;
    all = new Promise<void>((r) => (resolveAll = r));
    const t0 = nowMs();
    await bolt.submitMany(Array.from({ length: N }, () => ({ agent: 'probe' })));
    const submitted = nowMs();
    await all;
    const seconds = (nowMs() - t0) / 1000;
    process.stderr.write(`durable: submitMany of ${N} took ${((submitted - t0) / 1000).toFixed(2)} s\n`);

    await bolt.shutdown();
    return { mode: `durable queue (DuckDB, ${AGENTS} agents)`, tasks: N, seconds, perSecond: N / seconds, p50: pct(lat, 50), p99: pct(lat, 99) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

let insertFloor = { p50: NaN, p99: NaN };
const base = await raw();
const q = await durable();
const f = (n: number, d = 1): string => n.toFixed(d);
process.stdout.write(
  `${QUICK ? '(quick run) ' : ''}Trivial tasks, ${AGENTS} agents, ${N} tasks for throughput, ${LAT_N} paced submits (every ${PACE_MS} ms) for latency.\n\n`,
);
process.stdout.write('| mode | tasks | seconds | tasks/s | tasks/s vs raw | enqueue→start p50 ms | p99 ms |\n|---|---:|---:|---:|---:|---:|---:|\n');
for (const r of [base, q]) {
  process.stdout.write(
    `| ${r.mode} | ${r.tasks} | ${f(r.seconds, 2)} | ${f(r.perSecond, 0)} | ${f(r.perSecond / base.perSecond, 3)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} |\n`,
  );
}
process.stdout.write(`| (floor) one single-row INSERT … RETURNING, same database | ${LAT_N} | | | | ${f(insertFloor.p50, 2)} | ${f(insertFloor.p99, 2)} |\n`);
process.stdout.write(
  `\nTargets: durable ≥ 2,000 tasks/s (${q.perSecond >= 2000 ? 'met' : 'NOT met'}), enqueue→start p50 ≤ 5 ms (${q.p50 <= 5 ? 'met' : 'NOT met'}).\n`,
);
