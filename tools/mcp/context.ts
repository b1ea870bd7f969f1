/**
 * What one MCP server's tools share: the database, whether writes are offered, and the server's
 * identity for default idempotency keys.
 */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { Database, Row } from '../../core/database.js';
import { hasCode } from '../../core/errors.js';
import { Fifo } from '../../core/fifo.js';

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
  read(sql: string, params: readonly unknown[], signal?: AbortSignal): Promise<Row[]>;
}

/**
 * At most this many `query` statements of one `bolt mcp` process run at once (the others
 * wait their turn): a statement holds one of its host's connections (8 by default) until it
 * finishes, so one process's clients cannot take them all.
 */
export const READS_AT_ONCE = 4;
let reading = 0;
const waiting = new Fifo<() => void>();

async function readSlot<T>(fn: () => Promise<T>): Promise<T> {
  if (reading < READS_AT_ONCE) reading++;
  else await new Promise<void>((resolve) => waiting.push(resolve));
  try {
    return await fn();
  } finally {
    // The slot passes straight to the next waiter, so no newcomer slips in between.
    const next = waiting.shift();
    if (next) next();
    else reading--;
  }
}

export function createContext(db: Database, allowWrites: boolean): McpContext {
  return {
    db,
    allowWrites,
    instanceId: randomUUID(),
    async read(sql, params, signal) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await readSlot(() => db.query(sql, params, { readOnly: true, signal }));
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
  .refine((k) => !k.startsWith('auto:'), "keys starting with auto: are Bolt's own")
  .optional()
  .describe('a retried call with the same key is applied once; default: the MCP session and request ids');
