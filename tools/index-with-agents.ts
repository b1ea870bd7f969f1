/**
 * Indexes a directory on N runtime agents: starts a `BoltIntegration` with N agents on the
 * database, submits one `index` task per shard (files split by path hash), waits for all of
 * them, and shuts the runtime down. Used by `bolt index --agents N` and the bench; the caller
 * finishes the run in its own process (`EinsteinSearch.index` removes deleted files, compacts).
 */
import { BoltIntegration } from '../core/runtime/bolt-integration.js';
import { AbortedError, TaskError } from '../core/errors.js';
import type { IndexTaskPayload, IndexTaskResult } from '../agents/builtin/einstein.js';

/**
 * Runs one `index` task per shard on `agents` runtime agents; resolves with their results.
 * When `signal` aborts, the shard tasks are cancelled, the runtime stops at once (files
 * already written stay indexed), and it rejects with BOLT_ABORTED.
 */
export async function indexWithAgents(
  dbPath: string,
  dir: string,
  agents: number,
  payload: Omit<IndexTaskPayload, 'dir' | 'shard' | 'shards'>,
  onFraction: (f: number) => void,
  signal?: AbortSignal,
): Promise<IndexTaskResult[]> {
  const aborted = () => new AbortedError('Indexing aborted; files already written stay indexed, run index again to finish');
  if (signal?.aborted) throw aborted();
  const bolt = new BoltIntegration({ agents, database: dbPath });
  await bolt.initialize();
  let ids: number[] = [];
  const results = new Map<number, IndexTaskResult>();
  try {
    if (signal?.aborted) throw aborted();
    ids = await bolt.submitMany(
      Array.from({ length: agents }, (_, shard) => ({ agent: 'index', payload: { ...payload, dir, shard, shards: agents } satisfies IndexTaskPayload })),
    );
    const fractions = new Map<number, number>(ids.map((id) => [id, 0]));
    await new Promise<void>((done, fail) => {
      if (signal?.aborted) fail(aborted());
      signal?.addEventListener('abort', () => fail(aborted()), { once: true });
      bolt.on('task:progress', (e) => {
        if (!fractions.has(e.id)) return;
        fractions.set(e.id, e.fraction);
        onFraction([...fractions.values()].reduce((a, b) => a + b, 0) / agents);
      });
      bolt.on('task:done', (e) => {
        if (!fractions.has(e.id)) return;
        results.set(e.id, e.result as IndexTaskResult);
        if (results.size === agents) done();
      });
      bolt.on('task:dead', (e) => {
        if (fractions.has(e.id)) fail(new TaskError(`index shard task ${e.id} failed ${e.attempt} times: ${e.error.message}`, { task: e.id, error: e.error }));
      });
    });
    return ids.map((id) => results.get(id)!);
  } finally {
    if (signal?.aborted) {
      // Durable tasks would otherwise wait in the queue for the next runtime to run them.
      for (const id of ids) if (!results.has(id)) await bolt.cancel(id).catch(() => undefined);
      await bolt.shutdown({ immediate: true });
    } else {
      await bolt.shutdown();
    }
  }
}
