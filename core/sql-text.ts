/**
 * SQL text that no engine would run as written. DuckDB, SQLite and PostgreSQL all stop reading
 * a statement's text at its first NUL byte, so `INSERT …;\0 INSERT …` would run the first
 * statement only and report success: such text is refused before anything runs. So is text
 * without a statement, which PostgreSQL answered with no rows and the others with an error.
 */

/**
 * Why `sql` cannot be run as written by an engine reading comments by `rules`, or undefined
 * when it can. (`/* /**\/-- *\/SELECT 1` holds a statement where block comments nest, and
 * none where they do not: the `--` then runs to the end.)
 */
export function sqlTextProblem(sql: unknown, rules: CommentRules): string | undefined {
  if (typeof sql !== 'string') return `the SQL must be a string, not ${sql === null ? 'null' : typeof sql}`;
  const at = sql.indexOf('\0');
  if (at >= 0) return `the SQL text contains a NUL byte (at character ${at}); the database would ignore everything after it. Pass such text as a ? parameter`;
  if (afterLeadingComments(sql, rules) === '') return 'the SQL text holds no statement (only whitespace, comments or semicolons)';
  return undefined;
}

/** Where an engine's comments end: a `--` comment at `lineEnd`; block comments nest or not. */
export interface CommentRules {
  lineEnd: RegExp;
  nested: boolean;
}

/** PostgreSQL and DuckDB (whose parser is PostgreSQL's): `--` ends at \n or \r, block comments nest. */
export const PG_COMMENTS: CommentRules = { lineEnd: /[\n\r]/, nested: true };
/** SQLite: `--` ends at \n only, and `/*` ends at the first `*\/`. */
export const SQLITE_COMMENTS: CommentRules = { lineEnd: /\n/, nested: false };
/**
 * The text from the first keyword on, as an engine reading comments by `rules` sees it:
 * leading whitespace, empty statements (`;`) and comments skipped.
 */
export function afterLeadingComments(sql: string, rules: CommentRules): string {
  let s = sql;
  for (;;) {
    const t = s.trimStart();
    if (t.startsWith(';')) {
      s = t.slice(1);
    } else if (t.startsWith('--')) {
      const end = t.search(rules.lineEnd);
      s = end < 0 ? '' : t.slice(end + 1);
    } else if (t.startsWith('/*')) {
      const end = blockCommentEnd(t, rules.nested);
      s = end < 0 ? '' : t.slice(end);
    } else {
      return t;
    }
  }
}

/** Index just past the block comment starting at `start` of `text`, or -1 when it does not end. */
export function blockCommentEnd(text: string, nested: boolean, start = 0): number {
  if (!nested) {
    const end = text.indexOf('*/', start + 2);
    return end < 0 ? -1 : end + 2;
  }
  let depth = 0;
  for (let i = start; i < text.length - 1;) {
    if (text[i] === '/' && text[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (text[i] === '*' && text[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return -1;
}

/**
 * Index just past the quoted run of `sql` starting at `start` with the quote `q` (a doubled
 * quote stays inside; with `backslashEscapes`, as in PostgreSQL's `E'…'`, so does `\'`).
 */
export function endOfQuoted(sql: string, start: number, q: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i]!;
    if (backslashEscapes && c === '\\') i += 2;
    else if (c === q) {
      if (sql[i + 1] === q) i += 2;
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

/**
 * What continues a `'…'` string in PostgreSQL's lexer, and so DuckDB's (SQL's rule for
 * `'a'\n'b'`): after the closing quote, whitespace holding a line break (`--` comments count
 * as whitespace) and then a quote. The string goes on from that quote in its own kind, so
 * `E'a'\n'\''` is one E'' string whose backslash escapes the second quote. (`\v` is
 * whitespace from PostgreSQL 16 on; before, the text is a syntax error either way.)
 */
const STRING_CONTINUES = /[ \t\f\v]*(?:--[^\n\r]*)?[\n\r](?:[ \t\n\r\f\v]|--[^\n\r]*[\n\r])*'/y;

/**
 * Index just past the `'…'` string starting at `start` of `sql` (a doubled quote stays inside;
 * with `backslashEscapes`, as in PostgreSQL's `E'…'`, so does `\'`), including the parts that
 * continue it after a line break ({@link STRING_CONTINUES}); `sql.length` when it does not end.
 */
export function endOfString(sql: string, start: number, backslashEscapes: boolean): number {
  let end = endOfQuoted(sql, start, "'", backslashEscapes);
  while (end < sql.length) {
    STRING_CONTINUES.lastIndex = end;
    if (!STRING_CONTINUES.test(sql)) break;
    end = endOfQuoted(sql, STRING_CONTINUES.lastIndex - 1, "'", backslashEscapes);
  }
  return end;
}

/**
 * True when `c` continues a word (a keyword or an unquoted name) as PostgreSQL's lexer, and so
 * DuckDB's, reads one: ASCII letters, digits, `_`, `$` and every character beyond ASCII. A
 * scanner that stopped at `é` would take the `$a$` of `é$a$` for a string that DuckDB does not.
 */
export function isWordChar(c: string | undefined): boolean {
  return c !== undefined && isWordCode(c.charCodeAt(0));
}

/** {@link isWordChar} of a UTF-16 code unit (NaN, past a text's end, is none). Scanners call it per character. */
function isWordCode(code: number): boolean {
  return isWordStartCode(code) || (code >= 48 && code <= 57) || code === 36;
}

/** A code unit that may start a word: an ASCII letter, `_`, or beyond ASCII. */
function isWordStartCode(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95 || code > 0x7f;
}

/**
 * Index just past the word starting at `i` of `sql` (a letter, `_` or a character beyond ASCII,
 * then {@link isWordChar}s), or -1 when none starts there.
 */
export function wordEnd(sql: string, i: number): number {
  if (!isWordStartCode(sql.charCodeAt(i)) || isWordCode(sql.charCodeAt(i - 1))) return -1;
  let j = i + 1;
  while (j < sql.length && isWordCode(sql.charCodeAt(j))) j++;
  return j;
}

/** A dollar-quote opening (`$$`, `$tag$`) at the start of the text: its tag as PostgreSQL reads it. */
export const DOLLAR_QUOTE = /^\$([A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/;
