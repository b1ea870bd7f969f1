/**
 * One soak process: opens the shared database through ConcurrentDatabase (becoming host or
 * client), runs the workload until the deadline, then closes cleanly. Started by the soak
 * orchestrator with its config as JSON in argv[2]; prints "ready" once its database is open.
 */
import { join } from 'node:path';
import { ConcurrentDatabase } from '../../storage/concurrent-database.js';
import type { Database } from '../../core/database.js';
import { Journal } from './soak-journal.js';
import { OpRecorder } from './op-recorder.js';
import { SoakWorkload, pause } from './soak-workload.js';
import type { SoakProcessConfig } from './soak-config.js';

const cfg = JSON.parse(process.argv[2] ?? '{}') as SoakProcessConfig;
const rec = new OpRecorder(join(cfg.dir, `metrics-${cfg.proc}-${cfg.incarnation}.jsonl`), cfg.startEpochMs);
const journal = new Journal(cfg.dir, cfg.proc);

/** Opens, writes and closes the side database: exercises recovery from planted stale locks. */
async function sideDbLoop(w: SoakWorkload): Promise<void> {
  const path = join(cfg.dir, 'side.duckdb');
  while (w.running) {
    await pause(1500 + w.rng.int(1000));
    if (!w.running) break;
    try {
      await rec.time('side-db', async () => {
        const side = await ConcurrentDatabase.open(path, { lockTimeoutMs: 10_000 });
        try {
          await side.execute('CREATE TABLE IF NOT EXISTS side_log (proc INTEGER, written_at BIGINT)');
          await side.execute('INSERT INTO side_log VALUES (?, ?)', [cfg.proc, Date.now()]);
        } finally {
          await side.close();
        }
      });
    } catch {
      // recorded by rec.time; keep going
    }
  }
}

async function main(): Promise<void> {
  const db: Database = await ConcurrentDatabase.open(cfg.db, { engine: cfg.engine, lockTimeoutMs: 30_000 });
  process.stdout.write('ready\n');
  const w = new SoakWorkload(db, rec, journal, {
    proc: cfg.proc,
    incarnation: cfg.incarnation,
    seed: cfg.seed,
    deadline: cfg.deadlineEpochMs,
    extraLoops: cfg.sideDb ? [sideDbLoop] : [],
  });
  await w.run();
  rec.close();
  await db.close();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    rec.close();
    process.stderr.write(`soak process ${cfg.proc}: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(3);
  },
);
