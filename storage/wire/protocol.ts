/**
 * The host wire protocol on top of `frame.ts`: request `{ id, op, ...args }`, reply
 * `{ id, ok: true, result }` or `{ id, ok: false, error }`. Every host answers at least
 * `ping` and `info`; the other ops carry the `Database` calls of clients.
 */
import type { SerializedError } from '../../core/errors.js';

/** Operations a host serves. */
export type WireOp =
  | 'ping'
  | 'info'
  | 'stats'
  | 'query'
  | 'execute'
  | 'run'
  | 'insertMany'
  | 'session.open'
  | 'session.query'
  | 'session.execute'
  | 'session.begin'
  | 'session.commit'
  | 'session.rollback'
  | 'session.close'
  | 'backup'
  | 'verify';

export interface WireRequest {
  id: number;
  op: WireOp;
  [arg: string]: unknown;
}

export type WireReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: SerializedError };

/** Largest frame a host accepts from a client (env BOLT_MAX_FRAME_BYTES, default 256 MiB). */
export function maxFrameBytes(): number {
  const v = Number(process.env.BOLT_MAX_FRAME_BYTES);
  return Number.isFinite(v) && v > 0 ? v : 256 * 1024 * 1024;
}
