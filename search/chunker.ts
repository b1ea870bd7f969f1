/**
 * Splits a text file into chunks of whole lines. A chunk holds at most `maxLines` lines
 * (and about `maxChars` characters). Inside the last half of that window the chunker
 * prefers to cut just before a top-level declaration or just after a blank line; such a
 * cut is a natural boundary, so the next chunk starts right there. When no such line
 * exists the cut is hard and the next chunk repeats the last `overlap` lines, so text that
 * straddles the cut is still found whole in one chunk.
 */

/** One chunk: 1-based inclusive line range and its text. */
export interface Chunk {
  startLine: number;
  endLine: number;
  text: string;
}

export interface ChunkOptions {
  /** Most lines in one chunk (default 40). */
  maxLines?: number;
  /** Lines repeated after a hard cut (default 4). */
  overlap?: number;
  /** Soft limit on characters in one chunk; a chunk always holds at least one line (default 4000). */
  maxChars?: number;
}

/** Lines that open a top-level declaration in common languages (no indentation). */
const TOP_LEVEL =
  /^(?:export\s|import\s|function\s|async\s+function|class\s|abstract\s+class|interface\s|type\s|enum\s|const\s|let\s|var\s|declare\s|namespace\s|module\s|def\s|fn\s|pub\s|impl\s|struct\s|func\s|package\s|public\s|private\s|protected\s|static\s|@\w|\/\*\*|#{1,6}\s)/;

/** True when a chunk may end just before line `i` (0-based) at a natural boundary. */
function isBoundary(lines: readonly string[], i: number): boolean {
  if (i <= 0 || i >= lines.length) return true;
  if (lines[i - 1]!.trim() === '') return true;
  return TOP_LEVEL.test(lines[i]!);
}

/** Splits `text` into line chunks (see the module comment). Blank-only chunks are dropped. */
export function chunkText(text: string, opts: ChunkOptions = {}): Chunk[] {
  const maxLines = Math.max(1, opts.maxLines ?? 40);
  const overlap = Math.min(Math.max(0, opts.overlap ?? 4), maxLines - 1);
  const maxChars = Math.max(1, opts.maxChars ?? 4000);
  const lines = text.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const chunks: Chunk[] = [];
  let start = 0;
  while (start < lines.length) {
    // The hard end: maxLines lines or the character budget, at least one line.
    let end = start;
    let chars = 0;
    while (end < lines.length && end - start < maxLines && (end === start || chars + lines[end]!.length + 1 <= maxChars)) {
      chars += lines[end]!.length + 1;
      end++;
    }
    let soft = false;
    if (end < lines.length) {
      const earliest = start + Math.max(1, Math.ceil((end - start) / 2));
      for (let i = end; i >= earliest; i--) {
        if (isBoundary(lines, i)) {
          end = i;
          soft = true;
          break;
        }
      }
    }
    const body = lines.slice(start, end);
    if (body.some((l) => l.trim() !== '')) {
      chunks.push({ startLine: start + 1, endLine: end, text: body.join('\n') });
    }
    if (end >= lines.length) break;
    start = soft ? end : Math.max(start + 1, end - overlap);
  }
  return chunks;
}
