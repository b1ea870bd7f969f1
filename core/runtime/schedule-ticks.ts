/**
 * Which ticks of a schedule are due, and which of them were missed while no runtime ran
 * (pure: no database, no clock of its own).
 *
 * A tick is *on time* when some runtime was up at its moment (from `watchedSince`, the start of
 * the unbroken stretch of runtimes that reaches now): it is submitted, however late the
 * runtimes are in getting to it. A tick before that is *missed*, and the schedule's catch-up
 * policy decides: 'none' skips them, 'last' submits only the newest, 'all' submits them all
 * (at most `MAX_CATCH_UP`, the newest).
 */
import type { Cron } from 'croner';
import { MAX_CATCH_UP, type Schedule } from './schedules.js';

/** Most ticks of one schedule submitted in one pass (the rest are found on the next). */
export const MAX_TICKS_PER_PASS = 1000;

/** What to do for one schedule now. */
export interface TickPlan {
  /** Tick times to submit, oldest first. */
  fire: number[];
  /** Missed ticks the policy left out (at least this many; counted up to the bound). */
  skipped: number;
  /** The newest tick handled (fired or skipped): the schedule's new `lastTick`; undefined when none. */
  handledUpTo?: number;
}

/** A runtime's stretch of being up: from `startedAt` to its last sign of life. */
export interface UpStretch {
  startedAt: number;
  /** Its last heartbeat plus the slack a heartbeat may be late by. */
  upUntil: number;
}

/**
 * The start of the unbroken stretch during which runtimes were up that reaches `ownStart` (this
 * runtime's start): earlier runtimes whose stretches overlap it (directly or through others)
 * extend it backwards.
 */
export function watchedSince(ownStart: number, others: readonly UpStretch[]): number {
  let since = ownStart;
  for (let changed = true; changed;) {
    changed = false;
    for (const o of others) {
      if (o.startedAt < since && o.upUntil >= since) {
        since = o.startedAt;
        changed = true;
      }
    }
  }
  return since;
}

/** The newest tick strictly before `before` (null when none). */
export function tickBefore(cron: Cron, before: number): number | null {
  const t = cron.previousRuns(1, new Date(before))[0]?.getTime();
  return t !== undefined && t < before ? t : null;
}

/** The ticks of `s` to submit at `now`, given that runtimes were up from `since` on. */
export function planTicks(s: Schedule, cron: Cron, now: number, since: number): TickPlan {
  const last = s.lastTick;
  const fire: number[] = [];
  let skipped = 0;
  let handledUpTo: number | undefined;
  if (last < since) {
    // Missed: after the last handled tick and before runtimes were up again. One extra tick is
    // asked for to know whether the policy leaves some out.
    const want = s.catchUp === 'all' ? MAX_CATCH_UP + 1 : 2;
    const missed = cron
      .previousRuns(want, new Date(since))
      .map((d) => d.getTime())
      .filter((t) => t > last && t < since)
      .reverse();
    if (missed.length) {
      handledUpTo = missed[missed.length - 1];
      const keep = s.catchUp === 'all' ? MAX_CATCH_UP : s.catchUp === 'last' ? 1 : 0;
      const kept = keep ? missed.slice(-keep) : [];
      skipped = missed.length - kept.length;
      fire.push(...kept);
    }
  }
  // On time: from `since` (or after the last handled tick) up to now.
  let next = cron.nextRun(new Date(last < since ? since - 1 : last));
  while (next && next.getTime() <= now && fire.length < MAX_TICKS_PER_PASS) {
    fire.push(next.getTime());
    handledUpTo = next.getTime();
    next = cron.nextRun(next);
  }
  return { fire, skipped, handledUpTo };
}
