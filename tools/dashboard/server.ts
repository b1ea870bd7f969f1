/**
 * The dashboard's HTTP server (node:http): the page (`GET /`, one static bundle, no CDN),
 * Prometheus metrics (`GET /metrics`), the JSON API the page uses (`/api/…`, docs/runtime.md)
 * and a server-sent event stream of the status (`GET /api/events`, once a second).
 *
 * Who may use it: on a loopback address without a token, any local client (the Host header
 * must name the address, so a web page reached through DNS rebinding is refused); with a token,
 * every request needs it (`Authorization: Bearer …`, or the `bolt_token` cookie that
 * `/?token=…` sets). Requests that change the queue are POSTs with a JSON body, and their
 * Origin, when a browser sends one, must be this server. A failing request is a JSON error
 * with Bolt's code; the server keeps serving.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { BoltError, BadInputError, NotFoundError } from '../../core/errors.js';
import { toSerializedError } from '../../core/serialize-error.js';
import { log } from '../../core/logger.js';
import { isTaskStatus, TERMINAL, type TaskStatus } from '../../core/runtime/task-states.js';
import { jsonSafe } from '../format-rows.js';
import { bearerMatches, hostAllowed, listen, tokenMatches, type HttpAddress } from '../http-address.js';
import type { DashboardMetrics, MetricsSource } from './metrics.js';
import { PAGE_CSS, PAGE_HTML, PAGE_JS } from './page.js';
import type { StatusReader } from './status.js';
import { withDeadline } from './deadline.js';

export interface DashboardServerOptions extends MetricsSource {
  address: HttpAddress;
  token?: string;
  metrics: DashboardMetrics;
  status: StatusReader;
}

export interface DashboardServer {
  /** `http://host:port`, with the port actually bound. */
  url: string;
  close(): Promise<void>;
}

const MAX_BODY = 16 * 1024;
const STATUS_EVERY_MS = 1000;

/** Starts listening; resolves once bound. */
export async function startDashboard(o: DashboardServerOptions): Promise<DashboardServer> {
  const status = o.status;
  const streams = new Set<ServerResponse>();
  const server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => sendError(res, err));
  });
  // A request Node cannot parse (oversized headers, a bad method) gets an answer, then the socket closes.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable) return void socket.destroy();
    socket.end(`HTTP/1.1 ${err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request'}\r\nConnection: close\r\n\r\n`);
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://dashboard');
    } catch {
      throw new BadInputError('malformed request target');
    }
    if (!hostAllowed(req, o.address, o.token)) return send(res, 421, 'text/plain', 'this server answers only to its own address\n');
    if (o.token !== undefined && url.pathname === '/' && url.searchParams.has('token')) {
      // The browser's way in: a cookie for the rest, and the token off the address bar.
      if (!tokenMatches(o.token, url.searchParams.get('token') ?? undefined)) return send(res, 401, 'text/plain', 'wrong token\n');
      res.setHeader('Set-Cookie', `bolt_token=${encodeURIComponent(o.token)}; HttpOnly; SameSite=Strict; Path=/`);
      res.writeHead(303, { Location: '/' }).end();
      return;
    }
    if (o.token !== undefined && !authorized(req, o.token)) {
      return send(
        res,
        401,
        'application/json',
        JSON.stringify({ error: { code: 'BOLT_UNAUTHORIZED', message: 'a token is required (Authorization: Bearer, or open /?token=…)' } }),
      );
    }
    if (req.method === 'POST') return post(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD, POST');
      return send(res, 405, 'text/plain', 'method not allowed\n');
    }
    switch (url.pathname) {
      case '/':
        return send(res, 200, 'text/html; charset=utf-8', PAGE_HTML);
      case '/app.js':
        return send(res, 200, 'text/javascript; charset=utf-8', PAGE_JS);
      case '/app.css':
        return send(res, 200, 'text/css; charset=utf-8', PAGE_CSS);
      case '/metrics': {
        const m = await o.metrics.render();
        return send(res, 200, m.contentType, m.body);
      }
      case '/api/status':
        return sendJson(res, await status.read());
      case '/api/tasks':
        return sendJson(res, await withDeadline(listTasks(url)));
      case '/api/events':
        if (req.method === 'HEAD') return send(res, 200, 'text/event-stream', '');
        return openStream(res);
    }
    const m = /^\/api\/tasks\/(\d{1,15})$/.exec(url.pathname);
    if (m) return sendJson(res, jsonSafe(await withDeadline(o.queue.get(Number(m[1])))));
    throw new NotFoundError(`no such page: ${url.pathname}`);
  }

  async function post(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${req.headers.host}`) {
      return send(res, 403, 'application/json', JSON.stringify({ error: { code: 'BOLT_FORBIDDEN', message: `cross-origin request from ${origin} refused` } }));
    }
    if (
      String(req.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase() !== 'application/json'
    ) {
      throw new BadInputError('POST bodies are JSON (Content-Type: application/json)');
    }
    const body = await readJson(req);
    const m = /^\/api\/tasks\/(\d{1,15})\/(cancel|retry)$/.exec(url.pathname);
    if (m) {
      const id = Number(m[1]);
      const task = m[2] === 'cancel' ? (o.runtime ? await o.runtime.cancel(id) : (await o.queue.cancel(id)).task) : await o.queue.retry(id);
      return sendJson(res, jsonSafe(task));
    }
    if (url.pathname === '/api/purge') {
      const olderThanMs = body.olderThanMs ?? 0;
      if (typeof olderThanMs !== 'number' || !(olderThanMs >= 0)) throw new BadInputError('olderThanMs must be a number ≥ 0');
      const { deleted, kept } = await o.queue.purge(olderThanMs, TERMINAL);
      return sendJson(res, { purged: deleted, kept });
    }
    throw new NotFoundError(`no such action: ${url.pathname}`);
  }

  async function listTasks(url: URL): Promise<unknown> {
    const s = url.searchParams.get('status') || undefined;
    if (s !== undefined && !isTaskStatus(s)) throw new BadInputError(`unknown status ${JSON.stringify(s)}`);
    const agent = url.searchParams.get('agent') || undefined;
    const text = url.searchParams.get('q') || undefined;
    if (text !== undefined && text.length > 200) throw new BadInputError('q is at most 200 characters');
    const limit = Math.min(500, Math.max(1, Math.floor(Number(url.searchParams.get('limit') ?? 100)) || 100));
    const tasks = await o.queue.list({ status: s as TaskStatus | undefined, agent, text, limit });
    return { tasks: tasks.map((t) => jsonSafe(t)) };
  }

  function openStream(res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', Connection: 'keep-alive' });
    res.write('retry: 2000\n\n');
    streams.add(res);
    res.on('close', () => streams.delete(res));
  }

  const ticker = setInterval(() => {
    if (streams.size === 0) return;
    void status.read().then(
      (s) => {
        const frame = `event: status\ndata: ${JSON.stringify(s)}\n\n`;
        // A client that does not read keeps what is already buffered: its frames are skipped.
        for (const r of streams) if (!r.writableNeedDrain) r.write(frame);
      },
      (err: unknown) => log('dashboard').warn({ err: toSerializedError(err, 'BOLT_INTERNAL') }, 'status for the event stream failed'),
    );
  }, STATUS_EVERY_MS);
  ticker.unref();

  const base = await listen(server, o.address);
  return {
    url: base,
    close: async () => {
      clearInterval(ticker);
      for (const r of streams) r.end();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function authorized(req: IncomingMessage, token: string): boolean {
  if (bearerMatches(req, token)) return true;
  // Every bolt_token cookie counts (another app on this host may set one too); a malformed one is no token.
  for (const m of (req.headers.cookie ?? '').matchAll(/(?:^|;\s*)bolt_token=([^;]*)/g)) {
    let value: string;
    try {
      value = decodeURIComponent(m[1]!);
    } catch {
      continue;
    }
    if (tokenMatches(token, value)) return true;
  }
  return false;
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new BadInputError(`request body over ${MAX_BODY} bytes`);
    chunks.push(c as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (!text) return {};
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new BadInputError('the request body is not JSON');
  }
  if (v === null || typeof v !== 'object' || Array.isArray(v)) throw new BadInputError('the request body must be a JSON object');
  return v as Record<string, unknown>;
}

function send(res: ServerResponse, code: number, type: string, body: string): void {
  res.writeHead(code, {
    'Content-Type': type,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'",
    'Referrer-Policy': 'no-referrer',
  });
  res.end(body);
}

function sendJson(res: ServerResponse, value: unknown): void {
  send(res, 200, 'application/json', JSON.stringify(value));
}

function sendError(res: ServerResponse, err: unknown): void {
  const e = toSerializedError(err, 'BOLT_INTERNAL');
  const code = err instanceof NotFoundError ? 404 : err instanceof BadInputError ? 400 : err instanceof BoltError ? 409 : 500;
  if (res.headersSent) {
    res.end();
    return;
  }
  send(res, code, 'application/json', JSON.stringify({ error: { code: e.code, message: e.message } }));
}
