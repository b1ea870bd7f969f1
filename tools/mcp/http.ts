/**
 * `bolt mcp --http`: the MCP Streamable HTTP transport (the SDK's, stateful) at `/mcp`, one MCP
 * server per client session. Who may use it follows the dashboard's rules (http-address.ts):
 * 127.0.0.1 unless told otherwise, a token required for any other address (`Authorization:
 * Bearer …`), and without a token only loopback Host headers are answered (DNS rebinding).
 * Sessions are bounded: at most MAX_SESSIONS at once, and one idle for SESSION_IDLE_MS is closed.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { Database } from '../../core/database.js';
import { log } from '../../core/logger.js';
import { toSerializedError } from '../../core/serialize-error.js';
import { bearerMatches, hostAllowed, listen, type HttpAddress } from '../http-address.js';
import { createMcpServer } from './server.js';

export const MAX_SESSIONS = 64;
export const SESSION_IDLE_MS = 10 * 60_000;

export interface McpHttpOptions {
  db: Database;
  allowWrites: boolean;
  address: HttpAddress;
  token?: string;
}

export interface McpHttpServer {
  /** `http://host:port/mcp`. */
  url: string;
  close(): Promise<void>;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  usedAt: number;
}

const logger = log('mcp-http');

/** A JSON-RPC error answer outside any session (the SDK's own shape). */
function refuse(res: ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent) return void res.end();
  res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', error: { code, message }, id: null }));
}

/** Starts listening; resolves once bound. */
export async function serveMcpHttp(o: McpHttpOptions): Promise<McpHttpServer> {
  const sessions = new Map<string, Session>();

  async function open(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (sessions.size >= MAX_SESSIONS) return refuse(res, 503, -32000, `too many MCP sessions (${MAX_SESSIONS}); close one (HTTP DELETE) first`);
    const mcp = createMcpServer({ db: o.db, allowWrites: o.allowWrites });
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => void sessions.set(id, { transport, usedAt: Date.now() }),
    });
    let closed = false;
    transport.onclose = () => {
      // Closing the MCP server closes its transport again: once is enough.
      if (closed) return;
      closed = true;
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
      void mcp.close().catch(() => undefined);
    };
    await mcp.server.connect(transport);
    await transport.handleRequest(req, res);
    // Anything but an initialize request starts no session: nothing to keep.
    if (transport.sessionId === undefined) await mcp.close();
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (!hostAllowed(req, o.address, o.token)) return refuse(res, 421, -32000, 'this server answers only to its own address');
    if (o.token !== undefined && !bearerMatches(req, o.token)) return refuse(res, 401, -32001, 'a token is required: Authorization: Bearer <token>');
    if (new URL(req.url ?? '/', 'http://mcp').pathname !== '/mcp') return refuse(res, 404, -32000, 'the MCP endpoint is /mcp');
    const id = req.headers['mcp-session-id'];
    if (id === undefined) return open(req, res);
    const s = typeof id === 'string' ? sessions.get(id) : undefined;
    if (!s) return refuse(res, 404, -32001, 'session not found (it ended or was idle too long): initialize a new one');
    s.usedAt = Date.now();
    await s.transport.handleRequest(req, res);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      logger.warn({ err: toSerializedError(err, 'BOLT_INTERNAL') }, 'MCP HTTP request failed');
      refuse(res, 500, -32603, 'internal error');
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  const sweeper = setInterval(() => {
    const idleSince = Date.now() - SESSION_IDLE_MS;
    for (const [id, s] of sessions) {
      if (s.usedAt >= idleSince) continue;
      sessions.delete(id);
      void s.transport.close().catch(() => undefined);
    }
  }, 60_000);
  sweeper.unref();

  const base = await listen(server, o.address);
  return {
    url: `${base}/mcp`,
    close: async () => {
      clearInterval(sweeper);
      await Promise.all([...sessions.values()].map((s) => s.transport.close().catch(() => undefined)));
      sessions.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
