/**
 * Builds the `pg` Pool for a PostgreSQL URL: pool limits, statement timeout, search_path,
 * read-only default, Bolt's type parsers (types.ts), and the
 * location string shown to users and logs (the password is never kept in it).
 */
import pg from 'pg';
import { BadInputError } from '../../core/errors.js';
import { pgTypes } from './types.js';

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

/** `postgres://user@host:port/db` — the URL without password or query secrets. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    u.password = '';
    for (const k of [...u.searchParams.keys()]) if (/pass|secret|key|token/i.test(k)) u.searchParams.set(k, 'redacted');
    return u.toString();
  } catch {
    return 'postgres://(unparseable url)';
  }
}

/** True for `postgres://` and `postgresql://` URLs. */
export function isPostgresUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//i.test(s);
}

/** A safe SQL identifier or a BOLT_BAD_INPUT. */
export function quoteIdent(name: string): string {
  if (!/^[A-Za-z_][\w$]{0,62}$/.test(name)) throw new BadInputError(`Not a valid PostgreSQL identifier: ${JSON.stringify(name)}`, { name });
  return `"${name}"`;
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
