/**
 * One soak process: opens the shared database through ConcurrentDatabase (becoming host or
 * client), runs the workload until the deadline, then closes cleanly. Started by the soak
 * orchestrator with its config as JSON in argv[2]; prints "ready" once its database is open.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConcurrentDatabase } from '../../storage/concurrent-database.js';
import { BoltIntegration } from '../../core/runtime/bolt-integration.js';
import { isTerminal } from '../../core/runtime/task-states.js';
import { Journal } from './soak-journal.js';
import { OpRecorder } from './op-recorder.js';
import { SoakWorkload, pause } from './soak-workload.js';
import { sendBadWrites } from './bad-writes.js';
import type { SoakProcessConfig } from './soak-config.js';

const cfg = JSON.parse(process.argv[2] ?? '{}') as SoakProcessConfig;
const journal = new Journal(cfg.dir, cfg.proc);

/**
 * The orchestrator's IPC channel closed before this process let go of it: the orchestrator
 * died (SIGKILL, a crash). Nobody will stop or count this process any more, so it does not run
 * on to its deadline (hours away, perhaps) but ends as a SIGKILLed host does, which the
 * database's next opener recovers from.
 */
const onOrphaned = (): void => {
  process.kill(process.pid, 'SIGKILL');
};
process.once('disconnect', onOrphaned);

/** The soak's start and deadline: from the config, or from the orchestrator's "go" message. */
function clock(): Promise<{ startEpochMs: number; deadlineEpochMs: number }> {
  if (cfg.startEpochMs !== null && cfg.deadlineEpochMs !== null) {
    return Promise.resolve({ startEpochMs: cfg.startEpochMs, deadlineEpochMs: cfg.deadlineEpochMs });
  }
  return new Promise((resolve) => {
    const onMessage = (m: { op?: string; startEpochMs?: number; deadlineEpochMs?: number }) => {
      if (m?.op !== 'go' || typeof m.startEpochMs !== 'number' || typeof m.deadlineEpochMs !== 'number') return;
      process.off('message', onMessage);
      resolve({ startEpochMs: m.startEpochMs, deadlineEpochMs: m.deadlineEpochMs });
    };
    process.on('message', onMessage);
  });
}

/** Opens, writes and closes the side database: exercises recovery from planted stale locks. */
async function sideDbLoop(w: SoakWorkload): Promise<void> {
  const path = join(cfg.dir, 'side.duckdb');
  while (w.running) {
    await pause(1500 + w.rng.int(1000));
    if (!w.running) break;
    try {
      await w.rec.time('side-db', async () => {
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

/** Submits tasks to the durable queue; each acknowledged submission is journaled. */
function taskLoop(bolt: BoltIntegration) {
  return async (w: SoakWorkload): Promise<void> => {
    while (w.running) {
      const key = w.nextId('K');
      const ok = await w.untilAcked('task', key, () => bolt.submit('soak-record', { key }, { dedupeKey: key, maxAttempts: 10 }));
      if (ok) journal.append('task', key);
      await pause(20);
    }
  };
}

/**
 * One `soak-warm` task per agent, each busy long enough that no agent takes two; resolves when
 * all have ended. A `submit` with a free agent here runs in this runtime (inserted already
 * claimed), but one that finds no free agent goes to the shared queue, where another process
 * may run it and this one hears no event: those are looked up in the queue.
 */
async function warmAgents(bolt: BoltIntegration, agents: number): Promise<void> {
  const ended = new Set<number>();
  let wake = (): void => undefined;
  const onEnd = (e: { id: number }): void => {
    ended.add(e.id);
    wake();
  };
  bolt.on('task:done', onEnd);
  bolt.on('task:dead', onEnd);
  try {
    const ids: number[] = [];
    for (let i = 0; i < agents; i++) ids.push(await bolt.submit('soak-warm', { ms: 300 }, { maxAttempts: 1 }));
    for (;;) {
      const open = ids.filter((id) => !ended.has(id));
      if (open.length === 0) return;
      for (const id of open) if (isTerminal((await bolt.getTask(id)).status)) ended.add(id);
      if (open.some((id) => !ended.has(id))) await new Promise<void>((resolve) => setTimeout((wake = resolve), 250));
    }
  } finally {
    bolt.off('task:done', onEnd);
    bolt.off('task:dead', onEnd);
  }
}

async function main(): Promise<void> {
  const bolt = new BoltIntegration({
    agents: cfg.agents,
    database: cfg.db,
    engine: cfg.engine,
    // Every process may hold a session while others run plain statements: a pool smaller
    // than the number of processes would make plain statements queue behind idle sessions.
    databaseOptions: { maxConnections: Math.max(8, cfg.processes + 4) },
    agentModules: [fileURLToPath(new URL('./soak-agents.js', import.meta.url))],
  });
  await bolt.initialize();
  const db = bolt.getDatabaseManager();
  let badWrites: SoakWorkload | undefined;
  process.on('message', (m: { op?: string; how?: 'throw' | 'exit' | 'hang' }) => {
    // The kill-agent fault: the orchestrator asks this process to crash one of its agents.
    if (m?.op === 'kill-agent') void bolt.submit('soak-crash', { how: m.how ?? 'throw' }, { maxAttempts: 1, timeoutMs: 1500 }).catch(() => undefined);
    // The bad-writes fault: a burst of writes that must all be refused.
    if (m?.op === 'bad-writes' && badWrites) {
      const w = badWrites;
      void sendBadWrites(db, journal, (prefix) => w.nextId(prefix)).catch(() => undefined);
    }
  });
  // The first processes start the measured time together: each warms its agents first (every
  // agent thread opens its database handle), so that opening 16 × 8 handles at once is not
  // counted as the workload's first seconds.
  if (cfg.startEpochMs === null) await warmAgents(bolt, cfg.agents);
  process.stdout.write('ready\n');
  const { startEpochMs, deadlineEpochMs } = await clock();
  const rec = new OpRecorder(join(cfg.dir, `metrics-${cfg.proc}-${cfg.incarnation}.jsonl`), startEpochMs);
  const w = new SoakWorkload(db, rec, journal, {
    proc: cfg.proc,
    incarnation: cfg.incarnation,
    seed: cfg.seed,
    deadline: deadlineEpochMs,
    extraLoops: [taskLoop(bolt), ...(cfg.sideDb ? [sideDbLoop] : [])],
  });
  badWrites = w;
  try {
    await w.run();
  } finally {
    rec.close();
  }
  process.removeAllListeners('message');
  process.off('disconnect', onOrphaned);
  process.disconnect?.();
  await bolt.shutdown({ drainTimeoutMs: 5000 });
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`soak process ${cfg.proc}: ${(err as Error)?.message ?? String(err)}\n`);
    process.exit(3);
  },
);
