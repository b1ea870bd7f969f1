/**
 * The part of a running runtime that submits schedules' ticks. Every runtime runs one; they
 * need no coordination: each reads `bolt_schedules` (every second, and again when the next tick
 * comes due), submits the due ticks with their dedupe keys (so a tick two runtimes both submit
 * is one task), then moves the schedule's `last_tick` forward.
 */
import type { Cron } from 'croner';
import { log } from '../logger.js';
import type { SubmitResult } from './task.js';
import type { TaskQueue } from './task-queue.js';
import { advanceSchedule, cronOf, loadSchedules, tickKey, type Schedule } from './schedules.js';
import { planTicks, tickBefore, watchedSince } from './schedule-ticks.js';

const logger = log('schedules');

/** How often runtimes read `bolt_schedules` when no tick is due sooner, ms. */
export const SCHEDULE_POLL_MS = 1000;

export interface ScheduleFirerOptions {
  /** When this runtime started (ticks from then on are on time). */
  startedAt: number;
  /** How late another runtime's heartbeat may be while it still counts as up, ms. */
  heartbeatSlackMs: number;
  /** Called after each tick's submit (whether it created the task or found it). */
  onSubmitted(r: SubmitResult, agent: string): void;
  /** Called when a pass fails (the next pass tries again). */
  onError(e: unknown): void;
}

/**
 * Fires due ticks of every schedule in the queue's database for one runtime (`BoltIntegration`
 * starts it with the dispatcher and stops it first thing at shutdown). Failures are reported
 * through `onError` and retried on the next pass; the dedupe keys make a retried submit safe.
 */
export class ScheduleFirer {
  private timer?: NodeJS.Timeout;
  private passing?: Promise<void>;
  private stopped = false;
  private failures = 0;
  private readonly crons = new Map<string, Cron>();

  constructor(
    private readonly queue: TaskQueue,
    private readonly opts: ScheduleFirerOptions,
  ) {}

  /** Starts firing (the first pass at once). */
  start(): void {
    this.arm(0);
  }

  /** Stops firing; resolves when a pass in progress has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.passing;
  }

  private arm(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.passing = this.pass().finally(() => (this.passing = undefined));
    }, ms);
    this.timer.unref();
  }

  private cron(s: Schedule): Cron {
    const key = `${s.tz ?? ''} ${s.cron}`;
    let c = this.crons.get(key);
    if (!c) {
      c = cronOf(s.cron, s.tz);
      this.crons.set(key, c);
    }
    return c;
  }

  /** One pass over every schedule; arms the next one (at the next tick, at most a poll away). */
  private async pass(): Promise<void> {
    let wait = SCHEDULE_POLL_MS;
    try {
      const schedules = await loadSchedules(this.queue.db);
      // Read once a pass, and only when some schedule needs it.
      let since: Promise<number> | undefined;
      const watchedSince = (): Promise<number> => (since ??= this.watchedSince());
      for (const s of schedules) {
        if (this.stopped) return;
        // One schedule the queue refuses (a bad row written by hand, an agent renamed) must not
        // stop the others: it is reported and retried on the next pass.
        try {
          wait = Math.min(wait, await this.passOne(s, watchedSince));
        } catch (e) {
          if (this.failures++ % 20 === 0) this.opts.onError(e);
        }
      }
      this.failures = 0;
    } catch (e) {
      // Report the first failure and then every 20th, not one per pass while the database is away.
      if (this.failures++ % 20 === 0) this.opts.onError(e);
    } finally {
      this.arm(Math.max(5, wait));
    }
  }

  /** Fires what is due of one schedule; returns how long until its next tick. */
  private async passOne(s: Schedule, watchedSince: () => Promise<number>): Promise<number> {
    const cron = this.cron(s);
    const now = Date.now();
    // Only when a tick before this runtime's start is unhandled: were others up then?
    const early = s.lastTick < this.opts.startedAt ? tickBefore(cron, this.opts.startedAt) : null;
    const since = early !== null && early > s.lastTick ? await watchedSince() : this.opts.startedAt;
    const plan = planTicks(s, cron, now, since);
    await this.fire(s, plan.fire);
    if (plan.skipped) logger.info({ schedule: s.name, skipped: plan.skipped, policy: s.catchUp }, 'skipped ticks missed while no runtime ran');
    if (plan.handledUpTo !== undefined) await advanceSchedule(this.queue.db, s, plan.handledUpTo);
    const next = cron.nextRun(new Date(Math.max(now, plan.handledUpTo ?? s.lastTick)))?.getTime();
    return next === undefined ? SCHEDULE_POLL_MS : next - Date.now();
  }

  private async fire(s: Schedule, ticks: readonly number[]): Promise<void> {
    for (const tick of ticks) {
      const r = await this.queue.submit(s.agent, s.payload, { dedupeKey: tickKey(s.name, tick) });
      this.opts.onSubmitted(r, s.agent);
    }
  }

  /** The start of the unbroken stretch of runtimes up until this one started (see `bolt_runtimes`). */
  private async watchedSince(): Promise<number> {
    const rows = await this.queue.runtimes(Date.now());
    return watchedSince(
      this.opts.startedAt,
      rows.map((r) => ({ startedAt: r.startedAt, upUntil: r.heartbeatAt + this.opts.heartbeatSlackMs })),
    );
  }
}
