/**
 * Engine adapters vs the bare driver, same machine, same run: small writes from 8 concurrent
 * callers, the same from 4 processes, point reads from 8 callers, a bulk insert of 20,000 rows
 * (`insertMany` against multi-row INSERTs of 1,000 rows) and a GROUP BY over 1M rows.
 * Baseline per engine = the driver used directly (better-sqlite3 on the main thread; a bare
 * `pg` Pool), so the ratio is what Bolt's safety costs (worker threads, writer lock, pool).
 * PostgreSQL runs when BOLT_TEST_PG_URL (or BOLT_BENCH_PG_URL) is set. DuckDB goes through
 * ConcurrentDatabase (host + clients); its bare baseline is one DuckDB instance on a separate file.
 * BOLT_BENCH_QUICK=1 for a short smoke run; BOLT_BENCH_ENGINES=sqlite,postgres to pick engines.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { openPostgres } from '../adapters/postgres/open.js';
import { openSqlite } from '../adapters/sqlite/open.js';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Database } from '../core/database.js';

const QUICK = process.env.BOLT_BENCH_QUICK === '1';
const WRITES = QUICK ? 400 : 4_000;
const READS = QUICK ? 2_000 : 20_000;
const BIG_ROWS = QUICK ? 50_000 : 1_000_000;
const GROUP_RUNS = QUICK ? 2 : 5;
const BULK_ROWS = QUICK ? 2_000 : 20_000;
/** Rows per multi-row INSERT of the bare driver's bulk insert. */
const BULK_CHUNK = 1_000;
const CALLERS = 8;
const PROCESSES = 4;
const SELF = fileURLToPath(import.meta.url);

/** The bare driver, for the baseline: one statement at a time, as directly as the driver allows. */
interface Raw {
  run(sql: string, params: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

interface BenchEngine {
  name: string;
  /** Why it cannot run, or undefined. */
  unavailable(): string | undefined;
  /** A target string a child process can open (file path or URL). */
  setup(): Promise<{ target: string; cleanup(): Promise<void> }>;
  open(target: string): Promise<Database>;
  raw(target: string): Promise<Raw>;
  /** SQL filling `big(k, v)` with n rows. */
  fillBig(n: number): string;
  /**
   * The bare driver works on its own copy of the tables (DuckDB: a second instance on the
   * host's file would corrupt it, architecture.md, fact 2), so setup and fills run on both.
   */
  separateRawStore?: boolean;
  /** The bare driver cannot be opened by several processes at once (DuckDB). */
  noMultiProcessBaseline?: boolean;
}

const pgUrl = process.env.BOLT_BENCH_PG_URL ?? process.env.BOLT_TEST_PG_URL;

const ENGINES: BenchEngine[] = [
  {
    name: 'sqlite',
    unavailable: () => undefined,
    async setup() {
      const dir = mkdtempSync(join(tmpdir(), 'bolt-bench-'));
      return { target: join(dir, 'bench.db'), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
    open: (target) => openSqlite(target, { maxConnections: CALLERS }),
    async raw(target) {
      const db = new BetterSqlite3(target);
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('busy_timeout = 30000');
      const cache = new Map<string, BetterSqlite3.Statement>();
      return {
        async run(sql, params) {
          let s = cache.get(sql);
          if (!s) cache.set(sql, (s = db.prepare(sql)));
          return s.reader ? s.all(...params) : s.run(...params);
        },
        async close() {
          db.close();
        },
      };
    },
    fillBig: (n) => `WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < ${n}) INSERT INTO big (k, v) SELECT x % 100, x FROM c`,
  },
  {
    name: 'postgres',
    unavailable: () => (pgUrl ? undefined : 'BOLT_TEST_PG_URL not set'),
    async setup() {
      const schema = `bolt_bench_${process.pid}`;
      const admin = await openPostgres(pgUrl!, { maxConnections: 1 });
      await admin.execute(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
      await admin.close();
      const u = new URL(pgUrl!);
      u.searchParams.set('options', `-c search_path=${schema}`);
      return {
        target: `${pgUrl}#${schema}`,
        async cleanup() {
          const a = await openPostgres(pgUrl!, { maxConnections: 1 });
          await a.execute(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
          await a.close();
        },
      };
    },
    open: (target) => {
      const [url, schema] = target.split('#') as [string, string];
      return openPostgres(url, { schema, maxConnections: CALLERS });
    },
    async raw(target) {
      const [url, schema] = target.split('#') as [string, string];
      const pool = new pg.Pool({ connectionString: url, max: CALLERS, options: `-c search_path=${schema}` });
      return {
        run: (sql, params) => {
          let i = 0;
          return pool.query(
            sql.replace(/\?/g, () => `$${++i}`),
            params,
          );
        },
        close: () => pool.end(),
      };
    },
    fillBig: (n) => `INSERT INTO big (k, v) SELECT g % 100, g FROM generate_series(1, ${n}) g`,
  },
  {
    name: 'duckdb',
    unavailable: () => undefined,
    async setup() {
      const dir = mkdtempSync(join(tmpdir(), 'bolt-bench-'));
      return { target: join(dir, 'bench.duckdb'), cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
    },
    open: (target) => ConcurrentDatabase.open(target, { engine: 'duckdb', maxConnections: CALLERS }),
    async raw(target) {
      const instance = await DuckDBInstance.create(`${target}.bare.duckdb`);
      const conns = await Promise.all(Array.from({ length: CALLERS }, () => instance.connect()));
      let next = 0;
      return {
        async run(sql, params) {
          const c = conns[next++ % conns.length]!;
          return (await c.runAndReadAll(sql, params as never)).getRowObjectsJS();
        },
        async close() {
          for (const c of conns) c.closeSync();
          instance.closeSync();
        },
      };
    },
    fillBig: (n) => `INSERT INTO big (k, v) SELECT g % 100, g FROM range(1, ${n + 1}) t(g)`,
    separateRawStore: true,
    noMultiProcessBaseline: true,
  },
];

const ROUNDS = 2;

/** The best of `rounds` runs of `measure` (best = `pick`: Math.max for rates, Math.min for times). */
async function best(measure: () => Promise<number>, pick: (...v: number[]) => number, rounds = ROUNDS): Promise<number> {
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) out.push(await measure());
  return pick(...out);
}

/** Runs `total` calls of `op` from `callers` concurrent loops; returns ops/s. */
async function concurrent(callers: number, total: number, op: (i: number) => Promise<unknown>): Promise<number> {
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = next++; i < total; i = next++) await op(i);
    }),
  );
  return (total / (performance.now() - t0)) * 1000;
}

/** Epoch milliseconds with sub-ms precision, comparable across processes. */
const now = (): number => performance.timeOrigin + performance.now();

/**
 * Child mode: `--child <engine> <target> <first-id> <count>`: opens, warms up, prints "ready",
 * waits for "go" on stdin, does its small writes through Bolt, prints `{"t0":…,"t1":…}`.
 */
async function child(engineName: string, target: string, first: number, count: number, bare: boolean): Promise<void> {
  const e = ENGINES.find((x) => x.name === engineName)!;
  const sql = 'INSERT INTO w (id, v) VALUES (?, ?)';
  let write: (i: number) => Promise<unknown>;
  let close: () => Promise<void>;
  if (bare) {
    const raw = await e.raw(target);
    await raw.run('SELECT 1 AS x', []);
    write = (i) => raw.run(sql, [first + i, 'x']);
    close = () => raw.close();
  } else {
    const db = await e.open(target);
    await Promise.all(Array.from({ length: CALLERS }, () => db.query('SELECT 1 AS x')));
    write = (i) => db.execute(sql, [first + i, 'x']);
    close = () => db.close();
  }
  process.stdout.write('ready\n');
  await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
  const t0 = now();
  await concurrent(CALLERS, count, write);
  const t1 = now();
  process.stdout.write(`${JSON.stringify({ t0, t1 })}\n`);
  await close();
  process.exit(0);
}

/** Small writes from PROCESSES processes started together (each with CALLERS callers); ops/s overall, startup excluded. */
async function multiProcess(e: BenchEngine, target: string, firstId: number, bare: boolean): Promise<number> {
  const per = Math.floor(WRITES / PROCESSES);
  const kids = Array.from({ length: PROCESSES }, (_, p) => {
    const c = spawn(process.execPath, [SELF, '--child', e.name, target, String(firstId + p * per), String(per), bare ? 'bare' : 'bolt'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    const lines = new Promise<string>((resolve, reject) => {
      c.stdout.on('data', (d: Buffer) => (out += d.toString()));
      c.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`bench child exited ${code}`))));
    });
    const ready = new Promise<void>((resolve) => {
      const check = (): void => {
        if (out.includes('ready')) resolve();
        else c.stdout.once('data', () => setImmediate(check));
      };
      check();
    });
    return { c, lines, ready };
  });
  await Promise.all(kids.map((k) => k.ready));
  for (const k of kids) k.c.stdin.end('go\n');
  const spans = (await Promise.all(kids.map((k) => k.lines))).map((o) => JSON.parse(o.trim().split('\n').pop()!) as { t0: number; t1: number });
  const elapsed = Math.max(...spans.map((s) => s.t1)) - Math.min(...spans.map((s) => s.t0));
  return ((per * PROCESSES) / elapsed) * 1000;
}

interface Row {
  engine: string;
  workload: string;
  unit: string;
  bolt: number;
  baseline: number;
  /** True when bigger is better (ops/s); false for times. */
  higherBetter: boolean;
}

/** How long `f` takes, ms. */
async function time(f: () => Promise<unknown>): Promise<number> {
  const t0 = performance.now();
  await f();
  return performance.now() - t0;
}

async function benchEngine(e: BenchEngine): Promise<Row[]> {
  const { target, cleanup } = await e.setup();
  const rows: Row[] = [];
  try {
    let db = await e.open(target);
    const raw = await e.raw(target);
    for (const ddl of ['CREATE TABLE w (id BIGINT PRIMARY KEY, v TEXT)', 'CREATE TABLE big (k INTEGER, v BIGINT)', 'CREATE TABLE bulk (id BIGINT, v TEXT)']) {
      await db.execute(ddl);
      if (e.separateRawStore) await raw.run(ddl, []);
    }
    // Warm up: every connection opened, every statement prepared once, on both sides.
    await concurrent(CALLERS, CALLERS * 4, (i) => raw.run('INSERT INTO w (id, v) VALUES (?, ?)', [-1 - i, 'warm']));
    await concurrent(CALLERS, CALLERS * 4, (i) => db.execute('INSERT INTO w (id, v) VALUES (?, ?)', [-1000 - i, 'warm']));
    await concurrent(CALLERS, CALLERS * 4, (i) => raw.run('SELECT v FROM w WHERE id = ?', [i]));
    await concurrent(CALLERS, CALLERS * 4, (i) => db.query('SELECT v FROM w WHERE id = ?', [i]));

    // Each figure is the best of ROUNDS, baseline and Bolt alternating, so that noise from the
    // (shared, 2-core) machine hits both sides alike.
    let id = 0;
    const rawW = await best(() => concurrent(CALLERS, WRITES, () => raw.run('INSERT INTO w (id, v) VALUES (?, ?)', [++id, 'x'])), Math.max);
    const boltW = await best(() => concurrent(CALLERS, WRITES, () => db.execute('INSERT INTO w (id, v) VALUES (?, ?)', [++id, 'x'])), Math.max);
    rows.push({ engine: e.name, workload: `small writes, ${CALLERS} callers`, unit: 'ops/s', bolt: boltW, baseline: rawW, higherBetter: true });

    // The bare driver's own cross-process locking (SQLite: busy_timeout polling) is the baseline here.
    // DuckDB: the host must let go of the file for the child processes to elect one of them.
    const rawMp = e.noMultiProcessBaseline ? NaN : await multiProcess(e, target, 10 * ROUNDS * WRITES, true);
    if (e.noMultiProcessBaseline) await db.close();
    const mp = await multiProcess(e, target, 20 * ROUNDS * WRITES, false);
    if (e.noMultiProcessBaseline) db = await e.open(target);
    rows.push({
      engine: e.name,
      workload: `small writes, ${PROCESSES} processes × ${CALLERS} callers`,
      unit: 'ops/s',
      bolt: mp,
      baseline: rawMp,
      higherBetter: true,
    });

    const n = id;
    const rawR = await best(() => concurrent(CALLERS, READS, (i) => raw.run('SELECT v FROM w WHERE id = ?', [(i % n) + 1])), Math.max);
    const boltR = await best(() => concurrent(CALLERS, READS, (i) => db.query('SELECT v FROM w WHERE id = ?', [(i % n) + 1])), Math.max);
    rows.push({ engine: e.name, workload: `point reads, ${CALLERS} callers`, unit: 'ops/s', bolt: boltR, baseline: rawR, higherBetter: true });

    // Bulk insert: Bolt's insertMany (multi-row INSERTs in one transaction; DuckDB's appender)
    // against the bare driver sending multi-row INSERTs of BULK_CHUNK rows.
    const bulkRows = Array.from({ length: BULK_ROWS }, (_, i) => [i, `row ${i}`]);
    const chunkSql = `INSERT INTO bulk (id, v) VALUES ${Array.from({ length: BULK_CHUNK }, () => '(?, ?)').join(', ')}`;
    const rawBulk = async () => {
      for (let c = 0; c < BULK_ROWS; c += BULK_CHUNK) await raw.run(chunkSql, bulkRows.slice(c, c + BULK_CHUNK).flat());
    };
    const rawB = await best(() => time(rawBulk), Math.min);
    const boltB = await best(() => time(() => db.insertMany('bulk', ['id', 'v'], bulkRows)), Math.min);
    rows.push({
      engine: e.name,
      workload: `bulk insert of ${BULK_ROWS.toLocaleString('en')} rows (best of ${ROUNDS})`,
      unit: 'ms',
      bolt: boltB,
      baseline: rawB,
      higherBetter: false,
    });

    await db.execute(e.fillBig(BIG_ROWS));
    if (e.separateRawStore) await raw.run(e.fillBig(BIG_ROWS), []);
    const group = 'SELECT k, COUNT(*) AS n, SUM(v) AS s FROM big GROUP BY k ORDER BY k';
    await raw.run(group, []); // warm both
    await db.query(group);
    const rawG = await best(() => time(() => raw.run(group, [])), Math.min, GROUP_RUNS);
    const boltG = await best(() => time(() => db.query(group)), Math.min, GROUP_RUNS);
    rows.push({
      engine: e.name,
      workload: `GROUP BY over ${BIG_ROWS.toLocaleString('en')} rows (best of ${GROUP_RUNS})`,
      unit: 'ms',
      bolt: boltG,
      baseline: rawG,
      higherBetter: false,
    });

    await raw.close();
    await db.close();
  } finally {
    await cleanup();
  }
  return rows;
}

function fmt(x: number): string {
  return x >= 100 ? Math.round(x).toLocaleString('en') : x.toFixed(1);
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') {
    const [, , , engine, target, first, count, mode] = process.argv as string[];
    await child(engine!, target!, Number(first), Number(count), mode === 'bare');
    return;
  }
  const rows: Row[] = [];
  const skipped: string[] = [];
  const only = process.env.BOLT_BENCH_ENGINES?.split(',');
  for (const e of ENGINES.filter((x) => !only || only.includes(x.name))) {
    const why = e.unavailable();
    if (why) skipped.push(`${e.name}: ${why}`);
    else rows.push(...(await benchEngine(e)));
  }
  process.stdout.write(`engines bench${QUICK ? ' (quick)' : ''}: Bolt adapter vs the bare driver in the same run\n\n`);
  process.stdout.write('| engine | workload | Bolt | bare driver | Bolt / bare |\n|---|---|---:|---:|---:|\n');
  for (const r of rows) {
    if (Number.isNaN(r.baseline)) {
      process.stdout.write(`| ${r.engine} | ${r.workload} | ${fmt(r.bolt)} ${r.unit} | n/a (one process only) | n/a |\n`);
      continue;
    }
    const ratio = r.bolt / r.baseline;
    process.stdout.write(
      `| ${r.engine} | ${r.workload} | ${fmt(r.bolt)} ${r.unit} | ${fmt(r.baseline)} ${r.unit} | ${ratio.toFixed(2)}× ${r.higherBetter ? '(>1 faster)' : '(<1 faster)'} |\n`,
    );
  }
  for (const s of skipped) process.stdout.write(`\nskipped ${s}\n`);
}

await main();
