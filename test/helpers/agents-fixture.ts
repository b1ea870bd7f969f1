/**
 * Writes a TypeScript agent module with misbehaving agents into a test's temp dir (so the
 * runtime loads real .ts through tsx, as a user's module would be).
 */
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE = `
import { threadId, workerData, parentPort, BroadcastChannel } from 'node:worker_threads';
import { existsSync, writeFileSync } from 'node:fs';
interface Task { id: number; attempt: number; payload: any }
interface Ctx { signal: AbortSignal; db: any; search: any; progress(f: number, note?: string): void; agentId: string }

/** Exits its worker thread on the first attempt, succeeds on the next. */
const crash = { name: 'crash', run(task: Task): unknown {
  if (task.attempt === 1) process.exit(3);
  return { attempt: task.attempt, threadId };
} };

/** Spins forever on the first attempt (only terminating the worker stops it). */
const hang = { name: 'hang', run(task: Task): unknown {
  if (task.attempt === 1) { for (;;) { /* busy */ } }
  return 'recovered';
} };

/** Runs out of heap on the first attempt. */
const oom = { name: 'oom', run(task: Task): unknown {
  if (task.attempt === 1) { const keep: number[][] = []; for (;;) keep.push(new Array(100_000).fill(task.id + Math.random())); }
  return 'recovered';
} };

/**
 * On the first attempt, exits its worker thread inside a write transaction (an insert made,
 * SQLite's write lock held); on the next, records the task as 'record' does.
 */
const dieWriting = { name: 'die-writing', async run(task: Task, ctx: Ctx): Promise<unknown> {
  if (task.attempt === 1) {
    await ctx.db.transaction(async (tx: any) => {
      await tx.execute('INSERT INTO seen (task_id, agent_id) VALUES (?, ?)', [task.id, 'dying']);
      process.exit(3);
    });
  }
  await ctx.db.execute('INSERT INTO seen (task_id, agent_id) VALUES (?, ?)', [task.id, ctx.agentId]);
  return 'recovered';
} };

/**
 * Returns what cannot be stored: an object that refers to itself, (payload.mib) a string of
 * that many MiB, (payload.fn) a function, or (payload.proxy) a Proxy, which only structured
 * clone itself refuses; with payload.throw, throws that value instead.
 */
const unstorable = { name: 'unstorable', run(task: Task): unknown {
  if (task.payload && 'throw' in task.payload) throw task.payload.throw;
  if (task.payload?.fn) return () => 1;
  if (task.payload?.proxy) return { p: new Proxy({ a: 1 }, {}) };
  if (task.payload?.mib) return 'x'.repeat(task.payload.mib * 1024 * 1024);
  const o: any = { id: task.id };
  o.self = o;
  return o;
} };

const fail = { name: 'fail', run(task: Task): never { throw new Error('always fails #' + task.id); } };

/** Waits until aborted, reporting progress first. */
const wait = { name: 'wait', run(task: Task, ctx: Ctx): Promise<unknown> {
  ctx.progress(0.5, 'waiting');
  return new Promise((_res, rej) => ctx.signal.addEventListener('abort', () => rej(new Error('stopped: ' + String(ctx.signal.reason)))));
} };

/** Records each run in the shared database through ctx.db. */
const record = { name: 'record', async run(task: Task, ctx: Ctx): Promise<unknown> {
  await ctx.db.execute('INSERT INTO seen (task_id, agent_id) VALUES (?, ?)', [task.id, ctx.agentId]);
  return { id: task.id, agentId: ctx.agentId };
} };

/**
 * Sleeps payload.ms, then says which process and attempt ran it. With payload.marker, first
 * writes the file <marker>.<id>.<attempt> (so a test can see that it started, and where); with
 * payload.gate, then waits until that file exists (so a test decides when tasks may finish).
 */
const slow = { name: 'slow', async run(task: Task, ctx: Ctx): Promise<unknown> {
  if (task.payload?.marker) writeFileSync(task.payload.marker + '.' + task.id + '.' + task.attempt, String(process.pid));
  while (task.payload?.gate && !existsSync(task.payload.gate) && !ctx.signal.aborted) await new Promise((r) => setTimeout(r, 20));
  await new Promise((r) => setTimeout(r, task.payload?.ms ?? 1000));
  return { pid: process.pid, attempt: task.attempt };
} };

/**
 * Writes <payload.marker>.<id>.<attempt> (its pid), then waits until payload.gate exists. Aborted
 * first: writes <payload.abortedMarker>.<id>.<attempt> and throws.
 */
const hold = { name: 'hold', async run(task: Task, ctx: Ctx): Promise<unknown> {
  writeFileSync(task.payload.marker + '.' + task.id + '.' + task.attempt, String(process.pid));
  while (!existsSync(task.payload.gate)) {
    if (ctx.signal.aborted) {
      writeFileSync(task.payload.abortedMarker + '.' + task.id + '.' + task.attempt, String(process.pid));
      throw new Error('aborted: ' + String(ctx.signal.reason));
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  return { pid: process.pid, attempt: task.attempt };
} };

/** Searches the shared database through ctx.search. */
const find = { name: 'find', async run(task: Task, ctx: Ctx): Promise<unknown> {
  return ctx.search.search(task.payload.query, { k: 3, mode: 'bm25' });
} };

/**
 * Like slow (marker, gate, ms), and returns the results of the tasks it depended on
 * (ctx.parents) with its own payload.tag.
 */
const join = { name: 'join', async run(task: Task, ctx: Ctx & { parents: unknown[] }): Promise<unknown> {
  await slow.run(task, ctx);
  return { tag: task.payload?.tag, parents: ctx.parents };
} };

/** Returns at once, leaving a timer that writes payload.marker (its thread id) once the task is over. */
const later = { name: 'later', run(task: Task): unknown {
  setTimeout(() => writeFileSync(task.payload.marker, String(threadId)), 50);
  return 'returned';
} };

/**
 * Returns at once, leaving an error behind: payload.ms later a timer throws (payload.how
 * 'throw') or a promise nobody awaits rejects ('reject'), after writing payload.marker.
 */
/** Leaves an interval that rejects every millisecond for payload.ms, then stops it. */
const flood = { name: 'flood', run(task: Task): unknown {
  const every = setInterval(() => void Promise.reject(new Error('flood of task ' + task.id)), 1);
  setTimeout(() => clearInterval(every), task.payload.ms);
  return 'flooding';
} };

const stray = { name: 'stray', run(task: Task): unknown {
  setTimeout(() => {
    writeFileSync(task.payload.marker, String(threadId));
    if (task.payload.how === 'reject') void Promise.reject(new Error('stray rejection of task ' + task.id));
    else throw new Error('stray throw of task ' + task.id);
  }, task.payload.ms);
  return 'returned';
} };

/**
 * Returns with ctx.db work left open: (payload.session) a session begun and never ended, else a
 * transaction closure it does not await, which inserts a row into 'seen' and never finishes.
 */
const leaveOpen = { name: 'leave-open', async run(task: Task, ctx: Ctx): Promise<unknown> {
  if (task.payload?.session) {
    const s = await ctx.db.session();
    await s.begin();
    await s.execute('INSERT INTO seen (task_id, agent_id) VALUES (?, ?)', [task.id, 'session']);
    return 'left a session open';
  }
  let inserted: () => void = () => undefined;
  const done = new Promise<void>((r) => (inserted = r));
  void ctx.db.transaction(async (tx: any) => {
    await tx.execute('INSERT INTO seen (task_id, agent_id) VALUES (?, ?)', [task.id, 'transaction']);
    inserted();
    await new Promise(() => undefined);
  }).catch(() => undefined);
  await done;
  return 'left a transaction open';
} };

/**
 * Forges messages about another task (payload.victim): aborts on the runtime's abort channel
 * (whose name it can read) and start and progress events on its own thread's port.
 */
const spoof = { name: 'spoof', run(task: Task): unknown {
  const channel = new BroadcastChannel('bolt-abort:' + workerData.runtimeId);
  for (const key of [undefined, '', 'x']) channel.postMessage({ id: task.payload.victim, key, reason: 'timeout' });
  channel.close();
  for (let th = 0; th <= 64; th++) {
    parentPort!.postMessage({ bolt: 'progress', id: task.payload.victim, threadId: th, fraction: 0.99, note: 'FORGED' });
    parentPort!.postMessage({ bolt: 'start', id: task.payload.victim, threadId: th });
  }
  return 'posted';
} };

/** Throws what is hard to store: (payload.kind 'circular') a BOLT_-coded object whose details refer to themselves, else an Error of payload.mib MiB. */
const badError = { name: 'bad-error', run(task: Task): never {
  if (task.payload.kind === 'circular') {
    const details: any = { n: 1 };
    details.self = details;
    throw { code: 'BOLT_AGENT', message: 'duck-typed', details };
  }
  throw new Error('m'.repeat(task.payload.mib * 1024 * 1024));
} };

/** Sends its runtime's process the signal in payload.signal (SIGTERM drained and ended it). */
const signalSelf = { name: 'signal-self', run(task: Task): unknown {
  process.kill(task.payload.pid === 0 ? 0 : task.payload.asText ? (String(process.pid) as unknown as number) : process.pid, task.payload.signal);
  return 'sent';
} };

/**
 * Returns at once, leaving a timer that writes payload.marker (its thread id) and then keeps the
 * thread busy: for ever, or (payload.gate) until that file exists, and then exits the thread.
 */
const stall = { name: 'stall', run(task: Task): unknown {
  setTimeout(() => {
    writeFileSync(task.payload.marker, String(threadId));
    for (;;) {
      if (task.payload.gate && existsSync(task.payload.gate)) process.exit(3);
    }
  }, 0);
  return 'stalling';
} };

/** Assigns ctx.log and ctx.signal, as plain JavaScript may; returns whether they stuck. */
const reassign = { name: 'reassign', run(_task: Task, ctx: any): unknown {
  const log = { info() {}, warn() {}, error() {}, debug() {} };
  const signal = new AbortController().signal;
  ctx.log = log;
  ctx.signal = signal;
  return { log: ctx.log === log, signal: ctx.signal === signal };
} };

export const agents = [crash, dieWriting, hang, oom, unstorable, fail, wait, record, slow, hold, find, join, later, stray, flood, leaveOpen, spoof, badError, signalSelf, stall, reassign];
`;

/** Writes the module; returns its path. */
export function writeTestAgents(dir: string): string {
  const file = join(dir, 'test-agents.ts');
  writeFileSync(file, SOURCE);
  return file;
}

/**
 * Task id → the pids that started it, one per attempt: the `slow` agent's marker files
 * `<dir>/started.<id>.<attempt>` (its payload's `marker` is `<dir>/started`).
 */
export function startedMarkers(dir: string): Map<number, number[]> {
  const runs = new Map<number, number[]>();
  for (const f of readdirSync(dir).filter((x) => x.startsWith('started.'))) {
    const [, id, attempt] = f.split('.').map(Number);
    const pids = runs.get(id!) ?? [];
    pids[attempt! - 1] = Number(readFileSync(join(dir, f), 'utf8'));
    runs.set(id!, pids);
  }
  return runs;
}
