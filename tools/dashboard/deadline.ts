/**
 * A bound on how long the dashboard waits for the database: a host that stopped answering must
 * not hold a status read or a Prometheus scrape for the 15–35 s its own timeouts take.
 */
import { AbortedError } from '../../core/errors.js';

/** How long the dashboard waits for the database before it reports it unreachable. */
export const READ_DEADLINE_MS = 3_000;

/** `p`, or a BOLT_ABORTED error after `ms` (the statement itself may still finish). */
export function withDeadline<T>(p: Promise<T>, ms = READ_DEADLINE_MS): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new AbortedError(`the database did not answer within ${ms} ms`, { waitedMs: ms })), ms);
    timer.unref();
  });
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}
