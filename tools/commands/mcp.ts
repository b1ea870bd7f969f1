/**
 * `bolt mcp [--db PATH] [--allow-writes]`: a Model Context Protocol server on stdio (what
 * desktop AI clients launch) over the database, joining its Bolt host like any other client.
 * Logs go to stderr (stdout carries the protocol). Ends when the client closes stdin.
 */
import type { Command } from 'commander';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { openDatabase } from '../../storage/open-database.js';
import { DEFAULT_DATABASE } from '../../core/config.js';
import { action, EXIT } from '../cli-action.js';
import { DB_OPTION_HELP } from '../queue-session.js';
import { createMcpServer } from '../mcp/server.js';

interface McpOpts {
  db?: string;
  allowWrites?: boolean;
}

export function register(program: Command): void {
  program
    .command('mcp')
    .description('serve the database to AI clients over the Model Context Protocol (stdio): query, describe, and execute with --allow-writes')
    .option('--db <path>', DB_OPTION_HELP)
    .option('--allow-writes', 'also offer the execute tool (writes, applied once per idempotency key)')
    .action(
      action(async (o: McpOpts) => {
        const db = await openDatabase(o.db ?? DEFAULT_DATABASE);
        const mcp = createMcpServer({ db, allowWrites: o.allowWrites === true });
        try {
          const transport = new StdioServerTransport();
          const closed = new Promise<void>((resolve) => {
            transport.onclose = () => resolve();
            process.stdin.once('end', () => resolve());
          });
          await mcp.server.connect(transport);
          await closed;
          return EXIT.ok;
        } finally {
          await mcp.close().catch(() => undefined);
          await db.close();
        }
      }),
    );
}
