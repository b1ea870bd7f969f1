/**
 * `bolt mcp`: a Model Context Protocol server (the official SDK) over one Bolt database, so
 * every AI client on the machine shares one DuckDB file through Bolt's host instead of
 * fighting over its lock. Its tools and resources:
 * - `query`, `describe`, and `execute` with writes allowed (sql-tools.ts);
 * - `search` over the files `bolt index` indexed (search-tool.ts);
 * - `task_status`, `list_tasks`, and `submit_task`, `cancel_task` with writes allowed
 *   (queue-tools.ts);
 * - `bolt://schema` and `bolt://types` (resources.ts).
 * Without writes allowed no tool changes the database. Failures come back as tool errors with
 * Bolt's code and message, never a stack trace, and the server keeps serving (answers.ts).
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Database } from '../../core/database.js';
import { BOLT_VERSION } from '../../core/version.js';
import { createContext } from './context.js';
import { registerQueueTools } from './queue-tools.js';
import { registerResources } from './resources.js';
import { registerSearchTool } from './search-tool.js';
import { registerSqlTools } from './sql-tools.js';

export { MAX_BYTES, MAX_ROWS } from './answers.js';

export interface McpOptions {
  db: Database;
  /** Offer `execute`, `submit_task` and `cancel_task`. */
  allowWrites: boolean;
}

/** One server (one client connection); the caller connects a transport, and calls `close` at the end. */
export function createMcpServer(o: McpOptions): { server: McpServer; close(): Promise<void> } {
  const server = new McpServer({ name: 'bolt', version: BOLT_VERSION });
  const context = createContext(o.db, o.allowWrites);
  registerSqlTools(server, context);
  registerSearchTool(server, context);
  registerQueueTools(server, context);
  registerResources(server, context);
  return {
    server,
    close: () => server.close(),
  };
}
