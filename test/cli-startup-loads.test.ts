/**
 * A command loads only what it uses: the DuckDB binding, the pg driver, the MCP SDK and
 * prom-client take ~0.5 s together to load, and every `bolt` invocation paid it before any
 * work. Recorded by a resolve hook in the child (fixtures/record-packages.ts), not timed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBolt } from './helpers/cli.js';
import { tempDir } from './helpers/tmp.js';

const HOOK = fileURLToPath(new URL('./fixtures/record-packages.js', import.meta.url));
const HEAVY = ['@duckdb/node-api', 'pg', '@modelcontextprotocol/sdk', 'prom-client', 'zod'];

/** Runs `bolt ...args` and returns the packages its process imported. */
async function packagesOf(dir: string, name: string, args: string[]): Promise<string[]> {
  const record = join(dir, `${name}.txt`);
  const r = await runBolt(args, { cwd: dir, env: { NODE_OPTIONS: `--import=${HOOK}`, BOLT_RECORD_PACKAGES: record } });
  assert.equal(r.code, 0, r.stderr);
  return existsSync(record) ? readFileSync(record, 'utf8').split('\n').filter(Boolean) : [];
}

function heavyIn(packages: string[]): string[] {
  return [...new Set(packages.filter((p) => HEAVY.some((h) => p === h || p.startsWith(`${h}/`))))];
}

test('bolt --help and the queue commands on a SQLite file load no engine, driver or server they do not use', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const db = join(dir, 'q.sqlite');
  for (const [name, args] of [
    ['help', ['--help']],
    ['submit-help', ['submit', '--help']],
    ['submit', ['submit', 'echo', '--db', db]],
    ['tasks', ['tasks', '--db', db, '--json']],
    ['info', ['db', 'info', db, '--json']],
  ] as const) {
    const loaded = await packagesOf(dir, name, [...args]);
    assert.ok(loaded.includes('commander'), `${name}: the hook recorded nothing (${loaded.join(', ')})`);
    assert.deepEqual(heavyIn(loaded), [], `bolt ${args.join(' ')} loaded them`);
  }
});

test('a command that uses one still loads it: db info on a DuckDB file loads the DuckDB binding', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const duck = join(dir, 'a.db');
  await packagesOf(dir, 'make', ['query', '--db', duck, 'CREATE TABLE t (x INTEGER)']);
  assert.deepEqual(heavyIn(await packagesOf(dir, 'info', ['db', 'info', duck, '--json'])), ['@duckdb/node-api']);
});
