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
  const n = sql.length;
  /** Words read of the current statement (only the first three matter). */
  let words: string[] = [];
  /** Inside a CREATE TRIGGER's body: its statements end at `;` but the trigger only at END. */
  let inTrigger = false;
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
      i = skipQuoted(sql, i, c === '[' ? ']' : c);
      words.push('');
    } else if (c === ';') {
      const trigger = words[0] === 'CREATE' && (words[1] === 'TRIGGER' || ((words[1] === 'TEMP' || words[1] === 'TEMPORARY') && words[2] === 'TRIGGER'));
      if (trigger && !inTrigger) inTrigger = true;
      // A trigger's body statement keeps "inTrigger"; the END closing it was seen below.
      words = [];
      i++;
    } else if (/[A-Za-z_]/.test(c)) {
      let j = i + 1;
      while (j < n && /[A-Za-z0-9_$]/.test(sql[j]!)) j++;
      const word = sql.slice(i, j).toUpperCase();
      if (words.length === 0) {
        if (inTrigger) {
          if (word === 'END') inTrigger = false; // closes the trigger; its `;` ends the CREATE
        } else if (CONTROL.has(word)) {
          return word;
        }
      }
      if (words.length < 3) words.push(inTrigger ? '' : word);
      i = j;
    } else if (/\s/.test(c)) {
      i++;
    } else {
      words.push('');
      i++;
    }
  }
  return undefined;
}
