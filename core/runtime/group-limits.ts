/**
 * Per-group limits (`submit(…, { group })`, `queue.setGroupLimit(group, { concurrency,
 * ratePerSecond })`), enforced in the claim itself across every runtime and machine sharing the
 * queue:
 * - The ordinary claim never takes a task whose group has a limit (`NOT IN bolt_groups`), so a
 *   limit applies from the statement after it is set.
 * - Tasks of limited groups are claimed one group at a time, in a transaction that first writes
 *   the group's row in `bolt_groups`: that write serializes every claimer of the group (a write
 *   conflict on DuckDB, a row lock on PostgreSQL, one writer on SQLite). Inside it, the group's
 *   running tasks (claimed ones count) and its starts in the rate window are counted, and at
 *   most what the limits leave is claimed.
 * - `ratePerSecond` r: at most k = max(1, ⌊r⌋) starts in any window of k / r seconds (5/s: 5 per
 *   second; 0.5/s: 1 per 2 s). Starts are logged in `bolt_group_starts` (retries count), pruned
 *   in the same transaction.
 */
import type { Database, Queryable } from '../database.js';
import { BadInputError, NotFoundError } from '../errors.js';
import { isStorableText, placeholders, retryConflicts, SQL_INT_MAX } from './queue-sql.js';

/** The limits of one group; either may be absent (no limit of that kind). */
export interface GroupLimit {
  /** At most this many of the group's tasks running (claimed) at once, across all runtimes. */
  concurrency?: number;
  /** At most this many starts per second (see the file comment for the window). */
  ratePerSecond?: number;
}

/** 1–200 characters, no control characters (a newline broke every table that lists groups), not only spaces. */
const GROUP_KEY = /^(?=.*\S)[^\p{Cc}]{1,200}$/u;

/** Checks a group key (see GROUP_KEY). */
export function checkGroupKey(group: unknown): string {
  if (typeof group !== 'string' || !GROUP_KEY.test(group) || !isStorableText(group)) {
    throw new BadInputError(
      `a group must be 1 to 200 characters, not only spaces, without control characters or a lone UTF-16 surrogate; got ${typeof group === 'string' ? JSON.stringify(group).slice(0, 60) : `(${typeof group})`}`,
      {
        group: typeof group === 'string' ? group.slice(0, 200) : typeof group,
      },
    );
  }
  return group;
}

/** The lowest and highest `ratePerSecond`: one start per 1,000,000 s (11.6 days), a million a second. */
export const MIN_RATE = 1e-6;
const MAX_RATE = 1e6;
const MAX_WINDOW_MS = 1e9;

/** Checks limits: a positive integer concurrency and/or a positive finite rate, at least one. */
export function checkGroupLimit(l: GroupLimit): GroupLimit {
  if (l === null || typeof l !== 'object') throw new BadInputError('limits must be an object { concurrency?, ratePerSecond? }');
  const { concurrency, ratePerSecond } = l;
  if (concurrency !== undefined && (!Number.isSafeInteger(concurrency) || concurrency < 1 || concurrency > SQL_INT_MAX)) {
    throw new BadInputError(`concurrency must be a whole number from 1 to ${SQL_INT_MAX}, got ${String(concurrency)}`, { concurrency });
  }
  if (ratePerSecond !== undefined && (typeof ratePerSecond !== 'number' || !(ratePerSecond >= MIN_RATE && ratePerSecond <= MAX_RATE))) {
    throw new BadInputError(`the rate must be from ${MIN_RATE} (one start per 11.6 days) to 1,000,000 per second, got ${String(ratePerSecond)}`, {
      ratePerSecond,
    });
  }
  if (concurrency === undefined && ratePerSecond === undefined) throw new BadInputError('give concurrency, ratePerSecond or both');
  return { concurrency, ratePerSecond };
}

/** The rate window: k starts per `ms`. */
export function rateWindow(ratePerSecond: number): { starts: number; ms: number } {
  const starts = Math.max(1, Math.floor(ratePerSecond));
  // A rate stored below MIN_RATE by hand gets MIN_RATE's window: the window's start must stay a
  // time every engine can compare (a far smaller rate overflowed PostgreSQL's BIGINT).
  return { starts, ms: Math.min(Math.ceil((starts / ratePerSecond) * 1000), MAX_WINDOW_MS) };
}

/**
 * Creates or replaces the limits of `group`. With `RETURNING`, like the claim's write of the row
 * (`admitInGroup`): on DuckDB, whose `bolt_groups` is indexed (its primary key), a write with
 * `RETURNING` and one without do not see each other's conflict, and the later one silently
 * undid the other (docs/concurrent-database.md).
 */
export async function storeGroupLimit(db: Database, group: string, l: GroupLimit): Promise<void> {
  const now = Date.now();
  await retryConflicts(() =>
    db.query(
      `INSERT INTO bolt_groups (group_key, concurrency, rate_per_second, updated_at) VALUES (?, ?, ?, ?) ` +
        `ON CONFLICT (group_key) DO UPDATE SET concurrency = excluded.concurrency, rate_per_second = excluded.rate_per_second, updated_at = excluded.updated_at ` +
        `RETURNING group_key`,
      [group, l.concurrency ?? null, l.ratePerSecond ?? null, now],
    ),
  );
}

/** Removes the limits of `group` (BOLT_NOT_FOUND when it has none). */
export async function deleteGroupLimit(db: Database, group: string): Promise<void> {
  const r = await retryConflicts(() => db.execute('DELETE FROM bolt_groups WHERE group_key = ?', [group]));
  if (r.rowsChanged === 0) throw new NotFoundError(`Group ${JSON.stringify(group)} has no limits`, { group });
}

/** Every group with limits, with how many of its tasks are running and queued now. */
export async function loadGroupLimits(db: Database): Promise<Array<{ group: string; running: number; queued: number } & GroupLimit>> {
  const rows = await db.query(
    `SELECT g.group_key, g.concurrency, g.rate_per_second, ` +
      `(SELECT count(*) FROM bolt_tasks t WHERE t.group_key = g.group_key AND t.status = 'running') AS running, ` +
      `(SELECT count(*) FROM bolt_tasks t WHERE t.group_key = g.group_key AND t.status IN ('queued', 'failed')) AS queued ` +
      `FROM bolt_groups g ORDER BY g.group_key`,
  );
  return rows.map((r) => ({
    group: String(r.group_key),
    ...(r.concurrency === null ? {} : { concurrency: Number(r.concurrency) }),
    ...(r.rate_per_second === null ? {} : { ratePerSecond: Number(r.rate_per_second) }),
    running: Number(r.running),
    queued: Number(r.queued),
  }));
}

/** The claim's filter that leaves limited groups to `claimInGroup`. */
export const NOT_LIMITED = `(group_key IS NULL OR group_key NOT IN (SELECT group_key FROM bolt_groups))`;

/** Limited groups with claimable tasks of these agents, at most `n`, in random order. */
export async function limitedGroupsWithWork(db: Queryable, agents: readonly string[], claimable: readonly string[], now: number, n = 16): Promise<string[]> {
  const rows = await db.query(
    `SELECT DISTINCT t.group_key FROM bolt_tasks t JOIN bolt_groups g ON g.group_key = t.group_key ` +
      `WHERE t.status IN (${placeholders(claimable.length)}) AND t.run_at <= ? AND t.waiting_on = 0 AND t.agent IN (${placeholders(agents.length)}) LIMIT ${Math.floor(n)}`,
    [...claimable, now, ...agents],
  );
  const groups = rows.map((r) => String(r.group_key));
  for (let i = groups.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [groups[i], groups[j]] = [groups[j]!, groups[i]!];
  }
  return groups;
}

/**
 * In a transaction: how many tasks of `group` may be claimed now (at most `want`), after taking
 * the group's row, and whether its starts are logged (it has a rate). Nothing, and `limited`
 * false, when the group has no limits (any more): the ordinary claim takes its tasks.
 *
 * The claim stamps its tasks with the returned `now`, read after the counts: every finish (or
 * start) the counts saw was stamped before it committed, so before that time; one they missed
 * still counted as running. On PostgreSQL claimers wait on the row lock, and a time read before that wait dated
 * starts before the finishes they were serialized after (recorded overlaps above the limit).
 */
export async function admitInGroup(
  tx: Queryable,
  group: string,
  want: number,
): Promise<{ allowed: number; logStarts: boolean; now: number; limited: boolean }> {
  const [g] = await tx.query(`UPDATE bolt_groups SET updated_at = updated_at WHERE group_key = ? RETURNING concurrency, rate_per_second`, [group]);
  if (!g) return { allowed: 0, logStarts: false, now: Date.now(), limited: false };
  let allowed = want;
  if (g.concurrency !== null && g.concurrency !== undefined) {
    const [r] = await tx.query(`SELECT count(*) AS n FROM bolt_tasks WHERE group_key = ? AND status = 'running'`, [group]);
    allowed = Math.min(allowed, Number(g.concurrency) - Number(r?.n ?? 0));
  }
  const logStarts = g.rate_per_second !== null && g.rate_per_second !== undefined;
  if (logStarts && allowed > 0) {
    // Pruned with a time read before the count: it keeps a start or two more, never fewer.
    const w = rateWindow(Number(g.rate_per_second));
    await tx.execute(`DELETE FROM bolt_group_starts WHERE group_key = ? AND started_at <= ?`, [group, Date.now() - w.ms]);
    const [r] = await tx.query(`SELECT count(*) AS n FROM bolt_group_starts WHERE group_key = ?`, [group]);
    allowed = Math.min(allowed, w.starts - Number(r?.n ?? 0));
  }
  return { allowed: Math.max(0, allowed), logStarts, now: Date.now(), limited: true };
}

/** In the same transaction: logs the starts just claimed in a group with a rate. */
export async function logGroupStarts(tx: Queryable, group: string, n: number, now: number): Promise<void> {
  if (n <= 0) return;
  await tx.execute(
    `INSERT INTO bolt_group_starts (group_key, started_at) VALUES ${Array.from({ length: n }, () => '(?, ?)').join(', ')}`,
    Array.from({ length: n }, () => [group, now]).flat(),
  );
}
