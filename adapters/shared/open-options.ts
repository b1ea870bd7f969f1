/**
 * Checks the options every engine's open shares, before anything is opened: a timeout that is not
 * a finite non-negative number (NaN, a string, Infinity) had made waits never end, since no
 * deadline computed from it is ever passed.
 */
import type { OpenOptions } from '../../core/database.js';
import { BadInputError } from '../../core/errors.js';

/** Throws `BOLT_BAD_INPUT` for a bad common option, or for a bad one of `extra` (engine-specific durations, ms). */
export function checkOpenOptions(o: OpenOptions, extra: Record<string, unknown> = {}): void {
  const durations: Record<string, unknown> = {
    lockTimeoutMs: o.lockTimeoutMs,
    connectionTimeoutMs: o.connectionTimeoutMs,
    idleReleaseMs: o.idleReleaseMs,
    ...extra,
  };
  for (const [name, v] of Object.entries(durations)) {
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
      throw new BadInputError(`${name} must be a non-negative number`, { [name]: v });
  }
  if (o.maxConnections !== undefined && (!Number.isInteger(o.maxConnections) || o.maxConnections < 1)) {
    throw new BadInputError('maxConnections must be a positive integer', { maxConnections: o.maxConnections });
  }
}
