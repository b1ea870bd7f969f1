/**
 * SQLite under many agents: 1, 4 and 16 processes × 8 concurrent callers each, Bolt against
 * bare better-sqlite3 in the same run, on a fresh WAL file per measurement.
 *
 * Workloads: single-row inserts, point reads, and a small read-modify-write transaction
 * (read a counter, add one). Bare is what an agent framework does without Bolt: one
 * better-sqlite3 connection per process on the main thread, `busy_timeout = 5000`,
 * `db.transaction()` (a deferred BEGIN) for the read-modify-write; its SQLITE_BUSY errors
 * are counted. Bolt is `ConcurrentDatabase.open()` on the same kind of file.
 *
 * Prints throughput, errors, p50/p99 latency and the slowest process's worst second (writes
 * per second: 0 means a process starved for a whole second), and Bolt/bare ratios.
 * Each cell alternates bare and Bolt BOLT_BENCH_ROUNDS times (default 3) and reports medians.
 * Every process first runs the workload for a warm-up that is not counted: the table is about
 * processes that have been running, and fresh Node processes spend their first CPU-second or so
 * compiling their hot code (16 of them on 2 cores: V8's optimizing compiler took ~25 % of the
 * CPU in the first 4 s). The warm-up gives each process about 0.8 CPU-seconds: 0.8 s × processes
 * / cores (6.4 s for 16 processes on 2 cores), at least 1 s; BOLT_BENCH_WARMUP=s sets it.
 * BOLT_BENCH_QUICK=1: 1-second runs, one round, 1 and 4 processes only. BOLT_BENCH_SIZES=1,16
 * and BOLT_BENCH_WORKLOADS=read,rmw pick cells. BOLT_BENCH_SQLITE_CHECKPOINTS=inline runs Bolt
 * with SQLite's own checkpoints instead of its checkpoint thread (for comparison).
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import type { CheckpointMode } from '../adapters/sqlite/checkpointer.js';
import type { SqliteOptions } from '../adapters/sqlite/database.js';

const QUICK = process.env.BOLT_BENCH_QUICK === '1';
const SECONDS = Number(process.env.BOLT_BENCH_SECONDS ?? (QUICK ? 1 : 4));
/** Warm-up before a measurement of `processes` processes (see above). */
const warmUpSeconds = (processes: number): number =>
  Number(process.env.BOLT_BENCH_WARMUP ?? (QUICK ? 0 : Math.max(1, (0.8 * processes) / availableParallelism())));
const SIZES = process.env.BOLT_BENCH_SIZES?.split(',').map(Number) ?? (QUICK ? [1, 4] : [1, 4, 16]);
/** Alternating bare/Bolt measurements per cell (medians reported). */
const ROUNDS = Number(process.env.BOLT_BENCH_ROUNDS ?? (QUICK ? 1 : 3));
const WORKLOADS = (process.env.BOLT_BENCH_WORKLOADS?.split(',') ?? ['insert', 'read', 'rmw']) as Workload[];
const CALLERS = 8;
const KEYS = 1_000;
const SELF = fileURLToPath(import.meta.url);

type Mode = 'bare' | 'bolt';
/** `read` is a point read (Bolt's `queryOne`, bare's `get()`); `read-rows` the same through `query` (every row), on request only. */
type Workload = 'insert' | 'read' | 'read-rows' | 'rmw';

/** Latency histogram: bucket i counts latencies in [STEP^i, STEP^(i+1)) µs. */
const STEP = 1.05;
const bucketOf = (ms: number) => Math.max(0, Math.floor(Math.log(ms * 1000) / Math.log(STEP)));
const bucketMs = (i: number) => STEP ** (i + 0.5) / 1000;

interface ChildResult {
  ops: number;
  errors: Record<string, number>;
  /** Latency histogram (see STEP): bucket index → count. */
  lat: Record<number, number>;
  /** Completed operations per whole second of the run. */
  perSecond: number[];
}

interface Op {
  run(i: number): Promise<unknown>;
  close(): Promise<void>;
}

async function bareOp(path: string, w: Workload): Promise<Op> {
  const db = new BetterSqlite3(path);
  db.pragma('busy_timeout = 5000');
  db.pragma('synchronous = NORMAL');
  const insert = db.prepare('INSERT INTO log (p, v) VALUES (?, ?)');
  const read = db.prepare('SELECT v FROM kv WHERE k = ?');
  const bump = db.prepare('UPDATE kv SET v = ? WHERE k = ?');
  const rmw = db.transaction((k: number) => {
    const row = read.get(k) as { v: number };
    bump.run(row.v + 1, k);
  });
  const run =
    w === 'insert'
      ? (i: number) => insert.run(process.pid, i)
      : w === 'read' || w === 'read-rows'
        ? (i: number) => read.get(i % KEYS)
        : (i: number) => rmw((i * 7919 + process.pid) % KEYS);
  return {
    run: async (i) => run(i),
    close: async () => void db.close(),
  };
}

async function boltOp(path: string, w: Workload): Promise<Op> {
  const { ConcurrentDatabase } = await import('../storage/concurrent-database.js');
  const checkpoints: CheckpointMode = process.env.BOLT_BENCH_SQLITE_CHECKPOINTS === 'inline' ? 'inline' : 'background';
  const db = await ConcurrentDatabase.open(path, { maxConnections: CALLERS, checkpoints } as SqliteOptions);
  const run =
    w === 'insert'
      ? (i: number) => db.execute('INSERT INTO log (p, v) VALUES (?, ?)', [process.pid, i])
      : w === 'read'
        ? (i: number) => db.queryOne('SELECT v FROM kv WHERE k = ?', [i % KEYS])
        : w === 'read-rows'
          ? (i: number) => db.query('SELECT v FROM kv WHERE k = ?', [i % KEYS])
          : (i: number) =>
              db.transaction(async (tx) => {
                const k = (i * 7919 + process.pid) % KEYS;
                const [row] = await tx.query<{ v: number }>('SELECT v FROM kv WHERE k = ?', [k]);
                await tx.execute('UPDATE kv SET v = ? WHERE k = ?', [row!.v + 1, k]);
              });
  return { run, close: () => db.close() };
}

/** A child process: waits for "go" on stdin, runs CALLERS loops for SECONDS, prints its result. */
async function child(mode: Mode, w: Workload, path: string, warmUpMs: number): Promise<void> {
  const op = mode === 'bare' ? await bareOp(path, w) : await boltOp(path, w);
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  await warmUp(op, warmUpMs);
  const started = performance.now();
  const end = started + SECONDS * 1000;
  const res: ChildResult = { ops: 0, errors: {}, lat: {}, perSecond: Array.from({ length: SECONDS }, () => 0) };
  let n = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < end) {
        const t = performance.now();
        try {
          await op.run(n++);
          const done = performance.now();
          res.ops++;
          const b = bucketOf(done - t);
          res.lat[b] = (res.lat[b] ?? 0) + 1;
          const s = Math.floor((done - started) / 1000);
          if (s < SECONDS) res.perSecond[s]!++;
        } catch (err) {
          const code = (err as { code?: string }).code ?? 'error';
          res.errors[code] = (res.errors[code] ?? 0) + 1;
        }
      }
    }),
  );
  await op.close();
  process.stdout.write(`${JSON.stringify(res)}\n`);
}

/** Runs the workload with every caller for `ms`, counting nothing. */
async function warmUp(op: Op, ms: number): Promise<void> {
  const end = performance.now() + ms;
  let n = 0;
  await Promise.all(
    Array.from({ length: CALLERS }, async () => {
      while (performance.now() < end) await op.run(n++).catch(() => undefined);
    }),
  );
}

function startChild(mode: Mode, w: Workload, path: string, warmUpMs: number): Promise<{ ready: Promise<void>; go(): void; result: Promise<ChildResult> }> {
  const c = spawn(process.execPath, [SELF, 'child', mode, w, path, String(warmUpMs)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  let onReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  const result = new Promise<ChildResult>((resolve, reject) => {
    c.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) onReady();
    });
    c.on('exit', (code) => {
      const last = out.trim().split('\n').pop()!;
      if (code !== 0 || last === 'ready') return reject(new Error(`child ${mode} ${w} exited with ${code}`));
      resolve(JSON.parse(last) as ChildResult);
    });
  });
  return Promise.resolve({ ready, go: () => c.stdin.end('go\n'), result });
}

function freshFile(): { path: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'bolt-sqlite-scaling-'));
  const path = join(dir, 'bench.db');
  const db = new BetterSqlite3(path);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE log (id INTEGER PRIMARY KEY, p INTEGER, v INTEGER); CREATE TABLE kv (k INTEGER PRIMARY KEY, v INTEGER)');
  const ins = db.prepare('INSERT INTO kv VALUES (?, 0)');
  db.transaction(() => {
    for (let k = 0; k < KEYS; k++) ins.run(k);
  })();
  db.close();
  return { path, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

interface Row {
  opsPerSec: number;
  errors: number;
  p50: number;
  p99: number;
  worstSecond: number;
}

async function measure(mode: Mode, w: Workload, processes: number): Promise<Row> {
  const f = freshFile();
  try {
    const children = await Promise.all(Array.from({ length: processes }, () => startChild(mode, w, f.path, warmUpSeconds(processes) * 1000)));
    await Promise.all(children.map((c) => c.ready));
    children.forEach((c) => c.go());
    const results = await Promise.all(children.map((c) => c.result));
    const hist = new Map<number, number>();
    for (const r of results) for (const [b, n] of Object.entries(r.lat)) hist.set(Number(b), (hist.get(Number(b)) ?? 0) + n);
    const buckets = [...hist].sort((a, b) => a[0] - b[0]);
    const total = buckets.reduce((s, [, n]) => s + n, 0);
    const q = (p: number) => {
      let seen = 0;
      for (const [b, n] of buckets) if ((seen += n) >= p * total) return bucketMs(b);
      return NaN;
    };
    return {
      opsPerSec: results.reduce((s, r) => s + r.ops, 0) / SECONDS,
      errors: results.reduce((s, r) => s + Object.values(r.errors).reduce((a, b) => a + b, 0), 0),
      p50: q(0.5),
      p99: q(0.99),
      worstSecond: Math.min(...results.flatMap((r) => r.perSecond)),
    };
  } finally {
    f.cleanup();
  }
}

async function main(): Promise<void> {
  console.log(
    `SQLite scaling: processes × ${CALLERS} callers, ${SECONDS} s per measurement after a warm-up of ${SIZES.map((p) => `${warmUpSeconds(p).toFixed(1)} s at ${p}`).join(', ')}, fresh WAL file each, ${ROUNDS} alternating rounds of bare and Bolt per cell; medians; ratio = Bolt / bare (median of the rounds' ratios); Bolt errors: the most in a round; worst second: the least of any round`,
  );
  console.log(
    '| workload | processes | bare ops/s | bare errors | bare p50 / p99 ms | Bolt ops/s | Bolt errors | Bolt p50 / p99 ms | Bolt worst second | throughput ratio | p99 ratio |',
  );
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  const ms = (v: number) => (v < 0.1 ? v.toFixed(3) : v < 10 ? v.toFixed(2) : v.toFixed(0));
  for (const w of WORKLOADS) {
    for (const p of SIZES) {
      // Bare and Bolt alternate; each column is the median over the rounds, the ratios are the
      // medians of each round's ratio (the machine's speed drifts between runs).
      const rounds: Array<{ bare: Row; bolt: Row }> = [];
      for (let r = 0; r < ROUNDS; r++) rounds.push({ bare: await measure('bare', w, p), bolt: await measure('bolt', w, p) });
      const med = (f: (x: { bare: Row; bolt: Row }) => number) => median(rounds.map(f));
      const bare: Row = {
        opsPerSec: med((x) => x.bare.opsPerSec),
        errors: med((x) => x.bare.errors),
        p50: med((x) => x.bare.p50),
        p99: med((x) => x.bare.p99),
        worstSecond: med((x) => x.bare.worstSecond),
      };
      const bolt: Row = {
        opsPerSec: med((x) => x.bolt.opsPerSec),
        errors: Math.max(...rounds.map((x) => x.bolt.errors)),
        p50: med((x) => x.bolt.p50),
        p99: med((x) => x.bolt.p99),
        worstSecond: Math.min(...rounds.map((x) => x.bolt.worstSecond)),
      };
      const throughput = med((x) => x.bolt.opsPerSec / x.bare.opsPerSec);
      const tail = med((x) => x.bolt.p99 / x.bare.p99);
      console.log(
        `| ${w} | ${p} | ${bare.opsPerSec.toFixed(0)} | ${bare.errors} | ${ms(bare.p50)} / ${ms(bare.p99)} | ${bolt.opsPerSec.toFixed(0)} | ${bolt.errors} | ${ms(bolt.p50)} / ${ms(bolt.p99)} | ${bolt.worstSecond} | ${throughput.toFixed(2)} | ${tail.toFixed(2)} |`,
      );
    }
  }
}

if (process.argv[2] === 'child') await child(process.argv[3] as Mode, process.argv[4] as Workload, process.argv[5]!, Number(process.argv[6]));
else await main();
