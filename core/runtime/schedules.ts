/**
 * Schedules: cron expressions that submit tasks to the durable queue, stored in
 * `bolt_schedules` in the shared database (one row per name). This file holds the definition,
 * its validation and its storage; `schedule-ticks.ts` says which ticks are due and
 * `schedule-firer.ts` submits them from running runtimes.
 *
 * Exactly once: a tick is submitted with the dedupe key `schedule:<name>@<tick as ISO time>`,
 * so however many runtimes fire it, one task exists per tick. `last_tick` (the newest tick
 * handled) only moves forward, and a runtime moves it only after submitting, so a runtime that
 * dies in between leaves the tick to the next one (whose submit then finds the key).
 */
import { Cron } from 'croner';
import type { Database, Row } from '../database.js';
import { BadInputError, NotFoundError } from '../errors.js';
import { checkJsonPayload, retryConflicts, toJsonText } from './queue-sql.js';
import { checkAgentName } from './submit-checks.js';
import { json } from './task.js';

/** What to do with ticks that came due while no runtime ran (see `docs/runtime.md`). */
export type CatchUp = 'none' | 'last' | 'all';
/** Every catch-up policy. */
export const CATCH_UP_POLICIES: readonly CatchUp[] = ['none', 'last', 'all'];
/** `catchUp: 'all'` submits at most this many missed ticks (the newest); older ones are skipped. */
export const MAX_CATCH_UP = 100;
/** Largest payload of a schedule, as JSON text. */
export const MAX_SCHEDULE_PAYLOAD_BYTES = 1024 * 1024;

const SCHEDULE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;

/** What `setSchedule` takes. */
export interface ScheduleSpec {
  /**
   * A cron expression of 5, 6 or 7 fields (croner's syntax): `[seconds] minutes hours
   * day-of-month month day-of-week [year]`; e.g. `* * * * * *` every second, `0 9 * * 1-5`
   * weekdays at 9:00.
   */
  cron: string;
  /** The agent that runs each tick's task. */
  agent: string;
  /** Each tick's task payload (any JSON value; default null). */
  payload?: unknown;
  /** IANA time zone the expression is read in (e.g. `Europe/Berlin`); default UTC. */
  tz?: string;
  /** Ticks missed while no runtime ran: 'none', 'last' (default) or 'all' (at most `MAX_CATCH_UP`). */
  catchUp?: CatchUp;
}

/** A stored schedule. Times are epoch milliseconds. */
export interface Schedule {
  name: string;
  cron: string;
  agent: string;
  payload: unknown;
  /** Null: UTC. */
  tz: string | null;
  catchUp: CatchUp;
  /** The newest tick handled (submitted or skipped); when set or replaced, that moment. */
  lastTick: number;
  createdAt: number;
  /** When it was last set (replacing a schedule resets `lastTick` to this). */
  updatedAt: number;
}

/** Whether `s` names a catch-up policy. */
export function isCatchUp(s: string): s is CatchUp {
  return (CATCH_UP_POLICIES as readonly string[]).includes(s);
}

/**
 * The zone's IANA name as the time zone data spells it (`europe/berlin` → `Europe/Berlin`), or
 * BOLT_BAD_INPUT for a zone this machine does not know.
 */
export function canonicalZone(tz: string): string {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    throw new BadInputError(`Unknown time zone ${JSON.stringify(tz)}: use an IANA name such as Europe/Berlin or UTC`, { tz });
  }
}

/** The croner job for an expression and zone (paused: Bolt only asks it for run times). */
export function cronOf(cron: string, tz: string | null): Cron {
  return new Cron(cron, { paused: true, timezone: tz ?? 'UTC' });
}

/**
 * `s` with its next tick from `now` (`nextRun`, epoch ms; null when it never fires again), or, for
 * a row no runtime can fire (written by hand, or naming a zone this machine's time zone data does
 * not know), `problem` saying why.
 */
export function withNextRun(s: Schedule, now = Date.now()): Schedule & { nextRun: number | null; problem?: string } {
  try {
    return {
      ...s,
      nextRun:
        cronOf(s.cron, s.tz)
          .nextRun(new Date(Math.max(now, s.lastTick)))
          ?.getTime() ?? null,
    };
  } catch (e) {
    return { ...s, nextRun: null, problem: (e as Error).message };
  }
}

/** The dedupe key of one tick's task. */
export function tickKey(name: string, tick: number): string {
  return `schedule:${name}@${new Date(tick).toISOString()}`;
}

/** Throws BOLT_BAD_INPUT unless `name` is a schedule name (see SCHEDULE_NAME). */
export function checkScheduleName(name: unknown): string {
  if (typeof name !== 'string' || !SCHEDULE_NAME.test(name)) {
    const shown = typeof name !== 'string' ? `(${typeof name})` : name.length > 40 ? `${name.slice(0, 40)}… (${name.length} characters)` : JSON.stringify(name);
    throw new BadInputError(`Invalid schedule name ${shown}: 1 to 100 letters, digits, _ . : - (starting with a letter or digit)`, {
      name: String(name).slice(0, 100),
    });
  }
  return name;
}

/** Checks a schedule before anything is stored; returns its payload as JSON text. */
export function validateSchedule(name: string, spec: ScheduleSpec): string {
  checkScheduleName(name);
  if (typeof spec !== 'object' || spec === null) throw new BadInputError('A schedule needs { cron, agent }');
  checkAgentName(spec.agent);
  const catchUp = spec.catchUp ?? 'last';
  if (!isCatchUp(catchUp)) throw new BadInputError(`Unknown catch-up policy ${JSON.stringify(catchUp)}; one of ${CATCH_UP_POLICIES.join(', ')}`, { catchUp });
  if (spec.tz !== undefined) canonicalZone(spec.tz);
  if (typeof spec.cron !== 'string') throw new BadInputError('cron must be a string', { cron: spec.cron });
  let next: Date | null;
  try {
    next = cronOf(spec.cron, spec.tz ?? null).nextRun();
  } catch (e) {
    throw new BadInputError(`Invalid cron expression ${JSON.stringify(spec.cron)}: ${(e as Error).message}`, { cron: spec.cron });
  }
  if (!next) throw new BadInputError(`The cron expression ${JSON.stringify(spec.cron)} never fires from now on`, { cron: spec.cron });
  // The checks every submit makes (depth, JSON), so no stored schedule is refused at each tick.
  checkJsonPayload(spec.payload, 'the payload');
  const payload = toJsonText(spec.payload ?? null);
  if (payload === undefined || payload === null) throw new BadInputError('The payload is not JSON (a function or symbol)');
  if (Buffer.byteLength(payload) > MAX_SCHEDULE_PAYLOAD_BYTES) {
    throw new BadInputError(`The payload is ${Buffer.byteLength(payload)} bytes as JSON; at most ${MAX_SCHEDULE_PAYLOAD_BYTES}`);
  }
  return payload;
}

function rowToSchedule(r: Row): Schedule {
  const catchUp = String(r.catch_up);
  return {
    name: String(r.name),
    cron: String(r.cron),
    agent: String(r.agent),
    payload: json(r.payload),
    tz: r.tz === null || r.tz === undefined ? null : String(r.tz),
    catchUp: isCatchUp(catchUp) ? catchUp : 'last',
    lastTick: Number(r.last_tick),
    createdAt: Number(r.created_at),
    updatedAt: Number(r.updated_at),
  };
}

/** A cron expression with its fields one space apart (tabs and runs of spaces were stored as typed and broke the tables). */
function canonicalCron(cron: string): string {
  return cron.trim().split(/\s+/).join(' ');
}

/**
 * Stores a schedule, replacing one of the same name (its anchor, `lastTick`, becomes now: the
 * first tick submitted is the first one after this call). The caller validated it.
 */
export async function storeSchedule(db: Database, name: string, spec: ScheduleSpec, payloadJson: string): Promise<Schedule> {
  const now = Date.now();
  const rows = await retryConflicts(() =>
    db.query(
      `INSERT INTO bolt_schedules (name, cron, tz, agent, payload, catch_up, last_tick, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ` +
        `ON CONFLICT (name) DO UPDATE SET cron = excluded.cron, tz = excluded.tz, agent = excluded.agent, payload = excluded.payload, ` +
        `catch_up = excluded.catch_up, last_tick = excluded.last_tick, updated_at = excluded.updated_at RETURNING *`,
      [name, canonicalCron(spec.cron), spec.tz === undefined ? null : canonicalZone(spec.tz), spec.agent, payloadJson, spec.catchUp ?? 'last', now, now, now],
    ),
  );
  return rowToSchedule(rows[0]!);
}

/** Deletes a schedule; `BOLT_NOT_FOUND` when there is none of that name. */
export async function deleteSchedule(db: Database, name: string): Promise<void> {
  const r = await retryConflicts(() => db.execute('DELETE FROM bolt_schedules WHERE name = ?', [name]));
  if (r.rowsChanged === 0) throw new NotFoundError(`No schedule named ${JSON.stringify(name)}`, { name });
}

/** Every schedule, by name. */
export async function loadSchedules(db: Database): Promise<Schedule[]> {
  return (await db.query('SELECT * FROM bolt_schedules ORDER BY name')).map(rowToSchedule);
}

/**
 * Records that `s`'s ticks up to `tick` were handled. Only forward, and only while the schedule
 * is the one that was read (not replaced since): false when nothing changed. With `RETURNING`,
 * like `storeSchedule`'s upsert: on DuckDB (`bolt_schedules` is indexed by its primary key) an
 * UPDATE without it, racing a replacement, reported success and was lost
 * (docs/concurrent-database.md).
 */
export async function advanceSchedule(db: Database, s: Schedule, tick: number): Promise<boolean> {
  const rows = await retryConflicts(() =>
    db.query('UPDATE bolt_schedules SET last_tick = ? WHERE name = ? AND updated_at = ? AND last_tick < ? RETURNING name', [tick, s.name, s.updatedAt, tick]),
  );
  return rows.length > 0;
}
