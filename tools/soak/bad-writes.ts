/**
 * The `bad-writes` fault: a burst of writes that must fail — constraint violations, unknown
 * tables, multi-statement scripts whose last statement fails, parameters that cannot be bound,
 * a failing bulk insert and a failing session write — with and without request ids. Each must
 * be refused with a typed error and write nothing; the verifier checks both (journal kind
 * `bad-write`, and no row of theirs in the tables), and the process-exit invariant checks that
 * none of them ended the process hosting the database.
 */
import type { Database } from '../../core/database.js';
import { BoltError } from '../../core/errors.js';
import type { Journal } from './soak-journal.js';
import { SOAK_ACCOUNTS } from './soak-schema.js';

/** Ledger ids of bad writes start with this: none may ever be in the table. */
export const BAD_ID_PREFIX = 'BAD.';

/** Codes that say the statement was refused. */
const REFUSED = new Set(['BOLT_SQL', 'BOLT_BAD_INPUT']);
/**
 * Codes a bad write may meet when a fault interrupts it (the host was killed meanwhile): typed,
 * and the statement still failed on its own, so nothing can have been written.
 */
const INTERRUPTED = new Set(['BOLT_HOST_UNRESPONSIVE', 'BOLT_OUTCOME_UNKNOWN', 'BOLT_SESSION_LOST', 'BOLT_CLOSED', 'BOLT_POOL_TIMEOUT', 'BOLT_LOCK_TIMEOUT']);

/** How one bad write ended, as journaled. */
export type BadWriteOutcome = 'refused' | 'interrupted' | 'accepted' | 'untyped';

interface BadWrite {
  name: string;
  run(db: Database, id: string, requestId: string | undefined): Promise<unknown>;
}

const ledger = 'INSERT INTO soak_ledger (id, writer, payload) VALUES (?, ?, ?)';

/** Every kind of failing write; `id` is a fresh BAD id for rows that must never appear. */
const BAD_WRITES: BadWrite[] = [
  { name: 'duplicate key', run: (db, _id, rid) => db.execute('INSERT INTO soak_accounts (id, balance) VALUES (?, ?)', [0, 1], { requestId: rid }) },
  { name: 'not null', run: (db, _id, rid) => db.execute('INSERT INTO soak_accounts (id, balance) VALUES (?, NULL)', [SOAK_ACCOUNTS + 1], { requestId: rid }) },
  { name: 'unknown table', run: (db, id, rid) => db.execute('INSERT INTO soak_nowhere (id) VALUES (?)', [id], { requestId: rid }) },
  {
    name: 'failing script',
    run: (db, id, rid) =>
      db.execute(
        `INSERT INTO soak_ledger (id, writer, payload) VALUES ('${id}', -1, 'x'); UPDATE soak_accounts SET balance = balance + 1000000 WHERE id = 1; INSERT INTO soak_accounts (id, balance) VALUES (0, 0)`,
        [],
        { requestId: rid },
      ),
  },
  { name: 'unbindable parameter (Map)', run: (db, id, rid) => db.execute(ledger, [id, -1, new Map([[1, 2]])], { requestId: rid }) },
  { name: 'unbindable parameter (function)', run: (db, id, rid) => db.execute(ledger, [id, -1, () => 1], { requestId: rid }) },
  { name: 'unbindable parameter (symbol)', run: (db, id, rid) => db.execute(ledger, [id, -1, Symbol('x')], { requestId: rid }) },
  {
    name: 'bulk insert with a duplicate key',
    run: (db, _id, rid) =>
      db.insertMany(
        'soak_accounts',
        ['id', 'balance'],
        [
          [SOAK_ACCOUNTS + 2, 1],
          [0, 1],
        ],
        { requestId: rid },
      ),
  },
  {
    name: 'transaction with a failing statement',
    run: (db, id, rid) =>
      db.transaction(
        async (tx) => {
          await tx.execute(ledger, [id, -1, 'x']);
          await tx.execute('INSERT INTO soak_accounts (id, balance) VALUES (?, ?)', [1, 1]);
        },
        { requestId: rid, retries: 0 },
      ),
  },
  {
    name: 'session write with a duplicate key',
    run: async (db, _id, rid) => {
      const s = await db.session({ name: 'soak-bad-writes' });
      try {
        await s.execute('INSERT INTO soak_counters (proc, n) VALUES (?, ?)', [0, 0], { requestId: rid });
      } finally {
        await s.close();
      }
    },
  },
];

/** Classifies how a bad write ended. */
export function badWriteOutcome(err: unknown): BadWriteOutcome {
  if (err === undefined) return 'accepted';
  if (!(err instanceof BoltError)) return 'untyped';
  if (REFUSED.has(err.code)) return 'refused';
  return INTERRUPTED.has(err.code) ? 'interrupted' : 'untyped';
}

/**
 * Sends every bad write once with a request id and once without; journals each outcome as
 * `bad-write <outcome> <name> <code>`.
 */
export async function sendBadWrites(db: Database, journal: Journal, nextId: (prefix: string) => string): Promise<void> {
  for (const withId of [true, false]) {
    for (const w of BAD_WRITES) {
      const id = nextId(BAD_ID_PREFIX);
      let error: unknown;
      try {
        await w.run(db, id, withId ? id : undefined);
      } catch (err) {
        error = err;
      }
      const outcome = badWriteOutcome(error);
      const code =
        error instanceof BoltError
          ? error.code
          : error === undefined
            ? '-'
            : String((error as Error)?.message ?? error)
                .slice(0, 120)
                .replace(/\s+/g, ' ');
      journal.append('bad-write', outcome, `${w.name}${withId ? ' (request id)' : ''}`, code);
    }
  }
}
