/**
 * Glob matching for `pathGlob` in time bounded by the sizes of the glob and the path.
 *
 * picomatch, used before, compiles `*` to a backtracking regular expression: a glob segment
 * with several wildcards among literals (`**\/*a*a*a*b`) took 300 ms per 300-character name,
 * ten `**` segments or an extglob `+(a)` did not finish, and a search tries every indexed path.
 * Here a glob segment is matched against a path segment by the two-pointer wildcard algorithm
 * (at most their lengths multiplied), and the segments by a table over (glob segment, path
 * segment) pairs.
 *
 * What is supported is the part of picomatch's syntax paths need, with its meaning (`dot: true`):
 * `/` separates segments; `**` as a whole segment matches any number of segments (none
 * included), but not `.` or `..`; `*` any run of characters in a segment (at least one where the
 * segment would otherwise be empty; a segment `.` or `..` is matched only by a segment without
 * `*`); `?` one character; `[abc]`, `[a-z]`, `[!a]` / `[^a]`, `[[:alpha:]]` one character of a
 * class; `{a,b}` alternatives (nested; `{1..3}` and `{a..c}` ranges), at most
 * {@link MAX_EXPANSIONS} globs once expanded; `\x` the character x; a leading `!` negates the
 * glob; a leading `./` is dropped. Extglobs (`@(…)`, `+(…)`, `!(…)`, `*(…)`, `?(…)`) are refused.
 */
import { BadInputError } from '../core/errors.js';

/**
 * Most globs one pattern may stand for once its braces are expanded: each is tried on every
 * path (`{a,b}` ten times over, 1,024 globs, took 10 ms per path).
 */
export const MAX_EXPANSIONS = 64;

/**
 * Most characters the globs of one pattern (or of a list: {@link compileGlobs}) may have once
 * expanded. Matching one path costs at most this many times the path's length: a 2,000-character
 * glob standing for 64 took 3.2 s against a 4,096-character path.
 */
export const MAX_GLOB_WORK = 8_192;

/** {@link compileGlob} of each of `globs`, matching a path that any matches; their work counted together. */
export function compileGlobs(globs: readonly string[]): (path: string) => boolean {
  let work = 0;
  const matchers = globs.map((g) => {
    const m = compileGlob(g);
    work += m.work;
    return m;
  });
  if (work > MAX_GLOB_WORK)
    throw new BadInputError(`pathGlob's globs are ${work} characters long once expanded; at most ${MAX_GLOB_WORK} are matched`, { pathGlob: globs });
  return (path) => matchers.some((m) => m(path));
}

/** One character of a segment: a predicate, or STAR. */
type Token = ((c: string) => boolean) | typeof STAR;
const STAR = Symbol('star');
const GLOBSTAR = Symbol('globstar');
/** A segment's tokens, with how many characters a name needs at least (its tokens but the stars) and whether it has a star. */
type Tokens = Token[] & { min: number; starred: boolean };
type Segment = Tokens | typeof GLOBSTAR;

/** A predicate for `glob` (see above), with its `work` (MAX_GLOB_WORK); BOLT_BAD_INPUT for what it does not take. */
export function compileGlob(glob: string): ((path: string) => boolean) & { work: number } {
  let text = glob;
  let negated = false;
  while (text.startsWith('!') && text[1] !== '(') {
    negated = !negated;
    text = text.slice(1);
  }
  if (text.startsWith('./')) text = text.slice(2);
  const extglob = /(^|[^\\])[@!+*?]\(/.exec(text);
  if (extglob)
    throw new BadInputError(`pathGlob: extglob patterns such as "${extglob[0].slice(-2)}…)" are not supported (escape the parenthesis to match it: \\()`, {
      pathGlob: glob,
    });
  const expanded = expandBraces(text, glob);
  const work = expanded.reduce((n, g) => n + g.length, 0);
  if (work > MAX_GLOB_WORK) {
    throw new BadInputError(`pathGlob is ${work} characters long once its braces are expanded; at most ${MAX_GLOB_WORK} are matched`, { pathGlob: glob });
  }
  const compiled = expanded.map((g) => splitEscaped(g).map(compileSegment));
  const match = (path: string): boolean => {
    const parts = path.split('/');
    const any = compiled.some((segments) => matchSegments(segments, parts));
    return negated ? !any : any;
  };
  return Object.assign(match, { work });
}

/** `segments` against `parts`: reachable[j] says the glob's segments so far can end before part j. */
function matchSegments(segments: readonly Segment[], parts: readonly string[]): boolean {
  const n = parts.length;
  let reachable = new Uint8Array(n + 1);
  reachable[0] = 1;
  for (const seg of segments) {
    const next = new Uint8Array(n + 1);
    let any = false;
    if (seg === GLOBSTAR) {
      let on = false;
      for (let k = 0; k <= n; k++) {
        on = (on && k > 0 && !isDotSegment(parts[k - 1]!)) || reachable[k] === 1;
        if (on) next[k] = 1;
        any ||= on;
      }
    } else {
      for (let j = 0; j < n; j++) {
        if (reachable[j] === 1 && matchSegment(seg, parts[j]!)) {
          next[j + 1] = 1;
          any = true;
        }
      }
    }
    if (!any) return false;
    reachable = next;
  }
  return reachable[n] === 1;
}

const isDotSegment = (s: string): boolean => s === '.' || s === '..';

/** One glob segment against one path segment: the two-pointer algorithm, back to the last `*` on a mismatch. */
function matchSegment(tokens: Tokens, s: string): boolean {
  const { starred, min } = tokens;
  if (starred && (s === '' || isDotSegment(s))) return false;
  // Too short, or of another length without a star: no need to look (a 4,096-character glob
  // segment against a long name would otherwise cost their lengths multiplied).
  if (s.length < min || (!starred && s.length !== min)) return false;
  let t = 0;
  let i = 0;
  let starAt = -1;
  let resumeAt = 0;
  while (i < s.length) {
    const tok = tokens[t];
    if (tok === STAR) {
      starAt = t++;
      resumeAt = i;
    } else if (tok !== undefined && tok(s[i]!)) {
      t++;
      i++;
    } else if (starAt >= 0) {
      t = starAt + 1;
      i = ++resumeAt;
    } else return false;
  }
  while (tokens[t] === STAR) t++;
  return t === tokens.length;
}

/** `text` split at its unescaped `/`, escapes kept. */
function splitEscaped(text: string): string[] {
  const out: string[] = [];
  let from = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '/') {
      out.push(text.slice(from, i));
      from = i + 1;
    }
  }
  out.push(text.slice(from));
  return out;
}

const POSIX_CLASSES: Record<string, RegExp> = {
  alpha: /[A-Za-z]/,
  digit: /[0-9]/,
  alnum: /[A-Za-z0-9]/,
  upper: /[A-Z]/,
  lower: /[a-z]/,
  space: /\s/,
  word: /\w/,
  xdigit: /[0-9A-Fa-f]/,
  punct: /[!-/:-@[-`{-~]/,
  blank: /[ \t]/,
  cntrl: /[\x00-\x1f\x7f]/,
  print: /[\x20-\x7e]/,
  graph: /[\x21-\x7e]/,
  ascii: /[\x00-\x7f]/,
};

function compileSegment(seg: string): Segment {
  if (seg === '**') return GLOBSTAR;
  const tokens: Token[] = [];
  // Once a `[` finds no `]`, no later one does: they are read as characters without a search
  // to the end of the segment each (4,096 of them took 355 ms).
  let unclosed = false;
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '\\' && i + 1 < seg.length) {
      const lit = seg[++i]!;
      tokens.push((x) => x === lit);
    } else if (c === '*') {
      if (tokens.at(-1) !== STAR) tokens.push(STAR);
    } else if (c === '?') tokens.push(() => true);
    else if (c === '[' && !unclosed) {
      const cls = compileClass(seg, i);
      if (cls) {
        tokens.push(cls.test);
        i = cls.end;
      } else {
        unclosed = true;
        tokens.push((x) => x === '[');
      }
    } else tokens.push((x) => x === c);
  }
  const stars = tokens.filter((t) => t === STAR).length;
  return Object.assign(tokens, { min: tokens.length - stars, starred: stars > 0 });
}

/** The class starting at `seg[start]` (`[`) and the index of its `]`, or undefined when it does not close. */
function compileClass(seg: string, start: number): { test: (c: string) => boolean; end: number } | undefined {
  let i = start + 1;
  const negated = seg[i] === '!' || seg[i] === '^';
  if (negated) i++;
  const tests: Array<(c: string) => boolean> = [];
  for (let first = true; i < seg.length; first = false, i++) {
    const c = seg[i]!;
    if (c === ']' && !first) {
      const test = (x: string): boolean => tests.some((t) => t(x)) !== negated;
      return { test, end: i };
    }
    const posix = c === '[' && seg[i + 1] === ':' ? /^\[:([a-z]+):\]/.exec(seg.slice(i)) : null;
    if (posix) {
      const re = POSIX_CLASSES[posix[1]!];
      if (!re) throw new BadInputError(`pathGlob: unknown character class [:${posix[1]}:]`, { pathGlob: seg });
      tests.push((x) => re.test(x));
      i += posix[0].length - 1;
      continue;
    }
    const lo = c === '\\' && i + 1 < seg.length ? seg[++i]! : c;
    if (seg[i + 1] === '-' && i + 2 < seg.length && seg[i + 2] !== ']') {
      const hi = seg[i + 2] === '\\' && i + 3 < seg.length ? seg[i + 3]! : seg[i + 2]!;
      i += seg[i + 2] === '\\' ? 3 : 2;
      tests.push((x) => x >= lo && x <= hi);
    } else tests.push((x) => x === lo);
  }
  return undefined;
}

/** The globs `text` stands for with its braces expanded; BOLT_BAD_INPUT past MAX_EXPANSIONS. */
function expandBraces(text: string, glob: string): string[] {
  const open = findBrace(text);
  if (!open) return [text];
  const { start, end, alternatives } = open;
  const out: string[] = [];
  for (const alt of alternatives) {
    for (const rest of expandBraces(text.slice(0, start) + alt + text.slice(end + 1), glob)) {
      out.push(rest);
      if (out.length > MAX_EXPANSIONS)
        throw new BadInputError(`pathGlob stands for more than ${MAX_EXPANSIONS} globs once its braces are expanded`, { pathGlob: glob });
    }
  }
  return out;
}

/**
 * The first `{…}` of `text` with a top-level comma or a range, and its alternatives: one pass
 * with a stack of open braces (searching from each `{` to its `}` took seconds on 4,000 `{`).
 */
function findBrace(text: string): { start: number; end: number; alternatives: string[] } | undefined {
  const open: Array<{ start: number; commas: number[] }> = [];
  let first: { start: number; end: number; alternatives: string[] } | undefined;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\\') i++;
    else if (c === '{') open.push({ start: i, commas: [] });
    else if (c === ',') open.at(-1)?.commas.push(i);
    else if (c === '}') {
      const brace = open.pop();
      if (!brace || (first && first.start < brace.start)) continue;
      const cuts = [brace.start, ...brace.commas, i];
      const alternatives = brace.commas.length ? cuts.slice(1).map((cut, k) => text.slice(cuts[k]! + 1, cut)) : rangeOf(text.slice(brace.start + 1, i));
      // `{a}` is read as it is.
      if (alternatives) first = { start: brace.start, end: i, alternatives };
    }
  }
  return first;
}

/** `1..3` → 1, 2, 3; `01..03` → 01, 02, 03; `a..c` → a, b, c (at most MAX_EXPANSIONS + 1, which the caller refuses). */
function rangeOf(body: string): string[] | undefined {
  const m = /^(-?\d+|[A-Za-z])\.\.(-?\d+|[A-Za-z])$/.exec(body);
  if (!m) return undefined;
  const [a, b] = [m[1]!, m[2]!];
  const numeric = /\d/.test(a);
  if (numeric !== /\d/.test(b)) return undefined;
  const from = numeric ? Number(a) : a.charCodeAt(0);
  const to = numeric ? Number(b) : b.charCodeAt(0);
  const step = from <= to ? 1 : -1;
  // `{01..10}`: as wide as the wider end, as bash writes it.
  const width = numeric && (/^-?0\d/.test(a) || /^-?0\d/.test(b)) ? Math.max(a.replace('-', '').length, b.replace('-', '').length) : 0;
  const out: string[] = [];
  for (let v = from; out.length <= MAX_EXPANSIONS; v += step) {
    // A letter range may pass characters a glob reads (`{Z..a}`: `[`, `\\`, `^`): each is escaped.
    out.push(numeric ? `${v < 0 ? '-' : ''}${String(Math.abs(v)).padStart(width, '0')}` : `\\${String.fromCharCode(v)}`);
    if (v === to) break;
  }
  return out;
}

/** Whether `path` matches `glob` (one-off: {@link compileGlob} for many paths). */
export function matchesGlob(glob: string, path: string): boolean {
  return compileGlob(glob)(path);
}
