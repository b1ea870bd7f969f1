/**
 * Picks the lines of a chunk that best show why it matched, and where the query terms are
 * in them (for highlighting).
 */

export interface Snippet {
  /** Up to `maxLines` lines of the chunk. */
  text: string;
  /** 1-based line number of the snippet's first line in the file. */
  startLine: number;
  /** [start, end) character offsets in `text` of query-term matches. */
  highlights: Array<[number, number]>;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Most distinct terms highlighted (the first ones of the query): the highlighting regex has one
 * alternative per term and runs over every line of every hit, so its cost is capped here.
 */
export const MAX_HIGHLIGHT_TERMS = 64;

/** Builds the snippet of `text` (starting at file line `startLine`) for the given query terms. */
export function makeSnippet(text: string, startLine: number, terms: readonly string[], maxLines = 3): Snippet {
  const lines = text.split('\n');
  const usable = [...new Set(terms.filter((t) => t.length >= 2 || /\d/.test(t)).map((t) => t.toLowerCase()))].slice(0, MAX_HIGHLIGHT_TERMS);
  const re = usable.length
    ? new RegExp(
        usable
          .sort((a, b) => b.length - a.length)
          .map(escapeRegExp)
          .join('|'),
        'giu',
      )
    : undefined;
  let best = 0;
  let bestScore = -1;
  lines.forEach((line, i) => {
    if (!re) return;
    const all = line.match(re) ?? [];
    const found = new Set(all.map((m) => m.toLowerCase()));
    const score = found.size * 10 + Math.min(all.length, 9);
    if (score > bestScore) {
      best = i;
      bestScore = score;
    }
  });
  // the best line, with one line of context before it when there is room
  let from = Math.max(0, best - (maxLines > 2 ? 1 : 0));
  while (from < best && lines[from]!.trim() === '') from++;
  const picked = lines.slice(from, from + maxLines);
  while (picked.length > 1 && picked[picked.length - 1]!.trim() === '') picked.pop();
  const out = picked.join('\n');
  const highlights: Array<[number, number]> = [];
  if (re) for (const m of out.matchAll(re)) highlights.push([m.index, m.index + m[0].length]);
  return { text: out, startLine: startLine + from, highlights };
}
