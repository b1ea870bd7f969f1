/**
 * What one MCP server's tools share: the database, whether writes are offered, and the server's
 * identity for default idempotency keys.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database, Row } from '../../core/database.js';
import { hasCode } from '../../core/errors.js';

export interface McpContext {
  readonly db: Database;
  readonly allowWrites: boolean;
  /** Random per server: the default idempotency keys of two servers (or two runs) never meet. */
  readonly instanceId: string;
  /**
   * Runs one statement that may only read (`readOnly`: refused with BOLT_READ_ONLY otherwise,
   * as in a read-only session, without pinning one of the host's connections). A read is safe
   * to run again: when its host was lost (SIGKILL, failover), it runs again on the new host, at
   * most twice more.
   */
  read(sql: string, params: readonly unknown[]): Promise<Row[]>;
}

export function createContext(db: Database, allowWrites: boolean): McpContext {
  return {
    db,
    allowWrites,
    instanceId: randomUUID(),
    async read(sql, params) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await db.query(sql, params, { readOnly: true });
        } catch (err) {
          if (attempt >= 2 || !hasCode(err, 'BOLT_SESSION_LOST', 'BOLT_HOST_UNRESPONSIVE')) throw err;
        }
      }
    },
  };
}

/**
 * The key a write is applied once under: the caller's, else this server's MCP session (or, on
 * stdio, which has none, the server's random id) and the request id.
 */
export function idempotencyKey(c: McpContext, given: string | undefined, extra: { sessionId?: string; requestId: string | number }): string {
  return given ?? `mcp:${extra.sessionId ?? c.instanceId}:${String(extra.requestId)}`;
}

/** The `idempotencyKey` argument of the writing tools. */
export const idempotencyKeyArg = z
  .string()
  .min(1)
  .max(200)
  .optional()
  .describe('a retried call with the same key is applied once; default: the MCP session and request ids');
