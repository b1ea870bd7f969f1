/**
 * A client of a Bolt host over its Unix socket. Requests are multiplexed on one connection and
 * matched by id. When the connection drops, every pending request fails with
 * BOLT_HOST_UNRESPONSIVE carrying `details.lost = true` and `details.sent` (whether the
 * request had reached the socket); the `ConcurrentDatabase` handle then fails over.
 */
import { createConnection, type Socket } from 'node:net';
import type { DatabaseStats, ExecResult, Row, Session, SessionOptions, StatementOptions, Transaction, TransactionOptions } from '../../core/database.js';
import { firstRow } from '../../core/database.js';
import { unlessAborted, whenAborted } from '../../core/abortable.js';
import {
  AbortedError,
  BadInputError,
  BoltError,
  HostUnresponsiveError,
  OutcomeUnknownError,
  ProtocolError,
  hasCode,
  SessionClosedError,
  SessionLostError,
  errorFromJSON,
  type SerializedError,
} from '../../core/errors.js';
import { log } from '../../core/logger.js';
import { hostTimeoutMs, wireLimits } from '../../core/config.js';
import { DUCKDB_PARAM_RULES, checkParams, checkRows } from '../../core/parameters.js';
import type { Backend, BackupResult, HostIdentity, HostStatementOptions, StatementOutcome, VerifyResult } from './backend.js';
import { runSessionTransaction } from '../../adapters/shared/session-transaction.js';
import { encodeFrame, FrameDecoder } from './wire/frame.js';
import { CONNECTION_ERROR_ID, type WireOp, type WireReply } from './wire/protocol.js';

/** Ops that cannot have written: failed with BOLT_HOST_UNRESPONSIVE when the host hangs. */
const READ_OPS = new Set<WireOp>(['ping', 'info', 'stats', 'query', 'verify', 'session.query']);

interface Pending {
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
  op: WireOp;
}

/** Connects to the host socket and checks it answers `ping` (within `timeoutMs`). */
export async function connectClient(socketPath: string, opts: { path: string; timeoutMs?: number }): Promise<HostClient> {
  const sock = await new Promise<Socket>((resolve, reject) => {
    const s = createConnection(socketPath);
    const fail = (err: Error) => {
      s.destroy();
      reject(new HostUnresponsiveError(`cannot connect to the Bolt host at ${socketPath}: ${err.message}`, { socket: socketPath, lost: true, sent: false }));
    };
    s.once('error', fail);
    s.once('connect', () => {
      s.off('error', fail);
      resolve(s);
    });
  });
  const client = new HostClient(sock, socketPath, opts.path);
  const timeoutMs = opts.timeoutMs ?? 5_000;
  let timer: NodeJS.Timeout | undefined;
  try {
    const ping = (await Promise.race([
      // `client: true`: a host at its connection limit refuses this (BOLT_HOST_BUSY) rather
      // than answering it from the reserve it keeps for probes.
      client.request('ping', { client: true }),
      new Promise((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new HostUnresponsiveError(`the Bolt host at ${socketPath} did not answer ping within ${timeoutMs} ms`, {
                socket: socketPath,
                lost: true,
                sent: true,
              }),
            ),
          timeoutMs,
        );
      }),
    ])) as { pid: number; startedAt: string; version: string };
    client.hostIdentity = { pid: ping.pid, socket: socketPath, startedAt: ping.startedAt, version: ping.version };
  } catch (err) {
    client.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return client;
}

export class HostClient implements Backend {
  readonly role = 'client' as const;
  hostIdentity: HostIdentity = { pid: 0 };
  private nextId = 1;
  /** Largest frame either side accepts (BOLT_MAX_FRAME_BYTES). */
  private readonly maxFrameBytes = wireLimits().maxFrameBytes;
  private readonly pending = new Map<number, Pending>();
  private lostWith?: BoltError;
  private queries = 0;
  private readonly errorsByCode: Record<string, number> = {};
  private readonly onLost = new Set<() => void>();
  private watchdog?: NodeJS.Timeout;
  private lastHeard = Date.now();
  private pinging = false;

  constructor(
    private readonly sock: Socket,
    readonly socketPath: string,
    readonly path: string,
  ) {
    sock.unref();
    const decoder = new FrameDecoder((msg) => this.onReply(msg as WireReply), this.maxFrameBytes);
    sock.on('data', (chunk: Buffer) => {
      this.lastHeard = Date.now();
      try {
        decoder.push(chunk);
      } catch (err) {
        log('client').error({ err: (err as Error).message }, 'bad frame from host: dropping the connection');
        sock.destroy();
      }
    });
    sock.on('error', (err) => log('client').debug({ err: err.message }, 'host connection error'));
    sock.on('close', () => this.lose());
  }

  get isClosed(): boolean {
    return this.lostWith !== undefined;
  }

  /** Calls `fn` once when the connection is lost. */
  whenLost(fn: () => void): void {
    if (this.lostWith) fn();
    else this.onLost.add(fn);
  }

  /**
   * While requests wait, the host must show signs of life: a host busy with a long query still
   * answers pings (DuckDB runs off its event loop), a stopped or hung one does not. After
   * `hostTimeoutMs()` of silence the waiting requests fail — reads with BOLT_HOST_UNRESPONSIVE,
   * anything that may have written with BOLT_OUTCOME_UNKNOWN — and the connection is dropped.
   */
  private armWatchdog(): void {
    if (this.watchdog || this.lostWith) return;
    const limit = hostTimeoutMs();
    this.watchdog = setInterval(
      () => {
        if (this.pending.size === 0 || this.lostWith) {
          clearInterval(this.watchdog);
          this.watchdog = undefined;
          return;
        }
        const silent = Date.now() - this.lastHeard;
        if (silent > limit) return this.giveUp(silent);
        if (silent > limit / 3 && !this.pinging) {
          this.pinging = true;
          this.request('ping', {})
            .catch(() => undefined)
            .finally(() => (this.pinging = false));
        }
      },
      Math.max(50, Math.min(1000, limit / 6)),
    );
    this.watchdog.unref();
  }

  private giveUp(silentMs: number): void {
    const pid = this.hostIdentity.pid;
    const facts = { socket: this.socketPath, hostPid: pid, silentMs };
    this.lostWith = new HostUnresponsiveError(
      `the Bolt host (PID ${pid}) has not answered for ${silentMs} ms; it may be stopped or hung (see \`bolt db info\`)`,
      facts,
    );
    log('client').error(facts, 'host unresponsive: failing waiting requests');
    for (const [, p] of this.pending) {
      if (READ_OPS.has(p.op)) p.reject(this.lostWith);
      else
        p.reject(
          new OutcomeUnknownError(
            `${p.op}: the Bolt host (PID ${pid}) stopped answering while the request was in flight; whether it was applied is unknown`,
            facts,
          ),
        );
    }
    this.pending.clear();
    clearInterval(this.watchdog);
    this.watchdog = undefined;
    this.sock.destroy();
    for (const fn of this.onLost) fn();
    this.onLost.clear();
  }

  private lose(): void {
    if (this.lostWith) return;
    this.lostWith = new HostUnresponsiveError(`lost the connection to the Bolt host (PID ${this.hostIdentity.pid}) at ${this.socketPath}`, {
      socket: this.socketPath,
      hostPid: this.hostIdentity.pid,
      lost: true,
      sent: true,
    });
    for (const [, p] of this.pending) p.reject(this.lostWith);
    this.pending.clear();
    for (const fn of this.onLost) fn();
    this.onLost.clear();
  }

  private onReply(r: WireReply): void {
    if (r.id === CONNECTION_ERROR_ID) return this.refused(r);
    const p = this.pending.get(r.id);
    if (!p) return;
    this.pending.delete(r.id);
    if (this.pending.size === 0) this.sock.unref();
    if (r.ok) p.resolve(r.result);
    else p.reject(errorFromJSON(r.error as SerializedError));
  }

  /** The host closes this connection and says why (BOLT_HOST_BUSY): every waiting request fails with that. */
  private refused(r: WireReply): void {
    if (this.lostWith) return;
    const e =
      !r.ok && r.error && typeof r.error.code === 'string'
        ? errorFromJSON(r.error)
        : new ProtocolError(`unexpected reply from the Bolt host at ${this.socketPath}`, { socket: this.socketPath });
    this.lostWith = e;
    for (const [, p] of this.pending) p.reject(e);
    this.pending.clear();
    this.sock.destroy();
    for (const fn of this.onLost) fn();
    this.onLost.clear();
  }

  /** Sends one request and waits for its reply. */
  /**
   * Sends one request and waits for its reply. Parameters and rows are checked first
   * (core/parameters.ts): what cannot be bound is refused here, before anything is sent.
   */
  request(op: WireOp, args: Record<string, unknown>, signal?: AbortSignal): Promise<unknown> {
    if (signal?.aborted) return Promise.reject(new AbortedError());
    try {
      if (args.params !== undefined) checkParams(args.params, DUCKDB_PARAM_RULES);
      if (op === 'insertMany') checkRows(args.columns, args.rows, DUCKDB_PARAM_RULES);
    } catch (err) {
      return Promise.reject(err);
    }
    if (this.lostWith) {
      return Promise.reject(new HostUnresponsiveError(this.lostWith.message, { ...this.lostWith.details, sent: false }));
    }
    const id = this.nextId++;
    let frame: Buffer;
    try {
      frame = encodeFrame({ ...args, id, op });
    } catch (err) {
      return Promise.reject(err);
    }
    if (frame.length - 4 > this.maxFrameBytes) {
      // The host would close the connection on it; taken for a lost host, it would be re-sent.
      return Promise.reject(
        new BadInputError(
          `the ${op} request is ${frame.length - 4} bytes, more than a frame may hold (${this.maxFrameBytes}, BOLT_MAX_FRAME_BYTES): send it in smaller parts`,
          {
            requestBytes: frame.length - 4,
            maxFrameBytes: this.maxFrameBytes,
          },
        ),
      );
    }
    const sent = new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, op });
      this.sock.ref();
      if (this.pending.size === 1) this.lastHeard = Date.now();
      this.armWatchdog();
      this.sock.write(frame);
    });
    if (!signal) return sent;
    // The host stops it (the reply, BOLT_ABORTED unless it had finished, still comes back).
    const cancel = (): void => {
      if (this.pending.has(id) && !this.lostWith) this.sock.write(encodeFrame({ id: this.nextId++, op: 'cancel', target: id }));
    };
    return sent.finally(whenAborted(signal, cancel));
  }

  /** A statement request: its signal, if any, goes as a `cancel` when it aborts, not in the frame. */
  private statementRequest(op: 'query' | 'execute' | 'run' | 'insertMany', args: Record<string, unknown>, opts: HostStatementOptions): Promise<unknown> {
    const { signal, ...rest } = opts;
    return this.counted(this.request(op, { ...args, ...rest }, signal));
  }

  private async counted<T>(p: Promise<unknown>): Promise<T> {
    this.queries++;
    try {
      return (await p) as T;
    } catch (err) {
      const code = err instanceof BoltError ? err.code : 'BOLT_INTERNAL';
      this.errorsByCode[code] = (this.errorsByCode[code] ?? 0) + 1;
      throw err;
    }
  }

  query(sql: string, params: readonly unknown[] | undefined, opts: HostStatementOptions): Promise<Row[]> {
    return this.statementRequest('query', { sql, params }, opts) as Promise<Row[]>;
  }
  execute(sql: string, params: readonly unknown[] | undefined, opts: HostStatementOptions): Promise<ExecResult> {
    return this.statementRequest('execute', { sql, params }, opts) as Promise<ExecResult>;
  }
  run(sql: string, params: readonly unknown[] | undefined, opts: HostStatementOptions): Promise<StatementOutcome> {
    return this.statementRequest('run', { sql, params }, opts) as Promise<StatementOutcome>;
  }
  backup(dest: string): Promise<BackupResult> {
    return this.request('backup', { dest }) as Promise<BackupResult>;
  }
  verify(): Promise<VerifyResult> {
    return this.request('verify', {}) as Promise<VerifyResult>;
  }
  insertMany(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], opts: HostStatementOptions): Promise<ExecResult> {
    return this.statementRequest('insertMany', { table, columns, rows }, opts) as Promise<ExecResult>;
  }
  async openSession(opts: SessionOptions, connectionTimeoutMs?: number): Promise<Session> {
    const r = (await this.request('session.open', { options: opts, connectionTimeoutMs })) as { sid: number; name: string; readOnly: boolean };
    return new RemoteSession(this, r.sid, r.name, r.readOnly);
  }
  info(): Promise<Record<string, unknown>> {
    return this.request('info', {}) as Promise<Record<string, unknown>>;
  }
  hostStats(): Promise<DatabaseStats> {
    return this.request('stats', {}) as Promise<DatabaseStats>;
  }

  /** Client-side statistics (the pool lives on the host: see `hostStats()` / `info`). */
  stats(): DatabaseStats {
    return {
      engine: 'duckdb',
      role: 'client',
      pool: { size: 0, inUse: 0, idle: 0, waiting: 0, waitMs: { p50: 0, p95: 0, p99: 0, max: 0 }, holders: [] },
      queries: this.queries,
      errorsByCode: { ...this.errorsByCode },
      pending: this.pending.size,
    };
  }
  identity(): HostIdentity {
    return this.hostIdentity;
  }

  /** Closes the connection (the host rolls back this client's sessions). */
  destroy(): void {
    this.sock.destroy();
    this.lose();
  }
}

/**
 * A session pinned on the host, driven over the socket. A session lives on its host's
 * connection: when that host is lost, so is the session and its open transaction (the host
 * rolls it back, or it died with it). Its calls then fail with BOLT_SESSION_LOST, except a
 * write outside a transaction or a COMMIT that had reached the host: whether those were
 * applied is unknown (BOLT_OUTCOME_UNKNOWN).
 */
export class RemoteSession implements Session {
  private closed = false;
  private inTx = false;
  private lostWith?: SessionLostError;
  constructor(
    private readonly client: HostClient,
    readonly sid: number,
    readonly name: string,
    readonly readOnly: boolean,
  ) {}

  private async call<T>(op: WireOp, args: Record<string, unknown> = {}, signal?: AbortSignal): Promise<T> {
    if (this.lostWith) throw this.lostWith;
    if (this.closed) throw new SessionClosedError(`session "${this.name}" is closed`, { session: this.name });
    const inTx = this.inTx;
    try {
      return (await this.client.request(op, { ...args, sid: this.sid }, signal)) as T;
    } catch (err) {
      if (hasCode(err, 'BOLT_SESSION_LOST')) {
        // The host ended the session itself (it is closing): the transaction was rolled back.
        this.inTx = false;
        this.lostWith = err;
        throw err;
      }
      if (!hasCode(err, 'BOLT_HOST_UNRESPONSIVE', 'BOLT_OUTCOME_UNKNOWN') || !(err.details.lost === true || 'silentMs' in err.details)) throw err;
      const sent = err.requestSent;
      this.inTx = false;
      this.lostWith = new SessionLostError(
        `session "${this.name}" was lost with its Bolt host (PID ${this.client.hostIdentity.pid})${inTx ? '; its open transaction was rolled back' : ''}: open a new session and run the work again`,
        { session: this.name, hostPid: this.client.hostIdentity.pid, lost: true, sent: false },
        { cause: err },
      );
      const mayHaveWritten = sent && ((op === 'session.execute' && !inTx) || op === 'session.commit');
      if (!mayHaveWritten) throw new SessionLostError(this.lostWith.message, { ...this.lostWith.details, sent }, { cause: err });
      const what = op === 'session.commit' ? 'COMMIT; whether the transaction committed' : 'a write outside a transaction; whether it was applied';
      throw new OutcomeUnknownError(
        `session "${this.name}": the host was lost during ${what} is unknown`,
        { session: this.name, lost: true, sent: true },
        { cause: err },
      );
    }
  }
  queryOne<T extends Row = Row>(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<T | undefined> {
    return this.query<T>(sql, params, opts).then(firstRow);
  }

  query<T extends Row = Row>(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<T[]> {
    return unlessAborted(opts?.signal, () =>
      this.call('session.query', { sql, params, values: opts?.values, readOnly: opts?.readOnly === true }, opts?.signal),
    );
  }
  execute(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<ExecResult> {
    return unlessAborted(opts?.signal, () =>
      this.call('session.execute', { sql, params, requestId: opts?.requestId, readOnly: opts?.readOnly === true }, opts?.signal),
    );
  }
  async begin(): Promise<void> {
    await this.call('session.begin');
    this.inTx = true;
  }
  async commit(): Promise<void> {
    try {
      await this.call('session.commit');
    } finally {
      this.inTx = false;
    }
  }
  async rollback(): Promise<void> {
    // A lost session's transaction is gone with its host: rolled back already.
    if (this.lostWith) return;
    try {
      await this.call('session.rollback');
    } finally {
      this.inTx = false;
    }
  }
  transaction<T>(fn: (tx: Transaction) => Promise<T>, opts?: TransactionOptions): Promise<T> {
    return runSessionTransaction(this, fn, opts) as Promise<T>;
  }
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.lostWith) return;
    try {
      await this.client.request('session.close', { sid: this.sid });
    } catch {
      /* the host rolls back a lost client's sessions itself */
    }
  }
}
