/**
 * The host's Unix socket (mode 0600, in a directory private to the host's user, see
 * socket-path.ts): decodes requests, runs them on the host (`ServedHost`), replies.
 * Sessions belong to the connection that opened them: when it goes away (client exit, crash,
 * SIGKILL) their open transactions are rolled back and their connections returned. A
 * malformed or oversized frame, or one left incomplete too long, closes that connection only.
 * Each connection's flow is bounded (storage/host/connection-flow.ts), and so is the number of
 * connections: beyond `maxConnections` a reserve of probe connections may each ask one
 * `ping`/`info`/`stats`; any other connection gets a BOLT_HOST_BUSY frame and is closed.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { wireLimits, type WireLimits } from '../../core/config.js';
import { BadInputError, BoltError, HostBusyError, InternalError, ProtocolError, SessionClosedError } from '../../core/errors.js';
import { log } from '../../core/logger.js';
import { diskFullError, isDiskFull } from '../../core/disk-full.js';
import { BOLT_VERSION } from '../../core/version.js';
import { ConnectionFlow } from './connection-flow.js';
import type { ServedHost, ServedSession } from './backend.js';
import { checkValueMode, type SessionOptions } from '../../core/database.js';
import { prepareHostSocket } from '../platform/socket-path.js';
import { encodeFrame, FrameDecoder } from './wire/frame.js';
import { CANCELLABLE_OPS, CONNECTION_ERROR_ID, PROBE_OPS, type WireReply, type WireRequest, type WireStats } from './wire/protocol.js';

export interface HostServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

let nextConnId = 1;

/** Starts serving `host` on a fresh socket; closes itself when the host closes. */
export async function startHostServer(host: ServedHost): Promise<HostServer> {
  const limits = wireLimits();
  const place = prepareHostSocket(host.path);
  const socketPath = place.path;
  try {
    unlinkSync(socketPath);
  } catch {
    /* none left over */
  }
  const conns = new Set<Socket>();
  const flows = new Set<ConnectionFlow>();
  let probes = 0;
  let refused = 0;
  const wire = (): WireStats => {
    const w: WireStats = { connections: flows.size, probes, refused, held: 0, unsentBytes: 0, running: 0, waiting: 0, limits };
    for (const f of flows) {
      const s = f.snapshot();
      if (s.held) w.held++;
      w.unsentBytes += s.unsentBytes;
      w.running += s.running;
      w.waiting += s.waiting;
    }
    return w;
  };
  const server: Server = createServer((sock) => {
    conns.add(sock);
    sock.once('close', () => conns.delete(sock));
    if (flows.size < limits.maxConnections) {
      const flow = serveConnection(host, sock, limits, wire);
      flows.add(flow);
      sock.once('close', () => flows.delete(flow));
    } else if (probes < limits.connectionReserve) {
      probes++;
      sock.once('close', () => probes--);
      serveProbe(host, sock, limits, wire);
    } else {
      refused++;
      refuse(sock, limits);
    }
  });
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    place.release();
    throw err;
  }
  chmodSync(socketPath, 0o600);
  // The server must not keep the host process alive: when its own work is done it exits and
  // a client takes over (graceful handover on 'beforeExit').
  server.unref();
  server.on('error', (err) => log('host-server').error({ err, socketPath }, 'socket server error'));
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const c of conns) c.destroy();
      try {
        unlinkSync(socketPath);
      } catch {
        /* already gone */
      }
      place.release();
    }));
  host.once('closed', () => void close());
  return { socketPath, close };
}

function busyError(limits: WireLimits): HostBusyError {
  return new HostBusyError(
    `the Bolt host (PID ${process.pid}) already serves ${limits.maxConnections} connections, its limit (BOLT_HOST_MAX_CONNECTIONS); close idle handles or raise the limit`,
    { hostPid: process.pid, maxConnections: limits.maxConnections },
  );
}

let lastRefusalLog = 0;

/**
 * Tells a connection beyond every limit why, and closes it: the host half-closes at once and
 * keeps reading (dropping) what the peer sends until the peer closes too, at most 1 s, so the
 * peer's own first write does not fail (EPIPE) before it has read the refusal. Logged at most
 * once a minute.
 */
function refuse(sock: Socket, limits: WireLimits): void {
  sock.unref();
  if (Date.now() - lastRefusalLog > 60_000) {
    lastRefusalLog = Date.now();
    log('host-server').warn({ maxConnections: limits.maxConnections, reserve: limits.connectionReserve }, 'connection limit reached: refusing connections');
  }
  sock.on('error', () => undefined);
  sock.on('data', () => undefined);
  sock.end(encodeFrame({ id: CONNECTION_ERROR_ID, ok: false, error: busyError(limits).toJSON() }));
  setTimeout(() => sock.destroy(), 1_000).unref();
}

/** A probe's request is small: nothing bigger is read from a reserve connection. */
const PROBE_MAX_FRAME_BYTES = 64 * 1024;

/**
 * A connection from the reserve: its first frame must arrive within the frame timeout and be a
 * probe (`ping`, `info`, `stats`, but not a client's opening ping); it is answered (a busy
 * error for anything else) and the connection closed.
 */
function serveProbe(host: ServedHost, sock: Socket, limits: WireLimits, wire: () => WireStats): void {
  sock.unref();
  const logger = log('host-server', { conn: nextConnId++, probe: true });
  sock.on('error', (err) => logger.debug({ err: err.message }, 'probe connection error'));
  const timer = setTimeout(() => sock.destroy(), limits.frameTimeoutMs);
  timer.unref();
  sock.once('close', () => clearTimeout(timer));
  let answered = false;
  const decoder = new FrameDecoder((msg) => {
    if (answered) return;
    answered = true;
    clearTimeout(timer);
    sock.pause();
    const req = msg as WireRequest;
    if (!req || typeof req !== 'object' || typeof req.id !== 'number' || typeof req.op !== 'string') {
      throw new ProtocolError('a request must be an object with a numeric id and an op');
    }
    const probe = PROBE_OPS.has(req.op) && req.client !== true;
    void answer(host, req, { sessions: new Map(), wire }, probe ? undefined : busyError(limits)).then((reply) => {
      // Read and drop whatever else it sends, so closing leaves nothing unread.
      sock.resume();
      sock.end(encodeFrame(reply));
      setTimeout(() => sock.destroy(), 2_000).unref();
    });
  }, PROBE_MAX_FRAME_BYTES);
  sock.on('data', (chunk: Buffer) => {
    if (answered) return;
    try {
      decoder.push(chunk);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'bad frame from probe: closing this connection');
      sock.destroy();
    }
  });
}

/** Runs `req` (or refuses it with `refusal`) and builds its reply; never rejects. */
async function answer(host: ServedHost, req: WireRequest, conn: ConnectionContext, refusal?: BoltError): Promise<WireReply> {
  try {
    if (refusal) throw refusal;
    host.touch();
    return { id: req.id, ok: true, result: await handle(host, req, conn) };
  } catch (err) {
    return { id: req.id, ok: false, error: toWireError(err) };
  }
}

/** What a request may use besides the host: its connection's sessions, the socket's state. */
interface ConnectionContext {
  sessions: Map<number, ServedSession>;
  wire: () => WireStats;
  /** Aborts when the client cancels this request or goes away. */
  signal?: AbortSignal;
}

function serveConnection(host: ServedHost, sock: Socket, limits: WireLimits, wire: () => WireStats): ConnectionFlow {
  const connId = nextConnId++;
  const logger = log('host-server', { conn: connId });
  sock.unref();
  host.clientConnected();
  const sessions = new Map<number, ServedSession>();
  // The statements of this connection that may still be stopped: by request id (a client that
  // reuses an id gets all of them stopped by one cancel), and each request's own.
  const stoppable = new Map<number, Set<AbortController>>();
  const stopperOf = new WeakMap<WireRequest, AbortController>();
  const decoder = new FrameDecoder((msg, bytes) => {
    const req = msg as WireRequest;
    if (!req || typeof req !== 'object' || typeof req.id !== 'number' || typeof req.op !== 'string') {
      throw new ProtocolError('a request must be an object with a numeric id and an op');
    }
    host.touch();
    if (req.op === 'cancel') {
      flow.noteFrame();
      for (const c of stoppable.get(Number(req.target)) ?? []) c.abort();
      return;
    }
    if (CANCELLABLE_OPS.has(req.op)) {
      const c = new AbortController();
      stopperOf.set(req, c);
      const same = stoppable.get(req.id);
      if (same) same.add(c);
      else stoppable.set(req.id, new Set([c]));
    }
    flow.accept(req, bytes);
  }, limits.maxFrameBytes);
  const run = async (req: WireRequest): Promise<WireReply> => {
    const stopper = stopperOf.get(req);
    try {
      return await answer(host, req, { sessions, wire, signal: stopper?.signal });
    } finally {
      const same = stopper && stoppable.get(req.id);
      if (same) {
        same.delete(stopper);
        if (same.size === 0) stoppable.delete(req.id);
      }
    }
  };
  const flow = new ConnectionFlow(sock, decoder, limits, run, logger);
  sock.on('error', (err) => logger.debug({ err: err.message }, 'client connection error'));
  sock.on('close', () => {
    // Nobody waits for these any more: a client that vanished mid-statement frees its connections.
    for (const same of stoppable.values()) for (const c of same) c.abort();
    for (const s of sessions.values()) void s.close();
    sessions.clear();
    host.clientGone();
  });
  return flow;
}

function toWireError(err: unknown) {
  if (err instanceof BoltError) return err.toJSON();
  if (isDiskFull(err)) return diskFullError(err).toJSON();
  return new InternalError(err instanceof Error ? err.message : String(err)).toJSON();
}

function str(v: unknown, name: string): string {
  if (typeof v !== 'string') throw new BadInputError(`${name} must be a string`);
  return v;
}

function params(v: unknown): unknown[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (!Array.isArray(v)) throw new BadInputError('params must be an array');
  return v;
}

async function handle(host: ServedHost, req: WireRequest, { sessions, wire, signal }: ConnectionContext): Promise<unknown> {
  const stmtOpts = {
    signal,
    requestId: typeof req.requestId === 'string' ? req.requestId : undefined,
    autoId: req.autoId === true,
    resent: req.resent === true,
    unlogged: req.unlogged === true,
    readOnly: req.readOnly === true,
    caller: typeof req.caller === 'string' ? req.caller : 'client',
    values: checkValueMode(req.values),
  };
  const session = () => {
    const s = sessions.get(Number(req.sid));
    if (!s) throw new SessionClosedError(`no open session ${String(req.sid)} on this connection`, { sid: req.sid });
    return s;
  };
  switch (req.op) {
    case 'ping':
      return { pid: process.pid, startedAt: host.startedAt.toISOString(), version: BOLT_VERSION };
    case 'info':
      return { ...(await host.info()), wire: wire() };
    case 'stats':
      return host.stats();
    case 'query':
      return host.query(str(req.sql, 'sql'), params(req.params), stmtOpts);
    case 'execute':
      return host.execute(str(req.sql, 'sql'), params(req.params), stmtOpts);
    case 'run':
      return host.run(str(req.sql, 'sql'), params(req.params), stmtOpts);
    case 'insertMany':
      return host.insertMany(str(req.table, 'table'), (req.columns as string[]) ?? [], req.rows as unknown[][], stmtOpts);
    case 'session.open': {
      const s = await host.openSession((req.options ?? {}) as SessionOptions, (req.connectionTimeoutMs ?? undefined) as number | undefined);
      sessions.set(s.id, s);
      return { sid: s.id, name: s.name, readOnly: s.readOnly };
    }
    case 'session.query':
      return session().query(str(req.sql, 'sql'), params(req.params), { values: stmtOpts.values, readOnly: stmtOpts.readOnly, signal });
    case 'session.execute':
      return session().execute(str(req.sql, 'sql'), params(req.params), { requestId: stmtOpts.requestId, readOnly: stmtOpts.readOnly, signal });
    case 'session.begin':
      return session().begin();
    case 'session.commit':
      return session().commit();
    case 'session.rollback':
      return session().rollback();
    case 'session.close': {
      const s = sessions.get(Number(req.sid));
      sessions.delete(Number(req.sid));
      await s?.close();
      return null;
    }
    case 'backup':
      return host.backup(str(req.dest, 'dest'));
    case 'verify':
      return host.verify();
    default:
      throw new BadInputError(`unknown op ${String(req.op)}`);
  }
}
