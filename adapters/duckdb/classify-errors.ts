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

/** Parses DuckDB's "IO Error: Could not set lock on file … Conflicting lock is held in <cmd> (PID n)". */
export function parseLockConflict(message: string): ForeignHolder | undefined {
  if (!/^IO Error: Could not set lock on file/.test(message)) return undefined;
  const m = /Conflicting lock is held in (.*?) \(PID (\d+)\)/s.exec(message);
  if (!m) return {};
  const pid = Number(m[2]);
  return { pid, command: processCommand(pid) ?? m[1] };
}

/**
 * DuckDB's error class, from the start of its message ("IO", "TransactionContext", "Invalid
 * Input", …), or undefined for an error that is not DuckDB's (Node's own, with an errno).
 * Only the class tells DuckDB's own conditions from a statement's text: `SELECT error('…')`,
 * a failing cast of a stored string, or a table name can put any words after it.
 */
function errorClass(message: string): string | undefined {
  return /^(?:Failure running pending result task: )?([A-Za-z ]+?) Error: /.exec(message)?.[1];
}

/**
 * True for DuckDB's optimistic-concurrency conflict (retry the whole transaction): its words right
 * after the class, not a duplicate key's value further on ("Failed to commit: PRIMARY KEY or
 * UNIQUE constraint violation: duplicate key "Conflict"" is the data's error).
 */
export function isConflictMessage(message: string): boolean {
  return /^(?:Failure running pending result task: )?TransactionContext Error: (?:Failed to commit: )?(?:Conflict on|Catalog write-write conflict|write-write conflict|Transaction conflict)/i.test(
    message,
  );
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

/**
 * Where DuckDB starts quoting the statement (`\nLINE 1: …`). Not `\n\s*LINE`: `\s` matches a
 * newline too, so a message of many newlines (`SELECT error(repeat(chr(10), 40000))`) was read
 * from each one to the end of the run, and 40,000 took 1.6 s of the thread that classifies.
 */
const LINE_QUOTE = /\n[^\S\n]*LINE \d+:/;

/** Maps an error thrown by @duckdb/node-api to a BoltError (BoltErrors pass through). */
export function classifyDuckDBError(err: unknown, facts: Record<string, unknown> = {}): BoltError {
  if (err instanceof BoltError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const cls = errorClass(message);
  // The file system's conditions are IO errors, FATAL ones (a checkpoint's) or a commit's failed
  // write, never text a statement chose; and DuckDB quotes the paths it names, which a statement
  // may have chosen too (read_csv('/tmp/No space left on device.csv')), and may end its message
  // with the statement itself ("LINE 1: …"), so those are left out.
  const fromFiles =
    cls === undefined ||
    cls === 'IO' ||
    cls === 'FATAL' ||
    /^(?:Failure running pending result task: )?TransactionContext Error: Failed to commit: Could not write /.test(message);
  const said = cls === undefined ? message : message.split(LINE_QUOTE)[0]!.replace(/"[^"]*"/g, '""');
  if (fromFiles && isDiskFull(cls === undefined ? err : said)) return diskFullError(err, facts);
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
  if (fromFiles && /Permission denied|Read-only file system/i.test(said)) return new PermissionError(message, { ...facts, engineMessage: message });
  if ((fromFiles || cls === 'Serialization') && /not a valid DuckDB database file|Corrupt database file|Failed to deserialize/i.test(said)) {
    return new NotADatabaseError(message, { ...facts, engineMessage: message });
  }
  if (/read-only mode|attached in read-only/i.test(message)) return new ReadOnlyError(message, { ...facts, engineMessage: message });
  return new SqlError(message, { ...facts, engineMessage: message });
}
