/**
 * ConcurrentDatabase throughput vs in-process direct DuckDB (the limit) and vs
 * open-per-operation with a file lock (what scripts did before Bolt), all measured in this
 * run; plus the bulk path from another process and failover time after SIGKILL.
 *
 * Env: BOLT_BENCH_QUICK=1 for a short smoke run; BOLT_BENCH_MS (per measurement).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { randomUUID } from 'node:crypto';
import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import { ConcurrentDatabase } from '../index.js';
import { tryFlockExclusive } from '../storage/platform/flock.js';
import { SETUP_SQL, WORKLOADS, runWorkload, type Target, type WorkloadName } from './workloads.js';
import { percentile } from '../core/latency-summary.js';
import { beginTransaction, commitTransaction, rollbackTransaction, settleTransactionControl } from '../adapters/duckdb/transaction-control.js';
import { clearStatementCache, runCached } from '../adapters/duckdb/statement-cache.js';
import { closeRequestLogAppender, ensureRequestLog, recordRequest } from '../adapters/duckdb/request-log.js';

const QUICK = process.env.BOLT_BENCH_QUICK === '1';
const MS = Number(process.env.BOLT_BENCH_MS ?? (QUICK ? 400 : 3000));
const OPEN_PER_OP_MS = QUICK ? 400 : 2000;
const REPS = QUICK ? 1 : 2;
const FAILOVER_ROUNDS = QUICK ? 2 : 10;
const CLIENT = fileURLToPath(new URL('./bench-client.js', import.meta.url));
const NAMES = Object.keys(WORKLOADS) as WorkloadName[];

const dir = mkdtempSync(join(tmpdir(), 'bolt-bench-'));
const path = join(dir, 'bench.db');
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

/**
 * Direct: one instance, one connection per caller, node-api's own calls. Also `loggedInsert`:
 * the single-insert workload done in-process the way the host applies an exactly-once write
 * (BEGIN, the INSERT from the statement cache, the request-log row, COMMIT), with Bolt's own
 * functions but no socket, pool or client: the floor for that row.
 */
async function direct(): Promise<Record<WorkloadName, number> & { loggedInsert: number }> {
  const inst = await DuckDBInstance.create(path);
  const conns: DuckDBConnection[] = [];
  for (let i = 0; i < 8; i++) conns.push(await inst.connect());
  const t: Target = {
    query: async (sql, params, c) => (await conns[c]!.runAndReadAll(sql, params as never)).getRowObjectsJS(),
    execute: (sql, params, c) => conns[c]!.run(sql, params as never),
  };
  const out = {} as Record<WorkloadName, number> & { loggedInsert: number };
  for (const w of NAMES) {
    await conns[0]!.run('CHECKPOINT');
    out[w] = (await runWorkload(w, t, MS, 'direct')).perSec;
  }
  await ensureRequestLog(conns[0]!);
  const logged: Target = {
    ...t,
    execute: async (sql, params, c) => {
      const conn = conns[c]!;
      await beginTransaction(conn);
      try {
        const r = await runCached(conn, sql, params as DuckDBValue[]);
        await recordRequest(conn, `auto:${randomUUID()}`, Number(r.rowsChanged), true);
        await commitTransaction(conn);
      } catch (err) {
        await rollbackTransaction(conn).catch(() => undefined);
        throw err;
      }
    },
  };
  await conns[0]!.run('CHECKPOINT');
  out.loggedInsert = (await runWorkload('insert', logged, MS, 'direct-logged')).perSec;
  await settleTransactionControl();
  for (const c of conns) {
    closeRequestLogAppender(c);
    clearStatementCache(c);
    c.closeSync();
  }
  inst.closeSync();
  return out;
}

/** Open-per-operation: flock a lock file, open DuckDB, run, close, unlock — every call. */
async function openPerOp(): Promise<Record<WorkloadName, number>> {
  const lockPath = `${path}.script.lock`;
  const once = async (fn: (c: DuckDBConnection) => Promise<unknown>) => {
    let lock;
    while (!(lock = tryFlockExclusive(lockPath))) await new Promise((r) => setTimeout(r, 1));
    try {
      const inst = await DuckDBInstance.create(path);
      const c = await inst.connect();
      try {
        return await fn(c);
      } finally {
        c.closeSync();
        inst.closeSync();
      }
    } finally {
      lock.release();
    }
  };
  const t: Target = {
    query: (sql, params) => once(async (c) => (await c.runAndReadAll(sql, params as never)).getRowObjectsJS()) as Promise<unknown[]>,
    execute: (sql, params) => once((c) => c.run(sql, params as never)),
  };
  const out = {} as Record<WorkloadName, number>;
  for (const w of NAMES) out[w] = (await runWorkload(w, t, OPEN_PER_OP_MS, 'per-op')).perSec;
  return out;
}

interface Remote {
  call<T>(m: Record<string, unknown>): Promise<T>;
  end(): Promise<void>;
  role: string;
}

function remote(kind: 'process' | 'worker', dbPath = path, opts: Record<string, unknown> = {}): Promise<Remote & { child?: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const waiters: Array<(m: { ok: boolean; result?: unknown; error?: string }) => void> = [];
    let send: (m: unknown) => void;
    let end: () => Promise<void>;
    let child: ChildProcess | undefined;
    const onMessage = (m: { ready?: boolean; role?: string; ok?: boolean; result?: unknown; error?: string }) => {
      if (m.ready) {
        resolve({
          role: m.role!,
          child,
          call: <T>(msg: Record<string, unknown>) =>
            new Promise<T>((res, rej) => {
              waiters.push((r) => (r.ok ? res(r.result as T) : rej(new Error(r.error))));
              send(msg);
            }),
          end,
        });
        return;
      }
      waiters.shift()?.(m as { ok: boolean });
    };
    if (kind === 'process') {
      child = fork(CLIENT, [dbPath, JSON.stringify(opts)], { serialization: 'advanced', stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      child.on('message', onMessage);
      child.once('error', reject);
      send = (m) => child!.send(m as object);
      end = async () => {
        if (child!.exitCode === null && child!.signalCode === null) child!.kill('SIGKILL');
      };
    } else {
      const w = new Worker(CLIENT, { workerData: { path: dbPath, opts: JSON.stringify(opts) } });
      w.on('message', onMessage);
      w.once('error', reject);
      send = (m) => w.postMessage(m);
      end = async () => void (await w.terminate());
    }
  });
}

async function viaBolt(kind: 'process' | 'worker', opts: Record<string, unknown> = {}): Promise<Record<WorkloadName, number>> {
  const r = await remote(kind, path, opts);
  if (r.role !== 'client') throw new Error(`expected a client, got ${r.role}`);
  const out = {} as Record<WorkloadName, number>;
  for (const w of NAMES) {
    await r.call({ op: 'checkpoint' });
    out[w] = (await r.call<{ perSec: number }>({ op: 'run', workload: w, ms: MS })).perSec;
  }
  await r.call({ op: 'close' }).catch(() => undefined);
  await r.end();
  return out;
}

async function failoverRound(): Promise<number> {
  const d = mkdtempSync(join(tmpdir(), 'bolt-bench-fo-'));
  const p = join(d, 'f.db');
  try {
    const setup = await ConcurrentDatabase.open(p);
    await setup.execute('CREATE TABLE ins (who VARCHAR, n INTEGER)');
    await setup.close();
    const host = await remote('process', p);
    const writer = await remote('process', p);
    if (host.role !== 'host' || writer.role !== 'client') throw new Error('unexpected roles');
    const loop = writer.call<{ acks: number[]; errors: number }>({ op: 'writeLoop' });
    await new Promise((r) => setTimeout(r, 300));
    const killedAt = performance.timeOrigin + performance.now();
    host.child!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 1500));
    void writer.call({ op: 'stop' }).catch(() => undefined);
    const { acks, errors } = await loop;
    await writer.end();
    if (errors) throw new Error(`${errors} write(s) failed during failover`);
    const before = acks.filter((a) => a <= killedAt);
    const after = acks.filter((a) => a > killedAt);
    if (!before.length || !after.length) throw new Error('no writes around the kill');
    return after[0]! - before[before.length - 1]!;
  } finally {
    rmSync(d, { recursive: true, force: true });
  }
}

const fmt = (n: number) => (n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toFixed(1));

// ---- run ----
{
  const inst = await DuckDBInstance.create(path);
  const c = await inst.connect();
  for (const sql of SETUP_SQL) await c.run(sql);
  c.closeSync();
  inst.closeSync();
}
const best = <T extends Record<string, number>>(a: T | undefined, b: T): T =>
  Object.fromEntries(Object.keys(b).map((k) => [k, Math.max(a?.[k] ?? 0, b[k]!)])) as T;

let d: (Record<WorkloadName, number> & { loggedInsert: number }) | undefined;
let bw: Record<WorkloadName, number> | undefined;
let bp: Record<WorkloadName, number> | undefined;
let bq: Record<WorkloadName, number> | undefined;
const perOp = await openPerOp();
for (let rep = 0; rep < REPS; rep++) {
  // Alternate direct and Bolt runs so machine noise hits both.
  d = best(d, await direct());
  const host = await ConcurrentDatabase.open(path);
  bw = best(bw, await viaBolt('worker'));
  bp = best(bp, await viaBolt('process'));
  bq = best(bq, await viaBolt('process', { exactlyOnce: false }));
  await host.close();
}
const host = await ConcurrentDatabase.open(path);
const bulkClient = await remote('process');
const bulk = await bulkClient.call<{ rows: number; perSec: number }>({ op: 'bulk', rows: QUICK ? 20_000 : 200_000, batch: 10_000 });
await bulkClient.call({ op: 'close' }).catch(() => undefined);
await bulkClient.end();
await host.close();

const gaps: number[] = [];
for (let i = 0; i < FAILOVER_ROUNDS; i++) gaps.push(await failoverRound());
gaps.sort((a, b) => a - b);

const lines = [
  `Per measurement ${MS} ms (open-per-op ${OPEN_PER_OP_MS} ms), best of ${REPS}, CHECKPOINT before each; ops/s, ratio vs direct in parentheses.`,
  'Bolt writes from another process carry an automatic request id logged in the same transaction (exactly-once across failover) unless exactlyOnce: false.',
  '',
  '| workload | direct (in-process) | Bolt, worker thread | Bolt, other process | Bolt, other process, exactlyOnce: false | open-per-op + lock | other process ÷ direct | other process ÷ open-per-op | direct ÷ open-per-op |',
  '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ...NAMES.map((w) => {
    const x = d![w];
    return `| ${WORKLOADS[w].label} | ${fmt(x)} | ${fmt(bw![w])} (${((bw![w] / x) * 100).toFixed(0)}%) | ${fmt(bp![w])} (${((bp![w] / x) * 100).toFixed(0)}%) | ${fmt(bq![w])} (${((bq![w] / x) * 100).toFixed(0)}%) | ${fmt(perOp[w])} (${((perOp[w] / x) * 100).toFixed(1)}%) | ${((bp![w] / x) * 100).toFixed(0)}% | ${(bp![w] / perOp[w]).toFixed(1)}× | ${(x / perOp[w]).toFixed(1)}× |`;
  }),
  '',
  `Floor of the exactly-once single insert: the same workload in-process as the host applies it (BEGIN, cached INSERT, request-log row, COMMIT; no socket, pool or client) ` +
    `runs at ${fmt(d!.loggedInsert)}/s = ${((d!.loggedInsert / d!.insert) * 100).toFixed(0)}% of direct; Bolt from another process reaches ` +
    `${((bp!.insert / d!.loggedInsert) * 100).toFixed(0)}% of that floor.`,
  '',
  `Bulk path (insertMany, appender, batches of 10,000) from another process: ${fmt(bulk.perSec)} rows/s (${bulk.rows.toLocaleString('en-US')} rows).`,
  '',
  `Failover after SIGKILL of the host (last acknowledged write → first acknowledged write after takeover), ${gaps.length} rounds: ` +
    `p50 ${fmt(percentile(gaps, 50))} ms, p99 ${fmt(percentile(gaps, 99))} ms, max ${fmt(gaps[gaps.length - 1]!)} ms.`,
];
process.stdout.write(`${lines.join('\n')}\n`);
