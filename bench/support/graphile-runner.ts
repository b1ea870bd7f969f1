/**
 * graphile-worker runner for bench/queue-peers.bench.ts, in its own process: concurrency 8 on
 * BENCH_PG_URL, one trivial task `t`. New jobs are found by LISTEN/NOTIFY (graphile-worker's
 * default); jobs are pulled in batches through a local queue of 9 (concurrency + 1, the size
 * its performance docs suggest starting from) and completions batched (`completeJobBatchDelay`
 * 0), the counterparts of Bolt's batch claim and batched completion writes.
 * Prints `ready` once running; for a job whose payload carries `t` (its submit time, ms since
 * the epoch with sub-ms precision) prints `lat <ms>` when the task starts. SIGINT stops it.
 */
import { Logger, run, type Task } from 'graphile-worker';
import { nowMs } from './probe-agent.js';

const url = process.env.BENCH_PG_URL;
if (!url) throw new Error('BENCH_PG_URL is not set');

const t: Task = (payload) => {
  const startedAt = nowMs();
  const submittedAt = (payload as { t?: number } | null)?.t;
  if (submittedAt !== undefined) process.stdout.write(`lat ${startedAt - submittedAt}\n`);
};

const runner = await run({
  connectionString: url,
  concurrency: 8,
  noHandleSignals: true,
  logger: new Logger(() => () => undefined),
  taskList: { t },
  preset: { worker: { localQueue: { size: 9 }, completeJobBatchDelay: 0 } },
});
process.stdout.write('ready\n');
process.once('SIGINT', () => {
  runner.stop().then(
    () => process.exit(0),
    (e: unknown) => {
      process.stderr.write(`graphile-runner: ${String(e)}\n`);
      process.exit(1);
    },
  );
});
