/**
 * `sleep`: waits `payload.ms` (default 100) milliseconds, reporting progress, and stops early
 * when its signal aborts. Used by tests and soak to hold an agent busy.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { AbortedError, BadInputError } from '../../core/errors.js';
import type { AgentContext, AgentTask } from '../agent-contract.js';

export const name = 'sleep';
export const description = 'waits payload.ms milliseconds (abortable)';

export async function run(task: AgentTask<{ ms?: number } | null>, ctx: AgentContext): Promise<{ sleptMs: number }> {
  const ms = task.payload?.ms ?? 100;
  if (typeof ms !== 'number' || !(ms >= 0)) throw new BadInputError(`sleep: payload.ms must be a number ≥ 0, got ${JSON.stringify(ms)}`);
  const start = Date.now();
  const steps = Math.max(1, Math.min(10, Math.floor(ms / 100)));
  try {
    for (let i = 1; i <= steps; i++) {
      await delay(ms / steps, undefined, { signal: ctx.signal });
      ctx.progress(i / steps);
    }
  } catch (e) {
    if (ctx.signal.aborted) throw new AbortedError(`sleep aborted after ${Date.now() - start} ms: ${String(ctx.signal.reason ?? 'aborted')}`);
    throw e;
  }
  return { sleptMs: Date.now() - start };
}
