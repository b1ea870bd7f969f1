/**
 * `bolt mcp`: a Model Context Protocol server (the official SDK, stdio transport) over one
 * Bolt database, so every AI client on the machine shares one DuckDB file through Bolt's host
 * instead of fighting over its lock. Tools:
 * - `query`: one statement that only reads, run in a read-only session (DuckDB refuses by
 *   statement type, SQLite by `stmt.readonly` and `query_only`, PostgreSQL in a read-only
 *   transaction), rows as JSON with exact values, truncated past a row or byte limit;
 * - `describe`: tables, their columns and types, row counts;
 * - `execute` (only with `--allow-writes`): one writing statement under an idempotency key (the
 *   caller's, or the MCP session and request ids), so a client that retries applies it once.
 * Failures come back as tool errors with Bolt's code and message, never a stack trace.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import type { Database, Session } from '../../core/database.js';
import { toSerializedError } from '../../core/serialize-error.js';
import { BOLT_VERSION } from '../../core/version.js';
import { jsonSafe } from '../format-rows.js';

/** Rows and bytes a `query` answer holds before it is cut (the cut is said in the answer). */
export const MAX_ROWS = 1_000;
export const MAX_BYTES = 512 * 1024;

export interface McpOptions {
  db: Database;
  allowWrites: boolean;
}

const params = z
  .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .max(1000)
  .optional()
  .describe('values for ? placeholders, in order');

function ok(value: unknown): CallToolResult {
  const structured = jsonSafe(value) as Record<string, unknown>;
  return { content: [{ type: 'text', text: JSON.stringify(structured) }], structuredContent: structured };
}

function failed(err: unknown): CallToolResult {
  const e = toSerializedError(err, 'BOLT_INTERNAL');
  return { isError: true, content: [{ type: 'text', text: `[${e.code}] ${e.message}` }], structuredContent: { error: { code: e.code, message: e.message } } };
}

/** Cuts rows past MAX_ROWS or MAX_BYTES of JSON. */
function limitRows(rows: readonly Record<string, unknown>[]): { rows: unknown[]; truncated: boolean; totalRows: number } {
  const out: unknown[] = [];
  let bytes = 2;
  for (const r of rows) {
    const safe = jsonSafe(r);
    bytes += JSON.stringify(safe).length + 1;
    if (out.length >= MAX_ROWS || bytes > MAX_BYTES) return { rows: out, truncated: true, totalRows: rows.length };
    out.push(safe);
  }
  return { rows: out, truncated: false, totalRows: rows.length };
}

/** Builds the server; the caller connects a transport and closes `reader` at the end. */
export function createMcpServer(o: McpOptions): { server: McpServer; close(): Promise<void> } {
  const server = new McpServer({ name: 'bolt', version: BOLT_VERSION });
  let reader: Promise<Session> | undefined;
  const readOnly = (): Promise<Session> => (reader ??= o.db.session({ name: 'mcp-read', readOnly: true, idleTimeoutMs: 0 }));

  server.registerTool(
    'query',
    {
      description: `Runs one read-only SQL statement on the ${o.db.engine} database and returns its rows (at most ${MAX_ROWS} rows / ${MAX_BYTES} bytes; "truncated" says when more existed). Statements that would write are refused with BOLT_READ_ONLY.`,
      inputSchema: { sql: z.string().min(1).max(100_000).describe('one SQL statement that only reads'), params },
    },
    async ({ sql, params: p }) => {
      // A read is safe to run again: when the read-only session was lost with its host (a
      // failover), it is opened again on the new host once.
      for (let attempt = 0; ; attempt++) {
        try {
          const s = await readOnly();
          return ok(limitRows(await s.query(sql, p ?? [])));
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (code !== 'BOLT_SESSION_CLOSED' && code !== 'BOLT_SESSION_LOST') return failed(err);
          reader = undefined;
          if (attempt > 0) return failed(err);
        }
      }
    },
  );

  server.registerTool(
    'describe',
    { description: 'Lists the tables with their columns, types and row counts, so SQL can be written without guessing.' },
    async () => {
      try {
        return ok({ engine: o.db.engine, tables: await describeTables(o.db) });
      } catch (err) {
        return failed(err);
      }
    },
  );

  if (o.allowWrites) {
    server.registerTool(
      'execute',
      {
        description:
          'Runs one SQL statement that writes and returns the rows it changed. Applied once per idempotency key: a retried call with the same key is not applied again.',
        inputSchema: {
          sql: z.string().min(1).max(100_000).describe('one SQL statement'),
          params,
          idempotencyKey: z.string().min(1).max(200).optional().describe('defaults to the MCP session and request ids'),
        },
      },
      async ({ sql, params: p, idempotencyKey }, extra) => {
        try {
          const key = idempotencyKey ?? `mcp:${extra.sessionId ?? process.pid}:${String(extra.requestId)}`;
          const r = await o.db.execute(sql, p ?? [], { requestId: key });
          return ok({ rowsChanged: r.rowsChanged, deduplicated: r.deduplicated === true });
        } catch (err) {
          return failed(err);
        }
      },
    );
  }

  return {
    server,
    close: async () => {
      const s = await reader?.catch(() => undefined);
      await s?.close().catch(() => undefined);
      await server.close();
    },
  };
}

/** Tables, columns and row counts in the engine's own catalog. */
async function describeTables(db: Database): Promise<Array<{ name: string; rows: number; columns: Array<{ name: string; type: string }> }>> {
  const sql =
    db.engine === 'sqlite'
      ? "SELECT m.name AS table_name, p.name AS column_name, p.type AS data_type FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid"
      : db.engine === 'postgres'
        ? 'SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position'
        : "SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = 'main' ORDER BY table_name, ordinal_position";
  const rows = await db.query(sql);
  const tables = new Map<string, Array<{ name: string; type: string }>>();
  for (const r of rows) {
    const t = String(r.table_name);
    if (!tables.has(t)) tables.set(t, []);
    tables.get(t)!.push({ name: String(r.column_name), type: String(r.data_type) });
  }
  const out = [];
  for (const [name, columns] of tables) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) continue;
    const [c] = await db.query(`SELECT COUNT(*) AS n FROM "${name}"`);
    out.push({ name, rows: Number(c?.n ?? 0), columns });
  }
  return out;
}
