/**
 * Dependencies between tasks (`submit(agent, payload, { dependsOn: [id, …] })`). A dependant
 * is stored `queued` with `waiting_on` = how many of its parents are not done; the claim takes
 * only tasks at 0. The edges live in `bolt_task_deps`.
 *
 * - Submitting marks each parent `has_dependants` in the same transaction as the new task and
 *   its edges. That write to the parent's row serializes the submit with the parent finishing
 *   (a write conflict on DuckDB, a row lock on PostgreSQL, one writer on SQLite), so the count
 *   of parents not done is exact when the dependant is stored. An unknown parent stores nothing.
 * - A parent that ends `done` recounts its dependants' `waiting_on` in one statement (only
 *   rows still waiting, so a later count never overwrites an earlier one with a stale value).
 * - A parent that ends `dead` or `cancelled` cancels the dependants still waiting on it, with
 *   the reason, and so on down the graph.
 * - Every runtime's heartbeat settles what a crash between a parent's end and those steps
 *   left (`settleDependants`): the steps are idempotent.
 * - A parent whose row is gone (deleted by hand, or by a purge racing a new dependant) counts
 *   as cancelled: it is never counted done (`waiting_on` counts the task's `parents` less those
 *   done, not the edges found), the heartbeat cancels the dependants waiting on it, and a claim
 *   that finds a dependant's parent gone or not done gives the task back instead of running it
 *   without that parent's result.
 * A new task can depend only on tasks that exist, so the graph has no cycles.
 */
import type { Queryable, Row } from '../database.js';
import type { ParentResult } from '../../agents/agent-contract.js';
import { BadInputError, type SerializedError } from '../errors.js';
import { int, intList, retryConflicts, toJsonText } from './queue-sql.js';
import { json } from './task.js';

export type { ParentResult };

/** Most parents one task may have. */
export const MAX_PARENTS = 1000;

/** Checks `dependsOn` and returns its ids, each once. */
export function checkDependsOn(v: unknown): number[] {
  if (!Array.isArray(v)) throw new BadInputError(`dependsOn must be an array of task ids, got ${typeof v}`, { dependsOn: typeof v });
  if (v.length > MAX_PARENTS) throw new BadInputError(`dependsOn holds ${v.length} ids; at most ${MAX_PARENTS}`);
  for (const id of v) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
      throw new BadInputError(`dependsOn must hold task ids (positive integers), got ${typeof id === 'number' ? String(id) : typeof id}`, {
        dependsOn: String(v).slice(0, 100),
      });
    }
  }
  return [...new Set(v as number[])];
}

/**
 * In the submitting transaction: marks the parents, and tells how many are not done and
 * whether one already ended dead or cancelled. An id that names no task is BOLT_BAD_INPUT.
 */
export async function markParents(tx: Queryable, ids: readonly number[]): Promise<{ waiting: number; ended?: { id: number; status: string } }> {
  const rows = await tx.query(`UPDATE bolt_tasks SET has_dependants = 1 WHERE id IN (${intList(ids)}) RETURNING id, status`);
  if (rows.length < ids.length) {
    const found = new Set(rows.map((r) => Number(r.id)));
    const missing = ids.filter((id) => !found.has(id));
    throw new BadInputError(`dependsOn names no task: ${missing.join(', ')}`, { missing });
  }
  const ended = rows.find((r) => r.status === 'dead' || r.status === 'cancelled');
  return {
    waiting: rows.filter((r) => r.status !== 'done').length,
    ended: ended ? { id: Number(ended.id), status: String(ended.status) } : undefined,
  };
}

/**
 * In the transaction that retries dependant `id`, which has `parents` parents: marks them as
 * submitting does (serializing the retry with a parent ending) and returns how many are not
 * done. One that ended dead or cancelled, or whose row (or edge) is gone, is BOLT_BAD_INPUT
 * naming it: the task would only be cancelled again, or run without that parent's result.
 */
export async function checkParentsForRetry(tx: Queryable, id: number, parents: number): Promise<number> {
  const edges = (await tx.query(`SELECT parent_id FROM bolt_task_deps WHERE task_id = ? ORDER BY parent_id`, [id])).map((r) => Number(r.parent_id));
  const rows = edges.length ? await tx.query(`UPDATE bolt_tasks SET has_dependants = 1 WHERE id IN (${intList(edges)}) RETURNING id, status`) : [];
  const status = new Map(rows.map((r) => [Number(r.id), String(r.status)]));
  const bad = edges.flatMap((p) => {
    const st = status.get(p) ?? PARENT_GONE;
    return st === PARENT_GONE || st === 'dead' || st === 'cancelled' ? [{ id: p, status: st }] : [];
  });
  const unnamed = Math.max(0, parents - edges.length);
  if (bad.length || unnamed) {
    const says = bad.map((p) => `task ${p.id}, which ${p.status === PARENT_GONE ? 'no longer exists (purged or deleted)' : `ended ${p.status}`}`);
    if (unnamed) says.push(`${unnamed} task${unnamed === 1 ? ' that no longer exists' : 's that no longer exist'} (purged or deleted)`);
    const gone = unnamed > 0 || bad.some((p) => p.status === PARENT_GONE);
    throw new BadInputError(
      `Task ${id} cannot be retried: it depends on ${says.join(', ')}` +
        (gone ? '; without that result it cannot run again' : `; retry ${bad.length === 1 ? 'it' : 'them'} first`),
      { id, parents: bad, missing: unnamed },
    );
  }
  return rows.filter((r) => r.status !== 'done').length;
}

/** In the submitting transaction: the edges from `child` to its parents. */
export async function linkParents(tx: Queryable, child: number, ids: readonly number[]): Promise<void> {
  for (let i = 0; i < ids.length; i += 256) {
    const part = ids.slice(i, i + 256);
    await tx.execute(`INSERT INTO bolt_task_deps (task_id, parent_id) VALUES ${part.map((p) => `(${int(child)}, ${int(p)})`).join(', ')}`);
  }
}

/** A parent's status in a dependant's error when the parent's row no longer exists. */
export const PARENT_GONE = 'missing';

/**
 * Why a dependant was cancelled: parent `parent` ended `status` (dead, cancelled, or
 * {@link PARENT_GONE}); `parent` null when even the id of the missing parent is unknown.
 */
export function parentEndedError(parent: number | null, status: string): SerializedError {
  const message =
    status !== PARENT_GONE
      ? `Task ${parent}, which this task depends on, ended ${status}`
      : parent === null
        ? 'A task this task depends on no longer exists (it was purged or deleted), so its result is lost'
        : `Task ${parent}, which this task depends on, no longer exists (it was purged or deleted), so its result is lost`;
  return { name: 'TaskError', code: 'BOLT_TASK', message, details: { parent, parentStatus: status } };
}

const WAITING_CHILDREN = (parents: readonly number[]) => `SELECT task_id FROM bolt_task_deps WHERE parent_id IN (${intList(parents)})`;
/**
 * How many parents of the `bolt_tasks` row in scope are not done: its `parents` less those found
 * done, so a parent whose row (or edge) is gone is never counted done.
 */
const NOT_DONE = `(COALESCE(bolt_tasks.parents, 0) - (SELECT count(*) FROM bolt_task_deps d JOIN bolt_tasks p ON p.id = d.parent_id WHERE d.task_id = bolt_tasks.id AND p.status = 'done'))`;

/** After `parents` ended done: recounts what their waiting dependants wait on. Returns how many may run now. */
export async function releaseDependants(db: Queryable, parents: readonly number[]): Promise<number> {
  if (parents.length === 0) return 0;
  const rows = await retryConflicts(() =>
    db.query(
      `UPDATE bolt_tasks SET waiting_on = ${NOT_DONE}, updated_at = ? WHERE status = 'queued' AND waiting_on > 0 AND id IN (${WAITING_CHILDREN(parents)}) RETURNING waiting_on`,
      [Date.now()],
    ),
  );
  return rows.filter((r) => Number(r.waiting_on) === 0).length;
}

/** After `parents` ended dead or cancelled: cancels their waiting dependants, and theirs. Returns how many. */
export async function cancelDependants(db: Queryable, parents: ReadonlyArray<{ id: number; status: string }>): Promise<number> {
  let n = 0;
  let level = [...parents];
  while (level.length) {
    const next: Array<{ id: number; status: string }> = [];
    for (const p of level) {
      const now = Date.now();
      const rows: Row[] = await retryConflicts(() =>
        db.query(
          `UPDATE bolt_tasks SET status = 'cancelled', error = ?, finished_at = ?, updated_at = ? ` +
            `WHERE status = 'queued' AND waiting_on > 0 AND id IN (${WAITING_CHILDREN([p.id])}) RETURNING id, has_dependants`,
          [toJsonText(parentEndedError(p.id, p.status)), now, now],
        ),
      );
      n += rows.length;
      for (const r of rows) if (Number(r.has_dependants) === 1) next.push({ id: Number(r.id), status: 'cancelled' });
    }
    level = next;
  }
  return n;
}

/**
 * Cancels the waiting tasks among `children` (a parent of each is gone), each with its reason,
 * and their own dependants. Returns how many.
 */
async function cancelOrphans(db: Queryable, children: ReadonlyArray<{ id: number; parent: number | null }>): Promise<number> {
  let n = 0;
  const next: Array<{ id: number; status: string }> = [];
  for (const c of children) {
    const now = Date.now();
    const rows = await retryConflicts(() =>
      db.query(
        `UPDATE bolt_tasks SET status = 'cancelled', error = ?, finished_at = ?, updated_at = ? WHERE id = ? AND status = 'queued' AND waiting_on > 0 RETURNING has_dependants`,
        [toJsonText(parentEndedError(c.parent, PARENT_GONE)), now, now, c.id],
      ),
    );
    n += rows.length;
    if (rows.length && Number(rows[0]!.has_dependants) === 1) next.push({ id: c.id, status: 'cancelled' });
  }
  return n + (await cancelDependants(db, next));
}

/**
 * The heartbeat's repair: recounts waiting tasks whose count is stale and cancels those whose
 * parent ended dead or cancelled, or is gone. A read first, so a queue with no waiting task
 * costs no write.
 */
export async function settleDependants(db: Queryable): Promise<number> {
  const waiting = await db.query(`SELECT id FROM bolt_tasks WHERE status = 'queued' AND waiting_on > 0 LIMIT 1`);
  if (waiting.length === 0) return 0;
  const ended = await db.query(
    `SELECT DISTINCT p.id, p.status FROM bolt_task_deps d JOIN bolt_tasks c ON c.id = d.task_id JOIN bolt_tasks p ON p.id = d.parent_id ` +
      `WHERE c.status = 'queued' AND c.waiting_on > 0 AND p.status IN ('dead', 'cancelled')`,
  );
  let n = await cancelDependants(
    db,
    ended.map((r) => ({ id: Number(r.id), status: String(r.status) })),
  );
  // Waiting tasks with fewer parent rows than parents: one is gone (named when its edge is left).
  const orphans = await db.query(
    `SELECT c.id, (SELECT min(d.parent_id) FROM bolt_task_deps d WHERE d.task_id = c.id AND NOT EXISTS (SELECT 1 FROM bolt_tasks p WHERE p.id = d.parent_id)) AS gone ` +
      `FROM bolt_tasks c WHERE c.status = 'queued' AND c.waiting_on > 0 ` +
      `AND COALESCE(c.parents, 0) > (SELECT count(*) FROM bolt_task_deps d JOIN bolt_tasks p ON p.id = d.parent_id WHERE d.task_id = c.id)`,
  );
  n += await cancelOrphans(
    db,
    orphans.map((r) => ({ id: Number(r.id), parent: r.gone === null || r.gone === undefined ? null : Number(r.gone) })),
  );
  const stale = await retryConflicts(() =>
    db.query(
      `UPDATE bolt_tasks SET waiting_on = ${NOT_DONE}, updated_at = ? WHERE status = 'queued' AND waiting_on > 0 AND waiting_on <> ${NOT_DONE} RETURNING id`,
      [Date.now()],
    ),
  );
  n += stale.length;
  return n;
}

/**
 * The parents' results of the given dependants (task id → how many parents it has), by
 * ascending parent id. A dependant with fewer parents found done than it has (one is gone, or
 * not done: a count written by hand) is left out of `results` and listed in `unready`.
 */
export async function loadParents(db: Queryable, children: ReadonlyMap<number, number>): Promise<{ results: Map<number, ParentResult[]>; unready: number[] }> {
  const results = new Map<number, ParentResult[]>();
  if (children.size === 0) return { results, unready: [] };
  const rows = await db.query(
    `SELECT d.task_id, p.id, p.agent, p.result FROM bolt_task_deps d JOIN bolt_tasks p ON p.id = d.parent_id ` +
      `WHERE d.task_id IN (${intList([...children.keys()])}) AND p.status = 'done' ORDER BY d.task_id, p.id`,
  );
  for (const r of rows) {
    const child = Number(r.task_id);
    if (!results.has(child)) results.set(child, []);
    results.get(child)!.push({ id: Number(r.id), agent: String(r.agent), result: json(r.result) });
  }
  const unready = [...children].filter(([id, n]) => (results.get(id)?.length ?? 0) < n).map(([id]) => id);
  for (const id of unready) results.delete(id);
  return { results, unready };
}

/**
 * Gives back claimed dependants that {@link loadParents} found unready: queued again, the
 * attempt not counted, `waiting_on` recounted, so they wait (or the heartbeat cancels them,
 * when a parent ended or is gone) instead of running without a parent's result.
 */
export async function unclaimUnready(db: Queryable, owner: string, ids: readonly number[]): Promise<void> {
  if (ids.length === 0) return;
  await retryConflicts(() =>
    db.query(
      `UPDATE bolt_tasks SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_expires = NULL, started_at = NULL, ` +
        `waiting_on = ${NOT_DONE}, updated_at = ? WHERE id IN (${intList(ids)}) AND lease_owner = ? AND status = 'running' RETURNING id`,
      [Date.now(), owner],
    ),
  );
}

/** The graph around a task: the tasks it depends on and the tasks that depend on it, with their statuses. */
export async function taskGraph(
  db: Queryable,
  id: number,
): Promise<{ parents: Array<{ id: number; agent: string; status: string }>; dependants: Array<{ id: number; agent: string; status: string }> }> {
  const rows = await db.query(
    // A parent whose row is gone (purged once this task finished, or deleted) shows as missing.
    `SELECT 'parent' AS side, d.parent_id AS id, t.agent, t.status FROM bolt_task_deps d LEFT JOIN bolt_tasks t ON t.id = d.parent_id WHERE d.task_id = ? ` +
      `UNION ALL SELECT 'dependant' AS side, t.id, t.agent, t.status FROM bolt_task_deps d JOIN bolt_tasks t ON t.id = d.task_id WHERE d.parent_id = ? ORDER BY 2`,
    [id, id],
  );
  const pick = (side: string) =>
    rows
      .filter((r) => r.side === side)
      .map((r) =>
        r.status === null || r.status === undefined
          ? { id: Number(r.id), agent: '?', status: PARENT_GONE }
          : { id: Number(r.id), agent: String(r.agent), status: String(r.status) },
      );
  return { parents: pick('parent'), dependants: pick('dependant') };
}
