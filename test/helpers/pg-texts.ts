/**
 * Random SQL texts for comparing Bolt's PostgreSQL statement scanner
 * (adapters/postgres/placeholders.ts) with the server's lexer, built from the pieces where
 * lexers disagree: comments (nested, ended by `\r`, holding quotes and `--`), doubled quotes,
 * E'' strings with backslash escapes, N'', U&'' strings and U&"" names with and without
 * UESCAPE, B'' and X'' strings, strings continued after a line break (and `--` comments) or
 * not, typed literals, dollar quotes with empty, non-ASCII, astral, digit and `$1`-like tags,
 * names containing `$` or ending in E or U, characters beyond ASCII and Unicode spaces (letters
 * to PostgreSQL), `\r` and `\f`, `?` inside and next to all of these, semicolons, transaction
 * control with comments between its words, and BEGIN ATOMIC bodies (empty too) beside
 * arguments named `begin` of type `atomic`. Seeded (mulberry32), so a run always makes the
 * same texts.
 */
import { SeededRandom } from '../../tools/soak/seeded-random.js';

/** Characters that are whitespace to JavaScript or Unicode but letters (or nothing) to PostgreSQL 15. */
const ODD = ['\u00a0', '\u2000', '\u200b', '\u2028', '\u0085', '\ufeff', '\u3000', '\v', 'é', '字', '😀'];
/** PostgreSQL's whitespace. */
const SPACE = [' ', '\t', '\n', '\r', '\r\n', '\f'];
/** The statements that control a transaction, as a caller might write them. */
const CONTROL = [
  'COMMIT',
  'end',
  'BEGIN',
  'rollback',
  'ABORT',
  'START TRANSACTION',
  'commit work',
  'END TRANSACTION',
  'begin isolation level read committed',
  'SAVEPOINT s',
  'RELEASE SAVEPOINT s',
  'ROLLBACK TO s',
];

/** The generators of one seed: a statement with `?` placeholders, and a script of several statements without. */
export interface TextMaker {
  /** One SELECT of literals, names and `?` placeholders, each item aliased `c<n>…`. */
  placeholderText(): string;
  /** Several statements, some of them transaction control, without placeholders outside literals. */
  scriptText(): string;
}

/** The texts of `seed`. */
export function textMaker(seed: number): TextMaker {
  const seeded = new SeededRandom(seed);
  const rnd = (): number => seeded.next();
  const chance = (p: number): boolean => rnd() < p;
  const pick = <T>(a: readonly T[]): T => a[Math.floor(rnd() * a.length)]!;
  const some = (max: number, f: () => string): string => Array.from({ length: Math.floor(rnd() * (max + 1)) }, f).join('');

  const odd = (): string => pick(ODD);
  const space = (): string => pick(SPACE);
  // Fragments of quoted text: every kind of quote and comment opener, `?`, and a hidden COMMIT.
  const common = (): string =>
    pick(['?', '??', ';', '--', '/*', '*/', '/', '*', '$', '$a$', '$$', '$1', 'a', 'E', ' ', '\n', '\r', ';COMMIT;', ';\nend\n', odd()]);
  const plainBody = (): string => some(4, () => pick([common(), "''", '\\', '"', '\\?']));
  const eBody = (): string => some(4, () => pick([common(), "''", "\\'", '\\\\', '\\?', '\\n', '\\x41', '\\u00e9', '\\047', '"']));
  const dollarBody = (): string => some(4, () => pick([common(), "'", "''", '\\', '"', '$b$', '$é$', '$_$']));
  const identBody = (): string => some(3, () => pick(['?', '""', "'", '\\', ';', '$a$', '--', '/*', 'é', ' ', 'E']));
  const tag = (): string => pick(['', '', 'a', 'b', 'é', '_', 'a1', 'ж', '字', '😀', 'a\u00a0', '1', '_1', 'a$']);
  // After `E'a'`, a newline and a quote continue the string (in the first string's kind).
  const continuation = (): string => pick(['\n', '\r', ' \n\t', ' \f\n\f', '-- c?\n', ' -- x\r\n ', '\n-- ?\n', '\r\n']);
  const notContinuation = (): string => pick([' ', '/* */\n', '\t']);

  // A literal of any kind, maybe continued after a line break, maybe typed (`text '…'`) or in parentheses.
  const string = (): string => {
    const s = literal() + (chance(0.1) ? `${continuation()}'${pick([eBody, plainBody])()}'` : '');
    return chance(0.1) ? `text${sep()}${s}` : chance(0.1) ? `(${s})` : s;
  };
  const literal = (): string =>
    pick([
      () => `'${plainBody()}'`,
      () => `${pick(['E', 'e'])}'${eBody()}'`,
      () => `${pick(['E', 'e'])}'${eBody()}'${chance(0.8) ? continuation() : notContinuation()}'${pick([eBody, plainBody])()}'`,
      () => `'${plainBody()}'${continuation()}'${pick([eBody, plainBody])()}'`,
      () => `${pick(['N', 'n'])}'${plainBody()}'`,
      () => `U&'${some(3, () => pick([common(), '\\0061', '\\+0000e9', '\\\\', "''"]))}'`,
      () => `U&'${some(3, () => pick([common(), '!0061', '!!', '\\', "''"]))}'${space()}UESCAPE${space()}'!'`,
      () => `${pick(['B', 'b'])}'${pick(['0', '01', ''])}'${chance(0.3) ? `${continuation()}'1'` : ''}`,
      () => `${pick(['X', 'x'])}'${pick(['1F', 'a', ''])}'`,
      () => {
        const t = tag();
        return `$${t}$${dollarBody()}$${t}$`;
      },
    ])();
  const number = (): string => pick(['1', '1.5', '.5', '1e3', '12']);
  const placeholder = (): string => pick(['?', '?', '?::text', 'CAST(? AS text)', '(?)', '?||?']);
  // Comments and whitespace, which may stand between any two tokens.
  const noise = (): string =>
    pick([
      space,
      () => `/*${plainBody()}*/`,
      () => `/* /*${plainBody()}*/${plainBody()} */`,
      () => `--${plainBody().replace(/[\n\r]/g, '')}${pick(['\n', '\r'])}`,
      () => `/*'*/`,
      () => `/*$a$*/`,
    ])();
  const sep = (): string => (chance(0.7) ? ' ' : chance(0.85) ? noise() : odd());
  /**
   * An alias starting with `c<n>`, so that every column has a name of its own. (Rarely a U&"…"
   * one: Bolt closes the client of a statement naming one, since it may spell set_config.)
   */
  const alias = (n: number): string =>
    chance(0.04)
      ? pick([
          () => `AS${sep()}U&"c${n}${pick(['\\0061', '?', '""', '\\\\'])}"`,
          () => `AS${sep()}U&"c${n}${pick(['!0061', '?', '!!'])}"${space()}UESCAPE${space()}'!'`,
        ])()
      : pick([
          () => `AS${sep()}c${n}`,
          () => `c${n}`,
          () => `AS${sep()}"c${n}${identBody()}"`,
          () => `AS${sep()}c${n}$${pick(['', 'x', 'a$', '1'])}`,
          () => `AS${sep()}c${n}${pick(['é', 'E', 'e', 'U', ''])}`,
        ])();
  const select = (withPlaceholders: boolean): string => {
    const items: string[] = [];
    const n = 1 + Math.floor(rnd() * 4);
    for (let i = 0; i < n; i++) {
      const value = withPlaceholders && chance(0.4) ? placeholder() : chance(0.15) ? number() : string();
      items.push(`${value}${chance(0.1) ? '' : sep()}${alias(i + 1)}`);
    }
    return `SELECT${sep()}${items.join(`${chance(0.2) ? sep() : ''},${sep()}`)}`;
  };
  // Transaction control, comments or other space between its words.
  const control = (): string => (chance(0.3) ? noise() : '') + pick(CONTROL).replace(/ /g, () => (chance(0.5) ? ' ' : sep()));
  // A SQL function with a BEGIN ATOMIC body (its END is not COMMIT), maybe empty, or one with an
  // argument or column `begin atomic` (of the type pg_temp.atomic the test makes) and no body.
  const atomic = (): string =>
    pick([
      () => `CREATE OR REPLACE FUNCTION pg_temp.fz() RETURNS void LANGUAGE sql BEGIN${sep()}ATOMIC${sep()}${some(2, () => `SELECT 1;${sep()}`)}END`,
      () => `CREATE OR REPLACE PROCEDURE pg_temp.pz() LANGUAGE sql BEGIN ATOMIC${sep()}END`,
      () => `CREATE OR REPLACE FUNCTION pg_temp.fz(begin${sep()}atomic) RETURNS int LANGUAGE sql RETURN 1`,
      () => `CREATE OR REPLACE FUNCTION pg_temp.fz() RETURNS TABLE (begin atomic) LANGUAGE sql RETURN 1`,
    ])();

  return {
    placeholderText: () => (chance(0.2) ? noise() : '') + select(true) + (chance(0.2) ? `${sep()};${chance(0.5) ? sep() : ''}` : ''),
    scriptText: () => {
      const n = 1 + Math.floor(rnd() * 3);
      const statements = Array.from({ length: n }, () => (chance(0.3) ? control() : chance(0.1) ? atomic() : select(false)));
      return (chance(0.2) ? noise() : '') + statements.join(`${sep()};${chance(0.3) ? ';' : ''}${sep()}`) + (chance(0.2) ? ';' : '');
    },
  };
}
