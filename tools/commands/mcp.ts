/**
 * `bolt mcp [--db PATH] [--allow-writes] [--http [host:]port [--http-token SECRET]]`: a Model
 * Context Protocol server over the database, joining its Bolt host like any other client. On
 * stdio (what desktop AI clients launch) it ends when the client closes stdin, and logs go to
 * stderr since stdout carries the protocol; with `--http` it serves the Streamable HTTP
 * transport at /mcp until Ctrl-C.
 */
import type { Command } from 'commander';
import { BadInputError } from '../../core/errors.js';
import { resolveLocation } from '../../storage/open-database.js';
import { detectEngine } from '../../storage/concurrent-database.js';
import { DEFAULT_DATABASE } from '../../core/config.js';
import { action } from '../cli-action.js';
import { DB_OPTION_HELP } from '../queue-session.js';
import { parseHttpAddress, resolveToken } from '../http-address.js';
import { intOption } from '../int-option.js';

interface McpOpts {
  db?: string;
  allowWrites?: boolean;
  http?: string;
  httpToken?: string;
  lockTimeout: number;
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
        const location = resolveLocation(o.db ?? DEFAULT_DATABASE);
        const engine = detectEngine(location);
        const { runMcp } = await import('../mcp/serve.js');
        return runMcp({ location, engine, allowWrites: o.allowWrites === true, lockTimeoutMs: o.lockTimeout, address, token });
      }),
    );
}
