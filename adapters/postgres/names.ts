/**
 * PostgreSQL URLs and identifiers as text: telling a URL, showing it without secrets, quoting a
 * name. Apart from connect.ts so that code which only needs these (engine detection, every CLI
 * command) does not load the `pg` driver.
 */
import { BadInputError } from '../../core/errors.js';

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
