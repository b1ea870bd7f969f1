/**
 * The host's Unix socket (mode 0600): decodes requests, runs them on the `Host`, replies.
 * Sessions belong to the connection that opened them: when it goes away (client exit, crash,
 * SIGKILL) their open transactions are rolled back and their connections returned. A
 * malformed or oversized frame closes that connection only.
 */
import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { BadInputError, BoltError, InternalError, ProtocolError, SessionClosedError } from '../core/errors.js';
import { log } from '../core/logger.js';
import { diskFullError, isDiskFull } from '../core/disk-full.js';
import { BOLT_VERSION } from '../core/version.js';
import type { Host } from './host.js';
import type { HostSession } from './host-session.js';
import { hostSocketPath } from './socket-path.js';
import { encodeFrame, FrameDecoder } from './wire/frame.js';
import { maxFrameBytes, type WireReply, type WireRequest } from './wire/protocol.js';

export interface HostServer {
  readonly socketPath: string;
  close(): Promise<void>;
}

let nextConnId = 1;

/** Starts serving `host` on a fresh socket; closes itself when the host closes. */
export async function startHostServer(host: Host): Promise<HostServer> {
  const socketPath = hostSocketPath(host.path);
  try {
    unlinkSync(socketPath);
  } catch {
    /* none left over */
  }
  const conns = new Set<Socket>();
  const server: Server = createServer((sock) => serveConnection(host, sock, conns));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(socketPath, () => {
      server.off('error', reject);
      resolve();
    });
  });
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
    }));
  host.once('closed', () => void close());
  return { socketPath, close };
}

function serveConnection(host: Host, sock: Socket, conns: Set<Socket>): void {
  const connId = nextConnId++;
  const logger = log('host-server', { conn: connId });
  conns.add(sock);
  sock.unref();
  host.clients++;
  host.touch();
  const sessions = new Map<number, HostSession>();
  let alive = true;
  const reply = (r: WireReply) => {
    if (!alive) return;
    try {
      sock.write(encodeFrame(r));
    } catch (err) {
      logger.warn({ err }, 'could not send a reply');
    }
  };
  const decoder = new FrameDecoder((msg) => {
    const req = msg as WireRequest;
    if (!req || typeof req !== 'object' || typeof req.id !== 'number' || typeof req.op !== 'string') {
      throw new ProtocolError('a request must be an object with a numeric id and an op');
    }
    host.touch();
    handle(host, req, sessions).then(
      (result) => reply({ id: req.id, ok: true, result }),
      (err) => reply({ id: req.id, ok: false, error: toWireError(err) }),
    );
  }, maxFrameBytes());
  sock.on('data', (chunk: Buffer) => {
    try {
      decoder.push(chunk);
    } catch (err) {
      logger.error({ err: (err as Error).message }, 'bad frame from client: closing this connection');
      sock.destroy();
    }
  });
  sock.on('error', (err) => logger.debug({ err: err.message }, 'client connection error'));
  sock.on('close', () => {
    alive = false;
    conns.delete(sock);
    host.clients--;
    host.touch();
    for (const s of sessions.values()) void s.close();
    sessions.clear();
    host.armIdle();
  });
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

async function handle(host: Host, req: WireRequest, sessions: Map<number, HostSession>): Promise<unknown> {
  const stmtOpts = {
    requestId: typeof req.requestId === 'string' ? req.requestId : undefined,
    autoId: req.autoId === true,
    resent: req.resent === true,
    unlogged: req.unlogged === true,
    readOnly: req.readOnly === true,
    caller: typeof req.caller === 'string' ? req.caller : 'client',
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
      return host.info();
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
      const s = await host.openSession((req.options as object) ?? {}, typeof req.connectionTimeoutMs === 'number' ? req.connectionTimeoutMs : undefined);
      sessions.set(s.id, s);
      return { sid: s.id, name: s.name, readOnly: s.readOnly };
    }
    case 'session.query':
      return session().query(str(req.sql, 'sql'), params(req.params));
    case 'session.execute':
      return session().execute(str(req.sql, 'sql'), params(req.params), { requestId: stmtOpts.requestId });
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
