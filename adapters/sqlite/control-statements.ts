/**
 * Finds transaction control (BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT, RELEASE) among the
 * statements of a SQL text, read the way SQLite reads it: quoted strings and identifiers
 * ('…', "…", `…`, […]) and comments skipped, statements split at `;`, and the body of a
 * CREATE TRIGGER (`BEGIN … ; … END`) taken as part of that statement.
 *
 * Bolt runs every statement inside a transaction it manages (a `db.transaction()` callback, a
 * session's `begin()`, a group-commit batch with a savepoint per write). A COMMIT sent as a
 * statement would commit that transaction halfway (work the caller then saw fail stayed
 * stored); a ROLLBACK or RELEASE would drop it or another caller's savepoint; so such text is
 * refused before anything runs.
 */

const CONTROL = new Set(['BEGIN', 'COMMIT', 'END', 'ROLLBACK', 'SAVEPOINT', 'RELEASE']);

/** The index just past the quoted run that starts at `i` (`close` ends it; doubled, it is part of it). */
function skipQuoted(sql: string, i: number, close: string): number {
  for (let j = i + 1; j < sql.length; j++) {
    if (sql[j] !== close) continue;
    if (close !== ']' && sql[j + 1] === close) {
      j++;
      continue;
    }
    return j + 1;
  }
  return sql.length;
}

/** The first transaction-control keyword that starts a statement of `sql`, upper-cased; undefined when there is none. */
export function controlStatement(sql: string): string | undefined {
  return scan(sql, true).control;
}

/**
 * Where the last statement of `sql` that holds anything but comments begins (0 for a single
 * statement): a script runs up to there, and its last statement is prepared alone, so that its
 * rows come back as on the other engines.
 */
export function lastStatementStart(sql: string): number {
  const starts = scan(sql, false).starts;
  return starts[starts.length - 1] ?? 0;
}

/** The statements of `sql` that hold anything but comments, each as its own text. */
export function statementTexts(sql: string): string[] {
  const starts = scan(sql, false).starts;
  return starts.map((from, i) => sql.slice(from, starts[i + 1] ?? sql.length));
}

/**
 * Reads `sql` statement by statement: the first control keyword (stopping there when
 * `stopAtControl`), and where each statement with content begins.
 */
function scan(sql: string, stopAtControl: boolean): { control?: string; starts: number[] } {
  const n = sql.length;
  /** Words read of the current statement (only the first three matter). */
  let words: string[] = [];
  /** Inside a CREATE TRIGGER's body: its statements end at `;` but the trigger only at END. */
  let inTrigger = false;
  let control: string | undefined;
  /** Where the current statement begins (just past the `;` that ended the one before). */
  let start = 0;
  const starts: number[] = [];
  let hasContent = false;
  const content = (): void => {
    if (hasContent) return;
    hasContent = true;
    starts.push(start);
  };
  let i = 0;
  while (i < n) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? n : nl + 1;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      i = end < 0 ? n : end + 2;
    } else if (c === "'" || c === '"' || c === '`' || c === '[') {
      content();
      i = skipQuoted(sql, i, c === '[' ? ']' : c);
      if (words.length < 3) words.push('');
    } else if (c === ';') {
      const trigger = words[0] === 'CREATE' && (words[1] === 'TRIGGER' || ((words[1] === 'TEMP' || words[1] === 'TEMPORARY') && words[2] === 'TRIGGER'));
      if (trigger && !inTrigger) inTrigger = true;
      else if (!inTrigger) {
        // The end of a statement of the script (not of one in a trigger's body).
        start = i + 1;
        hasContent = false;
      }
      // A trigger's body statement keeps "inTrigger"; the END closing it was seen below.
      words = [];
      i++;
    } else if (isAsciiWordStart(sql.charCodeAt(i))) {
      content();
      let j = i + 1;
      while (j < n && isAsciiWordPart(sql.charCodeAt(j))) j++;
      const word = sql.slice(i, j).toUpperCase();
      if (words.length === 0) {
        if (inTrigger) {
          if (word === 'END') inTrigger = false; // closes the trigger; its `;` ends the CREATE
        } else if (CONTROL.has(word) && control === undefined) {
          control = word;
          if (stopAtControl) return { control, starts };
        }
      }
      if (words.length < 3) words.push(inTrigger ? '' : word);
      i = j;
    } else if (isSpace(c)) {
      i++;
    } else {
      content();
      if (words.length < 3) words.push('');
      i++;
    }
  }
  return { control, starts };
}

// Per-character tests as code comparisons: the scanner reads every character of a statement
// (a 20,000-row insertMany sends texts of 100 kB), and a regular expression per character
// made it a fifth of such an insert.

/** `[A-Za-z_]`. */
function isAsciiWordStart(code: number): boolean {
  return (code >= 97 && code <= 122) || (code >= 65 && code <= 90) || code === 95;
}

/** `[A-Za-z0-9_$]`. */
function isAsciiWordPart(code: number): boolean {
  return isAsciiWordStart(code) || (code >= 48 && code <= 57) || code === 36;
}

/** `/\s/`: ASCII whitespace at once, the rest by the expression. */
function isSpace(c: string): boolean {
  const code = c.charCodeAt(0);
  return code === 32 || (code >= 9 && code <= 13) || (code > 0x7f && /\s/.test(c));
}
