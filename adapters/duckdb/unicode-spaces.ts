/**
 * The text DuckDB's lexer gets. Before lexing, DuckDB turns the Unicode spaces U+00A0, U+2000 to
 * U+200B, U+202F, U+205F, U+2060, U+3000 and U+FEFF into plain spaces (`Parser::StripUnicodeSpaces`,
 * src/parser/parser.cpp), but only outside what a reading of its own takes for quotes and `--`
 * comments. That reading knows no block comment, no `E'…'` escape and no identifier, so a `'`
 * inside a comment, or the `$x$` of `a$x$`, opens a quote to it, and the spaces up to that
 * quote's end are left as they are, which the lexer then reads as letters of a word. A check
 * that turned every such space into a plain one read `… /* ' *\/ AS \u00a0$x$ …` differently from
 * DuckDB and missed the statements after it; so this is a port of DuckDB's pass as it runs, on
 * the text's UTF-8 bytes and with its bounds (it never looks at the last two bytes). Each of these
 * characters is one UTF-16 code unit, so positions in the text stay.
 */

/** A dollar-quote tag's first byte to this pass: A-Z, a-z, `_` or any byte of a non-ASCII character (measured on 1.5.6). */
const tagStart = (b: number | undefined): boolean => b !== undefined && ((b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a) || b === 0x5f || b >= 0x80);
const tagByte = (b: number | undefined): boolean => tagStart(b) || (b !== undefined && b >= 0x30 && b <= 0x39);

type State = 'regular' | 'quote' | 'dollar' | 'comment';

/** Byte offsets and lengths of the spaces DuckDB turns into plain ones. */
function spacesTurned(q: Uint8Array): Array<[number, number]> {
  const n = q.length;
  const found: Array<[number, number]> = [];
  let pos = 0;
  let state: State = 'regular';
  let quote = 0;
  let tag: Uint8Array = new Uint8Array();
  for (;;) {
    if (state === 'regular') {
      let next: State | undefined;
      for (; pos + 2 < n; pos++) {
        const c = q[pos]!;
        if (c === 0xc2 && q[pos + 1] === 0xa0) found.push([pos, 2]);
        if (c === 0xe2) {
          const b1 = q[pos + 1]!;
          const b2 = q[pos + 2]!;
          if (b1 === 0x80 && ((b2 >= 0x80 && b2 <= 0x8b) || b2 === 0xaf)) found.push([pos, 3]);
          else if (b1 === 0x81 && (b2 === 0x9f || b2 === 0xa0)) found.push([pos, 3]);
        } else if (c === 0xe3) {
          if (q[pos + 1] === 0x80 && q[pos + 2] === 0x80) found.push([pos, 3]);
        } else if (c === 0xef) {
          if (q[pos + 1] === 0xbb && q[pos + 2] === 0xbf) found.push([pos, 3]);
        } else if (c === 0x22 || c === 0x27) {
          quote = c;
          pos++;
          next = 'quote';
          break;
        } else if (c === 0x24 && (q[pos + 1] === 0x24 || tagStart(q[pos + 1]))) {
          const start = ++pos;
          let ended: 'dollar' | 'regular' | undefined;
          for (; pos + 2 < n; pos++) {
            if (q[pos] === 0x24) {
              tag = q.subarray(start, pos);
              ended = 'dollar';
              break;
            }
            if (!tagByte(q[pos])) {
              ended = 'regular';
              break;
            }
          }
          if (ended === undefined) return found;
          next = ended;
          if (ended === 'regular') {
            pos--; // DuckDB looks at the byte that ended the tag again, as regular text
            continue;
          }
          break;
        } else if (c === 0x2d && q[pos + 1] === 0x2d) {
          next = 'comment';
          break;
        }
      }
      if (next === undefined || next === 'regular') return found;
      state = next;
    } else if (state === 'quote') {
      let closed = false;
      for (; pos + 1 < n; pos++) {
        if (q[pos] !== quote) continue;
        if (q[pos + 1] === quote) {
          pos++;
          continue;
        }
        pos++;
        closed = true;
        break;
      }
      if (!closed) return found;
      state = 'regular';
    } else if (state === 'dollar') {
      let closed = false;
      for (; pos + 2 < n; pos++) {
        if (q[pos] === 0x24 && n - (pos + 1) >= tag.length + 1 && q[pos + tag.length + 1] === 0x24 && sameBytes(q, pos + 1, tag)) {
          pos += tag.length + 1;
          closed = true;
          break;
        }
      }
      if (!closed) return found;
      state = 'regular';
    } else {
      let ended = false;
      for (; pos < n; pos++) {
        if (q[pos] === 0x0a || q[pos] === 0x0d) {
          ended = true;
          break;
        }
      }
      if (!ended) return found;
      state = 'regular';
    }
  }
}

function sameBytes(q: Uint8Array, at: number, part: Uint8Array): boolean {
  for (let k = 0; k < part.length; k++) if (q[at + k] !== part[k]) return false;
  return true;
}

/** `sql` with the Unicode spaces DuckDB turns into plain ones turned (and no other). */
export function asDuckDbLexesIt(sql: string): string {
  if (!/[\u00a0\u2000-\u200b\u202f\u205f\u2060\u3000\ufeff]/.test(sql)) return sql;
  const bytes = Buffer.from(sql, 'utf8');
  const turned = spacesTurned(bytes);
  if (turned.length === 0) return sql;
  const parts: Buffer[] = [];
  let prev = 0;
  for (const [at, length] of turned) {
    parts.push(bytes.subarray(prev, at), Buffer.from(' '));
    prev = at + length;
  }
  parts.push(bytes.subarray(prev));
  return Buffer.concat(parts).toString('utf8');
}
