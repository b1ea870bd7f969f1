/**
 * One request to a Bolt host over its Unix socket: connect, send one frame, await the
 * matching reply, close. For tools (`bolt db info`, `bolt db fix`, probes) that need a single
 * answer, not a long-lived client. Never hangs: every step is bounded by `timeoutMs`.
 */
import { connect } from 'node:net';
import { encodeFrame, FrameDecoder } from './frame.js';
import { CONNECTION_ERROR_ID, type WireStats } from './protocol.js';
import { MAX_TIMER_MS } from '../../../core/config.js';
import {
  BoltError,
  HostUnreachableError,
  HostUnresponsiveError,
  PermissionError,
  ProtocolError,
  errorFromJSON,
  type SerializedError,
} from '../../../core/errors.js';

/** Options of {@link oneShotRequest}. */
export interface OneShotOptions {
  /** Bound on connect + reply, in ms (default 2000; beyond a timer's longest wait, that wait). */
  timeoutMs?: number;
}

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: SerializedError };

/**
 * Sends `{ id: 1, op, ...args }` to the host listening on `socketPath` and resolves with the
 * reply's `result`. Rejects with:
 * - `HostUnreachableError` (BOLT_HOST_UNREACHABLE) when the socket file is missing or nobody listens on it;
 * - `HostUnresponsiveError` (BOLT_HOST_UNRESPONSIVE) when no reply arrives within `timeoutMs`;
 * - `PermissionError` when the socket may not be opened;
 * - `ProtocolError` on a malformed reply or a connection closed before the reply;
 * - the host's own typed error when it answers `ok: false` (`HostBusyError`, BOLT_HOST_BUSY,
 *   when it is at its connection limit and its probe reserve is full too).
 */
export function oneShotRequest<T = unknown>(socketPath: string, op: string, args: Record<string, unknown> = {}, opts: OneShotOptions = {}): Promise<T> {
  // A longer timer would fire after 1 ms (Node), calling a healthy host unresponsive at once.
  const timeoutMs = Math.min(opts.timeoutMs ?? 2000, MAX_TIMER_MS);
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const sock = connect({ path: socketPath });
    const finish = (err: BoltError | undefined, value?: unknown): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      sock.destroy();
      if (err) reject(err);
      else resolve(value as T);
    };
    const timer = setTimeout(
      () =>
        finish(
          new HostUnresponsiveError(`the Bolt host at ${socketPath} did not answer '${op}' within ${timeoutMs} ms`, { socket: socketPath, op, timeoutMs }),
        ),
      timeoutMs,
    );
    const decoder = new FrameDecoder((msg) => {
      const reply = msg as Partial<Reply> | null;
      // A failure with id 0 is the host's word on the whole connection (BOLT_HOST_BUSY): it
      // answers this request too.
      const ours = reply?.id === 1 || (reply?.id === CONNECTION_ERROR_ID && reply.ok === false);
      if (!reply || typeof reply !== 'object' || !ours || typeof reply.ok !== 'boolean') {
        finish(new ProtocolError(`unexpected reply from ${socketPath}`, { socket: socketPath, op }));
      } else if (reply.ok) {
        finish(undefined, (reply as { result: unknown }).result);
      } else {
        const e = (reply as { error?: SerializedError }).error;
        finish(
          e && typeof e === 'object' && typeof e.code === 'string'
            ? errorFromJSON(e)
            : new ProtocolError(`malformed error reply from ${socketPath}`, { socket: socketPath, op }),
        );
      }
    });
    sock.on('connect', () => sock.write(encodeFrame({ id: 1, op, ...args })));
    sock.on('data', (chunk: Buffer) => {
      try {
        decoder.push(chunk);
      } catch (err) {
        finish(err instanceof BoltError ? err : new ProtocolError(String(err)));
      }
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      const details = { socket: socketPath, op, errno: err.code };
      if (err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK') {
        finish(new HostUnreachableError(`nobody listens on ${socketPath} (${err.code})`, details));
      } else if (err.code === 'EACCES' || err.code === 'EPERM') {
        finish(new PermissionError(`not allowed to connect to ${socketPath}`, details));
      } else {
        finish(new ProtocolError(`connection to ${socketPath} failed: ${err.message}`, details));
      }
    });
    sock.on('close', () => finish(new ProtocolError(`the host at ${socketPath} closed the connection before answering '${op}'`, { socket: socketPath, op })));
  });
}

/** What every host answers to `ping`. */
export interface PingResult {
  pid: number;
  startedAt: string;
  version: string;
}

/** What every host answers to `info` (see the host wire protocol). */
export interface HostInfo {
  pid: number;
  socket: string;
  startedAt: string;
  uptimeMs: number;
  version: string;
  clients: number;
  sessions: number;
  pool?: unknown;
  tables?: Array<{ name: string; rows: number | bigint }>;
  /** The socket's side: connections, held ones, unsent reply bytes, requests running/waiting, limits. */
  wire?: WireStats;
}

/** Sends `ping` to the host on `socketPath`. */
export function pingHost(socketPath: string, timeoutMs = 2000): Promise<PingResult> {
  return oneShotRequest<PingResult>(socketPath, 'ping', {}, { timeoutMs });
}

/**
 * True when something accepts connections on `socketPath`; false when the file is missing,
 * not a socket, or the connection is refused (nobody listens). Errors other than those
 * (e.g. EACCES) also answer true: we cannot prove nobody listens.
 */
export function socketHasListener(socketPath: string, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({ path: socketPath });
    const done = (v: boolean): void => {
      clearTimeout(timer);
      sock.destroy();
      resolve(v);
    };
    const timer = setTimeout(() => done(true), timeoutMs);
    sock.on('connect', () => done(true));
    sock.on('error', (err: NodeJS.ErrnoException) => done(!(err.code === 'ENOENT' || err.code === 'ECONNREFUSED' || err.code === 'ENOTSOCK')));
  });
}
