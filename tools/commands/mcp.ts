/**
 * `bolt mcp [--db PATH] [--allow-writes] [--http [host:]port [--http-token SECRET]]`: a Model
 * Context Protocol server over the database, joining its Bolt host like any other client. On
 * stdio (what desktop AI clients launch) it ends when the client closes stdin, and logs go to
 * stderr since stdout carries the protocol; with `--http` it serves the Streamable HTTP
 * transport at /mcp until Ctrl-C.
 */
import type { Command } from 'commander';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { existsSync } from 'node:fs';
import type { Database, EngineName } from '../../core/database.js';
import { BadInputError, NotFoundError } from '../../core/errors.js';
import { log } from '../../core/logger.js';
import { toSerializedError } from '../../core/serialize-error.js';
import { isUrl, openDatabase, resolveLocation } from '../../storage/open-database.js';
import { detectEngine } from '../../storage/concurrent-database.js';
import { LazyDatabase } from '../../agents/lazy-database.js';
import { DEFAULT_DATABASE } from '../../core/config.js';
import { action, EXIT, println } from '../cli-action.js';
import { DB_OPTION_HELP } from '../queue-session.js';
import { parseHttpAddress, resolveToken, type HttpAddress } from '../http-address.js';
import { createMcpServer } from '../mcp/server.js';
import { intOption } from '../int-option.js';
import { serveMcpHttp } from '../mcp/http.js';

/** How long the process may take to close once its stdio client is gone. */
const EXIT_GRACE_MS = 5_000;

interface McpOpts {
  db?: string;
  allowWrites?: boolean;
  http?: string;
  httpToken?: string;
  lockTimeout: number;
}

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

export function register(program: Command): void {
  program
    .command('mcp')
    .description(
      'serve the database to AI clients over the Model Context Protocol (stdio, or --http): query, describe, search and the task queue; writes with --allow-writes',
    )
    .option('--db <path>', DB_OPTION_HELP)
    .option('--allow-writes', 'also offer execute, submit_task and cancel_task (each applied once per idempotency key)')
    .option('--http <[host:]port>', 'serve the Streamable HTTP transport at /mcp instead of stdio (host default 127.0.0.1)')
    .option('--http-token <secret>', 'with --http: require `Authorization: Bearer <secret>` (needed for an address other than loopback; or BOLT_HTTP_TOKEN)')
    .option(
      '--lock-timeout <ms>',
      'how long a call waits for a DuckDB file another program (not Bolt) holds before answering BOLT_LOCK_FOREIGN',
      intOption('--lock-timeout', 0, 3_600_000),
      30_000,
    )
    .action(
      action(async (o: McpOpts) => {
        // The address and token are checked before the database is opened.
        const address = o.http === undefined ? undefined : parseHttpAddress(o.http);
        const token = address ? resolveToken(address, o.httpToken) : undefined;
        if (!address && o.httpToken !== undefined) throw new BadInputError('--http-token needs --http');
        // Opened on the first call, so the server starts and answers with the reason (a foreign
        // lock, a server down) while the database cannot be opened; each later call tries again.
        const location = resolveLocation(o.db ?? DEFAULT_DATABASE);
        const engine = detectEngine(location);
        const db = new LazyDatabase(engine, location, () => openForMcp(location, engine, o.allowWrites === true, o.lockTimeout));
        try {
          if (address) await serveHttp(db, o.allowWrites === true, address, token);
          else await serveStdio(db, o.allowWrites === true);
          return EXIT.ok;
        } finally {
          await db.close();
        }
      }),
    );
}
