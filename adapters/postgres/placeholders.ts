/**
 * Rewrites Bolt's portable `?` placeholders to PostgreSQL's `$1, $2, …`, leaving alone any `?`
 * inside string literals ('…', E'…' with backslash escapes, either continued after a line break
 * as `'a'\n'b'`, $tag$…$tag$), quoted identifiers ("…") and comments (-- …, nested /* … *\/).
 * (PostgreSQL's jsonb `?` operators are therefore not usable directly: call `jsonb_exists(a, b)`
 * instead.) On the way it notes transaction control at the start of a statement (BEGIN, START
 * TRANSACTION, COMMIT, END, ROLLBACK, ABORT, SAVEPOINT, RELEASE, PREPARE TRANSACTION; a `BEGIN
 * ATOMIC … END` function body is not control), which Bolt refuses: it would end or undo the
 * transaction Bolt runs the statement in. And it notes what changes the connection's session
 * beyond the statement (SET, LISTEN, a temporary table, a session-level advisory lock, …): Bolt
 * then closes that connection instead of lending it to another caller.
 */

import { DOLLAR_QUOTE, blockCommentEnd, endOfQuoted, endOfString, isWordChar, wordEnd } from '../../core/sql-text.js';
import { memoizeText } from '../../core/text-memo.js';

export interface Rewritten {
  sql: string;
  /** How many placeholders were found. */
  count: number;
  /** The transaction-control keyword that starts one of its statements, upper-cased, if any. */
  control?: string;
  /** What in it changes the connection's session state beyond the statement, upper-cased, if anything. */
  sessionState?: string;
  /** How many statements it holds (empty ones, `;;`, not counted). */
  statements: number;
  /** It has PostgreSQL's own `$n` parameters in code (a PREPARE's body, or a caller mixing styles). */
  positional?: true;
}

const CONTROL = new Set(['BEGIN', 'COMMIT', 'END', 'ROLLBACK', 'ABORT', 'SAVEPOINT', 'RELEASE']);
/** Control only when TRANSACTION follows (`PREPARE name AS …` prepares a statement). */
const CONTROL_BEFORE_TRANSACTION = new Set(['START', 'PREPARE']);
/**
 * First words of statements that leave state on the session (`SET LOCAL`, `SET TRANSACTION` and
 * `SET CONSTRAINTS` end with the transaction; `CREATE` counts when TEMP or TEMPORARY follows).
 */
const SESSION_STATEMENTS = new Set(['SET', 'RESET', 'LISTEN', 'UNLISTEN', 'PREPARE', 'DEALLOCATE', 'DECLARE', 'DISCARD', 'LOAD']);
/** The next word is one of these, whole (`SET local$x.y`, `SET localé.x` set a setting named so). */
const TRANSACTION_SCOPED_SET = /^\s+(LOCAL|TRANSACTION|CONSTRAINTS)(?![\w$\u0080-\uffff])/i;
/** Words that may stand between CREATE and TEMP (`CREATE OR REPLACE TEMP VIEW`, `CREATE LOCAL TEMP TABLE`), or INTO and TEMP. */
const BEFORE_TEMP = new Set(['OR', 'REPLACE', 'LOCAL', 'GLOBAL']);
/**
 * Names that leave state on the session wherever they appear as code, quoted or not: the
 * session-level advisory locks, set_config, pg_settings (an UPDATE of it calls set_config), and
 * pg_temp (the session's own schema).
 */
const SESSION_NAMES = new Set([
  'PG_ADVISORY_LOCK',
  'PG_ADVISORY_LOCK_SHARED',
  'PG_TRY_ADVISORY_LOCK',
  'PG_TRY_ADVISORY_LOCK_SHARED',
  'SET_CONFIG',
  'PG_SETTINGS',
  'PG_TEMP',
]);
/** First words of statements whose body Bolt cannot read (a DO block, a procedure): counted as changing the session. */
const OPAQUE_STATEMENTS = new Set(['DO', 'CALL']);

/**
 * How many of a statement's first words are kept (enough to say what it is: EXPLAIN, CREATE …
 * FUNCTION) and of its last (enough to reach INTO or CREATE from TEMP past OR REPLACE, LOCAL,
 * GLOBAL, and BEGIN from ATOMIC); the words between are not kept, so a long text costs no more.
 */
const FIRST_WORDS = 64;
const LAST_WORDS = 6;

/** `?` → `$n` outside literals, identifiers and comments. */
export const rewritePlaceholders: (sql: string) => Rewritten = memoizeText(rewrite);

function rewrite(sql: string): Rewritten {
  // The output is the text with each placeholder replaced: `out` holds it up to `copied`, and
  // grows only at a placeholder (appending char by char, and reading `out`'s last character,
  // made a 1,000-row INSERT take 70 ms and one of 2,500 rows 2.8 s).
  let out = '';
  let copied = 0;
  let n = 0;
  let i = 0;
  const len = sql.length;
  let control: string | undefined;
  let sessionState: string | undefined;
  /**
   * Tokens seen of the current statement; its first words (what it is) and its last few (what the
   * next word follows), both bounded however long the text; its open parentheses; and whether a
   * BEGIN ATOMIC body is open.
   */
  let tokens = 0;
  let statements = 0;
  let positional = false;
  let words: string[] = [];
  let recent: string[] = [];
  let depth = 0;
  let atomic = false;
  while (i < len) {
    const c = sql[i]!;
    const next = sql[i + 1];
    const j = wordEnd(sql, i);
    if (j > 0) {
      const word = sql.slice(i, j).toUpperCase();
      if (tokens === 0 && !control) {
        // The END of a function's BEGIN ATOMIC body is not COMMIT; any other control is.
        if (atomic && word === 'END') atomic = false;
        else if (CONTROL.has(word)) control = word;
      }
      // START TRANSACTION, PREPARE TRANSACTION: the second token, with any comment between.
      if (tokens === 1 && !control && word === 'TRANSACTION' && CONTROL_BEFORE_TRANSACTION.has(words[0]!)) control = words[0];
      sessionState ??= sessionChange(word, words, recent, tokens, sql.slice(j, j + 40));
      // A U&"…" name may spell any other (U&"set\005fconfig"): it is not read, so counted as a change.
      if (word === 'U' && sql[j] === '&' && sql[j + 1] === '"') sessionState ??= 'U&"…"';
      i = j;
      // A function's body, outside the parentheses of its arguments (`f(begin atomic)` names one
      // of type atomic): its first statement starts here, so `BEGIN ATOMIC END` is an empty body.
      if (
        word === 'ATOMIC' &&
        depth === 0 &&
        recent.at(-1) === 'BEGIN' &&
        words[0] === 'CREATE' &&
        (words.includes('FUNCTION') || words.includes('PROCEDURE'))
      ) {
        atomic = true;
        tokens = 0;
        words = [];
        recent = [];
        continue;
      }
      if (words.length < FIRST_WORDS) words.push(word);
      recent.push(word);
      if (recent.length > LAST_WORDS) recent.shift();
      if (tokens++ === 0) statements++;
      continue;
    }
    if (c === '(') depth++;
    else if (c === ')') depth--;
    if (c === ';') {
      tokens = 0;
      words = [];
      recent = [];
      depth = 0;
    } else if (!/\s/.test(c) && !(c === '-' && next === '-') && !(c === '/' && next === '*') && tokens++ === 0) statements++;
    if (c === '?') {
      // Set apart from a name's or number's characters, which would take `$n` in: `?1` is not
      // $11, `a?` not the name a$1, `?a` not the "trailing junk" $1a.
      // The character before is the text's, or the last digit of a placeholder just replaced.
      const afterWord = (copied === i && i > 0) || isWordChar(sql[i - 1]);
      out += `${sql.slice(copied, i)}${afterWord ? ' ' : ''}$${++n}${isWordChar(sql[i + 1]) ? ' ' : ''}`;
      copied = ++i;
    } else if (c === "'") {
      const escapes = i > 0 && /[eE]/.test(sql[i - 1]!) && !isWordChar(sql[i - 2]);
      // A string continued after a line break ('a'\n'b') goes on in its kind: an E'' one with its escapes.
      i = endOfString(sql, i, escapes);
    } else if (c === '"') {
      const end = endOfQuoted(sql, i, '"', false);
      const name = sql
        .slice(i + 1, end - 1)
        .replaceAll('""', '"')
        .toUpperCase();
      if (!sessionState && SESSION_NAMES.has(name)) sessionState = name;
      i = end;
    } else if (c === '-' && next === '-') {
      // PostgreSQL ends a line comment at \r as well as \n.
      i += 2;
      while (i < len && sql[i] !== '\n' && sql[i] !== '\r') i++;
    } else if (c === '/' && next === '*') {
      const stop = blockCommentEnd(sql, true, i);
      i = stop < 0 ? len : stop;
    } else if (c === '$' && !isWordChar(sql[i - 1])) {
      const tag = DOLLAR_QUOTE.exec(sql.slice(i));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? len : close + tag[0].length;
      } else {
        if (/\d/.test(next ?? '')) positional = true;
        i++;
      }
    } else i++;
  }
  return {
    sql: out + sql.slice(copied),
    count: n,
    statements,
    ...(control ? { control } : {}),
    ...(sessionState ? { sessionState } : {}),
    ...(positional ? { positional: true as const } : {}),
  };
}

/**
 * What `word` (upper-cased) makes of the session, given the first and the last words of its
 * statement before it (`first`, `recent`) and `rest`, the text right after it: a name from
 * SESSION_NAMES anywhere, a statement starting with one of SESSION_STATEMENTS or
 * OPAQUE_STATEMENTS, and temporary objects (`CREATE [OR REPLACE] [LOCAL|GLOBAL] TEMP …`, `INTO
 * [LOCAL|GLOBAL] TEMP` however far into the statement), also after an EXPLAIN, which with
 * ANALYZE runs what it explains (so does DECLARE there).
 */
function sessionChange(word: string, first: readonly string[], recent: readonly string[], tokens: number, rest: string): string | undefined {
  if (SESSION_NAMES.has(word)) return word;
  if (tokens === 0 && (SESSION_STATEMENTS.has(word) || OPAQUE_STATEMENTS.has(word)) && !(word === 'SET' && TRANSACTION_SCOPED_SET.test(rest))) return word;
  const explaining = first[0] === 'EXPLAIN';
  if (explaining && word === 'DECLARE') return word;
  if (word === 'TEMP' || word === 'TEMPORARY') {
    let k = recent.length - 1;
    while (k >= 0 && BEFORE_TEMP.has(recent[k]!)) k--;
    // `recent` holds all the statement's words while it has no more than LAST_WORDS.
    const statementStart = k === 0 && first.length === recent.length;
    if (recent[k] === 'INTO' || (recent[k] === 'CREATE' && (statementStart || explaining))) return `${recent[k]} TEMPORARY`;
  }
  return undefined;
}
