/**
 * What a task must satisfy before anything touches the database: the agent's name, options
 * within what every engine stores (INTEGER columns are 32-bit on PostgreSQL and DuckDB; a timer
 * waits at most 2^31 − 1 ms), a well-formed group and dependency list, and a payload JSON can
 * hold. The queue checks every submit with it; the command line checks before it opens (or
 * creates) the database.
 */
import { AGENT_NAME, AGENT_NAME_RULE } from '../agent-name.js';
import { MAX_TIMER_MS } from '../config.js';
import { BadInputError } from '../errors.js';
import { checkGroupKey } from './group-limits.js';
import { checkJsonPayload, isStorableText, SQL_INT_MAX } from './queue-sql.js';
import { checkDependsOn } from './task-dependencies.js';
import type { SubmitOptions } from './task.js';

/** The longest `delayMs`: ten years. */
export const MAX_DELAY_MS = 10 * 365.25 * 24 * 3600 * 1000;
/** The longest dedupe key, in characters. */
const MAX_DEDUPE_KEY = 500;

/** Throws BOLT_BAD_INPUT unless `agent` is an agent name: 1–100 of letters, digits, _ . : - */
export function checkAgentName(agent: unknown): string {
  if (typeof agent !== 'string' || !AGENT_NAME.test(agent)) {
    const shown =
      typeof agent !== 'string'
        ? `(${typeof agent})`
        : agent.length > 40
          ? `${JSON.stringify(agent.slice(0, 40))}… (${agent.length} characters)`
          : JSON.stringify(agent);
    throw new BadInputError(`Invalid agent name ${shown}: ${AGENT_NAME_RULE}`, {
      agent: String(agent).slice(0, 100),
    });
  }
  return agent;
}

/** Throws BOLT_BAD_INPUT unless `v` (named `name`) is undefined or an integer in [min, max]. */
function checkIntOption(name: string, v: unknown, min: number, max: number): void {
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new BadInputError(`${name} must be a whole number from ${min} to ${max}, got ${String(v)}`, { [name]: v });
  }
}

/** Throws BOLT_BAD_INPUT unless `id` is a task id: a positive safe integer (`cancel(true)` cancelled task 1). */
export function checkTaskId(id: unknown): number {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
    throw new BadInputError(`A task id is a positive whole number, got ${typeof id === 'number' ? String(id) : typeof id}`, { id: String(id).slice(0, 40) });
  }
  return id;
}

/** Checks the agent and options of a task to submit; returns the ids it depends on (each once). */
export function checkSubmitOptions(agent: string, o: SubmitOptions): number[] {
  checkAgentName(agent);
  if (o === null || typeof o !== 'object') throw new BadInputError('submit options must be an object');
  checkIntOption('priority', o.priority, -SQL_INT_MAX, SQL_INT_MAX);
  checkIntOption('maxAttempts', o.maxAttempts, 1, SQL_INT_MAX);
  checkIntOption('timeoutMs', o.timeoutMs, 1, MAX_TIMER_MS);
  checkIntOption('delayMs', o.delayMs, 0, MAX_DELAY_MS);
  if (
    o.dedupeKey !== undefined &&
    (typeof o.dedupeKey !== 'string' || o.dedupeKey.length === 0 || o.dedupeKey.length > MAX_DEDUPE_KEY || !isStorableText(o.dedupeKey))
  ) {
    throw new BadInputError(`dedupeKey must be a string of 1 to ${MAX_DEDUPE_KEY} characters, without NUL or a lone UTF-16 surrogate`, {
      dedupeKey: typeof o.dedupeKey === 'string' ? o.dedupeKey.slice(0, 100) : typeof o.dedupeKey,
    });
  }
  if (o.group !== undefined) checkGroupKey(o.group);
  return o.dependsOn === undefined ? [] : checkDependsOn(o.dependsOn);
}

/** Checks a whole task to submit (options and payload); returns the ids it depends on. */
export function checkSubmit(agent: string, payload: unknown, o: SubmitOptions): number[] {
  const ids = checkSubmitOptions(agent, o);
  checkJsonPayload(payload, 'the payload');
  return ids;
}
