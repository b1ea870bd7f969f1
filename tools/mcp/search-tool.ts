/**
 * The `search` tool of `bolt mcp`: Einstein search (BM25, vector or hybrid) over the files
 * `bolt index` put in this database, with the embedder of BOLT_EMBED_URL / BOLT_EMBED_MODEL or
 * the built-in hashed one (the index records which one built it; another is refused). It never
 * creates the index: without one it answers BOLT_NOT_FOUND.
 */
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { NotFoundError } from '../../core/errors.js';
import { EinsteinSearch } from '../../search/einstein-search.js';
import { MAX_QUERY_CHARS } from '../../search/options.js';
import { embedderFromOptions } from '../einstein-cli.js';
import { sharedUntilFailure } from '../../core/shared-until-failure.js';
import { answer } from './answers.js';
import { tableExists } from './catalog.js';
import type { McpContext } from './context.js';

export function registerSearchTool(server: McpServer, c: McpContext): void {
  /** The search adapter, once the index exists (a missing index is looked for again next call). */
  const einstein = sharedUntilFailure(async (): Promise<EinsteinSearch> => {
    if (!(await tableExists(c.db, 'einstein_meta'))) {
      throw new NotFoundError('There is no search index in this database: run `bolt index <dir>` with the same --db first.');
    }
    return new EinsteinSearch(c.db, { embedder: await embedderFromOptions({ db: c.db.location }) });
  });

  server.registerTool(
    'search',
    {
      description:
        'Searches the files indexed with `bolt index` (hybrid BM25 + vector by default) and returns ranked hits: path, line range, score and a snippet.',
      inputSchema: {
        query: z.string().min(1).max(MAX_QUERY_CHARS).describe('words, identifiers or a description'),
        k: z.number().int().min(1).max(100).optional().describe('number of hits (default 10)'),
        mode: z.enum(['hybrid', 'bm25', 'vector']).optional().describe('default hybrid'),
        path: z.array(z.string().min(1).max(1000)).max(50).optional().describe('only files matching these globs, e.g. "src/**"'),
      },
      annotations: { readOnlyHint: true },
    },
    ({ query, k, mode, path }) =>
      answer(async () => {
        const search = await einstein();
        const hits = await search.search(query, { k: k ?? 10, mode: mode ?? 'hybrid', pathGlob: path });
        return { hits: hits.map(({ path: p, startLine, endLine, score, snippet, matched }) => ({ path: p, startLine, endLine, score, snippet, matched })) };
      }),
  );
}
