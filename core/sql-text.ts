/**
 * SQL text that no engine would run as written. DuckDB, SQLite and PostgreSQL all stop reading
 * a statement's text at its first NUL byte, so `INSERT …;\0 INSERT …` would run the first
 * statement only and report success: such text is refused before anything runs.
 */

/** Why `sql` cannot be run as written, or undefined when it can. */
export function sqlTextProblem(sql: unknown): string | undefined {
  if (typeof sql !== 'string') return `the SQL must be a string, not ${sql === null ? 'null' : typeof sql}`;
  const at = sql.indexOf('\0');
  if (at < 0) return undefined;
  return `the SQL text contains a NUL byte (at character ${at}); the database would ignore everything after it. Pass such text as a ? parameter`;
}

/** The text from the first keyword on: leading whitespace, empty statements (`;`) and `--` / `/* … *\/` comments skipped. */
export function afterLeadingComments(sql: string): string {
  let s = sql;
  for (;;) {
    const t = s.trimStart();
    if (t.startsWith(';')) {
      s = t.slice(1);
    } else if (t.startsWith('--')) {
      const nl = t.indexOf('\n');
      s = nl < 0 ? '' : t.slice(nl + 1);
    } else if (t.startsWith('/*')) {
      const end = t.indexOf('*/', 2);
      s = end < 0 ? '' : t.slice(end + 2);
    } else {
      return t;
    }
  }
}
