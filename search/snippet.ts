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

/** Builds the snippet of `text` (starting at file line `startLine`) for the given query terms. */
export function makeSnippet(text: string, startLine: number, terms: readonly string[], maxLines = 3): Snippet {
  const lines = text.split('\n');
  const usable = terms.filter((t) => t.length >= 2 || /\d/.test(t));
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
    const found = new Set((line.match(re) ?? []).map((m) => m.toLowerCase()));
    const score = found.size * 10 + Math.min(found.size ? (line.match(re)?.length ?? 0) : 0, 9);
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
