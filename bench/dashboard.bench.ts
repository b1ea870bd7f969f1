/**
 * What the dashboard costs the runtime: tasks/s of one runtime (8 agents, a fresh DuckDB file,
 * trivial tasks submitted in batches) without the dashboard, and with it serving one page —
 * its event stream (a status every second) and the task list the page reloads on each — plus a
 * Prometheus scraper reading /metrics every second. Rounds alternate; the ratio is the median
 * of the rounds' ratios. Target: ≥ 0.95.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { BoltIntegration } from '../core/runtime/bolt-integration.js';
import { serveDashboard } from '../tools/dashboard/serve.js';

const QUICK = process.env.BOLT_BENCH_QUICK === '1';
const ROUNDS = Number(process.env.BOLT_BENCH_ROUNDS ?? (QUICK ? 1 : 5));
const N = QUICK ? 2_000 : 12_000;
const BATCH = 500;
const PROBE = new URL('./support/probe-agent.js', import.meta.url).href;

function get(url: string, onData?: () => void): { done: Promise<void>; abort(): void } {
  const ctl = new AbortController();
  const done = new Promise<void>((resolve) => {
    const req = request(url, { signal: ctl.signal }, (res) => {
      res.on('data', () => onData?.());
      res.on('end', () => resolve());
      res.on('error', () => resolve());
    });
    req.on('error', () => resolve());
    req.end();
  });
  return { done, abort: () => ctl.abort() };
}

async function run(withDashboard: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bolt-dashboard-bench-'));
  const bolt = new BoltIntegration({ agents: 8, database: join(dir, 'bench.db'), agentModules: [PROBE] });
  await bolt.initialize();
  const server = withDashboard
    ? await serveDashboard({ http: '127.0.0.1:0', queue: bolt.getQueue(), db: bolt.getDatabaseManager(), runtime: bolt })
    : undefined;
  const stops: Array<() => void> = [];
  if (server) {
    // The page: its event stream, and the task list it reloads on each status.
    const stream = get(`${server.url}/api/events`, () => void get(`${server.url}/api/tasks`).done);
    stops.push(stream.abort);
    const scraper = setInterval(() => void get(`${server.url}/metrics`).done, 1000);
    stops.push(() => clearInterval(scraper));
  }
  let done = 0;
  const all = new Promise<void>((resolve) =>
    bolt.on('task:done', () => {
      if (++done === N) resolve();
    }),
  );
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) await bolt.submitMany(Array.from({ length: Math.min(BATCH, N - i) }, () => ({ agent: 'probe' })));
  await all;
  const perSecond = N / ((performance.now() - t0) / 1000);
  for (const s of stops) s();
  await server?.close();
  await bolt.shutdown();
  rmSync(dir, { recursive: true, force: true });
  return perSecond;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const without: number[] = [];
const withIt: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  without.push(await run(false));
  withIt.push(await run(true));
}
console.log(`dashboard cost: ${N} trivial tasks, 8 agents, DuckDB, ${ROUNDS} alternating rounds; ratio = with / without (median of rounds)`);
console.log('| runtime | tasks/s (median) | ratio |');
console.log('|---|---:|---:|');
console.log(`| without dashboard | ${median(without).toFixed(0)} | 1.00 |`);
console.log(
  `| with one page (events + task list) and /metrics scraped every 1 s | ${median(withIt).toFixed(0)} | ${median(withIt.map((x, i) => x / without[i]!)).toFixed(2)} |`,
);
console.log(`rounds' ratios: ${withIt.map((x, i) => (x / without[i]!).toFixed(2)).join(', ')}`);
