/**
 * The host wire protocol on top of `frame.ts`: request `{ id, op, ...args }`, reply
 * `{ id, ok: true, result }` or `{ id, ok: false, error }`. Every host answers at least
 * `ping` and `info`; the other ops carry the `Database` calls of clients.
 *
 * A reply with id {@link CONNECTION_ERROR_ID} answers no request: it says why the host closes
 * the connection (BOLT_HOST_BUSY: at its connection limit). A client's opening `ping` carries
 * `client: true`; a host answers probes (`ping`, `info`, `stats` without it) from a reserve of
 * connections beyond its limit, so tools still reach a full host.
 */
import type { WireLimits } from '../../../core/config.js';
import type { SerializedError } from '../../../core/errors.js';

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
  | 'verify'
  | 'cancel';

export interface WireRequest {
  id: number;
  op: WireOp;
  [arg: string]: unknown;
}

/**
 * Requests a client may stop with `{ op: 'cancel', target: <their id> }`: the host interrupts
 * the statement (see `HostStatementOptions.signal`) and still replies to the request itself,
 * with BOLT_ABORTED unless it had finished. `cancel` has no reply of its own and needs no slot.
 * When a connection closes, its requests in flight are stopped the same way.
 */
export const CANCELLABLE_OPS: ReadonlySet<string> = new Set<WireOp>(['query', 'execute', 'run', 'insertMany', 'session.query', 'session.execute']);

export type WireReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: SerializedError };

/** Id of a reply that concerns the whole connection rather than one request. */
export const CONNECTION_ERROR_ID = 0;

/** Ops a probe (a one-shot tool connection) may send to a host that is at its connection limit. */
export const PROBE_OPS: ReadonlySet<string> = new Set<WireOp>(['ping', 'info', 'stats']);

/** The socket's side of the host's `info` (`info.wire`). */
export interface WireStats {
  /** Client connections served (at most `limits.maxConnections`). */
  connections: number;
  /** Probe connections open from the reserve. */
  probes: number;
  /** Connections refused with BOLT_HOST_BUSY since the host started. */
  refused: number;
  /** Connections whose reading is held until their replies drain or their requests get slots. */
  held: number;
  /** Bytes of replies written but not yet taken by their clients. */
  unsentBytes: number;
  /** Requests running. */
  running: number;
  /** Requests decoded and waiting for a slot. */
  waiting: number;
  limits: WireLimits;
}
