/**
 * Code-aware tokenizer for Einstein. Splits identifiers at camelCase / PascalCase humps,
 * `snake_case`, `kebab-case` and letter/digit boundaries, lower-cases everything, keeps
 * the whole identifier as a term too (so `getUserName` yields `getusername`, `get`, `user`,
 * `name`), and drops a short list of English and code stop words.
 */

/** Words too common to help ranking. Short on purpose: code words like `get` stay. */
export const STOP_WORDS: ReadonlySet<string> = new Set([
  'a',
  'an',
  'and',
  'are',
  'as',
  'at',
  'be',
  'by',
  'for',
  'from',
  'if',
  'in',
  'into',
  'is',
  'it',
  'its',
  'of',
  'on',
  'or',
  'that',
  'the',
  'this',
  'to',
  'was',
  'will',
  'with',
  'which',
  'when',
]);

/** Longest term kept (longer runs are usually data: hashes, base64). */
export const MAX_TERM_LENGTH = 64;

/** Runs of letters/digits, with `_`, `-`, `$` joining the parts of one identifier. */
const IDENTIFIER = /[\p{L}\p{N}$]+(?:[_-]+[\p{L}\p{N}$]+)*/gu;
/** Boundaries inside one identifier part: lower→Upper, UPPER→Upper+lower, letter↔digit. */
const HUMPS = /\p{Lu}+(?=\p{Lu}\p{Ll})|\p{Lu}?\p{Ll}+|\p{Lu}+|\p{N}+|[^\p{L}\p{N}]+/gu;

function keep(term: string): boolean {
  return term.length > 0 && term.length <= MAX_TERM_LENGTH && !STOP_WORDS.has(term);
}

/** Splits one identifier into its lower-cased sub-words (without the whole identifier). */
export function splitIdentifier(identifier: string): string[] {
  const parts: string[] = [];
  for (const piece of identifier.split(/[_\-$]+/)) {
    for (const m of piece.matchAll(HUMPS)) {
      const w = m[0].toLowerCase();
      if (/[\p{L}\p{N}]/u.test(w)) parts.push(w);
    }
  }
  return parts;
}

/** `_`, `-` and `$`, which join the parts of an identifier. */
const isJoiner = (c: string | undefined): boolean => c === '_' || c === '-' || c === '$';

/**
 * `s` without the joiners at its ends. By loops: `/^[_\-$]+|[_\-$]+$/g` tried the second
 * alternative at every joiner of a run, to the run's end, so `a` + 40,000 `_` + `b` in an
 * indexed file took 1.6 s to tokenize.
 */
function trimJoiners(s: string): string {
  let from = 0;
  let to = s.length;
  while (from < to && isJoiner(s[from])) from++;
  while (to > from && isJoiner(s[to - 1])) to--;
  return s.slice(from, to);
}

/** The terms of one identifier (memoised: identifiers repeat a lot in code). */
const identCache = new Map<string, readonly string[]>();
const IDENT_CACHE_MAX = 200_000;
const PLAIN = /^[a-z]+$/;

function identifierTerms(ident: string): readonly string[] {
  let terms = identCache.get(ident);
  if (terms) return terms;
  if (PLAIN.test(ident)) {
    terms = keep(ident) ? [ident] : [];
  } else {
    const whole = trimJoiners(ident.toLowerCase());
    const parts = splitIdentifier(ident);
    const out: string[] = [];
    if (keep(whole)) out.push(whole);
    if (parts.length > 1 || (parts.length === 1 && parts[0] !== whole)) {
      for (const p of parts) if (keep(p)) out.push(p);
    }
    terms = out;
  }
  if (identCache.size >= IDENT_CACHE_MAX) identCache.clear();
  identCache.set(ident, terms);
  return terms;
}

/**
 * Tokenizes text into terms, in order, with repetition (so term frequency is a count).
 * For each identifier: the whole lower-cased identifier, then its sub-words when it has
 * more than one.
 */
export function tokenize(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IDENTIFIER)) {
    for (const t of identifierTerms(m[0])) out.push(t);
  }
  return out;
}

/** Term → count, the form stored in the postings table. */
export function termFrequencies(terms: readonly string[]): Map<string, number> {
  const tf = new Map<string, number>();
  for (const t of terms) tf.set(t, (tf.get(t) ?? 0) + 1);
  return tf;
}

/** The distinct terms of a query, in first-seen order. */
export function queryTerms(query: string): string[] {
  return [...new Set(tokenize(query))];
}
