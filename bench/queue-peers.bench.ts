/**
 * Bolt's durable queue against the queues people would pick instead, on one PostgreSQL server,
 * each system in a fresh database and its workers in their own process:
 * - Bolt: `bolt start --agents 8` with the probe agent, woken by NOTIFY, idle poll
 *   BOLT_POLL_MS=10 (default 50);
 * - graphile-worker: concurrency 8, LISTEN/NOTIFY, local queue of 9, batched completions
 *   (bench/support/graphile-runner.ts);
 * - pg-boss: 8 workers × batches of 2, LISTEN/NOTIFY on, polling backstop at its 0.5 s minimum,
 *   refetch at once while batches come back full (bench/support/pg-boss-runner.ts).
 * Throughput: after a warm-up, N trivial jobs enqueued from this process in batches of 1,000
 * (`TaskQueue.submitMany`, `addJobs`, `insert`), timed from the first enqueue until the system's
 * own tables say all are finished: what was added minus what is left, counted every 20 ms (Bolt:
 * tasks queued, failed or running; graphile-worker: job rows, deleted when done; pg-boss: jobs
 * created, retry or active). Latency: then single jobs submitted one every PACE_MS, each carrying
 * its submit time; "start" is the moment the task function (Bolt: the agent) begins, so
 * enqueue→start includes the submit's round trip. Ratios are against the faster peer measured
 * in the same round; the systems take turns for BOLT_BENCH_ROUNDS rounds (default 3) and the
 * table shows medians. Needs BOLT_TEST_PG_URL (or BOLT_BENCH_PG_URL); BOLT_BENCH_QUICK=1 for a
 * short smoke run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { makeWorkerUtils } from 'graphile-worker';
import { PgBoss } from 'pg-boss';
import type { Database } from '../core/database.js';
import { withFreshPgDatabase } from './support/fresh-pg-database.js';
import { percentile } from '../core/latency-summary.js';
import { TaskQueue } from '../core/runtime/task-queue.js';
import { nowMs } from './support/probe-agent.js';

const QUICK = process.env.BOLT_BENCH_QUICK === '1';
const N = QUICK ? 1_000 : 10_000;
const LAT_N = QUICK ? 30 : 200;
const PACE_MS = 20;
const BATCH = 1_000;
const WARM_UP = 100;
const AGENTS = 8;
const BOLT_POLL_MS = 10;
const DEADLINE_MS = 300_000;
/** Rounds of all three systems in turn (BOLT_BENCH_ROUNDS, default 3; 1 in a quick run). */
const ROUNDS = Number(process.env.BOLT_BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const PG = process.env.BOLT_BENCH_PG_URL ?? process.env.BOLT_TEST_PG_URL;
const here = (p: string): string => fileURLToPath(new URL(p, import.meta.url));
const BOLT = here('../tools/bolt.js');
const PROBE = here('./support/probe-agent.js');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A worker process; resolves once it printed `ready`. Its `lat <ms>` lines land in `lat`. */
interface Worker {
  child: ChildProcess;
  lat: number[];
}

function startWorker(args: string[], env: Record<string, string>, ready: string): Promise<Worker> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  const w: Worker = { child, lat: [] };
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) {
        if (l.startsWith('lat ')) w.lat.push(Number(l.slice(4)));
        else if (l.includes(ready)) resolve(w);
      }
    });
    child.once('exit', (code) => reject(new Error(`${args[0]} exited (${code}) before it was ready`)));
  });
}

async function stop(w: Worker): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = new Promise((r) => w.child.once('exit', r));
  w.child.kill('SIGINT');
  const t = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(t);
}

async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  const end = Date.now() + DEADLINE_MS;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`${what}: not finished after ${DEADLINE_MS / 1000} s`);
    await sleep(20);
  }
}

/** How one system is driven: enqueue many, enqueue one carrying its submit time, count finished. */
interface System {
  enqueueMany(n: number): Promise<void>;
  enqueueOne(t: number): Promise<void>;
  finished(): Promise<number>;
  /** Enqueue→start samples of the latency phase. */
  latencies(w: Worker): Promise<number[]>;
  close(): Promise<void>;
}

interface Row {
  system: string;
  perSecond: number;
  p50: number;
  p99: number;
}

/** Warm-up, throughput over N jobs, then LAT_N paced single submits. */
async function measure(name: string, sys: System, w: Worker): Promise<Row> {
  let expected = (await sys.finished()) + WARM_UP;
  await sys.enqueueMany(WARM_UP);
  await until(`${name} warm-up`, async () => (await sys.finished()) >= expected);
  expected += N;
  const t0 = nowMs();
  for (let c = 0; c < N; c += BATCH) await sys.enqueueMany(Math.min(BATCH, N - c));
  await until(`${name} throughput`, async () => (await sys.finished()) >= expected);
  const perSecond = (N / (nowMs() - t0)) * 1000;
  for (let i = 0; i < LAT_N; i++) {
    await sys.enqueueOne(nowMs());
    await sleep(PACE_MS);
  }
  expected += LAT_N;
  await until(`${name} latency`, async () => (await sys.finished()) >= expected);
  const lat = (await sys.latencies(w)).sort((a, b) => a - b);
  if (lat.length !== LAT_N) throw new Error(`${name}: ${lat.length} latency samples, expected ${LAT_N}`);
  return { system: name, perSecond, p50: percentile(lat, 50), p99: percentile(lat, 99) };
}

/** A fresh database for one system, dropped afterwards. */
function withDatabase<T>(tag: string, fn: (url: string, db: Database) => Promise<T>): Promise<T> {
  return withFreshPgDatabase(PG!, `peer_${tag}`, fn);
}

/** Runs `sys` against the worker `start` launches, stopping both whatever happens. */
async function drive(name: string, start: () => Promise<Worker>, open: () => Promise<System>): Promise<Row> {
  const w = await start();
  let sys: System | undefined;
  try {
    sys = await open();
    return await measure(name, sys, w);
  } finally {
    await sys?.close();
    await stop(w);
  }
}

function bolt(): Promise<Row> {
  return withDatabase('bolt', async (url, db) => {
    const queue = new TaskQueue(db);
    await queue.ensureSchema();
    const submitted = new Map<number, number>();
    let added = 0;
    // As for graphile-worker: what was added minus what is left (an index scan of the few left;
    // counting every status, as `counts()` does, scanned the whole table every 20 ms).
    const left = async (): Promise<number> =>
      Number((await db.query(`SELECT count(*) AS n FROM bolt_tasks WHERE status IN ('queued', 'failed', 'running')`))[0]!.n);
    const args = [BOLT, 'start', '--agents', String(AGENTS), '--agent-module', PROBE, '--db', url, '--no-status'];
    return drive(
      'Bolt (PostgreSQL)',
      () => startWorker(args, { BOLT_POLL_MS: String(BOLT_POLL_MS) }, 'ready: '),
      () =>
        Promise.resolve({
          enqueueMany: async (n) => {
            await queue.submitMany(Array.from({ length: n }, () => ({ agent: 'probe' })));
            added += n;
          },
          enqueueOne: async (t) => {
            submitted.set((await queue.submit('probe', null)).id, t);
            added++;
          },
          finished: async () => added - (await left()),
          latencies: async () => {
            const out: number[] = [];
            for (const [id, t] of submitted) out.push(((await queue.get(id)).result as { startedAt: number }).startedAt - t);
            return out;
          },
          close: () => Promise.resolve(),
        }),
    );
  });
}

function graphile(): Promise<Row> {
  return withDatabase('graphile', async (url, db) => {
    return drive(
      'graphile-worker',
      () => startWorker([here('./support/graphile-runner.js')], { BENCH_PG_URL: url }, 'ready'),
      async () => {
        const utils = await makeWorkerUtils({ connectionString: url, maxPoolSize: 2 });
        let added = 0;
        const left = async (): Promise<number> => Number((await db.query('SELECT count(*) AS n FROM graphile_worker._private_jobs'))[0]!.n);
        return {
          enqueueMany: async (n) => {
            await utils.addJobs(Array.from({ length: n }, () => ({ identifier: 't', payload: {} })));
            added += n;
          },
          enqueueOne: async (t) => {
            await utils.addJob('t', { t });
            added++;
          },
          // A job's row is deleted when it completes.
          finished: async () => added - (await left()),
          latencies: (w) => Promise.resolve(w.lat),
          close: async () => await utils.release(),
        };
      },
    );
  });
}

function pgBoss(): Promise<Row> {
  return withDatabase('pgboss', async (url, db) => {
    return drive(
      'pg-boss',
      () => startWorker([here('./support/pg-boss-runner.js')], { BENCH_PG_URL: url }, 'ready'),
      async () => {
        const boss = new PgBoss({ connectionString: url, max: 2, schedule: false, supervise: false });
        boss.on('error', (e) => process.stderr.write(`pg-boss: ${String(e)}\n`));
        await boss.start();
        let added = 0;
        // Added minus left, as for the others.
        const left = async (): Promise<number> =>
          Number((await db.query(`SELECT count(*) AS n FROM pgboss.job WHERE name = 'bench' AND state IN ('created', 'retry', 'active')`))[0]!.n);
        return {
          enqueueMany: async (n) => {
            await boss.insert(
              'bench',
              Array.from({ length: n }, () => ({ data: {} })),
            );
            added += n;
          },
          enqueueOne: async (t) => {
            await boss.send('bench', { t });
            added++;
          },
          finished: async () => added - (await left()),
          latencies: (w) => Promise.resolve(w.lat),
          close: () => boss.stop({ graceful: false }),
        };
      },
    );
  });
}

/** Median of a non-empty list. */
function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

if (!PG) {
  process.stdout.write('queue-peers: skipped (BOLT_TEST_PG_URL not set)\n');
} else {
  // The systems take turns, ROUNDS times: this machine's speed drifts between runs, and one run
  // of each moved the ratio between 0.9 and 1.5. Columns are medians over the rounds; the ratio
  // is the median of each round's ratio against that round's faster peer.
  const rounds: Row[][] = [];
  for (let r = 0; r < ROUNDS; r++) rounds.push([await bolt(), await graphile(), await pgBoss()]);
  const names = rounds[0]!.map((x) => x.system);
  const med = (i: number, f: (x: Row) => number): number => median(rounds.map((rs) => f(rs[i]!)));
  const fasterPeer = (rs: Row[]): Row => rs.slice(1).reduce((a, c) => (c.perSecond > a.perSecond ? c : a));
  const ratios = rounds.map((rs) => rs[0]!.perSecond / fasterPeer(rs).perSecond);
  const p50Ratios = rounds.map((rs) => rs[0]!.p50 / fasterPeer(rs).p50);
  const f = (n: number, d = 1): string => n.toFixed(d);
  process.stdout.write(
    `${QUICK ? '(quick run) ' : ''}One PostgreSQL server, a fresh database per system and round, ${AGENTS} workers in their own process; ` +
      `${N} trivial jobs enqueued in batches of ${BATCH} for throughput, ${LAT_N} single submits every ${PACE_MS} ms for latency; ` +
      `${ROUNDS} rounds in turn, medians.\n\n`,
  );
  process.stdout.write('| system | jobs/s | enqueue→start p50 ms | p99 ms |\n|---|---:|---:|---:|\n');
  names.forEach((name, i) => {
    process.stdout.write(
      `| ${name} | ${f(
        med(i, (x) => x.perSecond),
        0,
      )} | ${f(
        med(i, (x) => x.p50),
        2,
      )} | ${f(
        med(i, (x) => x.p99),
        2,
      )} |\n`,
    );
  });
  const tp = median(ratios);
  const lat = median(p50Ratios);
  process.stdout.write(
    `\nBolt against the faster peer of each round: throughput ${ratios.map((x) => f(x, 2)).join(', ')}× (median ${f(tp, 2)}×, target ≥ 1.2: ${tp >= 1.2 ? 'met' : 'NOT met'}); ` +
      `p50 ${p50Ratios.map((x) => f(x, 2)).join(', ')}× its p50 (median ${f(lat, 2)}×, target ≤ 1: ${lat <= 1 ? 'met' : 'NOT met'}).\n`,
  );
}
