/**
 * Rewrites Bolt's portable `?` placeholders to PostgreSQL's `$1, $2, …`, leaving alone any `?`
 * inside string literals ('…', E'…' with backslash escapes, $tag$…$tag$), quoted identifiers
 * ("…") and comments (-- …, nested /* … *\/). (PostgreSQL's jsonb `?` operators are therefore
 * not usable directly: call `jsonb_exists(a, b)` instead.) On the way it notes transaction
 * control at the start of a statement (BEGIN, START TRANSACTION, COMMIT, END, ROLLBACK, ABORT,
 * SAVEPOINT, RELEASE, PREPARE TRANSACTION; a `BEGIN ATOMIC … END` function body is not control),
 * which Bolt refuses: it would end or undo the transaction Bolt runs the statement in. And it
 * notes what changes the connection's session beyond the statement (SET, LISTEN, a temporary
 * table, a session-level advisory lock, …): Bolt then closes that connection instead of lending
 * it to another caller.
 */

import { DOLLAR_QUOTE, blockCommentEnd, endOfQuoted, isWordChar, wordEnd } from '../../core/sql-text.js';
import { memoizeText } from '../../core/text-memo.js';

export interface Rewritten {
  sql: string;
  /** How many placeholders were found. */
  count: number;
  /** The transaction-control keyword that starts one of its statements, upper-cased, if any. */
  control?: string;
  /** What in it changes the connection's session state beyond the statement, upper-cased, if anything. */
  sessionState?: string;
}

const CONTROL = new Set(['BEGIN', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE']);
/** Control only when TRANSACTION follows (`PREPARE name AS …` prepares a statement). */
const CONTROL_BEFORE_TRANSACTION = new Set(['START', 'PREPARE']);
/**
 * First words of statements that leave state on the session (`SET LOCAL`, `SET TRANSACTION` and
 * `SET CONSTRAINTS` end with the transaction; `CREATE` counts when TEMP or TEMPORARY follows).
 */
const SESSION_STATEMENTS = new Set(['SET', 'RESET', 'LISTEN', 'UNLISTEN', 'PREPARE', 'DEALLOCATE', 'DECLARE', 'DISCARD', 'LOAD']);
const TRANSACTION_SCOPED_SET = /^\s+(LOCAL|TRANSACTION|CONSTRAINTS)\b/i;
const TEMPORARY_CREATE = /^\s+((GLOBAL|LOCAL)\s+)?(TEMP|TEMPORARY)\b/i;
/**
 * Names that leave state on the session wherever they appear as code, quoted or not: the
 * session-level advisory locks, set_config, and pg_temp (the session's own schema).
 */
const SESSION_NAMES = new Set(['PG_ADVISORY_LOCK', 'PG_ADVISORY_LOCK_SHARED', 'PG_TRY_ADVISORY_LOCK', 'PG_TRY_ADVISORY_LOCK_SHARED', 'SET_CONFIG', 'PG_TEMP']);
/** First words of statements whose body Bolt cannot read (a DO block, a procedure): counted as changing the session. */
const OPAQUE_STATEMENTS = new Set(['DO', 'CALL']);

/** `?` → `$n` outside literals, identifiers and comments. */
export const rewritePlaceholders: (sql: string) => Rewritten = memoizeText(rewrite);

function rewrite(sql: string): Rewritten {
  let out = '';
  let n = 0;
  let i = 0;
  const len = sql.length;
  let control: string | undefined;
  let sessionState: string | undefined;
  /** Tokens seen of the current statement, the last word, and whether a BEGIN ATOMIC body is open. */
  let tokens = 0;
  let lastWord = '';
  let atomic = false;
  /** The current statement is an EXPLAIN, which runs what it explains with ANALYZE. */
  let explaining = false;
  while (i < len) {
    const c = sql[i]!;
    const next = sql[i + 1];
    const j = wordEnd(sql, i);
    if (j > 0) {
      const word = sql.slice(i, j).toUpperCase();
      if (tokens === 0 && !control) {
        if (atomic) {
          if (word === 'END') atomic = false;
        } else if (CONTROL.has(word) || (CONTROL_BEFORE_TRANSACTION.has(word) && /^\s+TRANSACTION\b/i.test(sql.slice(j)))) {
          control = word;
        }
      }
      if (!sessionState) {
        const rest = sql.slice(j);
        if (SESSION_NAMES.has(word)) sessionState = word;
        else if ((word === 'TEMP' || word === 'TEMPORARY') && lastWord === 'INTO') sessionState = 'INTO TEMPORARY';
        else if (
          tokens === 0 &&
          !atomic &&
          (SESSION_STATEMENTS.has(word) || OPAQUE_STATEMENTS.has(word)) &&
          !(word === 'SET' && TRANSACTION_SCOPED_SET.test(rest))
        )
          sessionState = word;
        else if ((tokens === 0 || explaining) && !atomic && word === 'CREATE' && TEMPORARY_CREATE.test(rest)) sessionState = 'CREATE TEMPORARY';
        else if (explaining && word === 'DECLARE') sessionState = 'DECLARE';
      }
      if (tokens === 0) explaining = word === 'EXPLAIN';
      if (word === 'ATOMIC' && lastWord === 'BEGIN') atomic = true;
      lastWord = word;
      tokens++;
      out += sql.slice(i, j);
      i = j;
      continue;
    }
    if (c === ';') {
      tokens = 0;
      explaining = false;
    } else if (!/\s/.test(c) && !(c === '-' && next === '-') && !(c === '/' && next === '*')) tokens++;
    if (c === '?') {
      out += `$${++n}`;
      i++;
    } else if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]!) && !isWordChar(sql[i - 2]);
      const end = endOfQuoted(sql, i, "'", escapes);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '"') {
      const end = endOfQuoted(sql, i, '"', false);
      const name = sql
        .slice(i + 1, end - 1)
        .replaceAll('""', '"')
        .toUpperCase();
      if (!sessionState && SESSION_NAMES.has(name)) sessionState = name;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && next === '-') {
      // PostgreSQL ends a line comment at \r as well as \n.
      let end = i + 2;
      while (end < len && sql[end] !== '\n' && sql[end] !== '\r') end++;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '/' && next === '*') {
      const stop = blockCommentEnd(sql, true, i);
      const end = stop < 0 ? len : stop;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '$' && !isWordChar(sql[i - 1])) {
      const tag = DOLLAR_QUOTE.exec(sql.slice(i));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        const end = close < 0 ? len : close + tag[0].length;
        out += sql.slice(i, end);
        i = end;
      } else {
        out += c;
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  return { sql: out, count: n, ...(control ? { control } : {}), ...(sessionState ? { sessionState } : {}) };
}
