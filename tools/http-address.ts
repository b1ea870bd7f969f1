/**
 * Where Bolt's HTTP servers (the dashboard, `bolt mcp --http`) listen and who may use them:
 * `--http [host:]port` (default host 127.0.0.1), and the rule that an address other than
 * loopback needs `--http-token` (or `BOLT_HTTP_TOKEN`), since every request can then come from
 * another machine. Without a token, on loopback, the Host header must name a loopback address,
 * so a web page that reached the port through DNS rebinding is refused.
 */
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BadInputError } from '../core/errors.js';
import { httpTokenEnv } from '../core/config.js';

export interface HttpAddress {
  host: string;
  port: number;
  loopback: boolean;
}

/** Parses `7070`, `:7070`, `127.0.0.1:7070`, `0.0.0.0:7070`, `[::1]:7070`, `localhost:7070`. */
export function parseHttpAddress(text: string): HttpAddress {
  const t = text.trim();
  // A port alone, `:port`, `host:port` or `[v6]:port`; the host never swallows the port's digits.
  const m = /^\d+$/.test(t) ? [t, undefined, undefined, t] : /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d+)$/.exec(t);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new BadInputError(`--http must be [host:]port with a port from 0 to 65535, e.g. 127.0.0.1:7070 or 7070 (got ${JSON.stringify(text)})`, {
      http: text,
    });
  }
  const host = m[1] ?? (m[2] || '127.0.0.1');
  return { host, port, loopback: isLoopback(host) };
}

/** `localhost`, `::1` or 127.x.x.x (each part 0–255). */
export function isLoopback(host: string): boolean {
  if (host === 'localhost' || host === '::1') return true;
  const parts = /^127\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(host);
  return parts !== null && parts.slice(1).every((x) => Number(x) <= 255);
}

/** The token to require: the option, else BOLT_HTTP_TOKEN; refuses a non-loopback address without one. */
export function resolveToken(addr: HttpAddress, option: string | undefined, env = httpTokenEnv()): string | undefined {
  const token = option ?? env;
  if (token !== undefined && token.length < 16) throw new BadInputError('--http-token must be at least 16 characters');
  if (!addr.loopback && token === undefined) {
    throw new BadInputError(
      `--http ${addr.host}:${addr.port} is reachable from other machines: give --http-token <secret> (or BOLT_HTTP_TOKEN), or listen on 127.0.0.1`,
      { host: addr.host },
    );
  }
  return token;
}

/** Compares a presented token with the expected one in constant time. */
export function tokenMatches(expected: string, presented: string | undefined): boolean {
  if (presented === undefined) return false;
  const a = Buffer.from(expected);
  const b = Buffer.from(presented);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** `Authorization: Bearer <token>` carries the expected token. */
export function bearerMatches(req: IncomingMessage, token: string): boolean {
  return tokenMatches(token, /^Bearer +(.+)$/i.exec(req.headers.authorization ?? '')?.[1]);
}

/** The Host header rule: without a token on a loopback address, only loopback names are answered. */
export function hostAllowed(req: IncomingMessage, address: HttpAddress, token: string | undefined): boolean {
  if (!address.loopback || token !== undefined) return true;
  return isLoopback((req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1'));
}

/** Starts `server` listening on `address`; resolves with its base URL (`http://host:port`) once bound. */
export async function listen(server: Server, address: HttpAddress): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(address.port, address.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const a = server.address() as AddressInfo;
  return `http://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
}
