/**
 * What a `ConcurrentDatabase` handle talks to: the host itself (in the host thread) or a
 * client of the host (everywhere else). Both take the same calls.
 */
import type { DatabaseStats, ExecResult, Row, Session, SessionOptions } from '../core/database.js';
import type { HostStatementOptions } from './host.js';

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
  insertMany(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], opts: HostStatementOptions): Promise<ExecResult>;
  openSession(opts: SessionOptions, connectionTimeoutMs?: number): Promise<Session>;
  stats(): DatabaseStats;
  identity(): HostIdentity;
  /** The wire op `info` (pid, socket, uptime, clients, sessions, pool, tables). */
  info(): Promise<Record<string, unknown>>;
}
