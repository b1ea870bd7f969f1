/**
 * DuckDB error message → typed BoltError. DuckDB reports everything as a plain Error whose
 * message starts with the error class ("Parser Error: …", "TransactionContext Error: …").
 */
import { BoltError, LockForeignError, PermissionError, NotADatabaseError, SqlError, TxConflictError, ReadOnlyError } from '../../core/errors.js';
import { diskFullError, isDiskFull } from '../../core/disk-full.js';
import { processCommand } from '../../storage/platform/process-identity.js';

/** A foreign process holds DuckDB's own lock on the file: PID and command line when told. */
export interface ForeignHolder {
  pid?: number;
  command?: string;
}

/** Parses DuckDB's "Could not set lock on file … Conflicting lock is held in <cmd> (PID n)". */
export function parseLockConflict(message: string): ForeignHolder | undefined {
  if (!/Could not set lock on file/i.test(message)) return undefined;
  const m = /Conflicting lock is held in (.*?) \(PID (\d+)\)/s.exec(message);
  if (!m) return {};
  const pid = Number(m[2]);
  return { pid, command: processCommand(pid) ?? m[1] };
}

/** True for DuckDB's optimistic-concurrency conflict (retry the whole transaction). */
export function isConflictMessage(message: string): boolean {
  return /TransactionContext Error: .*Conflict|write-write conflict|Conflict on (update|tuple|delete)/i.test(message);
}

/**
 * True for a DuckDB FATAL error (a checkpoint that could not write its file on a full disk,
 * say): DuckDB has invalidated the database instance, and every later statement on it fails
 * until the file is opened again. Takes a raw or an already classified error. Only DuckDB's own
 * error class counts, at the start of its message: a statement's text can put "FATAL Error" or
 * "database has been invalidated" anywhere else (`SELECT error('FATAL Error')` made the host
 * close at once, interrupting every other caller).
 */
export function isFatalDuckDBError(err: unknown): boolean {
  const e = err as { message?: unknown; details?: { engineMessage?: unknown } } | undefined;
  return [e?.message, e?.details?.engineMessage].some((m) => typeof m === 'string' && /^(Failure running pending result task: )?FATAL Error: /.test(m));
}

/** Maps an error thrown by @duckdb/node-api to a BoltError (BoltErrors pass through). */
export function classifyDuckDBError(err: unknown, facts: Record<string, unknown> = {}): BoltError {
  if (err instanceof BoltError) return err;
  const message = err instanceof Error ? err.message : String(err);
  if (isDiskFull(err)) return diskFullError(err, facts);
  if (isConflictMessage(message)) {
    return new TxConflictError(`write conflict: another transaction changed the same rows; re-run the transaction (${message})`, {
      ...facts,
      engineMessage: message,
      transient: true,
    });
  }
  const holder = parseLockConflict(message);
  if (holder) {
    return new LockForeignError(
      `the database file is held by another process${holder.pid ? ` (PID ${holder.pid}: ${holder.command ?? '?'})` : ''}; close it there or wait`,
      { ...facts, ...holder, engineMessage: message },
    );
  }
  if (/Permission denied|Read-only file system/i.test(message)) return new PermissionError(message, { ...facts, engineMessage: message });
  if (/not a valid DuckDB database file|Corrupt database file|Failed to deserialize/i.test(message)) {
    return new NotADatabaseError(message, { ...facts, engineMessage: message });
  }
  if (/read-only mode|attached in read-only/i.test(message)) return new ReadOnlyError(message, { ...facts, engineMessage: message });
  return new SqlError(message, { ...facts, engineMessage: message });
}
