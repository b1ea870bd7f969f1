/**
 * The SQL tools of `bolt mcp`:
 * - `query`: one statement that only reads (`readOnly`: DuckDB refuses by prepared statement
 *   type, SQLite by `stmt.readonly`, PostgreSQL in a read-only transaction rolled back), rows
 *   as JSON with exact values, cut past a row or byte limit;
 * - `describe`: tables, their columns and types, row counts;
 * - `execute` (only with `--allow-writes`): one writing statement under an idempotency key (the
 *   caller's, or the MCP session and request ids), so a client that retries applies it once.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import type { EngineName } from '../../core/database.js';
import { afterLeadingComments, PG_COMMENTS, SQLITE_COMMENTS } from '../../core/sql-text.js';
import { answer, limitRows, MAX_BYTES, MAX_ROWS } from './answers.js';
import { describeTables } from './catalog.js';
import { idempotencyKey, idempotencyKeyArg, type McpContext } from './context.js';

const sql = (what: string) => z.string().min(1).max(100_000).describe(what);
const params = z
  .array(z.union([z.string(), z.number(), z.boolean(), z.null()]))
  .max(1000)
  .optional()
  .describe('values for ? placeholders, in order');

/**
 * A query as `engine` should run it: a SELECT (WITH, VALUES, TABLE, FROM-first) wrapped in
 * `LIMIT MAX_ROWS + 1`, so a huge result is never built in memory only to be cut (60 million
 * rows ran the server out of heap); other statements (EXPLAIN, SHOW, PRAGMA) as they are. The
 * first keyword is found by the engine's own comment rules: `/* /**\/-- *\/SELECT …` is a
 * nested comment and a SELECT to PostgreSQL and DuckDB, and all comment to SQLite.
 */
export function atMostRows(sql: string, engine: EngineName): string {
  if (!/^(select|with|values|table|from)\b/i.test(afterLeadingComments(sql, engine === 'sqlite' ? SQLITE_COMMENTS : PG_COMMENTS))) return sql;
  // Trailing blanks and semicolons cut by a loop: `/[\s;]+$/` tried every blank of a text from
  // there to its end (100,000 characters of spaces before a last letter: ~11 s).
  let end = sql.length;
  while (end > 0 && /[\s;]/.test(sql[end - 1]!)) end--;
  const body = sql.slice(0, end);
  // A LIMIT of its own (or the word anywhere, even in a string or comment): wrapped whole.
  // Else the LIMIT is appended, on a line of its own (after a trailing comment): cheaper to plan.
  if (/\b(limit|offset|fetch)\b/i.test(body)) return `SELECT * FROM (\n${body}\n) AS bolt_mcp_rows LIMIT ${MAX_ROWS + 1}`;
  return `${body}\nLIMIT ${MAX_ROWS + 1}`;
}

export function registerSqlTools(server: McpServer, c: McpContext): void {
  server.registerTool(
    'query',
    {
      description: `Runs one read-only SQL statement on the ${c.db.engine} database and returns its rows (at most ${MAX_ROWS} rows / ${MAX_BYTES} bytes; "truncated" says when there were more). Statements that would write are refused with BOLT_READ_ONLY.`,
      inputSchema: { sql: sql('one SQL statement that only reads'), params },
      annotations: { readOnlyHint: true },
    },
    ({ sql: text, params: p }, extra) => answer(async () => limitRows(await c.read(atMostRows(text, c.db.engine), p ?? [], extra.signal))),
  );

  server.registerTool(
    'describe',
    {
      description: 'Lists the tables with their columns, types and row counts, so SQL can be written without guessing.',
      annotations: { readOnlyHint: true },
    },
    () => answer(async () => ({ engine: c.db.engine, tables: await describeTables(c.db) })),
  );

  if (!c.allowWrites) return;
  server.registerTool(
    'execute',
    {
      description:
        'Runs one SQL statement that writes and returns how many rows it changed. Applied once per idempotency key: a retried call with the same key is not applied again.',
      inputSchema: { sql: sql('one SQL statement'), params, idempotencyKey: idempotencyKeyArg },
      annotations: { destructiveHint: true, idempotentHint: true },
    },
    ({ sql: text, params: p, idempotencyKey: key }, extra) =>
      answer(async () => {
        const r = await c.db.execute(text, p ?? [], { requestId: idempotencyKey(c, key, extra) });
        return { rowsChanged: r.rowsChanged, deduplicated: r.deduplicated === true };
      }),
  );
}
