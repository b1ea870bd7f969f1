/**
 * Einstein's runtime agents: `index` (whole directory or one shard) and `search`, run as
 * durable tasks on real worker threads that reach the database as ConcurrentDatabase clients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './helpers/tmp.js';
import { nextEvent } from './helpers/wait.js';
import { runBolt } from './helpers/cli.js';
import { BoltIntegration } from '../core/runtime/bolt-integration.js';
import type { TaskDoneEvent } from '../core/events.js';
import type { IndexTaskResult } from '../agents/builtin/einstein.js';
import type { SearchHit } from '../search/einstein-search.js';

test('index shards on two agents cover every file once; the search agent finds them', { timeout: 90_000 }, async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'src');
  mkdirSync(src);
  for (let i = 0; i < 30; i++) writeFileSync(join(src, `f${i}.ts`), `export const marker${i} = "zz${i}unique";\n`);
  const bolt = new BoltIntegration({ agents: 2, database: join(dir, 'a.db') });
  t.after(() => bolt.shutdown({ immediate: true }));
  await bolt.initialize();
  const done = (id: number) => nextEvent<TaskDoneEvent>(bolt, 'task:done', (e) => e.id === id, 60_000);

  // both shards start at once: each creates the tables idempotently in a retried transaction
  const ids = await bolt.submitMany([0, 1].map((shard) => ({ agent: 'index', payload: { dir: src, shard, shards: 2, embedder: { hashDim: 32 } } })));
  const results = (await Promise.all(ids.map(done))).map((e) => e.result as IndexTaskResult);
  assert.deepEqual(results.map((r) => r.shard).sort(), [0, 1]);
  assert.equal(results[0]!.filesIndexed + results[1]!.filesIndexed, 30, 'each file indexed by exactly one shard');
  assert.ok(
    results.every((r) => r.filesIndexed > 0),
    'both shards got work',
  );

  const db = bolt.getDatabaseManager();
  const [{ n }] = await db.query<{ n: number }>('SELECT count(*)::INTEGER AS n FROM einstein_files');
  assert.equal(n, 30);

  const searchId = await bolt.submit('search', { query: 'zz17unique', k: 3, mode: 'bm25', embedder: { hashDim: 32 } });
  const found = await done(searchId);
  assert.match(found.agentId, /^agent-[12]$/);
  const hits = found.result as SearchHit[];
  assert.equal(hits.length, 3);
  assert.match(hits[0]!.path, /src\/f17\.ts$/, 'the file with the whole identifier ranks first');

  // a whole-directory run (one shard) is incremental: nothing left to do
  const again = await done(await bolt.submit('index', { dir: src, embedder: { hashDim: 32 } }));
  assert.equal((again.result as IndexTaskResult).filesIndexed, 0);
});

test('bolt index --agents 2 indexes through runtime agents', { timeout: 90_000 }, async (t) => {
  const cwd = tempDir(t);
  mkdirSync(join(cwd, 'proj'));
  for (let i = 0; i < 12; i++) writeFileSync(join(cwd, 'proj', `m${i}.md`), `# note ${i}\nzz${i}word\n`);
  const r = await runBolt(['index', 'proj', '--agents', '2', '--json'], { cwd, timeoutMs: 80_000 });
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { agents: number; filesIndexed: number; shards: IndexTaskResult[]; index: { files: number } };
  assert.equal(out.agents, 2);
  assert.equal(out.shards.length, 2);
  assert.equal(out.filesIndexed, 12);
  assert.equal(out.index.files, 12);
  const s = await runBolt(['search', 'zz7word', '--mode', 'bm25', '--json'], { cwd });
  assert.equal(s.code, 0, s.stderr);
  assert.match((JSON.parse(s.stdout) as { hits: Array<{ path: string }> }).hits[0]!.path, /^proj\/m7\.md$/);
});
