/**
 * Journals: each soak process appends what was acknowledged to it the moment the
 * acknowledgement arrives (one append per line, so a SIGKILL never loses an acknowledged
 * id; never through a symbolic link, see storage/platform/own-file.ts). The verifier reads them
 * back after the run.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { appendOwnFile } from '../../storage/platform/own-file.js';

export type JournalKind = 'ledger' | 'counter' | 'task' | 'uncertain' | 'bad-write';

/** Appends journal lines for one process. */
export class Journal {
  constructor(
    private readonly dir: string,
    private readonly proc: number,
  ) {}

  /** Appends one tab-separated record to `<kind>-<proc>.log`. */
  append(kind: JournalKind, ...fields: (string | number)[]): void {
    appendOwnFile(join(this.dir, `${kind}-${this.proc}.log`), `${fields.join('\t')}\n`);
  }
}

/** Every complete record of one journal kind across all processes. */
export function readJournals(dir: string, kind: JournalKind): string[][] {
  const out: string[][] = [];
  for (const f of readdirSync(dir)) {
    if (!f.startsWith(`${kind}-`) || !f.endsWith('.log')) continue;
    const text = readFileSync(join(dir, f), 'utf8');
    const lines = text.split('\n');
    lines.pop(); // the part after the last newline is incomplete (or empty)
    for (const line of lines) if (line) out.push(line.split('\t'));
  }
  return out;
}
