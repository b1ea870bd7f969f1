/**
 * The piscina worker entry: one agent thread. It loads the agent modules when the runtime
 * starts (a `describe` request; a failure there fails the start, once) or, in a thread that
 * replaced one, at its first task (a failure fails that task, and the thread then ends so that a
 * new one loads them afresh). It claims a stable agent slot, runs one task at a time, marks each
 * task begun in shared memory (start-marks.ts) and reports progress on its parentPort. Aborts arrive on a
 * BroadcastChannel shared by all workers of the runtime. `ctx.db` is opened on first use, as a
 * client of the host.
 */
import { allowNativeCalls, stopNativeCalls } from '../storage/platform/native-guard.js';
import { threadId, workerData, parentPort, BroadcastChannel } from 'node:worker_threads';
import type { Database } from '../core/database.js';
import { log, setLogLevel } from '../core/logger.js';
import { toSerializedError } from '../core/serialize-error.js';
import { AgentError, BadInputError } from '../core/errors.js';
import { unsendablePart } from './unsendable.js';
import type { AgentContext } from './agent-contract.js';
import { LazyDatabase } from './lazy-database.js';
import { EinsteinSearch } from '../search/einstein-search.js';
import { loadAgents, type LoadedAgent } from './load-agents.js';
import { StartMarks } from './start-marks.js';
import { LazyAbort } from './lazy-abort.js';
import {
  abortChannelName,
  MAX_PROGRESS_NOTE,
  slotAgentId,
  type AbortMessage,
  type AgentWorkerData,
  type WorkerEvent,
  type WorkerReply,
  type WorkerRequest,
} from './worker-protocol.js';

const data = workerData as AgentWorkerData;
if (data.logLevel) setLogLevel(data.logLevel);

/** Claims the first free slot of the shared table: agent ids stay agent-1..agent-N as workers are replaced. */
function claimSlot(): string {
  const table = new Int32Array(data.slots);
  for (let i = 0; i < table.length; i++) {
    if (Atomics.compareExchange(table, i, 0, threadId) === 0) return slotAgentId(i);
  }
  return `agent-t${threadId}`;
}
const agentId = claimSlot();
const starts = new StartMarks(data.starts);
const logger = log('agent', { agentId, threadId });

/**
 * Why this thread is ending itself, once it is: its agent modules failed to load in it. The ESM
 * cache keeps a module that failed (and its dependencies), so every later task in the thread
 * would fail the same way even once the cause is gone; a new thread loads them afresh.
 */
let retiring: string | undefined;
const exitThread = process.exit.bind(process);

let agents: Promise<Map<string, LoadedAgent>> | undefined;
function getAgents(): Promise<Map<string, LoadedAgent>> {
  agents ??= loadAgents(data.modules);
  return agents;
}

let db: LazyDatabase | undefined;
function getDb(): Database {
  db ??= new LazyDatabase(data.engine, data.database, async () => {
    const mod = (await import(data.dbOpener)) as { openDatabase(location: string, opts: { engine: string }): Promise<Database> };
    logger.debug({ database: data.database }, 'opening the shared database for ctx.db');
    return mod.openDatabase(data.database, { engine: data.engine });
  });
  return db;
}

let search: EinsteinSearch | undefined;
function getSearch(): EinsteinSearch {
  search ??= new EinsteinSearch(getDb());
  return search;
}

/** Tasks running in this thread: their key (see worker-protocol.ts) and abort signal. */
const running = new Map<number, { key: string; abort: LazyAbort }>();

const channel = new BroadcastChannel(abortChannelName(data.runtimeId));
channel.onmessage = (ev: unknown) => {
  const msg = (ev as { data: AbortMessage }).data;
  const task = msg && typeof msg === 'object' ? running.get(msg.id) : undefined;
  // Another agent's thread can post here too: only the runtime knows the task's key.
  if (!task || msg.key !== task.key) return;
  // Termination may follow the grace period: no native database call may be running then.
  stopNativeCalls();
  task.abort.abort(msg.reason);
};
// The channel must not keep an idle worker alive on its own.
(channel as unknown as { unref?: () => void }).unref?.();

/** The task running in this thread, else the last one that ran: who an error left behind most likely belongs to. */
let lastTask: { id: number; agent: string } | undefined;

/**
 * An error no task can catch: a timer an agent left throws, or a promise nobody awaits rejects,
 * after its task returned (or during a later task). Ending the thread, Node's default, would fail
 * whichever task runs next in it — another task, blamed (and retried, even dead-lettered) for an
 * error it did not make. The thread logs it instead, naming the task that ran last, and goes on.
 */
function strayError(err: unknown, kind: 'uncaught exception' | 'unhandled rejection'): void {
  if (!strayLogs.allow()) return;
  const task = lastTask;
  const when = task && running.has(task.id) ? 'while it ran' : 'after it returned';
  logger.error(
    { err, task, kind },
    `an agent's code raised an error no task could catch (${kind}; last task ${task ? `${task.id} (${task.agent}), ${when}` : 'none'}): the thread goes on`,
  );
}
/**
 * At most STRAY_LOGS_PER_SECOND stray errors logged per second and thread, then one line saying
 * how many were not: an interval left behind that rejects every millisecond logged a thousand
 * error lines a second, for as long as the runtime ran.
 */
const STRAY_LOGS_PER_SECOND = 10;
const strayLogs = {
  windowStart: 0,
  logged: 0,
  dropped: 0,
  allow(): boolean {
    const now = Date.now();
    if (now - this.windowStart >= 1000) {
      if (this.dropped > 0)
        logger.error(
          { dropped: this.dropped },
          `${this.dropped} more errors agents' code left behind were not logged (at most ${STRAY_LOGS_PER_SECOND} a second)`,
        );
      this.windowStart = now;
      this.logged = 0;
      this.dropped = 0;
    }
    if (this.logged < STRAY_LOGS_PER_SECOND) {
      this.logged++;
      return true;
    }
    this.dropped++;
    return false;
  },
};

/**
 * An agent's thread shares its process with the runtime: a signal it sends to the process (its
 * own pid, its process group) would stop the runtime and every other agent (SIGTERM drained and
 * ended `bolt start`). Other processes, such as an agent's own children, may still be signalled.
 */
const processKill = process.kill.bind(process);
process.kill = (pid: number, signal?: string | number): true => {
  // Node takes a numeric string too ('1234').
  const n = Number(pid);
  if (n === process.pid || n === 0 || n === -process.pid) {
    throw new AgentError(`An agent cannot send signals to its runtime's process (${String(signal ?? 'SIGTERM')} to ${pid})`, { pid });
  }
  return processKill(pid, signal);
};

process.on('uncaughtException', (err) => {
  // piscina's own: a reply it could not post (a result structured clone refuses that
  // unsendablePart did not see, such as a Proxy or a MessagePort). It throws that in the next
  // tick to end the thread, and the pool then fails the task whose reply it was: let it.
  if (/[\\/]piscina[\\/]dist[\\/]/.test(err?.stack ?? '')) throw err;
  strayError(err, 'uncaught exception');
});
process.on('unhandledRejection', (reason) => strayError(reason, 'unhandled rejection'));

function emit(e: WorkerEvent): void {
  parentPort?.postMessage(e);
}

export default async function handle(req: WorkerRequest): Promise<WorkerReply> {
  if (req.kind === 'describe') {
    const loaded = await getAgents().catch((e: unknown) => {
      agents = undefined;
      throw e;
    });
    // Load the database modules now, while the runtime starts, rather than in every thread at
    // its first task: 16 runtimes × 8 agents compiling them at once slowed every process for
    // seconds (measured in the soak).
    await import(data.dbOpener);
    return {
      kind: 'described',
      threadId,
      agents: [...loaded.values()].map((a) => ({ name: a.def.name, description: a.def.description, module: a.module })),
    };
  }
  // A task handed to this thread after it failed to load its modules: it never begins here
  // (its start mark stays unset, so the runtime gives it back uncounted).
  if (retiring) exitThread(0);
  starts.begin(req, threadId);
  const abort = new LazyAbort();
  running.set(req.id, { key: req.key, abort });
  lastTask = { id: req.id, agent: req.agent };
  allowNativeCalls();
  try {
    const loaded = await getAgents().catch((e: unknown) => {
      retiring = 'its agent modules failed to load';
      throw e;
    });
    const a = loaded.get(req.agent);
    if (!a) throw new AgentError(`No agent named ${JSON.stringify(req.agent)} in this runtime`, { agent: req.agent });
    let taskLog: AgentContext['log'] | undefined;
    let ownSignal: AbortSignal | undefined;
    const ctx: AgentContext = {
      agentId,
      get db() {
        return getDb();
      },
      get search() {
        return getSearch();
      },
      // Made when first read, as the signal is (about 9 µs per task).
      get log() {
        taskLog ??= logger.child({ task: req.id, agent: req.agent });
        return taskLog;
      },
      get signal() {
        return ownSignal ?? abort.signal;
      },
      // Agents in JavaScript could assign these when they were plain properties; they still may.
      set log(v: AgentContext['log']) {
        taskLog = v;
      },
      set signal(v: AbortSignal) {
        ownSignal = v;
      },
      progress(fraction: number, note?: string) {
        const f = Math.max(0, Math.min(1, Number(fraction) || 0));
        emit({
          bolt: 'progress',
          id: req.id,
          key: req.key,
          threadId,
          fraction: f,
          note: typeof note === 'string' ? note.slice(0, MAX_PROGRESS_NOTE) : undefined,
        });
      },
      parents: req.parents ?? [],
    };
    const result = await a.def.run({ id: req.id, agent: req.agent, payload: req.payload, attempt: req.attempt, maxAttempts: req.maxAttempts }, ctx);
    const unsendable = unsendablePart(result);
    if (unsendable) {
      throw new BadInputError(`Task ${req.id}'s result holds ${unsendable}, which cannot leave its agent's thread: return JSON values`, { id: req.id });
    }
    return { kind: 'result', ok: true, result: result === undefined ? null : result, threadId };
  } catch (e) {
    return { kind: 'result', ok: false, error: toSerializedError(e), threadId, ...(retiring ? { retiring } : {}) };
  } finally {
    running.delete(req.id);
    await endLeftovers(req);
    // After piscina has posted this reply (it does so before the next turn of the loop).
    if (retiring) setImmediate(() => exitThread(0));
  }
}

/**
 * A task that returned with a transaction or session of `ctx.db` still open (a closure it did
 * not await, a `begin()` without commit) left its connection held: on SQLite the file's write
 * lock, which stopped every other writer, this runtime's own queue writes included, until the
 * lock timeout, again and again. Closing the thread's handle rolls that work back; the next use
 * opens it again.
 */
async function endLeftovers(req: { id: number; agent: string }): Promise<void> {
  if (!db?.holdsWork) return;
  logger.warn(
    { task: req.id, agent: req.agent },
    "the task returned with a transaction or session of ctx.db still open: rolled back, the thread's handle reopened",
  );
  await db.close().catch((err: unknown) => logger.warn({ err }, "closing the thread's database handle failed"));
}
