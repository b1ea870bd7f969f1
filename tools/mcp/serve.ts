/**
 * What `bolt mcp` runs once its options are checked: the database opened on the first call,
 * served over stdio or Streamable HTTP. Kept apart from the command's registration so that
 * other commands (and `--help`) do not load the MCP SDK.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { existsSync } from 'node:fs';
import type { Database, EngineName } from '../../core/database.js';
import { NotFoundError } from '../../core/errors.js';
import { log } from '../../core/logger.js';
import { toSerializedError } from '../../core/serialize-error.js';
import { isUrl, openDatabase } from '../../storage/open-database.js';
import { LazyDatabase } from '../../agents/lazy-database.js';
import { EXIT, println } from '../cli-action.js';
import type { HttpAddress } from '../http-address.js';
import { createMcpServer } from './server.js';
import { serveMcpHttp } from './http.js';

/** How long the process may take to close once its stdio client is gone. */
const EXIT_GRACE_MS = 5_000;

/**
 * Without --allow-writes nothing is created: a file must exist, and SQLite and PostgreSQL are
 * opened read-only (PostgreSQL would otherwise create its request log). A DuckDB file is opened
 * read-write all the same: this process may become the file's host, and a read-only host would
 * refuse every other process's writes; its tools read with `readOnly` statements instead.
 */
async function openForMcp(location: string, engine: EngineName, allowWrites: boolean, lockTimeoutMs: number): Promise<Database> {
  if (!allowWrites && !isUrl(location) && !existsSync(location)) {
    throw new NotFoundError(`No database at ${location}: without --allow-writes, bolt mcp does not create one`, { path: location });
  }
  return openDatabase(location, { lockTimeoutMs, ...(!allowWrites && engine !== 'duckdb' ? { readOnly: true } : {}) });
}

async function serveStdio(db: Database, allowWrites: boolean): Promise<void> {
  const mcp = createMcpServer({ db, allowWrites });
  try {
    const transport = new StdioServerTransport();
    // A message the transport cannot read (over the SDK's 10 MiB) closes it: say why, on stderr.
    transport.onerror = (err) => log('mcp').error({ err: toSerializedError(err, 'BOLT_PROTOCOL') }, 'MCP stdio transport error');
    const closed = new Promise<void>((resolve) => {
      transport.onclose = () => resolve();
      process.stdin.once('end', () => resolve());
    });
    await mcp.server.connect(transport);
    await closed;
    // The client is gone: a statement still running (which no one will read) must not keep
    // this process, and the file it may host, alive. Closing normally ends it sooner.
    setTimeout(() => process.exit(process.exitCode ?? EXIT.ok), EXIT_GRACE_MS).unref();
  } finally {
    await mcp.close().catch(() => undefined);
  }
}

async function serveHttp(db: Database, allowWrites: boolean, address: HttpAddress, token: string | undefined): Promise<void> {
  const server = await serveMcpHttp({ db, allowWrites, address, token });
  println(`mcp: ${server.url} on ${db.location}${allowWrites ? ' (writes allowed)' : ''}; Ctrl-C stops`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await server.close();
}

/** What `bolt mcp` was asked for, its options checked. */
export interface McpRun {
  location: string;
  engine: EngineName;
  allowWrites: boolean;
  lockTimeoutMs: number;
  /** Streamable HTTP at this address; stdio when absent. */
  address?: HttpAddress;
  token?: string;
}

/** Serves until the stdio client leaves or, over HTTP, until SIGINT/SIGTERM; returns the exit code. */
export async function runMcp(r: McpRun): Promise<number> {
  // Opened on the first call, so the server starts and answers with the reason (a foreign
  // lock, a server down) while the database cannot be opened; each later call tries again.
  const db = new LazyDatabase(r.engine, r.location, () => openForMcp(r.location, r.engine, r.allowWrites, r.lockTimeoutMs));
  try {
    if (r.address) await serveHttp(db, r.allowWrites, r.address, r.token);
    else await serveStdio(db, r.allowWrites);
    return EXIT.ok;
  } finally {
    await db.close();
  }
}
