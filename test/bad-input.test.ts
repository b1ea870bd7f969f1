/**
 * Bad input: path problems give typed errors before anything is written; malformed and
 * oversized frames close only that connection; the wire answers ping/info.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../index.js';
import { hasCode } from '../core/errors.js';
import { encodeFrame } from '../storage/host/wire/frame.js';
import { tempDir } from './helpers/tmp.js';
import { rawConnect } from './helpers/raw-client.js';
import { waitFor } from './helpers/wait.js';

test('missing directory, not-a-database file, directory path: typed errors, nothing written', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  await assert.rejects(ConcurrentDatabase.open(join(dir, 'nope', 'a.db')), (e) => hasCode(e, 'BOLT_NOT_FOUND') && /does not exist/.test(e.message));
  assert.deepEqual(readdirSync(dir), []);
  const text = join(dir, 'notes.db');
  writeFileSync(text, 'hello, I am not a database\n'.repeat(10));
  await assert.rejects(ConcurrentDatabase.open(text), (e) => hasCode(e, 'BOLT_NOT_A_DATABASE'));
  assert.deepEqual(readdirSync(dir), ['notes.db']);
  assert.equal(readFileSync(text, 'utf8'), 'hello, I am not a database\n'.repeat(10));
  await assert.rejects(ConcurrentDatabase.open(dir), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
  await assert.rejects(ConcurrentDatabase.open(join(dir, 'x.db'), { maxConnections: 0 }), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
  await assert.rejects(ConcurrentDatabase.open(''), (e) => hasCode(e, 'BOLT_BAD_INPUT'));
});

test('read-only directory: BOLT_PERMISSION before anything is written', { timeout: 30_000 }, async (t) => {
  if (process.getuid?.() === 0) return t.skip('running as root: directory permissions are not enforced');
  const dir = tempDir(t);
  const ro = join(dir, 'ro');
  (await import('node:fs')).mkdirSync(ro);
  chmodSync(ro, 0o555);
  t.after(() => chmodSync(ro, 0o755));
  await assert.rejects(ConcurrentDatabase.open(join(ro, 'a.db')), (e) => hasCode(e, 'BOLT_PERMISSION') && /not writable/.test(e.message));
  assert.deepEqual(readdirSync(ro), []);
});

test('malformed and oversized frames close that connection only; ping and info answer', { timeout: 30_000 }, async (t) => {
  const path = join(tempDir(t), 'a.db');
  const db = await ConcurrentDatabase.open(path);
  t.after(() => db.close());
  await db.execute('CREATE TABLE t (x INTEGER)');
  await db.execute('INSERT INTO t VALUES (1), (2)');
  const socket = db.lockInfo().host!.socket!;

  const good = await rawConnect(socket);
  t.after(() => good.sock.destroy());
  const garbage = await rawConnect(socket);
  const big = await rawConnect(socket);
  const notRequest = await rawConnect(socket);
  // A frame whose body is not v8-serialized data.
  const body = Buffer.from('definitely not v8');
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  garbage.sock.write(Buffer.concat([head, body]));
  // A header announcing 4 GiB.
  big.sock.write(Buffer.from([0xff, 0xff, 0xff, 0xff]));
  // A well-formed frame that is not a request.
  notRequest.sock.write(encodeFrame('hello'));
  await Promise.all([garbage.closed, big.closed, notRequest.closed]);

  good.sock.write(encodeFrame({ id: 1, op: 'ping' }));
  good.sock.write(encodeFrame({ id: 2, op: 'info' }));
  good.sock.write(encodeFrame({ id: 3, op: 'query', sql: 'SELECT count(*)::INTEGER AS n FROM t' }));
  good.sock.write(encodeFrame({ id: 4, op: 'no-such-op' }));
  good.sock.write(encodeFrame({ id: 5, op: 'query', sql: 'SELEC 1' }));
  await waitFor(() => good.replies.length === 5, 10_000, 'five replies');
  const byId = new Map((good.replies as Array<{ id: number }>).map((r) => [r.id, r as Record<string, unknown>]));
  const ping = byId.get(1)!;
  assert.equal(ping.ok, true);
  assert.deepEqual(Object.keys(ping.result as object).sort(), ['pid', 'startedAt', 'version']);
  assert.equal((ping.result as { pid: number }).pid, process.pid);
  const info = byId.get(2)!.result as Record<string, unknown>;
  for (const k of ['pid', 'socket', 'startedAt', 'uptimeMs', 'version', 'clients', 'sessions', 'pool', 'tables']) assert.ok(k in info, k);
  assert.equal(info.socket, socket);
  assert.ok((info.tables as Array<{ name: string; rows: number }>).some((x) => x.name === 't' && x.rows === 2));
  assert.deepEqual(byId.get(3)!.result, [{ n: 2 }]);
  assert.equal((byId.get(4)!.error as { code: string }).code, 'BOLT_BAD_INPUT');
  assert.equal((byId.get(5)!.error as { code: string }).code, 'BOLT_SQL');
  assert.match((byId.get(5)!.error as { message: string }).message, /syntax error/);
  assert.deepEqual(await db.query('SELECT count(*)::INTEGER AS n FROM t'), [{ n: 2 }]);
  assert.ok(existsSync(socket));
});
