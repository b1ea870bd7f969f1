/**
 * Typed errors. Every failure a user can meet is a `BoltError` subclass with a stable
 * `code`, a message that says what happened and what to do, and the facts in `details`.
 * Codes are part of the public API: never rename one.
 */

/** Stable error codes. */
export type BoltErrorCode =
  | 'BOLT_BAD_INPUT'
  | 'BOLT_NOT_FOUND'
  | 'BOLT_NOT_A_DATABASE'
  | 'BOLT_PERMISSION'
  | 'BOLT_LOCK_FOREIGN'
  | 'BOLT_LOCK_TIMEOUT'
  | 'BOLT_POOL_TIMEOUT'
  | 'BOLT_TX_CONFLICT'
  | 'BOLT_TX_TIMEOUT'
  | 'BOLT_SESSION_TIMEOUT'
  | 'BOLT_SESSION_CLOSED'
  | 'BOLT_HOST_UNRESPONSIVE'
  | 'BOLT_HOST_UNREACHABLE'
  | 'BOLT_OUTCOME_UNKNOWN'
  | 'BOLT_READ_ONLY'
  | 'BOLT_SQL'
  | 'BOLT_PROTOCOL'
  | 'BOLT_CLOSED'
  | 'BOLT_ABORTED'
  | 'BOLT_TASK'
  | 'BOLT_AGENT'
  | 'BOLT_EMBEDDER'
  | 'BOLT_DISK_FULL'
  | 'BOLT_HOST_UNTRUSTED'
  | 'BOLT_SESSION_LOST'
  | 'BOLT_HOST_BUSY'
  | 'BOLT_INTERNAL';

/** Base class of every error Bolt throws on purpose. */
export class BoltError extends Error {
  readonly code: BoltErrorCode;
  readonly details: Record<string, unknown>;

  /** `options.cause`: the error this one comes from (kept on `err.cause`, not sent over the wire). */
  constructor(code: BoltErrorCode, message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }

  /**
   * Re-running the whole transaction (or the one statement) may succeed: a write conflict, a
   * deadlock, a busy database, a lost PostgreSQL connection. The engines' classifiers mark it
   * (`details.transient`, which crosses the wire); false once Bolt's own re-runs are spent.
   */
  get transient(): boolean {
    return this.details.transient === true;
  }

  /**
   * The DuckDB host this request went to is gone or closing (BOLT_HOST_UNRESPONSIVE or
   * BOLT_SESSION_LOST with `details.lost`, BOLT_CLOSED with `details.hostClosing`): a handle
   * finds the new host, and re-sends what may be re-sent.
   */
  get hostLost(): boolean {
    return (
      ((this.code === 'BOLT_HOST_UNRESPONSIVE' || this.code === 'BOLT_SESSION_LOST') && this.details.lost === true) ||
      (this.code === 'BOLT_CLOSED' && this.details.hostClosing === true)
    );
  }

  /** For a lost host: false when the request certainly never reached it (so it was not applied). */
  get requestSent(): boolean {
    return this.details.sent !== false;
  }

  /** A plain object that survives `v8.serialize` and JSON. */
  toJSON(): SerializedError {
    return { name: this.name, code: this.code, message: this.message, details: this.details };
  }
}

/** The wire/JSON form of an error. */
export interface SerializedError {
  name: string;
  code: BoltErrorCode;
  message: string;
  details: Record<string, unknown>;
}

export class BadInputError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_BAD_INPUT', message, details, options);
  }
}
export class NotFoundError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_NOT_FOUND', message, details, options);
  }
}
export class NotADatabaseError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_NOT_A_DATABASE', message, details, options);
  }
}
export class PermissionError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_PERMISSION', message, details, options);
  }
}
/** The database file is held by a process that is not a Bolt host. */
export class LockForeignError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_LOCK_FOREIGN', message, details, options);
  }
}
export class LockTimeoutError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_LOCK_TIMEOUT', message, details, options);
  }
}
export class PoolTimeoutError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_POOL_TIMEOUT', message, details, options);
  }
}
/** Two transactions touched the same rows; re-run the whole transaction. */
export class TxConflictError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_TX_CONFLICT', message, details, options);
  }
}
export class TxTimeoutError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_TX_TIMEOUT', message, details, options);
  }
}
export class SessionTimeoutError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_SESSION_TIMEOUT', message, details, options);
  }
}
export class SessionClosedError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_SESSION_CLOSED', message, details, options);
  }
}
export class HostUnresponsiveError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_HOST_UNRESPONSIVE', message, details, options);
  }
}
/** Nobody listens on a Bolt host's socket (missing socket file or connection refused). */
export class HostUnreachableError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_HOST_UNREACHABLE', message, details, options);
  }
}
/** A write was sent but whether it was applied cannot be known. */
export class OutcomeUnknownError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_OUTCOME_UNKNOWN', message, details, options);
  }
}
/**
 * COMMIT of a transaction in which a statement had failed: PostgreSQL and DuckDB then roll the
 * whole transaction back (SQLite keeps what the other statements did).
 */
export function rolledBackAtCommit(): SqlError {
  return new SqlError('the transaction was rolled back, not committed: one of its statements had failed; nothing of it was applied', {
    rolledBack: true,
  });
}

export class ReadOnlyError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_READ_ONLY', message, details, options);
  }
}
/** The engine rejected a statement (syntax, missing table, constraint…). */
export class SqlError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_SQL', message, details, options);
  }
}
export class ProtocolError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_PROTOCOL', message, details, options);
  }
}
export class ClosedError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_CLOSED', message, details, options);
  }
}
export class AbortedError extends BoltError {
  constructor(message = 'The operation was aborted', details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_ABORTED', message, details, options);
  }
}
export class TaskError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_TASK', message, details, options);
  }
}
export class AgentError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_AGENT', message, details, options);
  }
}
export class EmbedderError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_EMBEDDER', message, details, options);
  }
}
/** The file system has no room left (ENOSPC, EDQUOT, DuckDB's "No space left on device"). */
export class DiskFullError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_DISK_FULL', message, details, options);
  }
}
/**
 * The process serving a host socket could not be verified as the Bolt host of the file (wrong
 * owner, not the sidecar's lock holder, an unsafe socket directory): nothing was sent to it.
 */
export class HostUntrustedError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_HOST_UNTRUSTED', message, details, options);
  }
}
/**
 * A session lived on a host that is gone (killed, crashed): its open transaction was rolled
 * back with it, and the session cannot be used any more. Open a new one and re-run the work.
 */
export class SessionLostError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_SESSION_LOST', message, details, options);
  }
}
/**
 * The host refused a new connection: it already serves as many as it may (env
 * BOLT_HOST_MAX_CONNECTIONS). Close idle handles, or raise the limit.
 */
export class HostBusyError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_HOST_BUSY', message, details, options);
  }
}
export class InternalError extends BoltError {
  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super('BOLT_INTERNAL', message, details, options);
  }
}

const byCode: Record<BoltErrorCode, new (m: string, d?: Record<string, unknown>) => BoltError> = {
  BOLT_BAD_INPUT: BadInputError,
  BOLT_NOT_FOUND: NotFoundError,
  BOLT_NOT_A_DATABASE: NotADatabaseError,
  BOLT_PERMISSION: PermissionError,
  BOLT_LOCK_FOREIGN: LockForeignError,
  BOLT_LOCK_TIMEOUT: LockTimeoutError,
  BOLT_POOL_TIMEOUT: PoolTimeoutError,
  BOLT_TX_CONFLICT: TxConflictError,
  BOLT_TX_TIMEOUT: TxTimeoutError,
  BOLT_SESSION_TIMEOUT: SessionTimeoutError,
  BOLT_SESSION_CLOSED: SessionClosedError,
  BOLT_HOST_UNRESPONSIVE: HostUnresponsiveError,
  BOLT_HOST_UNREACHABLE: HostUnreachableError,
  BOLT_OUTCOME_UNKNOWN: OutcomeUnknownError,
  BOLT_READ_ONLY: ReadOnlyError,
  BOLT_SQL: SqlError,
  BOLT_PROTOCOL: ProtocolError,
  BOLT_CLOSED: ClosedError,
  BOLT_ABORTED: AbortedError,
  BOLT_TASK: TaskError,
  BOLT_AGENT: AgentError,
  BOLT_EMBEDDER: EmbedderError,
  BOLT_DISK_FULL: DiskFullError,
  BOLT_HOST_UNTRUSTED: HostUntrustedError,
  BOLT_SESSION_LOST: SessionLostError,
  BOLT_HOST_BUSY: HostBusyError,
  BOLT_INTERNAL: InternalError,
};

/** Rebuilds a typed error from its wire form (`BoltError.toJSON()`). */
export function errorFromJSON(e: SerializedError): BoltError {
  const Ctor = byCode[e.code] ?? InternalError;
  return new Ctor(e.message, e.details ?? {});
}

/** True when `e` is a BoltError with one of the given codes. */
export function hasCode(e: unknown, ...codes: BoltErrorCode[]): e is BoltError {
  return e instanceof BoltError && codes.includes(e.code);
}

/** Bolt's one test for "re-running may cure it" (see `BoltError.transient`). */
export function isTransient(e: unknown): e is BoltError {
  return e instanceof BoltError && e.transient;
}
