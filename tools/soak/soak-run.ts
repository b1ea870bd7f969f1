/**
 * The soak orchestrator: prepares the database, starts P soak processes, injects faults on a
 * seeded schedule, waits for the deadline, reopens the database cleanly and checks every
 * invariant. Returns the whole result; printing is the command's job.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EventEmitter } from 'eventemitter3';
import { ConcurrentDatabase } from '../../storage/concurrent-database.js';
import { BoltIntegration } from '../../core/runtime/bolt-integration.js';
import type { EngineName } from '../../core/database.js';
import { summarize } from '../../core/latency-summary.js';
import { log } from '../../core/logger.js';
import { InternalError } from '../../core/errors.js';
import { SeededRandom } from './seeded-random.js';
import { soakInterrupted } from './interrupt.js';
import { createPgRunSchema, createSoakSchema, dropPgRunSchema } from './soak-schema.js';
import { checkSoakPlaces } from './soak-places.js';
import { makeWorkDir } from './work-dir.js';
import { foldMetrics } from './soak-metrics.js';
import { readJournals } from './soak-journal.js';
import { verifySoak, countLeaseReruns } from './soak-verify.js';
import { starvationInvariant } from './starvation.js';
import { currentHostPid, plantStaleLock, startForeignHolder, startForeignWriter, startHostileClient, waitForLine } from './soak-chaos.js';
import { HostMemoryWatch, type ProcessExit } from './process-watch.js';
import { readSidecar, sidecarPath } from '../../storage/platform/sidecar.js';
import { removeDeadSocket } from '../../storage/host/stale-cleanup.js';
import { LOCK_ERROR_CODES } from './op-recorder.js';
import type { FaultEvent, FaultKind, InvariantResult, SoakResult } from './soak-result.js';
import type { SoakProcessConfig } from './soak-config.js';

export interface SoakOptions {
  processes: number;
  agents: number;
  durationS: number;
  engine: EngineName;
  /** Database path or URL; default: a new file in the work directory. */
  db?: string;
  chaos: FaultKind[];
  chaosEveryS: number;
  seed: number;
  /** Where journals and metrics go (default: a new temporary directory). */
  workDir?: string;
  /** Bound on the resident memory of the processes serving the database (bytes). */
  maxHostRssBytes?: number;
  /** PostgreSQL: keep the run's schema even when the run passed (a failing run always keeps it). */
  keep?: boolean;
  /**
   * Aborting it (reason: the signal's name) stops the run: every process it started is
   * SIGKILLed and reaped, and runSoak throws BOLT_ABORTED naming the kept work directory.
   */
  signal?: AbortSignal;
}

/**
 * Default bound on a host's resident memory. A DuckDB host of the 16 × 8 soak peaks at a few
 * hundred MiB (docs/benchmarks.md); one that buffered the replies the hostile client never
 * reads (HOSTILE_REPLY_MIB) would pass it.
 */
export const DEFAULT_MAX_HOST_RSS_BYTES = 1024 * 1024 * 1024;
/** How long the SQLite and PostgreSQL lock faults hold their locks: long against Bolt's writes, far below lock timeouts (30 s). */
const FOREIGN_HOLD_MS = 2_000;
/** After a kill-host fault, writers may wait this long (takeover, the restarted process starting). */
const KILL_RECOVERY_MS = 5_000;
/** MiB of replies the hostile client asks for and never reads. */
const HOSTILE_REPLY_MIB = 1024;

/** Progress events while a soak runs (for a live line on a terminal). */
export interface SoakEvents {
  fault: (f: FaultEvent) => void;
  tick: (elapsedS: number) => void;
  phase: (name: string) => void;
}

const PROCESS_ENTRY = fileURLToPath(new URL('./soak-process.js', import.meta.url));
const AGENTS_MODULE = fileURLToPath(new URL('./soak-agents.js', import.meta.url));
/** How long the first processes may take to open the database before the soak gives up. */
const READY_TIMEOUT_MS = 120_000;
/** Short leases, so tasks of a SIGKILLed runtime are re-run within seconds. */
const SOAK_LEASE_MS = 3000;

/**
 * After the processes stop, runs the queue until no task is left to run (tasks of killed
 * runtimes come back when their leases expire), so every acknowledged submission gets its run.
 */
async function drainQueue(db: string, engine: EngineName, budgetMs: number, signal?: AbortSignal): Promise<void> {
  const bolt = new BoltIntegration({ agents: 2, database: db, engine, agentModules: [AGENTS_MODULE], leaseMs: SOAK_LEASE_MS });
  await bolt.initialize();
  try {
    const until = Date.now() + budgetMs;
    while (Date.now() < until && !signal?.aborted) {
      const c = await bolt.counts();
      if ((c.queued ?? 0) + (c.running ?? 0) + (c.failed ?? 0) === 0) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await bolt.shutdown({ drainTimeoutMs: 5000 });
  }
}

interface Running {
  proc: number;
  incarnation: number;
  child: ChildProcess;
  exited: Promise<void>;
  /** Set just before a fault SIGKILLs it. */
  killedByFault: boolean;
}

export async function runSoak(o: SoakOptions, events?: EventEmitter<SoakEvents>): Promise<SoakResult & { workDir: string }> {
  checkSoakPlaces(o);
  const work = makeWorkDir(o.workDir);
  try {
    return await soakIn(o, work.path, events);
  } catch (err) {
    work.removeIfUnused();
    throw err;
  }
}

async function soakIn(o: SoakOptions, dir: string, events?: EventEmitter<SoakEvents>): Promise<SoakResult & { workDir: string }> {
  const given = o.db ?? join(dir, o.engine === 'sqlite' ? 'soak.sqlite' : 'soak.duckdb');
  if (o.engine !== 'postgres') return soakOn(o, dir, given, undefined, events);
  // PostgreSQL: a schema of its own, so an earlier run's tables in that database count for nothing.
  events?.emit('phase', "creating the run's schema");
  const run = await createPgRunSchema(given);
  let result: (SoakResult & { workDir: string }) | undefined;
  try {
    result = await soakOn(o, dir, run.url, run.schema, events);
    return result;
  } finally {
    // A failing or interrupted run keeps its schema, as it keeps its journals.
    const keep = o.keep === true || result?.pass === false || o.signal?.aborted === true;
    if (!keep) await dropPgRunSchema(given, run.schema);
    if (result) result.config.schemaKept = keep;
  }
}

/** The soak on database `db` (for PostgreSQL, a URL whose search_path is the run's `schema`). */
async function soakOn(
  o: SoakOptions,
  dir: string,
  db: string,
  schema: string | undefined,
  events?: EventEmitter<SoakEvents>,
): Promise<SoakResult & { workDir: string }> {
  const logger = log('soak');
  const rng = new SeededRandom(o.seed);

  events?.emit('phase', 'preparing the database');
  {
    const setup = await ConcurrentDatabase.open(db, { engine: o.engine });
    await createSoakSchema(setup, o.processes);
    await setup.close();
  }

  // Set once every first process is ready (replacements get it in their config).
  let clock: { startEpochMs: number; deadlineEpochMs: number } | undefined;
  const faults: FaultEvent[] = [];
  const killTimes: number[] = [];
  const killsByProc = new Map<number, number>();
  const running = new Map<number, Running>();
  const exits: ProcessExit[] = [];
  const hostMemory = new HostMemoryWatch();
  const hostileClients: Array<{ child: ChildProcess; done: Promise<string | undefined> }> = [];
  const sideDb = o.engine === 'duckdb';
  const signal = o.signal;
  // Every process this run starts: SIGKILLed and reaped when the run is interrupted.
  const spawned = new Set<ChildProcess>();
  const stopAll = () => {
    for (const c of spawned) c.kill('SIGKILL');
  };
  signal?.addEventListener('abort', stopAll, { once: true });
  const track = (child: ChildProcess): ChildProcess => {
    spawned.add(child);
    child.once('exit', () => spawned.delete(child));
    if (signal?.aborted) child.kill('SIGKILL');
    return child;
  };
  let measuredFrom: number | undefined;
  /**
   * Sockets nobody else removes: the stale ones this run planted (no Bolt name, so no sweep
   * takes them) and, when the run is interrupted, those of the hosts it SIGKILLed last (no
   * process takes over from them; a host that does removes its predecessor's socket). They go
   * once every process has stopped, each only if nobody listens on it.
   */
  const deadSockets = new Set<string>();
  const removeDeadSockets = async () => {
    if (o.engine === 'duckdb') {
      // An interrupted run SIGKILLed the hosts of the soak and side databases too.
      for (const f of [db, join(dir, 'side.duckdb')]) {
        const s = readSidecar(sidecarPath(f))?.socket;
        if (s) deadSockets.add(s);
      }
    }
    for (const s of deadSockets) await removeDeadSocket(s).catch(() => false);
  };
  /** Throws BOLT_ABORTED once the run was interrupted, after every process it started has exited. */
  const checkInterrupted = async () => {
    if (!signal?.aborted) return;
    stopAll();
    await Promise.all([...spawned].map((c) => new Promise((r) => (c.exitCode !== null || c.signalCode !== null ? r(undefined) : c.once('exit', r)))));
    await removeDeadSockets();
    throw soakInterrupted(signal, dir, measuredFrom === undefined ? undefined : (Date.now() - measuredFrom) / 1000, schema);
  };

  const start = (proc: number, incarnation: number): Running => {
    const cfg: SoakProcessConfig = {
      proc,
      incarnation,
      engine: o.engine,
      db,
      dir,
      seed: o.seed,
      startEpochMs: clock?.startEpochMs ?? null,
      deadlineEpochMs: clock?.deadlineEpochMs ?? null,
      agents: o.agents,
      processes: o.processes,
      sideDb,
    };
    const child = track(
      spawn(process.execPath, [PROCESS_ENTRY, JSON.stringify(cfg)], {
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        // Each runtime's agents get the tasks its own process submits directly; polling for tasks
        // of other processes is only needed for leases that expire, so it can be slow: with 16
        // runtimes polling every 50 ms, the polls alone took most of the host's time.
        env: { BOLT_POLL_MS: '250', ...process.env, BOLT_LEASE_MS: String(SOAK_LEASE_MS) },
      }),
    );
    child.stderr?.on('data', (d: Buffer) => logger.warn({ proc, incarnation }, d.toString().trim()));
    const run: Running = { proc, incarnation, child, exited: Promise.resolve(), killedByFault: false };
    run.exited = new Promise<void>((r) =>
      child.once('exit', (code, signal) => {
        exits.push({ proc, incarnation, pid: child.pid ?? 0, code, signal, killedByFault: run.killedByFault });
        r();
      }),
    );
    running.set(proc, run);
    return run;
  };

  await checkInterrupted();
  events?.emit('phase', `starting ${o.processes} processes`);
  const firsts = Array.from({ length: o.processes }, (_, p) => start(p, 0));
  // The clock starts when every process has its database open: the start-up of P runtimes
  // on a small machine takes seconds, and faults or figures from it would measure that.
  const ready = await Promise.all(firsts.map((r) => waitForLine(r.child, /^ready$/, READY_TIMEOUT_MS)));
  await checkInterrupted();
  const late = firsts.filter((_, i) => ready[i] === undefined);
  if (late.length) {
    // Which of them died on their own (before the SIGKILL below), and how.
    const died = late.filter((r) => r.child.exitCode !== null || r.child.signalCode !== null);
    for (const r of running.values()) r.child.kill('SIGKILL');
    await Promise.all([...running.values()].map((r) => r.exited));
    const how = died.map((r) => `process ${r.proc} exited (${r.child.exitCode ?? r.child.signalCode}) while opening it`);
    const slow = late.filter((r) => !died.includes(r)).map((r) => `process ${r.proc} did not open it within ${READY_TIMEOUT_MS / 1000} s`);
    throw new InternalError(`soak processes could not open the database: ${[...how, ...slow].join('; ')}; see the log lines above`, {
      processes: late.map((r) => r.proc),
    });
  }
  const t0 = Date.now();
  measuredFrom = t0;
  const deadline = t0 + o.durationS * 1000;
  clock = { startEpochMs: t0, deadlineEpochMs: deadline };
  for (const r of firsts) r.child.send?.({ op: 'go', ...clock });
  hostMemory.start(() => {
    if (o.engine !== 'duckdb') return [...running.values()].map((r) => r.child.pid!).filter(Boolean);
    const pid = currentHostPid(db);
    return pid === undefined ? [] : [pid];
  });

  const fault = (kind: FaultKind, detail: string): FaultEvent => {
    const f = { t: Date.now() - t0, kind, detail };
    faults.push(f);
    events?.emit('fault', f);
    logger.info(f, 'fault injected');
    return f;
  };
  /** A foreign plain-DuckDB process racing for the file; its outcome is added to the fault. */
  const foreign = (windowMs: number, why: string) => {
    const child = track(startForeignHolder(db, 300, Math.min(deadline, Date.now() + windowMs)));
    const f = fault('foreign-lock', `plain DuckDB process ${child.pid} tries to grab the file ${why}`);
    void waitForLine(child, /^(held|missed)/, windowMs + 10_000).then((l) => {
      f.detail += l?.startsWith('held') ? `: got it and held it ${l.split(' ')[1]} ms` : ': never got it (a host held the file)';
    });
  };

  /**
   * SQLite and PostgreSQL: a program without Bolt holds the write lock (SQLite) or the soak
   * tables' locks (PostgreSQL) for FOREIGN_HOLD_MS, then commits (`exclusive`) or is
   * SIGKILLed mid-transaction (`die`). Every writer waits meanwhile.
   */
  const foreignWriter = async (engine: 'sqlite' | 'postgres', mode: 'exclusive' | 'die') => {
    const child = track(startForeignWriter(engine, db, mode, FOREIGN_HOLD_MS));
    const held = await waitForLine(child, /^held/, 30_000);
    if (!held) {
      child.kill('SIGKILL');
      fault(mode === 'exclusive' ? 'foreign-lock' : 'stale-lock', `foreign ${engine} session ${child.pid} never got its locks`);
      return;
    }
    const f =
      mode === 'exclusive'
        ? fault(
            'foreign-lock',
            engine === 'sqlite'
              ? `process ${child.pid} (not Bolt) holds BEGIN EXCLUSIVE for ${FOREIGN_HOLD_MS} ms`
              : `process ${child.pid} (not Bolt) holds ACCESS EXCLUSIVE locks on the soak tables for ${FOREIGN_HOLD_MS} ms`,
          )
        : fault('stale-lock', `process ${child.pid} (not Bolt) wrote in an open transaction and is SIGKILLed after ${FOREIGN_HOLD_MS} ms, mid-transaction`);
    if (mode === 'exclusive') {
      const released = await waitForLine(child, /^released/, FOREIGN_HOLD_MS + 30_000);
      if (released) f.detail += `: ${released}`;
    } else {
      await new Promise((r) => setTimeout(r, FOREIGN_HOLD_MS));
      child.kill('SIGKILL');
    }
    f.untilT = Date.now() - t0;
  };

  const inject = async (kind: FaultKind) => {
    switch (kind) {
      case 'kill-host': {
        // DuckDB: the process hosting the file. SQLite and PostgreSQL have no host: a random
        // process, killed mid-work (a writer dying inside its transaction).
        const pid = o.engine === 'duckdb' ? currentHostPid(db) : undefined;
        const candidates = [...running.values()];
        const victim = o.engine === 'duckdb' ? candidates.find((r) => r.child.pid === pid) : candidates.length ? rng.pick(candidates) : undefined;
        if (!victim) return;
        const withForeign = o.chaos.includes('foreign-lock') && rng.next() < 0.5;
        victim.killedByFault = true;
        victim.child.kill('SIGKILL');
        killTimes.push(Date.now());
        killsByProc.set(victim.proc, (killsByProc.get(victim.proc) ?? 0) + 1);
        const f = fault('kill-host', `SIGKILL ${o.engine === 'duckdb' ? 'host' : 'writer'} pid ${victim.child.pid} (process ${victim.proc})`);
        // Race a foreign process for the file in the window before a client takes over.
        if (withForeign && o.engine === 'duckdb') foreign(1000, 'right after the host died');
        await victim.exited;
        if (Date.now() < deadline - 1000 && !signal?.aborted) start(victim.proc, victim.incarnation + 1);
        // Every writer waits for the takeover, and the restarted process for its start-up.
        f.untilT = Date.now() - t0 + KILL_RECOVERY_MS;
        return;
      }
      case 'foreign-lock': {
        if (o.engine !== 'duckdb') return foreignWriter(o.engine, 'exclusive');
        foreign(o.chaosEveryS * 1000, 'whenever no host holds it');
        return;
      }
      case 'stale-lock': {
        if (o.engine !== 'duckdb') return foreignWriter(o.engine, 'die');
        if (!sideDb) return;
        const planted = await plantStaleLock(join(dir, 'side.duckdb'));
        if (planted) {
          deadSockets.add(planted.socket);
          fault('stale-lock', `planted sidecar and socket of dead pid ${planted.pid} for side.duckdb`);
        }
        return;
      }
      case 'bad-writes': {
        const targets = [...running.values()].filter((r) => r.child.connected);
        for (const r of targets) r.child.send?.({ op: 'bad-writes' });
        fault(
          'bad-writes',
          `asked ${targets.length} processes to send failing writes (constraint violations, unknown tables, failing scripts, unbindable parameters; with and without request ids)`,
        );
        return;
      }
      case 'hostile-client': {
        const socket = o.engine === 'duckdb' ? readSidecar(sidecarPath(db))?.socket : undefined;
        if (!socket) return;
        const windowMs = Math.max(1000, Math.min(o.chaosEveryS * 1000, deadline - Date.now() - 500));
        const child = track(startHostileClient(socket, windowMs, HOSTILE_REPLY_MIB));
        const f = fault(
          'hostile-client',
          `process ${child.pid}: garbage, oversized and truncated frames, ${HOSTILE_REPLY_MIB} MiB of replies it never reads, idle connections, for ${windowMs} ms`,
        );
        const done = waitForLine(child, /^\{/, windowMs + 30_000);
        hostileClients.push({ child, done });
        void done.then((l) => (f.detail += l ? `: ${l}` : ': it did not report'));
        return;
      }
      case 'kill-agent': {
        const victims = [...running.values()].filter((r) => r.child.connected);
        if (!victims.length) return;
        const v = rng.pick(victims);
        v.child.send?.({ op: 'kill-agent', how: rng.pick(['throw', 'exit', 'hang']) });
        fault('kill-agent', `asked process ${v.proc} to crash an agent`);
        return;
      }
    }
  };

  const ticker = setInterval(() => events?.emit('tick', (Date.now() - t0) / 1000), 1000);
  try {
    let next = t0 + o.chaosEveryS * 1000;
    let k = 0;
    while (Date.now() < deadline && !signal?.aborted) {
      await sleep(Math.max(0, Math.min(next, deadline) - Date.now()), signal);
      if (Date.now() >= deadline || signal?.aborted) break;
      if (o.chaos.length) await inject(o.chaos[k++ % o.chaos.length]!);
      next += o.chaosEveryS * 1000;
    }
    events?.emit('phase', 'waiting for processes to finish');
    const grace = setTimeout(() => {
      for (const r of running.values()) r.child.kill('SIGKILL');
    }, 30_000);
    await Promise.all([...running.values()].map((r) => r.exited));
    clearTimeout(grace);
  } finally {
    clearInterval(ticker);
    hostMemory.stop();
    for (const r of running.values()) r.child.kill('SIGKILL');
    await Promise.all(hostileClients.map((h) => h.done));
    for (const h of hostileClients) h.child.kill('SIGKILL');
  }
  await checkInterrupted();
  await removeDeadSockets();

  const elapsedS = (Date.now() - t0) / 1000;
  events?.emit('phase', 'running the tasks left in the queue');
  await drainQueue(db, o.engine, SOAK_LEASE_MS * 3 + 30_000, signal);
  await checkInterrupted();
  events?.emit('phase', 'verifying');
  const metrics = foldMetrics(dir, elapsedS);
  const lockErrors = Object.entries(metrics.errorsByCode)
    .filter(([code]) => LOCK_ERROR_CODES.has(code))
    .reduce((a, [, n]) => a + n, 0);

  const verifyDb = await ConcurrentDatabase.open(db, { engine: o.engine });
  let invariants;
  let leaseReruns;
  try {
    invariants = await verifySoak(verifyDb, dir, lockErrors, killsByProc, o.chaos.includes('bad-writes'));
    invariants.push(
      exitInvariant(exits),
      memoryInvariant(hostMemory, o.maxHostRssBytes ?? DEFAULT_MAX_HOST_RSS_BYTES, o.engine),
      starvationInvariant(metrics.writesPerProcessSecond, o.processes, elapsedS, o.durationS, faults),
    );
    leaseReruns = await countLeaseReruns(verifyDb);
  } finally {
    await verifyDb.close();
  }

  const takeovers = takeoverTimes(dir, killTimes);
  return {
    workDir: dir,
    config: {
      processes: o.processes,
      agents: o.agents,
      durationS: o.durationS,
      engine: o.engine,
      db: o.db ?? db,
      ...(schema !== undefined ? { schema } : {}),
      chaos: o.chaos,
      chaosEveryS: o.chaosEveryS,
      seed: o.seed,
    },
    startedAt: new Date(t0).toISOString(),
    elapsedS,
    ops: metrics.ops,
    errorsByCode: metrics.errorsByCode,
    lockErrors,
    faults,
    failovers: { count: killTimes.length, takeoverMs: summarize(takeovers), samples: takeovers },
    leaseReruns,
    invariants,
    timeline: metrics.timeline,
    pass: invariants.every((i) => i.pass),
  };
}

/** Resolves after `ms`, or at once when `signal` is aborted. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** No soak process ended but by a fault's SIGKILL or its own clean exit after the deadline. */
function exitInvariant(exits: ProcessExit[]): InvariantResult {
  const unexpected = exits.filter((e) => !e.killedByFault && e.code !== 0);
  const killed = exits.filter((e) => e.killedByFault).length;
  return {
    name: 'no process exited unless a fault killed it',
    pass: unexpected.length === 0,
    detail: `${exits.length} processes ended: ${killed} killed by faults, ${exits.length - killed - unexpected.length} exited cleanly, ${unexpected.length} otherwise${
      unexpected.length
        ? ` (${unexpected
            .slice(0, 5)
            .map((e) => `process ${e.proc}.${e.incarnation} pid ${e.pid}: ${e.signal ?? `exit code ${e.code}`}`)
            .join('; ')})`
        : ''
    }`,
  };
}

function memoryInvariant(watch: HostMemoryWatch, bound: number, engine: EngineName): InvariantResult {
  const { pid, bytes } = watch.max();
  const mib = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MiB`;
  const who = engine === 'duckdb' ? 'host' : 'process';
  return {
    name: `${who} memory stayed under ${mib(bound)}`,
    pass: bytes < bound,
    detail: `largest resident size ${mib(bytes)} (${who} pid ${pid}) across ${watch.processes} ${watch.processes === 1 ? who : `${who === 'host' ? 'hosts' : 'processes'}`} sampled every 250 ms`,
  };
}

/**
 * For each host kill: the gap from the last ledger write acknowledged before it to the first
 * acknowledged after it (what a failover costs writers).
 */
function takeoverTimes(dir: string, killTimes: number[]): number[] {
  const acks = readJournals(dir, 'ledger')
    .map(([, at]) => Number(at))
    .filter(Number.isFinite)
    .sort((a, b) => a - b);
  const out: number[] = [];
  for (const k of killTimes) {
    let lo = 0;
    let hi = acks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (acks[mid]! <= k) lo = mid + 1;
      else hi = mid;
    }
    const after = acks[lo];
    const before = lo > 0 ? acks[lo - 1] : undefined;
    if (after !== undefined && before !== undefined) out.push(after - before);
  }
  return out;
}
