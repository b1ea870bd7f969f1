/**
 * Maps `pg` errors (SQLSTATE codes, pool and socket errors) to typed `BoltError`s. Serialization
 * failures and deadlocks are marked `transient` (re-run the whole transaction); lost
 * connections too (reads and idempotent writes may be retried).
 */
import {
  BoltError,
  ClosedError,
  HostUnreachableError,
  NotFoundError,
  PermissionError,
  PoolTimeoutError,
  ReadOnlyError,
  SqlError,
  TxConflictError,
} from '../../core/errors.js';
import { diskFullError, isDiskFull } from '../../core/disk-full.js';

/** What the caller was doing, for messages (never credentials). */
export interface PgErrorContext {
  location: string;
  sql?: string;
  session?: string;
  holders?: Array<{ session: string; heldMs: number }>;
  max?: number;
}

const CONNECTION_LOST = new Set(['57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);
const SOCKET_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND']);

/** A BoltError for anything `pg` threw. */
export function classifyPgError(err: unknown, ctx: PgErrorContext): BoltError {
  if (err instanceof BoltError) return err;
  const e = err as Error & { code?: string; detail?: string; hint?: string; constraint?: string; table?: string };
  const code = e?.code;
  const base: Record<string, unknown> = { location: ctx.location, ...(code ? { sqlstate: code } : {}), ...(ctx.session ? { session: ctx.session } : {}) };
  if (ctx.sql) base.sql = ctx.sql.slice(0, 200);
  const msg = e?.message ?? String(err);
  if (code === '40001' || code === '40P01') {
    const what = code === '40001' ? 'could not serialize access (concurrent update)' : 'deadlock detected';
    return new TxConflictError(`PostgreSQL ${what}: re-run the whole transaction`, { ...base, detail: e.detail, transient: true });
  }
  if (isDiskFull(e)) return diskFullError(e, base);
  // 25001 with this message: a statement tried to make a read-only transaction read-write.
  if (code === '25001' && /read-write mode/.test(e.message))
    return new ReadOnlyError(`read-only: a read-only transaction cannot become read-write (${e.message})`, base);
  if (code === '25006')
    return new ReadOnlyError(`${ctx.session ? `Session "${ctx.session}"` : 'This database handle'} is read-only: the statement is not a read`, base);
  if (code === '57014') return new SqlError(`PostgreSQL cancelled the statement (statement_timeout or cancel request): ${msg}`, { ...base, timeout: true });
  if (code === '3D000' || code === '3F000') return new NotFoundError(`PostgreSQL: ${msg}`, base);
  if (code === '28P01' || code === '28000' || code === '42501') return new PermissionError(`PostgreSQL refused: ${msg}`, base);
  if ((code && CONNECTION_LOST.has(code)) || (code && SOCKET_CODES.has(code)) || /Connection terminated|Client has encountered a connection error/i.test(msg)) {
    return new ClosedError(`Lost the connection to PostgreSQL at ${ctx.location}: ${msg}`, { ...base, transient: true, connectionLost: true, reason: msg });
  }
  if (/timeout exceeded when trying to connect/i.test(msg)) {
    const holders = ctx.holders ?? [];
    return new PoolTimeoutError(
      `No PostgreSQL connection free in time (pool of ${ctx.max ?? '?'}, held by ${holders.map((h) => `"${h.session}" for ${h.heldMs} ms`).join(', ') || 'nobody in this process'}). Close sessions you no longer use, or raise maxConnections`,
      { ...base, holders },
    );
  }
  if (!(code && /^[0-9A-Z]{5}$/.test(code)) && /\bSSL\b|\bTLS\b|certificate/i.test(msg)) {
    return new HostUnreachableError(
      `Cannot set up a TLS connection to PostgreSQL at ${ctx.location}: ${msg}. Check sslmode and the certificate settings in the URL`,
      { ...base, tls: true },
    );
  }
  if (code && /^[0-9A-Z]{5}$/.test(code)) {
    return new SqlError(`PostgreSQL: ${msg}`, { ...base, ...(e.detail ? { detail: e.detail } : {}), ...(e.constraint ? { constraint: e.constraint } : {}) });
  }
  return new SqlError(`PostgreSQL client error: ${msg}`, base);
}
