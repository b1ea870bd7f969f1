/**
 * The resources of `bolt mcp`: `bolt://schema`, the tables with their columns, types and row
 * counts (what `describe` answers), and `bolt://types`, how SQL values come back as JSON and
 * which parameters bind as what (the "Types" section of the README shipped with Bolt).
 */
import { readFile } from 'node:fs/promises';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { NotFoundError } from '../../core/errors.js';
import { jsonSafe } from '../format-rows.js';
import { describeTables } from './catalog.js';
import type { McpContext } from './context.js';

/** The README next to `dist/` in the package and in a checkout. */
const README = new URL('../../../README.md', import.meta.url);

/** The README's "## Types" section, up to the next level-2 heading. */
export async function typesSection(): Promise<string> {
  const text = await readFile(README, 'utf8').catch(() => '');
  const start = text.indexOf('\n## Types\n');
  if (start < 0) throw new NotFoundError('The type table is not available: README.md is missing from this installation');
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start + 1, end < 0 ? undefined : end).trimEnd() + '\n';
}

export function registerResources(server: McpServer, c: McpContext): void {
  server.registerResource(
    'schema',
    'bolt://schema',
    { title: 'Database schema', description: 'Tables, columns, types and row counts of the database', mimeType: 'application/json' },
    async (uri) => ({
      contents: [{ uri: uri.href, mimeType: 'application/json', text: JSON.stringify(jsonSafe({ engine: c.db.engine, tables: await describeTables(c.db) })) }],
    }),
  );
  server.registerResource(
    'types',
    'bolt://types',
    {
      title: 'How SQL values come back',
      description: 'The JSON value of every SQL type (exact by default) and how parameters bind',
      mimeType: 'text/markdown',
    },
    async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: await typesSection() }] }),
  );
}
