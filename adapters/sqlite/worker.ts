/**
 * Connection worker: owns one better-sqlite3 connection and answers `WorkerRequest`s one at a
 * time. The main thread never calls SQLite itself.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { connect, writeJournalMode, type SqliteConnectSettings } from './connect.js';
import { describeSqlite, integrityCheck } from './describe.js';
import type { BatchOutcome, VerifyOutcome, WorkerError, WorkerReply, WorkerRequest } from './protocol.js';
import { RunError, StatementRunner } from './run.js';

const port = parentPort!;
const settings = workerData as SqliteConnectSettings;
let runner: StatementRunner | undefined;

function toWorkerError(err: unknown): WorkerError {
  if (err instanceof RunError) return err.info;
  const e = err as Error & { code?: unknown };
  return { name: e?.name ?? 'Error', message: e?.message ?? String(err), code: typeof e?.code === 'string' ? e.code : undefined };
}

function handle(msg: WorkerRequest): unknown {
  const r = runner!;
  switch (msg.op) {
    case 'run':
      return r.run(msg.sql, msg.params, msg.write, msg.rows);
    case 'write': {
      if (msg.bare) return r.run(msg.sql, msg.params, 'allow', msg.rows); // cannot run inside a transaction
      r.beginImmediate(msg.deadline);
      try {
        const out = r.run(msg.sql, msg.params, 'allow', msg.rows);
        r.db.exec('COMMIT');
        return out;
      } catch (err) {
        r.rollback();
        throw err;
      }
    }
    case 'write-batch': {
      r.beginImmediate(msg.deadline);
      try {
        const out: BatchOutcome[] = msg.items.map((it) => {
          r.db.exec('SAVEPOINT bolt_item');
          try {
            const result = r.run(it.sql, it.params, 'allow', it.rows);
            r.db.exec('RELEASE bolt_item');
            return { ok: true, result };
          } catch (err) {
            r.db.exec('ROLLBACK TO bolt_item');
            r.db.exec('RELEASE bolt_item');
            return { ok: false, error: toWorkerError(err) };
          }
        });
        r.db.exec('COMMIT');
        return out;
      } catch (err) {
        r.rollback();
        throw err;
      }
    }
    case 'begin':
      if (msg.immediate) r.beginImmediate(msg.deadline);
      else r.db.exec('BEGIN');
      return undefined;
    case 'commit':
      r.db.exec('COMMIT');
      return undefined;
    case 'rollback':
      r.rollback();
      return undefined;
    case 'query-only':
      r.db.pragma(`query_only = ${msg.on ? 'ON' : 'OFF'}`);
      return undefined;
    case 'backup':
      return r.db.backup(msg.dest).then((p) => ({ totalPages: p.totalPages }));
    case 'verify': {
      const d = describeSqlite(r.db);
      const fk = r.db.pragma('foreign_key_check') as Array<{ table: string; rowid: number | bigint | null; parent: string }>;
      const out: VerifyOutcome = {
        integrity: integrityCheck(r.db),
        foreignKeyViolations: fk.map((v) => ({ table: v.table, rowid: v.rowid === null ? null : Number(v.rowid), parent: v.parent })),
        tables: d.tables,
        journalMode: d.journalMode,
        pageSize: d.pageSize,
        pageCount: d.pageCount,
      };
      return out;
    }
    case 'close':
      r.rollback();
      r.db.close();
      runner = undefined;
      return undefined;
  }
}

// One message at a time, in order, even when one (backup) finishes asynchronously.
let chain: Promise<void> = Promise.resolve();
port.on('message', (msg: WorkerRequest) => {
  chain = chain.then(async () => {
    let reply: WorkerReply;
    try {
      reply = { id: msg.id, ok: true, result: await handle(msg) };
    } catch (err) {
      reply = { id: msg.id, ok: false, error: toWorkerError(err) };
    }
    port.postMessage(reply);
    if (msg.op === 'close') port.close();
  });
});

try {
  runner = new StatementRunner(connect(settings), writeJournalMode(settings));
  port.postMessage({ id: 0, ok: true });
} catch (err) {
  port.postMessage({ id: 0, ok: false, error: toWorkerError(err) } satisfies WorkerReply);
  port.close();
}
