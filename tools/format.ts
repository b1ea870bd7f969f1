/** Small formatters for human CLI output. */

/** `1536` → `1.5 KiB`. */
export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

/** `93_000` → `1m 33s`. */
export function formatDuration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m ${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** `1 row`, `2 rows`. */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * `s` safe to print on a terminal: control characters (C0 but tab, DEL, C1), line and paragraph
 * separators and bidirectional overrides are shown as escapes (`\n`, `\x1b`, `\u202e`), so a
 * file name or file content cannot move the cursor, recolour the screen or fake output lines.
 * For human output only: `--json` prints values exactly.
 */
export function printable(s: string): string {
  return s.replace(/[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\r') return '\\r';
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}

/**
 * A message of several lines (a SQL engine's error with its caret line) safe to print: each
 * line {@link printable}, and every line after the first indented by two spaces, so a file name
 * in it can neither drive the terminal nor start a line of its own (a fake `error [...]`).
 */
export function printableLines(s: string): string {
  return s
    .split('\n')
    .map((line) => printable(line))
    .join('\n  ');
}
