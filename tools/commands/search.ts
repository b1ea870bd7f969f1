/**
 * `bolt search "<query>"`: ranked hits from the index `bolt index` built, each as
 * `path:start-end`, its score and ranks, and a snippet with the query terms highlighted
 * (bold colour on a terminal, «term» otherwise).
 */
import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { action, printJson, println } from '../cli-action.js';
import { BadInputError, NotFoundError } from '../../core/errors.js';
import { EinsteinSearch, type SearchHit, type SearchMode } from '../../search/einstein-search.js';
import { addEinsteinOptions, embedderFromOptions, isServerDb, openDb, type EinsteinCliOptions } from '../einstein-cli.js';
import { noColor } from '../../core/config.js';
import { parseInteger } from '../int-option.js';
import { printable } from '../format.js';

interface SearchCliOptions extends EinsteinCliOptions {
  k: string;
  mode: string;
  path?: string[];
}

/** The snippet's lines with the matches marked; control characters of the file shown escaped. */
function highlight(hit: SearchHit, color: boolean): string[] {
  return hit.snippet.split('\n').reduce<{ lines: string[]; offset: number }>(
    (acc, line) => {
      let out = '';
      let at = 0;
      for (const [gs, ge] of hit.highlights) {
        const [s, e] = [gs - acc.offset, ge - acc.offset];
        if (s < at || e > line.length) continue;
        const word = printable(line.slice(s, e));
        out += printable(line.slice(at, s)) + (color ? `\x1b[1;33m${word}\x1b[0m` : `«${word}»`);
        at = e;
      }
      acc.lines.push(out + printable(line.slice(at)));
      acc.offset += line.length + 1;
      return acc;
    },
    { lines: [], offset: 0 },
  ).lines;
}

export function register(program: Command): void {
  addEinsteinOptions(
    program
      .command('search')
      .description('search the index built by `bolt index` (BM25, vector or hybrid)')
      .argument('<query>', 'words, identifiers or a description'),
  )
    .option('-k, --k <n>', 'number of hits', '10')
    .option('--mode <mode>', 'hybrid | bm25 | vector', 'hybrid')
    .option('--path <glob...>', 'only files matching this glob (e.g. "src/**", "**/*.{ts,js}"; docs/einstein.md)')
    .action(
      action(async (query: string, o: SearchCliOptions) => {
        // The API answers an empty query with no hits; on the command line it is a mistake.
        const k = parseInteger('--k', o.k, 1, 1000);
        if (!['hybrid', 'bm25', 'vector'].includes(o.mode)) throw new BadInputError(`--mode must be hybrid, bm25 or vector, got ${o.mode}`);
        if (!isServerDb(o.db) && !existsSync(o.db))
          throw new NotFoundError(`No database at ${o.db}: run \`bolt index <dir>\` first (or pass --db).`, { path: o.db });
        const embedder = await embedderFromOptions(o);
        const db = await openDb(o, false);
        try {
          const einstein = new EinsteinSearch(db, { embedder });
          // BOLT_NOT_FOUND when the database holds no index (a search creates nothing).
          const hits = await einstein.search(query, { k, mode: o.mode as SearchMode, pathGlob: o.path });
          if (hits.length === 0 && (await einstein.indexStats()).files === 0) {
            throw new NotFoundError(`The search index in ${o.db} is empty: run \`bolt index <dir>\` first.`, { path: o.db });
          }
          if (o.json) {
            printJson({ query, mode: o.mode, k, hits, latencyMs: einstein.stats().latencyMs.max });
            return;
          }
          if (hits.length === 0) {
            println(`no hits for "${printable(query)}"`);
            return;
          }
          const color = Boolean(process.stdout.isTTY) && !noColor();
          for (const h of hits) {
            const ranks = [h.matched.bm25Rank && `bm25 #${h.matched.bm25Rank}`, h.matched.vectorRank && `vector #${h.matched.vectorRank}`]
              .filter(Boolean)
              .join(', ');
            println(`${printable(h.path)}:${h.startLine}-${h.endLine}  score ${h.score.toFixed(4)}${ranks ? `  (${ranks})` : ''}`);
            highlight(h, color).forEach((line, i) => println(`  ${String(h.snippetStartLine + i).padStart(5)} | ${line}`));
            println();
          }
        } finally {
          await db.close();
        }
      }),
    );
}
