/**
 * Open options are checked before anything is opened, created or contacted, on every engine: a
 * timeout that is NaN, a string, negative or infinite is `BOLT_BAD_INPUT`. A NaN
 * `writeLockTimeoutMs` on SQLite had made a write behind a held lock wait forever.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ConcurrentDatabase } from '../storage/concurrent-database.js';
import type { SqliteOptions } from '../adapters/sqlite/database.js';
import { tempDir } from './helpers/tmp.js';

const BAD = [Number.NaN, -1, Infinity, '5000'];

for (const engine of ['duckdb', 'sqlite'] as const) {
  test(`bad open options are BOLT_BAD_INPUT and create nothing [${engine}]`, { timeout: 30_000 }, async (t) => {
    const dir = tempDir(t);
    const names = ['lockTimeoutMs', 'connectionTimeoutMs', ...(engine === 'sqlite' ? ['writeLockTimeoutMs', 'cacheSizeKiB'] : [])];
    for (const name of names) {
      for (const v of BAD) {
        const path = join(dir, `${name}-${String(v)}.db`);
        await assert.rejects(
          ConcurrentDatabase.open(path, { engine, [name]: v } as SqliteOptions),
          (e: unknown) => (e as { code?: string }).code === 'BOLT_BAD_INPUT' && (e as Error).message.includes(name),
          `${name}: ${String(v)}`,
        );
        assert.equal(existsSync(path), false, `${name}: ${String(v)} created nothing`);
      }
    }
    for (const v of [0, 1.5, 'x']) {
      await assert.rejects(
        ConcurrentDatabase.open(join(dir, `max-${String(v)}.db`), { engine, maxConnections: v as number }),
        (e: unknown) => (e as { code?: string }).code === 'BOLT_BAD_INPUT',
      );
    }
    const db = await ConcurrentDatabase.open(join(dir, 'ok.db'), { engine, lockTimeoutMs: 0, connectionTimeoutMs: 1000 });
    await db.execute('CREATE TABLE t (x INTEGER)');
    await db.close();
  });
}

test('bad open options are BOLT_BAD_INPUT before PostgreSQL is contacted', { timeout: 30_000 }, async () => {
  // Nothing listens on port 1: a check made after connecting would fail differently.
  const url = 'postgres://bolt@127.0.0.1:1/none';
  for (const name of ['lockTimeoutMs', 'connectionTimeoutMs', 'statementTimeoutMs', 'leakReportMs']) {
    for (const v of BAD) {
      await assert.rejects(
        ConcurrentDatabase.open(url, { [name]: v }),
        (e: unknown) => (e as { code?: string }).code === 'BOLT_BAD_INPUT' && (e as Error).message.includes(name),
        `${name}: ${String(v)}`,
      );
    }
  }
});
