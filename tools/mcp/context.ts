/**
 * What one MCP server's tools share: the database, whether writes are offered, the server's
 * identity for default idempotency keys, and one read-only session for `query`, opened on first
 * use and again after its host was lost.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database, Session } from '../../core/database.js';

export interface McpContext {
  readonly db: Database;
  readonly allowWrites: boolean;
  /** Random per server: the default idempotency keys of two servers (or two runs) never meet. */
  readonly instanceId: string;
  /**
   * Runs `fn` in the read-only session. A read is safe to run again: when the session was lost
   * with its host (SIGKILL, failover), it is opened on the new host and `fn` runs once more.
   */
  read<T>(fn: (s: Session) => Promise<T>): Promise<T>;
  /** Closes the read-only session. */
  close(): Promise<void>;
}

export function createContext(db: Database, allowWrites: boolean): McpContext {
  let reader: Promise<Session> | undefined;
  const session = (): Promise<Session> => (reader ??= db.session({ name: 'mcp-read', readOnly: true, idleTimeoutMs: 0 }));
  return {
    db,
    allowWrites,
    instanceId: randomUUID(),
    async read(fn) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await fn(await session());
        } catch (err) {
          const code = (err as { code?: string }).code;
          if (attempt > 0 || (code !== 'BOLT_SESSION_CLOSED' && code !== 'BOLT_SESSION_LOST')) throw err;
          reader = undefined;
        }
      }
    },
    async close() {
      const s = await reader?.catch(() => undefined);
      reader = undefined;
      await s?.close().catch(() => undefined);
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
