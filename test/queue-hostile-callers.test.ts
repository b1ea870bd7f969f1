/**
 * What a careless or hostile caller of the queue's API sends, on every engine: wrong types and
 * values for ids, list filters, purge ages, payloads and options, batches with one bad item
 * anywhere, option getters that change after the check. The answer is BOLT_BAD_INPUT and nothing
 * stored or changed. Found by an adversarial pass: `purge(NaN)` deleted every finished task on
 * DuckDB, `cancel(true)` cancelled task 1, `submitMany` wrote the items before its bad one.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { hasCode } from '../core/errors.js';
import { BoltIntegration } from '../core/runtime/bolt-integration.js';
import type { ListOptions } from '../core/runtime/task-queue.js';
import type { SubmitOptions } from '../core/runtime/task.js';
import { PG_SKIP } from './helpers/pg.js';
import { freshQueue } from './helpers/queue.js';
import { tempDir } from './helpers/tmp.js';

const bad = (e: unknown): boolean => hasCode(e, 'BOLT_BAD_INPUT');
/** Lets a hostile value through the API's types, as JavaScript callers can. */
const any = <T>(v: unknown): T => v as T;

for (const engine of ['duckdb', 'sqlite', 'postgres'] as const) {
  test(
    `hostile callers of the queue API get BOLT_BAD_INPUT and change nothing [${engine}]`,
    { timeout: 90_000, skip: engine === 'postgres' ? PG_SKIP : undefined },
    async (t) => {
      const q = await freshQueue(t, engine, 'bolt_hostile');
      const [first, second, third] = await q.submitMany([{ agent: 'echo' }, { agent: 'echo' }, { agent: 'echo' }]);
      for (const r of [first!, second!, third!]) await q.cancel(r.id);

      // Ids: only positive safe integers name a task.
      for (const id of [true, '1', 'abc', {}, [1], Number.NaN, 1.5, 0, -1, 2 ** 53]) {
        await assert.rejects(q.cancel(any(id)), bad, `cancel(${String(id)})`);
        await assert.rejects(q.retry(any(id)), bad, `retry(${String(id)})`);
        await assert.rejects(q.get(any(id)), bad, `get(${String(id)})`);
        await assert.rejects(q.graph(any(id)), bad, `graph(${String(id)})`);
      }
      assert.equal((await q.get(first!.id)).status, 'cancelled', 'retry("1") did not redrive task 1');

      // Purge ages: a finite number of ms from 0 to 100 years.
      for (const age of [Number.NaN, '7d', undefined, null, Infinity, 1e300, -1]) {
        await assert.rejects(q.purge(any(age)), bad, `purge(${String(age)})`);
      }
      await assert.rejects(q.purge(1000, any('cancelled')), bad, 'statuses not an array');
      assert.equal((await q.list({ status: 'cancelled' })).length, 3, 'nothing purged');
      assert.deepEqual(await q.purge(3_600_000), { deleted: 0, kept: 0 }, 'an hour: the tasks finished just now stay');

      // List filters.
      const filters: unknown[] = [
        null,
        5,
        { agent: 5 },
        { agent: 'bad agent' },
        { limit: -1 },
        { limit: 1.5 },
        { limit: '5' },
        { text: 'a\0b' },
        { order: 'up' },
      ];
      for (const f of filters) await assert.rejects(q.list(any<ListOptions>(f)), bad, `list(${JSON.stringify(f)})`);

      // Payloads JSON cannot write, options that are not options, keys PostgreSQL cannot keep apart.
      for (const payload of [Symbol('s'), () => 1, { toJSON: () => undefined }]) {
        await assert.rejects(q.submit('echo', payload), bad, String(typeof payload));
      }
      const options: unknown[] = [
        null,
        7,
        { dependsOn: [BigInt(first!.id)] },
        { dependsOn: BigInt(1) },
        { dedupeKey: 'a\u0000b' },
        { dedupeKey: 'x\ud800' },
        { group: 'g\udfff' },
      ];
      for (const o of options) await assert.rejects(q.submit('echo', null, any<SubmitOptions>(o)), bad, String(o));

      // A batch with one bad item anywhere stores nothing of it.
      const good = Array.from({ length: 600 }, () => ({ agent: 'echo', payload: { n: 1 } }));
      const batches: unknown[] = [
        null,
        [null],
        { length: 2 },
        [...good, { agent: 'echo', payload: Symbol('late') }],
        [...good, { agent: 'echo', payload: { x: Number.NaN } }],
        [
          { agent: 'echo', options: { dependsOn: [first!.id] } },
          { agent: 'echo', options: { dependsOn: [99_999_999] } },
        ],
        [{ agent: 'echo', options: { dedupeKey: 'first' } }, { agent: 'bad agent' }],
      ];
      for (const b of batches) await assert.rejects(q.submitMany(any(b)), bad, `batch of ${Array.isArray(b) ? b.length : String(b)}`);
      assert.equal((await q.list({ limit: 1000 })).length, 3, 'nothing of any bad batch stored');

      // Schedules: the name is checked for removal too; each field of a spec is read once.
      await q.setSchedule('tabs', { cron: '0 0 * * *', agent: 'echo' });
      await assert.rejects(q.removeSchedule(any(5)), bad);
      let reads = 0;
      const shifty = {
        cron: '0 0 * * *',
        get agent(): string {
          return reads++ === 0 ? 'echo' : '../../bad agent';
        },
      };
      const stored = await q.setSchedule('shifty', shifty);
      assert.equal(stored.agent, 'echo', 'what was checked is what is stored');
      assert.deepEqual(
        (await q.schedules()).map((s) => [s.name, s.agent]),
        [
          ['shifty', 'echo'],
          ['tabs', 'echo'],
        ],
      );
    },
  );
}

test('a runtime refuses options it cannot use: bad backoff, fractional maxAttempts, wrong types', () => {
  const options: unknown[] = [
    null,
    { backoff: { baseMs: Number.NaN } },
    { backoff: { baseMs: 1e300 } },
    { backoff: { capMs: -1 } },
    { backoff: { baseMs: 5000, capMs: 1000 } },
    { backoff: 5 },
    { maxAttempts: 1.5 },
    { maxAttempts: 0 },
    { database: 123 },
    { database: '' },
    { agentModules: '/etc/passwd' },
    { agentModules: [5] },
    { runtimeId: '' },
  ];
  for (const o of options) assert.throws(() => new BoltIntegration(any(o)), bad, JSON.stringify(o));
  assert.equal(new BoltIntegration({ backoff: { baseMs: 120_000 } }).config.backoff.capMs, 120_000, 'the default cap rises to a larger base');
});

test("a runtime's submitMany past one chunk of 1,000 with a bad item at the end stores nothing", { timeout: 90_000 }, async (t) => {
  const bolt = new BoltIntegration({ agents: 1, database: join(tempDir(t), 'q.sqlite'), engine: 'sqlite' });
  await bolt.initialize();
  // If the test fails first (its folder is removed before: hooks run in the order they were added).
  t.after(() => bolt.shutdown({ immediate: true }));
  const items = Array.from({ length: 1000 }, () => ({ agent: 'no-such-agent-here', payload: null as unknown }));
  await assert.rejects(bolt.submitMany([...items, { agent: 'no-such-agent-here', payload: { x: Number.NaN } }]), bad);
  await assert.rejects(bolt.submit('echo', null, any(null)), bad, 'options null');
  assert.equal((await bolt.listTasks({ limit: 2000 })).length, 0);
  await bolt.shutdown();
});
