/**
 * The few places where the queue's SQL differs between engines. Everything else in
 * `task-queue.ts` is portable SQL (`?` parameters, `INSERT … ON CONFLICT DO NOTHING RETURNING`,
 * `UPDATE … FROM (SELECT … UNION ALL …)`, `UPDATE … RETURNING`), checked on DuckDB 1.5,
 * SQLite ≥ 3.35 and PostgreSQL ≥ 12.
 *
 * Claims: on DuckDB (one host, optimistic MVCC) two runtimes claiming the same rows conflict and
 * the loser re-runs its claim; SQLite has a single writer; PostgreSQL takes row locks, and
 * `FOR UPDATE SKIP LOCKED` in the claim's subquery lets concurrent runtimes (even on other
 * machines) claim disjoint batches without waiting on each other.
 */
import type { EngineName } from '../database.js';
import { CLAIMABLE_SQL } from './task-states.js';

export interface QueueDialect {
  engine: EngineName;
  /** DDL, run in order, each idempotent. */
  schema: readonly string[];
  /**
   * How claims pick rows. 'skip-locked' (PostgreSQL): one `UPDATE … WHERE id IN (SELECT … FOR
   * UPDATE SKIP LOCKED)`. 'select-then-update' (DuckDB, SQLite): read the candidate ids, then
   * `UPDATE … WHERE id IN (…) AND status IN (claimable)`; a row another runtime took in between
   * is either filtered out by the status check or makes the update conflict and re-run.
   */
  claimStyle: 'skip-locked' | 'select-then-update';
  /** SQL returning `n` fresh task ids (column `id`) for the bulk insert path, where there is one. */
  reserveIds?: (n: number) => string;
  /**
   * Columns added since the first release, each `[column, ALTER TABLE …]`: a queue made by an
   * older Bolt gets them at `ensureSchema` (the ALTER runs when selecting the column fails).
   */
  addedColumns: ReadonlyArray<readonly [string, string]>;
  /**
   * A SQL expression, true when the newest index of the queue exists: a queue made by an older
   * Bolt gets its indexes at `ensureSchema` (they are all `IF NOT EXISTS`).
   */
  indexesPresent: string;
  /** The indexes to add when `indexesPresent` is false. */
  indexes: readonly string[];
  /**
   * DuckDB: a SET clause that `purge` applies to the rows it deletes, just before, in the same
   * transaction. DuckDB checks no DELETE against a concurrent UPDATE on a table without an
   * index, so a `retry` racing the purge was acknowledged and its task deleted; the UPDATE
   * conflicts with it instead (task-queue.ts, "Concurrent writes on DuckDB").
   */
  markBeforeDelete?: string;
  /**
   * Where there is one (PostgreSQL: `NOTIFY`), the statement that tells listening runtimes new
   * tasks are queued, so they claim at once instead of at their next poll.
   */
  wake?: string;
  /** The same in one statement with an `INSERT … RETURNING id` (PostgreSQL: a CTE beside `pg_notify`). */
  wakeWith?: (insertReturningId: string) => string;
  /**
   * Where the engine binds arrays (PostgreSQL), one fixed statement that records a batch of
   * successes: parameters finished_at, updated_at, the ids, their attempts and their results (three
   * arrays of one length), lease owner; it returns `id, has_dependants` of the rows it changed.
   * One text for every batch, which Bolt scans once; the portable statement inlines the batch's
   * ids (`CASE id WHEN …`), a new text each time. Not kept prepared: the generic plan PostgreSQL
   * keeps after five runs was made while a new queue's table was small, and scans the table.
   */
  completeArrays?: string;
}

/** The channel runtimes LISTEN on (PostgreSQL). */
export const WAKE_CHANNEL = 'bolt_tasks';

const COLUMNS = `
  agent TEXT NOT NULL,
  payload TEXT,
  status TEXT NOT NULL,
  priority INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  timeout_ms BIGINT,
  dedupe_key TEXT,
  run_at BIGINT NOT NULL,
  lease_owner TEXT,
  lease_expires BIGINT,
  result TEXT,
  error TEXT,
  created_at BIGINT NOT NULL,
  started_at BIGINT,
  finished_at BIGINT,
  updated_at BIGINT NOT NULL,
  parents INTEGER DEFAULT 0,
  waiting_on INTEGER DEFAULT 0,
  has_dependants INTEGER DEFAULT 0,
  group_key TEXT`;

/**
 * Dependencies (`submit(…, { dependsOn })`): `parents` is how many tasks a task depends on,
 * `waiting_on` how many of them are not done yet (a task is claimable only at 0), and
 * `has_dependants` marks a task others depend on, so finishing it looks for them only then.
 */
const ADDED_COLUMNS = [
  ['parents', 'ALTER TABLE bolt_tasks ADD COLUMN parents INTEGER DEFAULT 0'],
  ['waiting_on', 'ALTER TABLE bolt_tasks ADD COLUMN waiting_on INTEGER DEFAULT 0'],
  ['has_dependants', 'ALTER TABLE bolt_tasks ADD COLUMN has_dependants INTEGER DEFAULT 0'],
  ['group_key', 'ALTER TABLE bolt_tasks ADD COLUMN group_key TEXT'],
] as const;

/** Group limits (group-limits.ts): one row per limited group, and the starts of those with a rate. */
const GROUPS = `CREATE TABLE IF NOT EXISTS bolt_groups (group_key TEXT PRIMARY KEY, concurrency INTEGER, rate_per_second DOUBLE PRECISION, updated_at BIGINT NOT NULL)`;
const GROUP_STARTS = `CREATE TABLE IF NOT EXISTS bolt_group_starts (group_key TEXT NOT NULL, started_at BIGINT NOT NULL)`;
const GROUP_STARTS_INDEX = `CREATE INDEX IF NOT EXISTS bolt_group_starts_key ON bolt_group_starts (group_key, started_at)`;

/** The edges of the dependency graph: `task_id` runs after `parent_id` is done. */
const DEPS = `CREATE TABLE IF NOT EXISTS bolt_task_deps (task_id BIGINT NOT NULL, parent_id BIGINT NOT NULL, PRIMARY KEY (task_id, parent_id))`;
const DEPS_BY_PARENT = `CREATE INDEX IF NOT EXISTS bolt_task_deps_parent ON bolt_task_deps (parent_id)`;

/** Dedupe keys: one row per key, pointing at the task it created. */
const KEYS = `CREATE TABLE IF NOT EXISTS bolt_task_keys (dedupe_key TEXT PRIMARY KEY, task_id BIGINT NOT NULL)`;
/** Runtimes attached to the queue: each upserts its row at every health check and deletes it when it stops. */
const RUNTIMES = `CREATE TABLE IF NOT EXISTS bolt_runtimes (id TEXT PRIMARY KEY, host TEXT NOT NULL, pid BIGINT NOT NULL, agents BIGINT NOT NULL, started_at BIGINT NOT NULL, heartbeat_at BIGINT NOT NULL)`;

/** Schedules (see `schedules.ts`): one row per name; `last_tick` is the newest tick handled. */
const SCHEDULES =
  `CREATE TABLE IF NOT EXISTS bolt_schedules (name TEXT PRIMARY KEY, cron TEXT NOT NULL, tz TEXT, agent TEXT NOT NULL, payload TEXT, ` +
  `catch_up TEXT NOT NULL, last_tick BIGINT NOT NULL, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL)`;

/** Every table of the queue (`ensureSchema` checks they all exist). */
export const QUEUE_TABLES = ['bolt_tasks', 'bolt_task_keys', 'bolt_runtimes', 'bolt_task_deps', 'bolt_groups', 'bolt_group_starts', 'bolt_schedules'];

/** The queue's other tables, alike on every engine. */
const SIDE_TABLES = [KEYS, RUNTIMES, DEPS, SCHEDULES, GROUPS, GROUP_STARTS];
/** The newest index (PostgreSQL): `ensureSchema` adds the indexes to a queue that lacks it. */
const READY_INDEX = 'bolt_tasks_ready';
/** Secondary indexes, and those on `bolt_tasks`, where indexes pay (SQLite, PostgreSQL). */
const INDEXES = [
  `CREATE INDEX IF NOT EXISTS bolt_tasks_claim ON bolt_tasks (status, run_at)`,
  `CREATE INDEX IF NOT EXISTS bolt_tasks_lease ON bolt_tasks (lease_owner)`,
  DEPS_BY_PARENT,
  GROUP_STARTS_INDEX,
];
/**
 * PostgreSQL also keeps the claim's order over claimable tasks only: a claim reads its LIMIT rows
 * in order instead of sorting every queued task (5,000 queued: 0.24 ms instead of 1.9 ms a
 * claim, measured with EXPLAIN ANALYZE). SQLite's planner keeps `bolt_tasks_claim` and a sort
 * (as fast there: 0.18 ms forced to this index, 0.19 ms without), so it would only cost writes.
 */
const PG_INDEXES = [...INDEXES, `CREATE INDEX IF NOT EXISTS ${READY_INDEX} ON bolt_tasks (priority DESC, id) WHERE ${CLAIMABLE_SQL}`];

const DIALECTS: Record<EngineName, QueueDialect> = {
  // No index at all on DuckDB's bolt_tasks, not even a primary key: measured, every index on it
  // (even a UNIQUE one on a column the queue never updates) roughly doubles the cost of the
  // queue's UPDATEs, and a columnar scan is fast anyway. Ids come from the sequence; dedupe keys
  // live in their own table. Queues made by an older Bolt keep their `id BIGINT PRIMARY KEY`:
  // the queue's writes are safe on both layouts (task-queue.ts, "Concurrent writes on DuckDB").
  duckdb: {
    engine: 'duckdb',
    schema: [
      `CREATE SEQUENCE IF NOT EXISTS bolt_tasks_seq`,
      `CREATE TABLE IF NOT EXISTS bolt_tasks (id BIGINT NOT NULL DEFAULT nextval('bolt_tasks_seq'),${COLUMNS})`,
      ...SIDE_TABLES,
    ],
    claimStyle: 'select-then-update',
    reserveIds: (n) => `SELECT nextval('bolt_tasks_seq') AS id FROM range(${Math.floor(n)})`,
    addedColumns: ADDED_COLUMNS,
    indexesPresent: 'true',
    indexes: [],
    markBeforeDelete: 'lease_expires = -1',
  },
  sqlite: {
    engine: 'sqlite',
    schema: [`CREATE TABLE IF NOT EXISTS bolt_tasks (id INTEGER PRIMARY KEY AUTOINCREMENT,${COLUMNS})`, ...SIDE_TABLES, ...INDEXES],
    claimStyle: 'select-then-update',
    addedColumns: ADDED_COLUMNS,
    indexesPresent: 'true',
    indexes: [],
  },
  postgres: {
    engine: 'postgres',
    schema: [`CREATE TABLE IF NOT EXISTS bolt_tasks (id BIGSERIAL PRIMARY KEY,${COLUMNS})`, ...SIDE_TABLES, ...PG_INDEXES],
    claimStyle: 'skip-locked',
    addedColumns: ADDED_COLUMNS,
    indexesPresent: `to_regclass('${READY_INDEX}') IS NOT NULL`,
    indexes: PG_INDEXES,
    wake: `NOTIFY ${WAKE_CHANNEL}`,
    wakeWith: (insert) => `WITH inserted AS (${insert}) SELECT inserted.id FROM inserted, (SELECT pg_notify('${WAKE_CHANNEL}', '')) AS woken`,
    reserveIds: (n) => `SELECT nextval(pg_get_serial_sequence('bolt_tasks', 'id')) AS id FROM generate_series(1, ${Math.floor(n)})`,
    completeArrays:
      `UPDATE bolt_tasks AS t SET status = 'done', result = v.result, finished_at = ?, updated_at = ?, lease_owner = NULL, lease_expires = NULL ` +
      `FROM unnest(?::bigint[], ?::integer[], ?::text[]) AS v (id, attempt, result) ` +
      `WHERE t.id = v.id AND t.attempts = v.attempt AND t.lease_owner = ? AND t.status = 'running' RETURNING t.id, t.has_dependants`,
  },
};

/** The queue dialect of an engine. */
export function queueDialect(engine: EngineName): QueueDialect {
  return DIALECTS[engine];
}
