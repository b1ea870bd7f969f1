/**
 * A caller's request id (`StatementOptions.requestId`, `TransactionOptions.requestId`) is the key
 * under which a write is recorded once: it must be a non-empty string. Anything else is refused
 * before the write runs: an object id became "[object Object]", so every later write with any
 * object id was silently skipped as "already applied"; a number failed inside the lookup with
 * BOLT_SQL; an empty string meant no id at all.
 */
import { BadInputError } from './errors.js';

/**
 * Longest request id accepted, in characters. Ids are stored in the request log and looked up
 * by every re-send; a UUID with a prefix needs ~50.
 */
export const MAX_REQUEST_ID_LENGTH = 1024;

/** Throws BOLT_BAD_INPUT unless `id` is undefined or a non-empty string of at most MAX_REQUEST_ID_LENGTH characters. */
export function checkRequestId(id: unknown): asserts id is string | undefined {
  if (id === undefined) return;
  if (typeof id !== 'string' || id === '') {
    throw new BadInputError(`requestId must be a non-empty string, got ${typeof id === 'string' ? 'an empty string' : typeof id}`, {
      requestIdType: typeof id,
    });
  }
  if (id.length > MAX_REQUEST_ID_LENGTH) {
    throw new BadInputError(`requestId is ${id.length} characters long; at most ${MAX_REQUEST_ID_LENGTH} are accepted`, { length: id.length });
  }
}
