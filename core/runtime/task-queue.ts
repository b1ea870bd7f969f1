/**
 * The durable task queue: one table, `bolt_tasks`, in the shared database. Any number of
 * runtimes (threads, processes, machines on PostgreSQL) share it. Engine-neutral: it talks to a
 * `Database` only, and the engine differences live in `queue-dialect.ts`.
 *
 * Safety rules:
 * - A claim is one atomic `UPDATE … RETURNING` that sets the lease (owner, expiry) and bumps
 *   `attempts`. The pair (lease_owner, attempts) is the fencing token: completing, failing,
 *   renewing and releasing all check it, so a runtime that lost its lease (it was paused past
 *   expiry and the task was claimed again) can never overwrite the newer attempt's outcome.
 * - A lease that expires (its runtime died or hung) is given back by `reapExpired`, which any
 *   runtime runs on its heartbeat; the attempt it used counts, so a task that kills its
 *   runtime every time ends up dead instead of looping.
 * - Statements that lose an optimistic write conflict (DuckDB) are re-run: each is a single
 *   autocommit statement, so re-running it is safe.
 *
 * Concurrent writes on DuckDB: DuckDB 1.5 does not check every pair of writes to one row from
 * concurrent transactions (docs/concurrent-database.md). On a table with an index (a queue made
 * by an older Bolt has a primary key) an `UPDATE … RETURNING` is a delete plus an insert that a
 * plain `UPDATE` does not conflict with: a lease renewal wrote the whole old row back over a
 * release. Without an index (queues made now) a DELETE conflicts with no UPDATE. So:
 * - every UPDATE of `bolt_tasks` has RETURNING (DuckDB then checks them against each other on
 *   both layouts);
 * - `purge` first writes the rows it deletes (an UPDATE … RETURNING in the same transaction), so
 *   that a `retry` of one of them conflicts with it instead of being silently deleted.
 */
import type { Database, Queryable, Row } from '../database.js';
import { BadInputError, BoltError, NotFoundError, hasCode, type SerializedError } from '../errors.js';
import { boundedError } from '../serialize-error.js';
import { log } from '../logger.js';
import { checkAgentName, checkSubmit, checkTaskId } from './submit-checks.js';
import { QUEUE_TABLES, queueDialect, type QueueDialect } from './queue-dialect.js';
import { rowToTask, type SubmitOptions, type SubmitResult, type Task } from './task.js';
import { CLAIMABLE, CLAIMABLE_SQL, REDRIVABLE, TASK_STATUSES, TERMINAL, isTaskStatus, type TaskStatus } from './task-states.js';
import { retryDelayMs, DEFAULT_BACKOFF, type BackoffOptions } from '../backoff.js';
import { createIdempotently } from '../schema-race.js';
import { int, intList, isStorableText, MAX_JSON_BYTES, placeholders, retryConflicts, storableJson, toJsonText } from './queue-sql.js';
import {
  cancelDependants,
  checkParentsForRetry,
  linkParents,
  loadParents,
  markParents,
  parentEndedError,
  releaseDependants,
  settleDependants,
  taskGraph,
  unclaimUnready,
  type ParentResult,
} from './task-dependencies.js';
import {
  NOT_LIMITED,
  admitInGroup,
  checkGroupKey,
  checkGroupLimit,
  deleteGroupLimit,
  limitedGroupsWithWork,
  loadGroupLimits,
  logGroupStarts,
  storeGroupLimit,
  type GroupLimit,
} from './group-limits.js';
import {
  checkScheduleName,
  deleteSchedule,
  loadSchedules,
  storeSchedule,
  validateSchedule,
  withNextRun,
  type Schedule,
  type ScheduleSpec,
} from './schedules.js';

const logger = log('task-queue');

/** A task as handed to a runtime by `claim`. */
export interface ClaimedTask {
  id: number;
  agent: string;
  payload: unknown;
  /** This attempt's number (1 for the first run); part of the fencing token. */
  attempt: number;
  maxAttempts: number;
  timeoutMs: number | null;
  priority: number;
  /** When it became claimable (epoch ms): its submission, the end of its delay, or its retry time. */
  runnableAt: number;
  /** The results of the tasks it depends on (`dependsOn`), by ascending id; empty without any. */
  parents: ParentResult[];
}

/** A successful outcome to record with `complete`. */
export interface Completion {
  id: number;
  attempt: number;
  result: unknown;
  /**
   * `result` as the JSON text to store ({@link storableJson}); the runtime checks it before a
   * completion joins a batch. Absent: `complete` makes it (a bad result then fails the call).
   */
  text?: string | null;
}

export interface ListOptions {
  status?: TaskStatus | TaskStatus[];
  agent?: string;
  /** Text the payload, error or result contains (case-insensitive). */
  text?: string;
  /** Default 100. */
  limit?: number;
  /** Newest first (default) or oldest first. */
  order?: 'newest' | 'oldest';
}

/** What `purge` did. */
export interface PurgeResult {
  /** Tasks deleted. */
  deleted: number;
  /** Tasks old and finished enough that were kept all the same: tasks not finished yet depend on them. */
  kept: number;
}

/** A runtime attached to the queue (`bolt_runtimes`). */
export interface RuntimeRecord {
  id: string;
  host: string;
  pid: number;
  agents: number;
  startedAt: number;
}

/** What `fail` did with the task. */
export interface FailOutcome {
  /** 'failed' (will retry at `retryAt`), 'dead', or undefined when the lease was lost. */
  status?: 'failed' | 'dead';
  retryAt: number;
}

export interface TaskQueueOptions {
  backoff?: BackoffOptions;
  /** Default max attempts of submitted tasks (default 3). */
  maxAttempts?: number;
}

const CLAIM_COLUMNS = 'id, agent, payload, attempts, max_attempts, timeout_ms, priority, run_at, parents';
/** A task a claim may take now: claimable, due (`run_at <= ?`: now) and waiting on no parent. */
const RUNNABLE = `${CLAIMABLE_SQL} AND run_at <= ? AND waiting_on = 0`;
/** The finished states as literal SQL. */
const FINISHED_SQL = TERMINAL.map((st) => `'${st}'`).join(', ');
/** The `bolt_tasks` row in scope is a parent of a task that has not finished: purge keeps it. */
const NEEDED_BY_DEPENDANTS =
  `COALESCE(has_dependants, 0) = 1 AND EXISTS (SELECT 1 FROM bolt_task_deps d JOIN bolt_tasks c ON c.id = d.task_id ` +
  `WHERE d.parent_id = bolt_tasks.id AND c.status NOT IN (${FINISHED_SQL}))`;
/** Rows per multi-row INSERT/UPDATE statement (keeps parameter counts far below every engine's limit). */
const CHUNK = 256;

/**
 * A failure part-way through writing a batch of tasks: the same error, naming the tasks of the
 * batch queued before it (they stay queued) in its message and in `details.queuedIds`.
 */
function partlyQueued(err: unknown, ids: readonly number[]): unknown {
  if (!(err instanceof BoltError) || ids.length === 0) return err;
  err.details.queuedIds = ids;
  err.message += ` (${ids.length} task${ids.length === 1 ? '' : 's'} of this batch had been queued before the failure and stay queued: details.queuedIds)`;
  return err;
}

/** Completions in statements of at most CHUNK rows and about MAX_JSON_BYTES of results each. */
function* completionChunks(batch: readonly Completion[]): Generator<Completion[]> {
  let part: Completion[] = [];
  let size = 0;
  for (const c of batch) {
    const n = c.text?.length ?? 0; // absent: checked (and sized) in complete()
    if (part.length && (part.length >= CHUNK || size + n > MAX_JSON_BYTES)) {
      yield part;
      [part, size] = [[], 0];
    }
    part.push(c);
    size += n;
  }
  if (part.length) yield part;
}

/** The portable statement recording a batch of successes: ids and attempts (integers read from the database) inlined, results as parameters. */
function completeStatement(part: readonly Completion[]): string {
  return (
    `UPDATE bolt_tasks SET status = 'done', result = CASE id ${part.map((x) => `WHEN ${int(x.id)} THEN ?`).join(' ')} END, ` +
    `finished_at = ?, updated_at = ?, lease_owner = NULL, lease_expires = NULL ` +
    `WHERE id IN (${intList(part.map((x) => x.id))}) AND attempts = CASE id ${part.map((x) => `WHEN ${int(x.id)} THEN ${int(x.attempt)}`).join(' ')} END ` +
    `AND lease_owner = ? AND status = 'running' RETURNING id, has_dependants`
  );
}

function claimedFrom(r: Row): ClaimedTask {
  const t = rowToTask({ ...r, status: 'running', created_at: 0, updated_at: 0 });
  return {
    id: t.id,
    agent: t.agent,
    payload: t.payload,
    attempt: t.attempts,
    maxAttempts: t.maxAttempts,
    timeoutMs: t.timeoutMs,
    priority: t.priority,
    runnableAt: t.runAt,
    parents: [],
  };
}

function byClaimOrder(a: ClaimedTask, b: ClaimedTask): number {
  return b.priority - a.priority || a.id - b.id;
}

/** The oldest `purge` cutoff: 100 years. */
const MAX_PURGE_AGE_MS = 100 * 365.25 * 86_400_000;
/** The most tasks one `list` returns. */
export const MAX_LIST_LIMIT = 1_000_000;

/** Throws BOLT_BAD_INPUT unless `o` is list options `list` can use as they are. */
function checkListOptions(o: ListOptions): void {
  if (o === null || typeof o !== 'object') throw new BadInputError('list options must be an object');
  if (o.agent !== undefined) checkAgentName(o.agent);
  if (o.text !== undefined && (typeof o.text !== 'string' || !isStorableText(o.text))) {
    throw new BadInputError('text must be a string without NUL or a lone UTF-16 surrogate');
  }
  if (o.limit !== undefined && (!Number.isInteger(o.limit) || o.limit < 1 || o.limit > MAX_LIST_LIMIT)) {
    throw new BadInputError(`limit must be a whole number from 1 to ${MAX_LIST_LIMIT}, got ${String(o.limit)}`);
  }
  if (o.order !== undefined && o.order !== 'newest' && o.order !== 'oldest')
    throw new BadInputError(`order must be 'newest' or 'oldest', got ${String(o.order)}`);
}

/** A task to submit as checked: each field read once, so what was checked is what is stored. */
export interface CheckedTask {
  agent: string;
  payload: unknown;
  /** The payload as the JSON text stored. */
  payloadJson: string | null;
  options: SubmitOptions;
  /** The ids it depends on, each once. */
  parents: number[];
}

/**
 * Checks a task to submit (see `checkSubmit`, plus its payload's JSON text, at most 16 MiB),
 * reading each option once: a getter could pass the check and then give another value to store.
 */
function checkedTask(agent: string, payload: unknown, o: SubmitOptions): CheckedTask {
  if (o === null || typeof o !== 'object') throw new BadInputError('submit options must be an object');
  const options: SubmitOptions = {};
  for (const k of ['priority', 'maxAttempts', 'dedupeKey', 'timeoutMs', 'delayMs', 'dependsOn', 'group'] as const) {
    const v = o[k];
    if (v !== undefined) (options as Record<string, unknown>)[k] = Array.isArray(v) ? [...(v as unknown[])] : v;
  }
  const parents = checkSubmit(agent, payload, options);
  return { agent, payload, payloadJson: storableJson(payload ?? null, 'the payload'), options, parents };
}

/** The durable queue over one `Database`. */
export class TaskQueue {
  readonly dialect: QueueDialect;
  private limitsCheckedAt = 0;
  private limitsExist = false;
  /** Failed claims in limited groups, for logging the first and every 20th. */
  private groupClaimFailures = 0;
  private readonly backoff: BackoffOptions;
  private readonly defaultMaxAttempts: number;

  constructor(
    readonly db: Database,
    opts: TaskQueueOptions = {},
  ) {
    this.dialect = queueDialect(db.engine);
    this.backoff = opts.backoff ?? DEFAULT_BACKOFF;
    this.defaultMaxAttempts = opts.maxAttempts ?? 3;
  }

  /**
   * Creates the queue's tables if missing (idempotent; safe from many processes at once). A
   * cheap probe first, so commands run against an existing queue issue no DDL at all.
   */
  async ensureSchema(): Promise<void> {
    // One statement naming every table and every column added since the first release.
    const columns = this.dialect.addedColumns.map(([c]) => `bolt_tasks.${c}`).join(', ');
    const probe = await this.db
      .query(
        `SELECT ${this.dialect.indexesPresent} AS indexed, (SELECT count(*) FROM (SELECT bolt_tasks.id, ${columns} FROM ${QUEUE_TABLES.join(', ')} WHERE 1 = 0) AS t) AS n`,
      )
      .then(
        ([row]) => row,
        () => undefined, // missing (or partly created, or made by an older Bolt): create below
      );
    if (probe) {
      if (probe.indexed !== true && Number(probe.indexed) !== 1) await this.addIndexes();
      return;
    }
    for (const ddl of this.dialect.schema) await createIdempotently(() => retryConflicts(() => this.db.execute(ddl)));
    for (const [column, ddl] of this.dialect.addedColumns) {
      const has = () =>
        this.db.query(`SELECT ${column} FROM bolt_tasks WHERE 1 = 0`).then(
          () => true,
          () => false,
        );
      if (await has()) continue;
      // Another process may add it at the same moment: then this ALTER fails and the column is there.
      await retryConflicts(() => this.db.execute(ddl)).catch(async (err: unknown) => {
        if (!(await has())) throw err;
      });
    }
  }

  /**
   * Adds an index made since this queue was created. Best effort: indexes only make claims
   * faster, and a read-only handle cannot add them.
   */
  private async addIndexes(): Promise<void> {
    try {
      for (const ddl of this.dialect.indexes) await createIdempotently(() => retryConflicts(() => this.db.execute(ddl)));
    } catch (err) {
      logger.debug({ err }, 'could not add the queue indexes');
    }
  }

  /** The INSERT parameters of a checked task (see {@link checkedTask}). */
  private rowParams({ agent, payloadJson, options: o }: CheckedTask, now: number): unknown[] {
    return [
      agent,
      payloadJson,
      o.priority ?? 0,
      o.maxAttempts ?? this.defaultMaxAttempts,
      o.timeoutMs ?? null,
      o.dedupeKey ?? null,
      now + (o.delayMs ?? 0),
      now,
      now,
      o.group ?? null,
    ];
  }

  private static readonly INSERT_HEAD = `INSERT INTO bolt_tasks (agent, payload, status, priority, attempts, max_attempts, timeout_ms, dedupe_key, run_at, created_at, updated_at, group_key) VALUES `;
  private static readonly ROW = `(?, ?, 'queued', ?, 0, ?, ?, ?, ?, ?, ?, ?)`;

  /**
   * Adds a task. With a dedupe key that already exists, returns that task's id instead: the key
   * goes into `bolt_task_keys` (primary key) in the same transaction as the task, so two
   * concurrent submits with one key create one task.
   */
  async submit(
    agent: string,
    payload: unknown,
    o: SubmitOptions = {},
    claimFor?: { owner: string; leaseMs: number },
  ): Promise<SubmitResult & { claimed?: ClaimedTask }> {
    const task = checkedTask(agent, payload, o);
    o = task.options;
    const ids = task.parents;
    const now = Date.now();
    const params = this.rowParams(task, now);
    const insert = `${TaskQueue.INSERT_HEAD}${TaskQueue.ROW} RETURNING id`;
    const key = o.dedupeKey;
    const parents = ids.length ? ids : undefined;
    if (key === undefined && parents === undefined && o.group === undefined && claimFor && !(o.delayMs! > 0)) {
      // Direct dispatch: inserted already claimed by the submitting runtime (it has an idle
      // agent). Durable all the same: if that runtime dies, the lease expires and others run it.
      const sql =
        `INSERT INTO bolt_tasks (agent, payload, status, priority, attempts, max_attempts, timeout_ms, dedupe_key, run_at, created_at, updated_at, group_key, lease_owner, lease_expires, started_at) ` +
        `VALUES (?, ?, 'running', ?, 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING ${CLAIM_COLUMNS}`;
      const rows = await retryConflicts(() => this.db.query(sql, [...params, claimFor.owner, now + claimFor.leaseMs, now]));
      const claimed = claimedFrom(rows[0]!);
      return { id: claimed.id, deduplicated: false, claimed };
    }
    if (key === undefined && parents === undefined) {
      // PostgreSQL: the NOTIFY rides in the INSERT's own statement (no second round trip).
      const wakes = this.dialect.wakeWith;
      const rows = await retryConflicts(() => this.db.query(wakes ? wakes(insert) : insert, params, { prepared: true }));
      if (!wakes) await this.wakeRuntimes();
      return { id: Number(rows[0]!.id), deduplicated: false };
    }
    for (let i = 0; ; i++) {
      if (key !== undefined) {
        const existing = await this.db.query(`SELECT task_id FROM bolt_task_keys WHERE dedupe_key = ?`, [key]);
        if (existing.length) return { id: Number(existing[0]!.task_id), deduplicated: true };
      }
      try {
        const id = await this.db.transaction(async (tx) => {
          const newId = parents ? await this.insertDependant(tx, params, parents, now) : Number((await tx.query(insert, params))[0]!.id);
          if (key !== undefined) await tx.execute(`INSERT INTO bolt_task_keys (dedupe_key, task_id) VALUES (?, ?)`, [key, newId]);
          return newId;
        });
        if (id !== undefined) {
          await this.wakeRuntimes();
          return { id, deduplicated: false };
        }
      } catch (e) {
        // Another submit with this key won the race (duplicate key / conflict): read its id.
        if (key === undefined || hasCode(e, 'BOLT_BAD_INPUT') || i >= 3) throw e;
      }
    }
  }

  /**
   * In the submitting transaction: a task that runs after `parents` are done (queued, waiting
   * on those not done yet), or `cancelled` at once when one of them already ended dead or
   * cancelled; and its edges. See task-dependencies.ts.
   */
  private async insertDependant(tx: Queryable, params: unknown[], parents: readonly number[], now: number): Promise<number> {
    const { waiting, ended } = await markParents(tx, parents);
    const [agent, payload, ...rest] = params;
    const rows = await tx.query(
      `INSERT INTO bolt_tasks (agent, payload, status, priority, max_attempts, timeout_ms, dedupe_key, run_at, created_at, updated_at, group_key, attempts, parents, waiting_on, error, finished_at) ` +
        `VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?) RETURNING id`,
      [
        agent,
        payload,
        ended ? 'cancelled' : 'queued',
        ...rest,
        parents.length,
        ended ? 0 : waiting,
        ended ? toJsonText(parentEndedError(ended.id, ended.status)) : null,
        ended ? now : null,
      ],
    );
    const id = Number(rows[0]!.id);
    await linkParents(tx, id, parents);
    return id;
  }

  /**
   * Checks a batch before anything of it is written: each item's agent, options and payload, and
   * that every task its items depend on exists. BOLT_BAD_INPUT names the first bad item, and
   * nothing is stored. Returns the checked items (each read once: see {@link checkedTask}).
   * A parent purged after this check fails its item when it is written, after the items before it.
   */
  async checkMany(items: unknown): Promise<CheckedTask[]> {
    if (!Array.isArray(items)) throw new BadInputError('submitMany takes an array of { agent, payload?, options? }');
    const checked: CheckedTask[] = new Array(items.length);
    const parents = new Set<number>();
    for (let i = 0; i < items.length; i++) {
      const it: unknown = items[i];
      if (it === null || typeof it !== 'object') throw new BadInputError(`Item ${i} of the batch is not { agent, payload?, options? }`, { item: i });
      const { agent, payload, options } = it as { agent: unknown; payload?: unknown; options?: SubmitOptions };
      try {
        checked[i] = checkedTask(agent as string, payload, options ?? {});
      } catch (e) {
        if (e instanceof BadInputError) throw new BadInputError(`Item ${i} of the batch: ${e.message}`, { ...e.details, item: i });
        throw e;
      }
      for (const id of checked[i]!.parents) parents.add(id);
    }
    const wanted = [...parents];
    for (let c = 0; c < wanted.length; c += CHUNK) {
      const part = wanted.slice(c, c + CHUNK);
      const found = new Set((await this.db.query(`SELECT id FROM bolt_tasks WHERE id IN (${intList(part)})`)).map((r) => Number(r.id)));
      const missing = part.filter((id) => !found.has(id));
      if (missing.length) throw new BadInputError(`dependsOn names no task: ${missing.join(', ')}`, { missing });
    }
    return checked;
  }

  /**
   * Adds many tasks in few statements (multi-row INSERT); tasks with dedupe keys or dependencies
   * go one by one. Bad input anywhere in the batch is BOLT_BAD_INPUT and stores nothing of it.
   */
  async submitMany(items: ReadonlyArray<{ agent: string; payload?: unknown; options?: SubmitOptions }>): Promise<SubmitResult[]> {
    return this.submitChecked(await this.checkMany(items));
  }

  /**
   * Writes tasks `checkMany` returned (a runtime writes a checked batch in chunks: see
   * `BoltIntegration.submitMany`). The batch is written in several statements, so a failure
   * part-way (a full disk, a lost connection) leaves what was written before it queued: the
   * error says so, with those tasks' ids in `details.queuedIds` (`before`: ids of the same
   * batch a caller wrote earlier), so the caller can re-send only the rest.
   */
  async submitChecked(tasks: readonly CheckedTask[], before: readonly number[] = []): Promise<SubmitResult[]> {
    const out: SubmitResult[] = new Array(tasks.length);
    try {
      return await this.writeChecked(tasks, out);
    } catch (err) {
      throw partlyQueued(err, [...before, ...out.filter((r) => r !== undefined).map((r) => r.id)]);
    }
  }

  /** {@link submitChecked}'s writes; `out` fills as tasks are written. */
  private async writeChecked(tasks: readonly CheckedTask[], out: SubmitResult[]): Promise<SubmitResult[]> {
    const plain: number[] = [];
    for (let i = 0; i < tasks.length; i++) {
      const t = tasks[i]!;
      if (t.options.dedupeKey !== undefined || t.parents.length) out[i] = await this.submit(t.agent, t.payload, t.options);
      else plain.push(i);
    }
    const reserve = this.dialect.reserveIds;
    if (reserve && plain.length) {
      // Bulk path: take ids from the sequence, then append the rows (DuckDB's appender).
      const now = Date.now();
      const ids = (await this.db.query(reserve(plain.length))).map((r) => Number(r.id)).sort((a, b) => a - b);
      const rows = plain.map((i, k) => [ids[k]!, ...this.rowParams(tasks[i]!, now)]);
      const cols = ['id', 'agent', 'payload', 'priority', 'max_attempts', 'timeout_ms', 'dedupe_key', 'run_at', 'created_at', 'updated_at', 'group_key'];
      const full = rows.map((r) => [...r.slice(0, 3), 'queued', r[3], 0, ...r.slice(4)]);
      await this.db.insertMany('bolt_tasks', [...cols.slice(0, 3), 'status', cols[3]!, 'attempts', ...cols.slice(4)], full);
      plain.forEach((i, k) => (out[i] = { id: ids[k]!, deduplicated: false }));
      await this.wakeRuntimes();
      return out;
    }
    for (let c = 0; c < plain.length; c += CHUNK) {
      const idx = plain.slice(c, c + CHUNK);
      const now = Date.now();
      const params = idx.flatMap((i) => this.rowParams(tasks[i]!, now));
      const sql = `${TaskQueue.INSERT_HEAD}${idx.map(() => TaskQueue.ROW).join(', ')} RETURNING id`;
      const rows = await retryConflicts(() => this.db.query(sql, params));
      // Ids come from a sequence evaluated row by row: ascending ids follow the VALUES order.
      const ids = rows.map((r) => Number(r.id)).sort((a, b) => a - b);
      idx.forEach((i, k) => (out[i] = { id: ids[k]!, deduplicated: false }));
    }
    if (plain.length) await this.wakeRuntimes();
    return out;
  }

  /**
   * Tells runtimes listening for new tasks (PostgreSQL: `NOTIFY`, see `BoltIntegration`) to
   * claim now rather than at their next poll. Best effort: polling finds the tasks anyway.
   */
  private async wakeRuntimes(): Promise<void> {
    if (this.dialect.wake) await this.db.execute(this.dialect.wake).catch((err: unknown) => logger.debug({ err }, 'NOTIFY failed'));
  }

  /** `UPDATE … SET <lease> WHERE <where> RETURNING …` for the claim statements. */
  private claimUpdate(where: string): string {
    return (
      `UPDATE bolt_tasks SET status = 'running', attempts = attempts + 1, lease_owner = ?, lease_expires = ?, started_at = ?, updated_at = ? ` +
      `WHERE ${where} RETURNING ${CLAIM_COLUMNS}`
    );
  }

  /**
   * Claimed rows as tasks, with their parents' results for those that had parents. One whose
   * parents are not all there and done (a parent's row deleted) is given back, not run.
   */
  private async withParents(owner: string, rows: Row[]): Promise<ClaimedTask[]> {
    const tasks = rows.map(claimedFrom);
    const children = new Map(rows.filter((r) => Number(r.parents ?? 0) > 0).map((r) => [Number(r.id), Number(r.parents)]));
    if (children.size === 0) return tasks;
    const { results, unready } = await loadParents(this.db, children);
    if (unready.length) {
      logger.warn({ tasks: unready }, 'claimed dependants whose parents are not all done (a parent row was deleted?): given back');
      await unclaimUnready(this.db, owner, unready);
    }
    for (const t of tasks) t.parents = results.get(t.id) ?? [];
    return unready.length ? tasks.filter((t) => !unready.includes(t.id)) : tasks;
  }

  /** Takes the given candidate ids if they are still claimable (select-then-update style). */
  private async takeCandidates(owner: string, ids: number[], leaseMs: number, now: number, extraWhere = ''): Promise<ClaimedTask[]> {
    if (ids.length === 0) return [];
    const sql = this.claimUpdate(`id IN (${intList(ids)}) AND ${RUNNABLE}${extraWhere}`);
    const rows = await this.db.query(sql, [owner, now + leaseMs, now, now, now]);
    return this.withParents(owner, rows).then((t) => t.sort(byClaimOrder));
  }

  /**
   * Claims up to `limit` runnable tasks of the given agents for `owner`, highest priority
   * first, then oldest. Returns them in that order.
   */
  async claim(owner: string, agents: readonly string[], limit: number, leaseMs: number): Promise<ClaimedTask[]> {
    if (agents.length === 0 || limit < 1) return [];
    const claimed = await this.claimUnlimited(owner, agents, limit, leaseMs);
    if (claimed.length >= limit) return claimed;
    let more: ClaimedTask[];
    try {
      if (!(await this.anyGroupLimits())) return claimed;
      more = await this.claimInLimitedGroups(owner, agents, limit - claimed.length, leaseMs);
    } catch (err) {
      // The tasks claimed above are leased to `owner` already: failing the whole claim would
      // leave them to run nowhere until their leases ran out (an attempt lost each).
      if (claimed.length === 0) throw err;
      this.reportGroupClaimFailure(err);
      return claimed;
    }
    return more.length ? [...claimed, ...more].sort(byClaimOrder) : claimed;
  }

  /** Logs a failed claim in a limited group: the first, then every 20th (claims run every poll). */
  private reportGroupClaimFailure(err: unknown): void {
    if (this.groupClaimFailures++ % 20 === 0) logger.warn({ err, failures: this.groupClaimFailures }, 'claiming in a limited group failed; its tasks wait');
  }

  /**
   * The ordinary claim: tasks of no group, or of a group without limits. PostgreSQL filters
   * limited groups in its one statement. DuckDB and SQLite pick candidates without that filter
   * (measured on DuckDB: it cost about a third of the pick, 1.2 ms of 2 at 20,000 queued tasks)
   * and apply it in the UPDATE only when a candidate has a group, so the plain path pays
   * nothing; when limited groups' tasks fill the candidates, a second pick looks past them.
   */
  private claimUnlimited(owner: string, agents: readonly string[], limit: number, leaseMs: number): Promise<ClaimedTask[]> {
    const pick = (filtered: boolean, n: number | '?') =>
      `SELECT id, group_key FROM bolt_tasks WHERE ${RUNNABLE} AND agent IN (${placeholders(agents.length)}) ` +
      `${filtered ? `AND ${NOT_LIMITED} ` : ''}ORDER BY priority DESC, id LIMIT ${n === '?' ? n : Math.floor(n)}`;
    return retryConflicts(async () => {
      const now = Date.now();
      if (this.dialect.claimStyle === 'skip-locked') {
        // One text per set of agents, kept prepared: parsing and planning it was a third of a claim.
        // `id = ANY(ARRAY(…))` runs the locking pick once, as an init plan, and then updates its
        // rows by primary key; `id IN (…)` let PostgreSQL join the pick to a scan of the whole
        // table (6.3 against 3.7 ms per claim of 256 at 20,000 rows, docs/benchmarks.md).
        const sql = this.claimUpdate(`id = ANY(ARRAY(${pick(true, '?').replace('SELECT id, group_key', 'SELECT id')} FOR UPDATE SKIP LOCKED))`);
        const rows = await this.db.query(sql, [owner, now + leaseMs, now, now, now, ...agents, Math.floor(limit)], { prepared: true });
        return this.withParents(owner, rows).then((t) => t.sort(byClaimOrder));
      }
      const candidates = await this.db.query(pick(false, limit), [now, ...agents]);
      const grouped = candidates.some((r) => r.group_key !== null && r.group_key !== undefined);
      const taken = await this.takeCandidates(
        owner,
        candidates.map((r) => Number(r.id)),
        leaseMs,
        now,
        grouped ? ` AND ${NOT_LIMITED}` : '',
      );
      if (!grouped || taken.length >= limit || taken.length === candidates.length) return taken;
      const more = (await this.db.query(pick(true, limit - taken.length), [now, ...agents])).map((r) => Number(r.id));
      return [...taken, ...(await this.takeCandidates(owner, more, leaseMs, now, ` AND ${NOT_LIMITED}`))].sort(byClaimOrder);
    });
  }

  /** Whether any group has limits (read at most once a second: new limits apply at once anyway, see NOT_LIMITED). */
  private async anyGroupLimits(): Promise<boolean> {
    if (Date.now() - this.limitsCheckedAt < 1000) return this.limitsExist;
    this.limitsExist = (await this.db.query('SELECT group_key FROM bolt_groups LIMIT 1')).length > 0;
    this.limitsCheckedAt = Date.now();
    return this.limitsExist;
  }

  /** Claims tasks of limited groups, one group at a time within its limits (group-limits.ts). */
  private async claimInLimitedGroups(owner: string, agents: readonly string[], want: number, leaseMs: number): Promise<ClaimedTask[]> {
    const out: ClaimedTask[] = [];
    let failed: Error | undefined;
    for (const group of await limitedGroupsWithWork(this.db, agents, CLAIMABLE, Date.now())) {
      if (out.length >= want) break;
      try {
        const taken = await retryConflicts(() =>
          this.claimWithinLimits(owner, group, want - out.length, leaseMs, (allowed, now) => [
            `id IN (SELECT id FROM bolt_tasks WHERE group_key = ? AND ${RUNNABLE} AND agent IN (${placeholders(agents.length)}) ` +
              `ORDER BY priority DESC, id LIMIT ${Math.floor(allowed)})`,
            [group, now, ...agents],
          ]),
        );
        if (taken !== 'unlimited') out.push(...taken);
      } catch (err) {
        // One group whose claim fails (a limits row written by hand that no statement accepts)
        // must not stop the others, nor strand what they claimed already.
        failed ??= err as Error;
      }
    }
    if (failed !== undefined) {
      if (out.length === 0) throw failed;
      this.reportGroupClaimFailure(failed);
    }
    return out;
  }

  /**
   * In one transaction that first takes `group`'s row (group-limits.ts): claims as many of the
   * tasks `pick` selects as the group's limits leave of `want`, and logs their starts when the
   * group has a rate. `pick` gets that number and the claim's time, and returns the UPDATE's
   * WHERE and its parameters. 'unlimited' when the group has no limits (claim its tasks as any).
   */
  private async claimWithinLimits(
    owner: string,
    group: string,
    want: number,
    leaseMs: number,
    pick: (allowed: number, now: number) => [where: string, params: unknown[]],
  ): Promise<ClaimedTask[] | 'unlimited'> {
    const rows = await this.db.transaction(async (tx) => {
      const { allowed, logStarts, now, limited } = await admitInGroup(tx, group, want);
      if (!limited) return 'unlimited' as const;
      if (allowed <= 0) return [];
      const [where, params] = pick(allowed, now);
      const taken = await tx.query(this.claimUpdate(where), [owner, now + leaseMs, now, now, ...params]);
      if (logStarts) await logGroupStarts(tx, group, taken.length, now);
      return taken;
    });
    return rows === 'unlimited' ? rows : this.withParents(owner, rows ?? []);
  }

  /**
   * Sequential mode: claims the oldest unfinished task of these agents, but only when it is
   * runnable now — a task waiting for its retry blocks the ones after it, so tasks run strictly
   * in submission order.
   */
  async claimNextInOrder(owner: string, agents: readonly string[], leaseMs: number): Promise<ClaimedTask | undefined> {
    if (agents.length === 0) return undefined;
    const head = await retryConflicts(async () => {
      const now = Date.now();
      const [row] = await this.db.query(
        `SELECT id, group_key FROM bolt_tasks WHERE status IN (${placeholders(CLAIMABLE.length + 1)}) AND agent IN (${placeholders(agents.length)}) ORDER BY id LIMIT 1`,
        [...CLAIMABLE, 'running', ...agents],
      );
      if (!row) return [];
      const id = Number(row.id);
      if (row.group_key !== null && row.group_key !== undefined && (await this.anyGroupLimits())) {
        // At its group's limit the head waits, and the tasks after it with it.
        const inGroup = await this.claimWithinLimits(owner, String(row.group_key), 1, leaseMs, (_allowed, at) => [`id = ${int(id)} AND ${RUNNABLE}`, [at]]);
        if (inGroup !== 'unlimited') return inGroup;
      }
      return this.takeCandidates(owner, [id], leaseMs, now);
    });
    return head[0];
  }

  /**
   * Records successful outcomes in batches; returns the ids actually recorded (lease still held
   * and attempt unchanged). One statement per batch: the dialect's `completeArrays` where there
   * is one, else `completeStatement`.
   */
  async complete(owner: string, batch: readonly Completion[]): Promise<Set<number>> {
    const applied = new Set<number>();
    const byArrays = this.dialect.completeArrays;
    for (const part of completionChunks(batch)) {
      const results = part.map((x) => (x.text !== undefined ? x.text : storableJson(x.result ?? null, 'the result')));
      const now = Date.now();
      const rows = byArrays
        ? await retryConflicts(() => this.db.query(byArrays, [now, now, part.map((x) => x.id), part.map((x) => x.attempt), results, owner]))
        : await retryConflicts(() => this.db.query(completeStatement(part), [...results, now, now, owner]));
      for (const r of rows) applied.add(Number(r.id));
      await releaseDependants(
        this.db,
        rows.filter((r) => Number(r.has_dependants) === 1).map((r) => Number(r.id)),
      );
    }
    return applied;
  }

  /**
   * Records a failed attempt: back to `failed` with a backoff delay while attempts remain,
   * else `dead`. `final` sends it to dead at once (e.g. its agent does not exist).
   */
  async fail(owner: string, id: number, attempt: number, error: SerializedError, final = false): Promise<FailOutcome> {
    const now = Date.now();
    const retryAt = now + retryDelayMs(attempt, this.backoff);
    const sql =
      `UPDATE bolt_tasks SET status = CASE WHEN attempts >= max_attempts OR ? = 1 THEN 'dead' ELSE 'failed' END, ` +
      `error = ?, run_at = ?, finished_at = ?, updated_at = ?, lease_owner = NULL, lease_expires = NULL ` +
      `WHERE id = ? AND attempts = ? AND lease_owner = ? AND status = 'running' RETURNING status, has_dependants`;
    const text = toJsonText(boundedError(error));
    const rows = await retryConflicts(() => this.db.query(sql, [final ? 1 : 0, text, retryAt, now, now, id, attempt, owner]));
    if (!rows.length) return { retryAt };
    const status = String(rows[0]!.status) as 'failed' | 'dead';
    if (status === 'dead' && Number(rows[0]!.has_dependants) === 1) await cancelDependants(this.db, [{ id, status }]);
    return { status, retryAt };
  }

  /**
   * Extends the leases of `owner`'s running tasks (only those in `ids` when given); returns the
   * ids it still holds.
   */
  async renew(owner: string, leaseMs: number, ids?: readonly number[]): Promise<Set<number>> {
    if (ids && ids.length === 0) return new Set();
    const only = ids ? ` AND id IN (${intList(ids)})` : '';
    const rows = await retryConflicts(() =>
      this.db.query(`UPDATE bolt_tasks SET lease_expires = ? WHERE lease_owner = ? AND status = 'running'${only} RETURNING id`, [Date.now() + leaseMs, owner]),
    );
    return new Set(rows.map((r) => Number(r.id)));
  }

  /** Gives claimed tasks back untouched (drain, stop): queued again, the attempt not counted. */
  async release(owner: string, tasks: ReadonlyArray<{ id: number; attempt: number }>): Promise<number> {
    let n = 0;
    for (let c = 0; c < tasks.length; c += CHUNK) {
      const part = tasks.slice(c, c + CHUNK);
      const sql =
        `UPDATE bolt_tasks SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_expires = NULL, started_at = NULL, updated_at = ? ` +
        `WHERE id IN (${intList(part.map((t) => t.id))}) AND attempts = CASE id ${part.map((t) => `WHEN ${int(t.id)} THEN ${int(t.attempt)}`).join(' ')} END ` +
        `AND lease_owner = ? AND status = 'running' RETURNING id`;
      n += (await retryConflicts(() => this.db.query(sql, [Date.now(), owner]))).length;
    }
    return n;
  }

  /**
   * Gives back every task `owner` still holds (the last step of a runtime's shutdown, when none
   * of its agents runs anything any more): queued again, the attempt not counted.
   */
  async releaseOwner(owner: string): Promise<number> {
    const rows = await retryConflicts(() =>
      this.db.query(
        `UPDATE bolt_tasks SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_expires = NULL, started_at = NULL, updated_at = ? ` +
          `WHERE lease_owner = ? AND status = 'running' RETURNING id`,
        [Date.now(), owner],
      ),
    );
    return rows.length;
  }

  /**
   * Gives back tasks whose lease expired (their runtime died or hung): queued again to run at
   * once, or dead when that was their last attempt. Returns what it changed. Looks first with a
   * read, so the common case (nothing expired) costs no write transaction: every runtime calls
   * this on its heartbeat, and on DuckDB an UPDATE, even one that changes nothing, is a logged
   * write on the host (measured in a 16-process soak: a third of the host's statements).
   * `expiredBefore`: reap only leases that had expired by then (default: now).
   */
  async reapExpired(expiredBefore = Date.now()): Promise<Array<{ id: number; agent: string; status: 'queued' | 'dead' }>> {
    const now = Date.now();
    const cutoff = Math.min(now, expiredBefore);
    const expired = await this.db.query(`SELECT id FROM bolt_tasks WHERE status = 'running' AND lease_expires < ? LIMIT 1`, [cutoff]);
    if (expired.length === 0) return [];
    const error: SerializedError = {
      name: 'TaskError',
      code: 'BOLT_TASK',
      message: 'The runtime running this task stopped renewing its lease (it crashed, was killed or hung)',
      details: {},
    };
    const sql =
      `UPDATE bolt_tasks SET status = CASE WHEN attempts >= max_attempts THEN 'dead' ELSE 'queued' END, error = ?, run_at = ?, updated_at = ?, ` +
      `lease_owner = NULL, lease_expires = NULL WHERE status = 'running' AND lease_expires < ? RETURNING id, agent, status, has_dependants`;
    const rows = await retryConflicts(() => this.db.query(sql, [toJsonText(error), now, now, cutoff]));
    await cancelDependants(
      this.db,
      rows.filter((r) => r.status === 'dead' && Number(r.has_dependants) === 1).map((r) => ({ id: Number(r.id), status: 'dead' })),
    );
    if (rows.length) logger.info({ n: rows.length }, 'reclaimed tasks with expired leases');
    return rows.map((r) => ({ id: Number(r.id), agent: String(r.agent), status: String(r.status) as 'queued' | 'dead' }));
  }

  /**
   * Repairs what a crash between a parent's end and its dependants' update left (see
   * task-dependencies.ts); every runtime calls it with `reapExpired`. Returns what it changed.
   */
  async settleDependants(): Promise<number> {
    return settleDependants(this.db);
  }

  /** The tasks `id` depends on and the tasks that depend on it. */
  async graph(id: number): Promise<Awaited<ReturnType<typeof taskGraph>>> {
    return taskGraph(this.db, checkTaskId(id));
  }

  /**
   * Cancels a task that has not finished. Returns the lease owner when it was running (that
   * runtime aborts it on its next heartbeat, or at once when it is this process).
   */
  async cancel(id: number): Promise<{ task: Task; wasRunningOn: string | null }> {
    checkTaskId(id);
    const now = Date.now();
    const rows = await retryConflicts(() =>
      this.db.query(
        `UPDATE bolt_tasks SET status = 'cancelled', finished_at = ?, updated_at = ? WHERE id = ? AND status IN ('queued', 'failed', 'running') RETURNING lease_owner, has_dependants`,
        [now, now, id],
      ),
    );
    if (rows.length && Number(rows[0]!.has_dependants) === 1) await cancelDependants(this.db, [{ id, status: 'cancelled' }]);
    const held = rows[0]?.lease_owner;
    // The statement above returns the owner (the runtime that must abort the task), so the lease
    // is let go in a second one, as every other way out of 'running' does.
    if (held !== null && held !== undefined) {
      await retryConflicts(() =>
        this.db.execute(`UPDATE bolt_tasks SET lease_owner = NULL, lease_expires = NULL WHERE id = ? AND status = 'cancelled' AND lease_owner = ?`, [id, held]),
      );
    }
    const task = await this.get(id);
    if (!rows.length) {
      throw new BadInputError(`Task ${id} is ${task.status}: only queued, failed or running tasks can be cancelled`, { id, status: task.status });
    }
    const owner = rows[0]!.lease_owner;
    return { task, wasRunningOn: owner === null || owner === undefined ? null : String(owner) };
  }

  /**
   * Redrives a dead or cancelled task: queued again with a fresh set of attempts, its result and
   * error cleared. Returns the task as redriven (a runtime may claim it the moment the statement
   * commits). A task that depends on others is retried only while none of them ended dead or
   * cancelled or is gone: else BOLT_BAD_INPUT naming them, and nothing changes.
   */
  async retry(id: number): Promise<Task> {
    checkTaskId(id);
    const redrive =
      `UPDATE bolt_tasks SET status = 'queued', attempts = 0, run_at = ?, updated_at = ?, lease_owner = NULL, lease_expires = NULL, ` +
      `started_at = NULL, finished_at = NULL, result = NULL, error = NULL, waiting_on = ? WHERE id = ? AND status IN (${placeholders(REDRIVABLE.length)})`;
    const now = Date.now();
    // A task without parents: one statement.
    let rows = await retryConflicts(() => this.db.query(`${redrive} AND COALESCE(parents, 0) = 0 RETURNING *`, [now, now, 0, id, ...REDRIVABLE]));
    if (!rows.length) {
      const task = await this.get(id);
      if (!REDRIVABLE.includes(task.status)) throw this.notRedrivable(task);
      rows =
        (await this.db.transaction(async (tx) => {
          const waiting = await checkParentsForRetry(tx, id, task.parents);
          const at = Date.now();
          return tx.query(`${redrive} RETURNING *`, [at, at, waiting, id, ...REDRIVABLE]);
        })) ?? [];
      if (!rows.length) throw this.notRedrivable(await this.get(id));
    }
    await this.wakeRuntimes();
    return rowToTask(rows[0]!);
  }

  private notRedrivable(task: Task): BadInputError {
    return new BadInputError(`Task ${task.id} is ${task.status}: only ${REDRIVABLE.join(' or ')} tasks can be retried`, { id: task.id, status: task.status });
  }

  /**
   * Deletes finished tasks (done, dead, cancelled by default) that finished more than
   * `olderThanMs` ago, with their dedupe keys (a purged task's key can be used again) and their
   * edges in the dependency graph. A task that a task not finished yet (queued, failed,
   * running) depends on is kept — that task needs its result, or must see that it ended — and
   * counted in `kept`; a later purge deletes it once its dependants have finished. Every queue
   * statement scans `bolt_tasks`, so a long-lived queue should be purged now and then.
   */
  async purge(olderThanMs: number, statuses: readonly TaskStatus[] = TERMINAL): Promise<PurgeResult> {
    // Unchecked, NaN made DuckDB compare finish times with NaN, which it holds greater than every
    // number: every finished task was deleted, however recent.
    if (typeof olderThanMs !== 'number' || !(olderThanMs >= 0 && olderThanMs <= MAX_PURGE_AGE_MS)) {
      throw new BadInputError(`olderThanMs must be a number of ms from 0 to ${MAX_PURGE_AGE_MS} (100 years), got ${String(olderThanMs)}`, {
        olderThanMs: String(olderThanMs),
      });
    }
    if (!Array.isArray(statuses)) throw new BadInputError('statuses must be an array of finished states');
    for (const st of statuses) {
      if (!TERMINAL.includes(st)) throw new BadInputError(`Only finished tasks can be purged (${TERMINAL.join(', ')}), not ${st}`);
    }
    if (statuses.length === 0) return { deleted: 0, kept: 0 };
    const cutoff = Math.floor(Date.now() - olderThanMs);
    const old = `status IN (${placeholders(statuses.length)}) AND COALESCE(finished_at, updated_at) < ?`;
    const params = [...statuses, cutoff];
    const where = `${old} AND NOT (${NEEDED_BY_DEPENDANTS})`;
    // One transaction (on PostgreSQL at repeatable read): a task and its dedupe key go together
    // or neither does. In two, a retry between them left a live task without its key, and the
    // next submit with that key made a second task. A change meanwhile to a task it deletes (a
    // retry; a submit that marks it as a parent, has_dependants) is a conflict, and the purge
    // re-runs with a snapshot that sees it: a serialization failure on PostgreSQL (at read
    // committed the re-check of the updated row used the statement's old snapshot for the
    // dependant, and deleted the parent of a task just accepted: about 1 race in 5 in a loop), the
    // UPDATE of `markBeforeDelete` on DuckDB.
    const mark = this.dialect.markBeforeDelete;
    const deleted =
      (await retryConflicts(() =>
        this.db.transaction(async (tx) => {
          if (mark) await tx.query(`UPDATE bolt_tasks SET ${mark} WHERE ${where} RETURNING id`, params);
          await tx.execute(`DELETE FROM bolt_task_keys WHERE task_id IN (SELECT id FROM bolt_tasks WHERE ${where})`, params);
          return (await tx.execute(`DELETE FROM bolt_tasks WHERE ${where}`, params)).rowsChanged;
        }),
      )) ?? 0;
    // Edges whose dependant is gone, or whose parent is gone and dependant finished (a dependant
    // still waiting keeps the edge that names its missing parent: see settleDependants).
    await retryConflicts(() =>
      this.db.execute(
        `DELETE FROM bolt_task_deps WHERE NOT EXISTS (SELECT 1 FROM bolt_tasks c WHERE c.id = bolt_task_deps.task_id) ` +
          `OR (NOT EXISTS (SELECT 1 FROM bolt_tasks p WHERE p.id = bolt_task_deps.parent_id) ` +
          `AND EXISTS (SELECT 1 FROM bolt_tasks c WHERE c.id = bolt_task_deps.task_id AND c.status IN (${FINISHED_SQL})))`,
      ),
    );
    const [kept] = await this.db.query(`SELECT count(*) AS n FROM bolt_tasks WHERE ${old} AND ${NEEDED_BY_DEPENDANTS}`, params);
    return { deleted, kept: Number(kept?.n ?? 0) };
  }

  /** One task; `BOLT_NOT_FOUND` when there is none with this id. */
  async get(id: number): Promise<Task> {
    const rows = await this.db.query(`SELECT * FROM bolt_tasks WHERE id = ?`, [checkTaskId(id)]);
    if (!rows.length) throw new NotFoundError(`No task with id ${id}`, { id });
    return rowToTask(rows[0]!);
  }

  /** Tasks, newest first by default. */
  async list(o: ListOptions = {}): Promise<Task[]> {
    checkListOptions(o);
    const where: string[] = [];
    const params: unknown[] = [];
    const statuses = o.status === undefined ? [] : Array.isArray(o.status) ? o.status : [o.status];
    for (const s of statuses) if (!isTaskStatus(s)) throw new BadInputError(`Unknown status ${s}; one of ${TASK_STATUSES.join(', ')}`);
    if (statuses.length) {
      where.push(`status IN (${placeholders(statuses.length)})`);
      params.push(...statuses);
    }
    if (o.agent) {
      where.push('agent = ?');
      params.push(o.agent);
    }
    if (o.text) {
      // LIKE with its wildcards escaped: the text is matched as it is.
      const like = `%${o.text.toLowerCase().replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
      where.push(`(LOWER(payload) LIKE ? ESCAPE '\\' OR LOWER(error) LIKE ? ESCAPE '\\' OR LOWER(result) LIKE ? ESCAPE '\\')`);
      params.push(like, like, like);
    }
    const limit = o.limit ?? 100;
    const sql = `SELECT * FROM bolt_tasks${where.length ? ` WHERE ${where.join(' AND ')}` : ''} ORDER BY id ${o.order === 'oldest' ? 'ASC' : 'DESC'} LIMIT ?`;
    const rows = await this.db.query(sql, [...params, limit]);
    return rows.map(rowToTask);
  }

  /**
   * Creates or replaces the limits of a group (`submit(…, { group })`): at most `concurrency` of
   * its tasks running at once and at most `ratePerSecond` starts per second, across every
   * runtime and machine on this queue, enforced in the claim (group-limits.ts). Bad limits are
   * `BOLT_BAD_INPUT` and store nothing.
   *
   * ```ts
   * await queue.setGroupLimit('customer-42', { concurrency: 3, ratePerSecond: 5 });
   * ```
   */
  async setGroupLimit(group: string, limit: GroupLimit): Promise<void> {
    const l = checkGroupLimit(limit);
    await storeGroupLimit(this.db, checkGroupKey(group), l);
    this.limitsCheckedAt = 0;
  }

  /** Removes a group's limits (`BOLT_NOT_FOUND` when it has none); its tasks are claimed as any other. */
  async removeGroupLimit(group: string): Promise<void> {
    await deleteGroupLimit(this.db, checkGroupKey(group));
    this.limitsCheckedAt = 0;
  }

  /** Every group with limits, with its running and waiting tasks. */
  async groupLimits(): Promise<Array<{ group: string; running: number; queued: number } & GroupLimit>> {
    return loadGroupLimits(this.db);
  }

  /**
   * Creates or replaces (same name) a schedule: a cron expression whose every tick submits one
   * task of `spec.agent` with `spec.payload`. Running runtimes submit the ticks, each exactly
   * once however many run (its dedupe key is `schedule:<name>@<tick as ISO time>`); ticks that
   * came due while no runtime ran follow `spec.catchUp` ('none', 'last' — the default — or
   * 'all', at most the newest 100). The first tick submitted is the first after this call.
   * Invalid input (name, cron expression, time zone, policy, agent name, payload) is
   * `BOLT_BAD_INPUT` and stores nothing.
   *
   * ```ts
   * await queue.setSchedule('nightly-report', { cron: '0 2 * * *', tz: 'Europe/Berlin', agent: 'sql', payload: { sql: '…' } });
   * ```
   */
  async setSchedule(name: string, spec: ScheduleSpec): Promise<Schedule> {
    // Each field read once: a getter could pass the checks and then give another value to store.
    const s: ScheduleSpec =
      spec !== null && typeof spec === 'object' ? { cron: spec.cron, agent: spec.agent, payload: spec.payload, tz: spec.tz, catchUp: spec.catchUp } : spec;
    const payload = validateSchedule(name, s);
    return storeSchedule(this.db, name, s, payload);
  }

  /** Deletes a schedule (tasks it already submitted stay); `BOLT_NOT_FOUND` when there is none of that name. */
  async removeSchedule(name: string): Promise<void> {
    await deleteSchedule(this.db, checkScheduleName(name));
  }

  /**
   * Every schedule, by name, with its next tick from now (`nextRun`, epoch ms; null when it never
   * fires again). A row no runtime can fire (written by hand, or naming a zone this machine's
   * time zone data does not know) is listed too, with `problem` saying why (runtimes skip it).
   */
  async schedules(): Promise<Array<Schedule & { nextRun: number | null; problem?: string }>> {
    const now = Date.now();
    return (await loadSchedules(this.db)).map((s) => withNextRun(s, now));
  }

  /** Records that runtime `r` is alive now (its row in `bolt_runtimes`, created or refreshed). */
  async heartbeat(r: RuntimeRecord): Promise<void> {
    await retryConflicts(() =>
      this.db.execute(
        `INSERT INTO bolt_runtimes (id, host, pid, agents, started_at, heartbeat_at) VALUES (?, ?, ?, ?, ?, ?) ` +
          `ON CONFLICT (id) DO UPDATE SET agents = excluded.agents, heartbeat_at = excluded.heartbeat_at`,
        [r.id, r.host, r.pid, r.agents, r.startedAt, Date.now()],
      ),
    );
  }

  /** Removes runtime `id` from `bolt_runtimes` (it stopped). */
  async forgetRuntime(id: string): Promise<void> {
    await retryConflicts(() => this.db.execute('DELETE FROM bolt_runtimes WHERE id = ?', [id]));
  }

  /** Runtimes whose last heartbeat is at most `withinMs` old, with the tasks each holds running. */
  async runtimes(withinMs: number): Promise<Array<RuntimeRecord & { heartbeatAt: number; running: number }>> {
    const rows = await this.db.query(
      `SELECT r.id, r.host, r.pid, r.agents, r.started_at, r.heartbeat_at, ` +
        `(SELECT COUNT(*) FROM bolt_tasks t WHERE t.status = 'running' AND t.lease_owner = r.id) AS running ` +
        `FROM bolt_runtimes r WHERE r.heartbeat_at >= ? ORDER BY r.started_at`,
      [Date.now() - withinMs],
    );
    return rows.map((r) => ({
      id: String(r.id),
      host: String(r.host),
      pid: Number(r.pid),
      agents: Number(r.agents),
      startedAt: Number(r.started_at),
      heartbeatAt: Number(r.heartbeat_at),
      running: Number(r.running),
    }));
  }

  /** Number of tasks by agent and state (only pairs that have tasks). */
  async countsByAgent(): Promise<Array<{ agent: string; status: TaskStatus; count: number }>> {
    const rows = await this.db.query(`SELECT agent, status, COUNT(*) AS n FROM bolt_tasks GROUP BY agent, status`);
    return rows
      .filter((r) => isTaskStatus(String(r.status)))
      .map((r) => ({ agent: String(r.agent), status: String(r.status) as TaskStatus, count: Number(r.n) }));
  }

  /** Number of tasks in each state (every state present, zero when none). */
  async counts(): Promise<Record<TaskStatus, number>> {
    const out = Object.fromEntries(TASK_STATUSES.map((s) => [s, 0])) as Record<TaskStatus, number>;
    const rows = await this.db.query(`SELECT status, COUNT(*) AS n FROM bolt_tasks GROUP BY status`);
    for (const r of rows) if (isTaskStatus(String(r.status))) out[String(r.status) as TaskStatus] = Number(r.n);
    return out;
  }
}
