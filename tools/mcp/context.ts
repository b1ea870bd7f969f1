/**
 * What one MCP server's tools share: the database, whether writes are offered, and the server's
 * identity for default idempotency keys.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database, Session } from '../../core/database.js';
import { hasCode } from '../../core/errors.js';

export interface McpContext {
  readonly db: Database;
  readonly allowWrites: boolean;
  /** Random per server: the default idempotency keys of two servers (or two runs) never meet. */
  readonly instanceId: string;
  /**
   * Runs `fn` in a read-only session of its own, closed afterwards: a session pins one of the
   * host's connections (8 by default), so ten servers each keeping one would starve the rest.
   * A read in a read-only session is safe to run again: when the session or its host was lost
   * (SIGKILL, failover), `fn` runs again in a session on the new host, at most twice more.
   */
  read<T>(fn: (s: Session) => Promise<T>): Promise<T>;
}

export function createContext(db: Database, allowWrites: boolean): McpContext {
  return {
    db,
    allowWrites,
    instanceId: randomUUID(),
    async read(fn) {
      for (let attempt = 0; ; attempt++) {
        try {
          const s = await db.session({ name: 'mcp-read', readOnly: true });
          try {
            return await fn(s);
          } finally {
            await s.close().catch(() => undefined);
          }
        } catch (err) {
          if (attempt >= 2 || !hasCode(err, 'BOLT_SESSION_CLOSED', 'BOLT_SESSION_LOST', 'BOLT_HOST_UNRESPONSIVE')) throw err;
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
