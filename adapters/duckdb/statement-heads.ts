/**
 * The first tokens of each statement of a DuckDB text, read as DuckDB's lexer (PostgreSQL's)
 * reads it: `--` comments end at a line break, block comments nest, strings ('…', E'…' with
 * backslash escapes, either continued after a line break, $tag$…$tag$) and quoted identifiers
 * are one token each. For checks that DuckDB's prepared statement cannot answer, such as which
 * kind of object a CREATE makes.
 */
import { DOLLAR_QUOTE, blockCommentEnd, endOfQuoted, endOfString, isWordChar, wordEnd } from '../../core/sql-text.js';

/**
 * Up to `count` tokens from the start of each statement: words upper-cased, any other token as
 * its first character (a string is `'`, a quoted identifier `"`). Comments are skipped.
 */
export function statementHeads(sql: string, count: number): string[][] {
  const heads: string[][] = [[]];
  const len = sql.length;
  const add = (token: string): void => {
    const head = heads[heads.length - 1]!;
    if (head.length < count) head.push(token);
  };
  let i = 0;
  let dollar: RegExpExecArray | null;
  while (i < len) {
    const c = sql[i]!;
    const next = sql[i + 1];
    const j = wordEnd(sql, i);
    if (j > 0) {
      if ((c === 'E' || c === 'e') && j === i + 1 && next === "'") {
        // E'…': one string with backslash escapes, also in a part continuing it after a line break.
        add("'");
        i = endOfString(sql, i + 1, true);
        continue;
      }
      add(sql.slice(i, j).toUpperCase());
      i = j;
    } else if (c === ';') {
      heads.push([]);
      i++;
    } else if (c === "'") {
      add(c);
      i = endOfString(sql, i, false);
    } else if (c === '"') {
      add(c);
      i = endOfQuoted(sql, i, c, false);
    } else if (c === '-' && next === '-') {
      while (i < len && sql[i] !== '\n' && sql[i] !== '\r') i++;
    } else if (c === '/' && next === '*') {
      const end = blockCommentEnd(sql, true, i);
      i = end < 0 ? len : end;
    } else if (c === '$' && !isWordChar(sql[i - 1]) && (dollar = DOLLAR_QUOTE.exec(sql.slice(i)))) {
      const tag = dollar[0];
      const close = sql.indexOf(tag, i + tag.length);
      add("'");
      i = close < 0 ? len : close + tag.length;
    } else {
      if (!/\s/.test(c)) add(c);
      i++;
    }
  }
  return heads.filter((h) => h.length > 0);
}
