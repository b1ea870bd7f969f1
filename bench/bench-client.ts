/**
 * Client side of the bench: opens the database through Bolt (as a client of the bench's
 * host) and runs the workloads it is asked for. Runs as a child process (IPC) or a worker
 * thread (parentPort). Messages: { op: 'run', workload, ms } | { op: 'bulk', rows, batch } | { op: 'close' }.
 */
import { parentPort, workerData, isMainThread } from 'node:worker_threads';
import { ConcurrentDatabase } from '../index.js';
import type { Database } from '../core/database.js';
import { runWorkload, type Target, type WorkloadName } from './workloads.js';

const path: string = isMainThread ? process.argv[2]! : (workerData as { path: string }).path;
const openOpts = JSON.parse((isMainThread ? process.argv[3] : (workerData as { opts?: string }).opts) ?? '{}') as Record<string, unknown>;
const send = (m: unknown) => (isMainThread ? process.send!(m) : parentPort!.postMessage(m));
const on = (fn: (m: Record<string, unknown>) => void) => (isMainThread ? process.on('message', fn) : parentPort!.on('message', fn));

let stopWriting = false;
const db: Database = await ConcurrentDatabase.open(path, openOpts);
const target: Target = {
  query: (sql, params) => db.query(sql, params),
  execute: (sql, params) => db.execute(sql, params),
};
on(async (m) => {
  try {
    if (m.op === 'run') {
      send({ ok: true, result: await runWorkload(m.workload as WorkloadName, target, m.ms as number, `client-${process.pid}`) });
    } else if (m.op === 'bulk') {
      const total = m.rows as number;
      const batch = m.batch as number;
      const start = performance.now();
      for (let done = 0; done < total; done += batch) {
        const rows = Array.from({ length: Math.min(batch, total - done) }, (_, i) => ['bulk', done + i]);
        await db.insertMany('ins', ['who', 'n'], rows);
      }
      send({ ok: true, result: { rows: total, perSec: (total / (performance.now() - start)) * 1000 } });
    } else if (m.op === 'writeLoop') {
      // Sequential inserts until 'stop'; returns the time of every acknowledgement.
      stopWriting = false;
      const acks: number[] = [];
      let errors = 0;
      for (let i = 0; !stopWriting; i++) {
        try {
          await db.execute('INSERT INTO ins VALUES (?, ?)', ['failover', i]);
          acks.push(performance.timeOrigin + performance.now());
        } catch {
          errors++;
        }
      }
      send({ ok: true, result: { acks, errors, role: db.lockInfo().role } });
    } else if (m.op === 'checkpoint') {
      await db.execute('CHECKPOINT');
      send({ ok: true, result: null });
    } else if (m.op === 'stop') {
      stopWriting = true;
    } else if (m.op === 'close') {
      await db.close();
      send({ ok: true, result: null });
      if (isMainThread) process.exit(0);
    }
  } catch (err) {
    send({ ok: false, error: (err as Error).message });
  }
});
send({ ready: true, role: db.lockInfo().role });
