/**
 * Parameters on DuckDB across processes: a value no engine binds faithfully is refused with
 * BOLT_BAD_INPUT naming the parameter — by the host process itself, by a client process and a
 * client thread before anything is sent, and by the host for frames a hostile client writes
 * to the socket — with nothing written and the host still serving. Numbers beyond int64 bind
 * as DOUBLE. (Every engine's in-process paths: test/conformance.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { ConcurrentDatabase } from '../index.js';
import { encodeFrame } from '../storage/host/wire/frame.js';
import { BAD_PARAMS, refusedProperly, tryEveryPath, type PathOutcome } from './fixtures/bad-params.js';
import { spawnAgent } from './helpers/agents.js';
import { spawnChild } from './helpers/child.js';
import { rawConnect } from './helpers/raw-client.js';
import { tempDir } from './helpers/tmp.js';
import { waitFor } from './helpers/wait.js';

const CHILD = fileURLToPath(new URL('./fixtures/bad-params-child.js', import.meta.url));
const REFUSED = BAD_PARAMS.filter((c) => !c.boundBy?.includes('duckdb'));

function check(outcomes: PathOutcome[]): string[] {
  const wrong: string[] = [];
  for (const o of outcomes) {
    const c = BAD_PARAMS.find((x) => x.label === o.case)!;
    if (c.boundBy?.includes('duckdb')) continue;
    const why = refusedProperly(o, c);
    if (why) wrong.push(why);
  }
  return wrong;
}

/** Rows in bad_params, and request ids recorded for the bad writes (the log exists only once a logged write made it). */
async function countRows(db: { query(sql: string): Promise<Record<string, unknown>[]> }): Promise<{ rows: number; ids: number }> {
  const [r] = await db.query(
    "SELECT (SELECT count(*) FROM bad_params)::INTEGER AS rows, (SELECT count(*) FROM duckdb_tables() WHERE table_name = 'bolt_requests')::INTEGER AS logs",
  );
  if (r!.logs === 0) return { rows: r!.rows as number, ids: 0 };
  const [l] = await db.query("SELECT count(*)::INTEGER AS ids FROM bolt_requests WHERE id LIKE 'bad-%'");
  return { rows: r!.rows as number, ids: l!.ids as number };
}

test(
  'unbindable parameters from the host process, a client process and a client thread: BOLT_BAD_INPUT naming the parameter, nothing written',
  { timeout: 90_000 },
  async (t) => {
    const path = join(tempDir(t), 'a.db');
    const db = await ConcurrentDatabase.open(path);
    t.after(() => db.close());
    assert.equal(db.lockInfo().role, 'host');
    await db.execute('CREATE TABLE bad_params (id INTEGER PRIMARY KEY, v VARCHAR)');

    const inHost: PathOutcome[] = [];
    for (const c of REFUSED) inHost.push(...(await tryEveryPath(db, c)));
    assert.deepEqual(check(inHost), []);

    const child = spawnChild(t, process.execPath, [CHILD, path]);
    const line = await child.waitForLine(/^\{/, 60_000);
    const fromChild = JSON.parse(line) as { role: string; outcomes: PathOutcome[] };
    assert.equal(fromChild.role, 'client');
    assert.equal(fromChild.outcomes.length, REFUSED.length * 6);
    assert.deepEqual(check(fromChild.outcomes), []);
    assert.equal((await child.exited).code, 0);

    const worker = new Worker(CHILD, { workerData: { path } });
    t.after(() => worker.terminate());
    const report = await new Promise<string>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const fromThread = JSON.parse(report) as { role: string; outcomes: PathOutcome[] };
    assert.equal(fromThread.role, 'client');
    assert.deepEqual(check(fromThread.outcomes), []);

    assert.deepEqual(await countRows(db), { rows: 0, ids: 0 }, 'nothing was written, no request id recorded');
    assert.deepEqual(db.stats().errorsByCode.BOLT_SQL, undefined, 'no statement reached DuckDB');
    await db.execute('INSERT INTO bad_params (id, v) VALUES (?, ?)', [1, 'still serving']);
    assert.deepEqual(await countRows(db), { rows: 1, ids: 0 });
  },
);

test(
  'a hostile client writing unbindable values straight to the socket: the host refuses them naming the parameter and keeps serving',
  { timeout: 30_000 },
  async (t) => {
    const path = join(tempDir(t), 'a.db');
    const db = await ConcurrentDatabase.open(path);
    t.after(() => db.close());
    await db.execute('CREATE TABLE bad_params (id INTEGER PRIMARY KEY, v VARCHAR)');
    const raw = await rawConnect(db.lockInfo().host!.socket!);
    t.after(() => raw.sock.destroy());

    const circular: Record<string, unknown> = {};
    circular.self = circular;
    // What v8.serialize carries (functions and symbols cannot even be encoded).
    const values: Array<[string, unknown, RegExp]> = [
      ['Map', new Map([[1, 2]]), /parameter 2: a Map cannot be bound/],
      ['Set', new Set([1]), /parameter 2: a Set cannot be bound/],
      ['RegExp', /x/, /parameter 2: a RegExp cannot be bound/],
      ['Error', new Error('e'), /parameter 2: an Error cannot be bound/],
      ['Float64Array', new Float64Array([1.5]), /parameter 2: a Float64Array cannot be bound/],
      ['circular', circular, /parameter 2.self: a circular structure/],
      ['sparse', [1, , 3], /parameter 2: a sparse array/],
      ['huge bigint', 2n ** 200n, /parameter 2: \d+ is out of the range of DuckDB's HUGEINT/],
      ['invalid Date', new Date(Number.NaN), /parameter 2: an invalid Date/],
      ['deep nesting', JSON.parse(`${'['.repeat(200)}1${']'.repeat(200)}`), /nesting deeper than 64 levels/],
    ];
    const sql = 'INSERT INTO bad_params (id, v) VALUES (?, ?)';
    let id = 0;
    const expect = new Map<number, RegExp>();
    for (const [, v, says] of values) {
      for (const op of ['query', 'execute', 'run']) {
        raw.sock.write(encodeFrame({ id: ++id, op, sql, params: [1, v], requestId: `bad-${id}` }));
        expect.set(id, says);
      }
      raw.sock.write(
        encodeFrame({
          id: ++id,
          op: 'insertMany',
          table: 'bad_params',
          columns: ['id', 'v'],
          rows: [
            [1, 'ok'],
            [2, v],
          ],
          requestId: `bad-${id}`,
        }),
      );
      expect.set(id, new RegExp(says.source.replace('parameter 2', 'insertMany: row 1, column "v"')));
    }
    raw.sock.write(encodeFrame({ id: ++id, op: 'insertMany', table: 'bad_params', columns: ['id', 'v'], rows: 'not rows' }));
    expect.set(id, /rows must be an array of arrays/);
    raw.sock.write(encodeFrame({ id: ++id, op: 'session.open', options: { name: 'hostile' } }));
    const sessionOpen = id;
    await waitFor(() => raw.replies.length === id, 10_000, 'a reply to every request');
    const sid = (raw.replies.find((r) => r.id === sessionOpen)!.result as { sid: number }).sid;
    const before = id;
    for (const [, v, says] of values) {
      raw.sock.write(encodeFrame({ id: ++id, op: 'session.execute', sid, sql, params: [1, v] }));
      expect.set(id, says);
    }
    raw.sock.write(encodeFrame({ id: ++id, op: 'ping' }));
    await waitFor(() => raw.replies.length === id, 10_000, 'a reply to every session request and the ping');
    assert.ok(id > before);

    const wrong: string[] = [];
    for (const r of raw.replies) {
      const says = expect.get(r.id);
      if (!says) continue;
      const e = r.error;
      if (r.ok !== false || e?.code !== 'BOLT_BAD_INPUT' || !says.test(e.message)) wrong.push(`request ${r.id}: ${JSON.stringify(r.error ?? r.result)}`);
    }
    assert.deepEqual(wrong, []);
    assert.equal(raw.replies.find((r) => r.id === id)!.ok, true, 'the host still answers ping');
    assert.deepEqual(await countRows(db), { rows: 0, ids: 0 });
    await db.execute(sql, [1, 'still serving']);
    assert.deepEqual(await countRows(db), { rows: 1, ids: 0 });
  },
);

test(
  'numbers beyond int64 (1e20) bind as DOUBLE and round-trip, in the host and from a client; list elements share one type',
  { timeout: 30_000 },
  async (t) => {
    const path = join(tempDir(t), 'a.db');
    const db = await ConcurrentDatabase.open(path);
    t.after(() => db.close());
    await db.execute('CREATE TABLE n (k VARCHAR, d DOUBLE, l DOUBLE[], il BIGINT[])');
    const agent = await spawnAgent(t, path);
    await agent.call('open');
    for (const [who, q] of [
      ['host', (sql: string, params: unknown[]) => db.query(sql, params)],
      ['client', (sql: string, params: unknown[]) => agent.call<Array<Record<string, unknown>>>('query', { sql, params })],
    ] as const) {
      assert.deepEqual(await q('SELECT ?::DOUBLE AS a, ? AS b, typeof(?) AS t', [1e20, 1e20, 1e20]), [{ a: 1e20, b: 1e20, t: 'DOUBLE' }], who);
      assert.deepEqual(await q('SELECT ? AS a, ? AS b, ? AS c', [-1e19, 2 ** 63, -(2 ** 63)]), [{ a: -1e19, b: 2 ** 63, c: -(2n ** 63n) }], who);
      assert.deepEqual(
        await q('SELECT ? AS mixed, ? AS nulls, typeof(?) AS t', [
          [1, 2.5],
          [null, 7],
          [2 ** 40, 1],
        ]),
        [{ mixed: [1, 2.5], nulls: [null, 7], t: 'BIGINT[]' }],
        who,
      );
      await q('INSERT INTO n VALUES (?, ?, ?, ?) RETURNING k', [who, 1e20, [1e20, 1, 0.5], [1, 2 ** 40]]);
    }
    await assert.rejects(
      db.query('SELECT ? AS v', [['a', 1]]),
      (e: Error & { code?: string }) => e.code === 'BOLT_BAD_INPUT' && /parameter 1\[1\]: the elements of a list must have one type/.test(e.message),
    );
    await assert.rejects(
      db.query('SELECT ? AS v', [[1n, 0.5]]),
      (e: Error & { code?: string }) => e.code === 'BOLT_BAD_INPUT' && /cannot mix bigints with fractional numbers/.test(e.message),
    );
    assert.deepEqual(await db.query('SELECT k, d, l, il FROM n ORDER BY k DESC'), [
      { k: 'host', d: 1e20, l: [1e20, 1, 0.5], il: [1n, 2n ** 40n] },
      { k: 'client', d: 1e20, l: [1e20, 1, 0.5], il: [1n, 2n ** 40n] },
    ]);
  },
);
