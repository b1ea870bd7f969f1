/**
 * SQL text that no engine would run as written. DuckDB, SQLite and PostgreSQL all stop reading
 * a statement's text at its first NUL byte, so `INSERT …;\0 INSERT …` would run the first
 * statement only and report success: such text is refused before anything runs. So is text
 * without a statement, which PostgreSQL answered with no rows and the others with an error.
 */

/** Why `sql` cannot be run as written, or undefined when it can. */
export function sqlTextProblem(sql: unknown): string | undefined {
  if (typeof sql !== 'string') return `the SQL must be a string, not ${sql === null ? 'null' : typeof sql}`;
  const at = sql.indexOf('\0');
  if (at >= 0) return `the SQL text contains a NUL byte (at character ${at}); the database would ignore everything after it. Pass such text as a ? parameter`;
  if (afterLeadingComments(sql) === '') return 'the SQL text holds no statement (only whitespace, comments or semicolons)';
  return undefined;
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
