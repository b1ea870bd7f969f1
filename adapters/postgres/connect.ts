/**
 * Builds the `pg` Pool for a PostgreSQL URL: pool limits, statement timeout, search_path,
 * read-only default, Bolt's type parsers (types.ts), and the
 * location string shown to users and logs (the password is never kept in it).
 */
import pg from 'pg';
import { pgTypes } from './types.js';
import { quoteIdent } from './names.js';

/** Connection settings after defaults. */
export interface PgConnectSettings {
  url: string;
  max: number;
  connectionTimeoutMs: number;
  /** 0 = no statement timeout. */
  statementTimeoutMs: number;
  /** Schema to create (unless read-only) and put first on search_path. */
  schema?: string;
  readOnly: boolean;
  applicationName: string;
}

/** The URL without its `options` query parameter, and that parameter's value. */
function splitOptions(url: string): { url: string; options: string | undefined } {
  const q = url.indexOf('?');
  if (q < 0) return { url, options: undefined };
  const params = new URLSearchParams(url.slice(q + 1));
  const options = params.get('options') ?? undefined;
  if (options === undefined) return { url, options };
  params.delete('options');
  const rest = params.toString();
  return { url: rest ? `${url.slice(0, q)}?${rest}` : url.slice(0, q), options };
}

/** The `pg.Pool` configuration for `s`. */
export function poolConfig(s: PgConnectSettings): pg.PoolConfig {
  // The URL's own `options` would replace these (pg lets the connection string win): keep both.
  const { url, options: fromUrl } = splitOptions(s.url);
  const options: string[] = fromUrl ? [fromUrl] : [];
  if (s.schema) options.push(`-c search_path=${quoteIdent(s.schema).replace(/"/g, '')},public`);
  // Bolt reads '…' strings as the server does only when backslashes are plain characters in them
  // (placeholders.ts): a database or role set to off (ALTER … SET) would have moved a ? inside a
  // string. Options from the startup packet win over those defaults, and this one comes last.
  options.push('-c standard_conforming_strings=on');
  if (s.readOnly) options.push('-c default_transaction_read_only=on');
  return {
    connectionString: url,
    max: s.max,
    connectionTimeoutMillis: s.connectionTimeoutMs,
    idleTimeoutMillis: 30_000,
    application_name: s.applicationName,
    ...(s.statementTimeoutMs > 0 ? { statement_timeout: s.statementTimeoutMs } : {}),
    ...(options.length ? { options: options.join(' ') } : {}),
    types: pgTypes('exact'),
  };
}
