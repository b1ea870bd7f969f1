/**
 * pg-boss runner for bench/queue-peers.bench.ts, in its own process: queue `bench` (created here
 * with `notify: true`) on BENCH_PG_URL, worked by 8 concurrent workers (`localConcurrency: 8`),
 * each fetching up to 2 jobs at a time (16 in hand at most, like Bolt's 8 agents with their
 * buffer) and fetching again at once while fetches come back full (`burstWhenBatchFull`).
 * New jobs wake the workers by LISTEN/NOTIFY (`useListenNotify`); the polling backstop is
 * pg-boss's minimum, 0.5 s. Prints `ready` once working; for a job whose data carries `t` (its
 * submit time, ms since the epoch with sub-ms precision) prints `lat <ms>` as its handler
 * starts. SIGINT stops it.
 */
import { PgBoss } from 'pg-boss';
import { nowMs } from './probe-agent.js';

const url = process.env.BENCH_PG_URL;
if (!url) throw new Error('BENCH_PG_URL is not set');

const boss = new PgBoss({ connectionString: url, useListenNotify: true, schedule: false });
boss.on('error', (e) => process.stderr.write(`pg-boss-runner: ${String(e)}\n`));
await boss.start();
await boss.createQueue('bench', { notify: true });
await boss.work<{ t?: number }>(
  'bench',
  { localConcurrency: 8, batchSize: 2, burstWhenBatchFull: true, pollingIntervalSeconds: 0.5, notifyPollingIntervalSeconds: 0.5 },
  (jobs) => {
    const startedAt = nowMs();
    for (const j of jobs) if (j.data?.t !== undefined) process.stdout.write(`lat ${startedAt - j.data.t}\n`);
    return Promise.resolve();
  },
);
process.stdout.write('ready\n');
process.once('SIGINT', () => {
  boss.stop({ graceful: true }).then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`pg-boss-runner: ${String(e)}\n`);
      process.exit(1);
    },
  );
});
