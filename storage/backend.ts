/**
 * What a `ConcurrentDatabase` handle talks to: the host itself (in the host thread) or a
 * client of the host (everywhere else). Both take the same calls.
 */
import type { DatabaseStats, ExecResult, Row, Session, SessionOptions } from '../core/database.js';
import type { HostStatementOptions, StatementOutcome } from './host.js';

/** Who the host is, as `lockInfo()` reports it. */
export interface HostIdentity {
  pid: number;
  socket?: string;
  startedAt?: string;
  version?: string;
}

export interface Backend {
  readonly role: 'host' | 'client';
  /** True once this backend can no longer serve (host closed, connection lost). */
  readonly isClosed: boolean;
  query(sql: string, params: readonly unknown[] | undefined, opts: HostStatementOptions): Promise<Row[]>;
  execute(sql: string, params: readonly unknown[] | undefined, opts: HostStatementOptions): Promise<ExecResult>;
  run(sql: string, params: readonly unknown[] | undefined, opts: HostStatementOptions): Promise<StatementOutcome>;
  insertMany(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], opts: HostStatementOptions): Promise<ExecResult>;
  openSession(opts: SessionOptions, connectionTimeoutMs?: number): Promise<Session>;
  stats(): DatabaseStats;
  identity(): HostIdentity;
  /** The wire op `info` (pid, socket, uptime, clients, sessions, pool, tables). */
  info(): Promise<Record<string, unknown>>;
  backup(dest: string): Promise<BackupResult>;
  verify(): Promise<VerifyResult>;
}

/** Result of `backup`. */
export interface BackupResult {
  dest: string;
  tables: Array<{ name: string; rows: number }>;
  ms: number;
}

/** Result of `verify`. */
export interface VerifyResult {
  tables: Array<{ name: string; rows: number }>;
  ms: number;
}
