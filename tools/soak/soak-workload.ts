/**
 * The workload one soak process runs until its deadline: ledger inserts, bank transfers,
 * counter increments in sessions, point reads, range scans and an analytical query, all
 * concurrent. Every write carries a request id and is re-sent with the SAME id until it is
 * acknowledged, so exactly-once is what the invariants check, not something they forgive.
 */
import type { Database, Session } from '../../core/database.js';
import { hasCode } from '../../core/errors.js';
import type { Journal } from './soak-journal.js';
import type { OpRecorder } from './op-recorder.js';
import { SeededRandom } from './seeded-random.js';
import { SOAK_ACCOUNTS } from './soak-schema.js';
import type { OpKind } from './soak-result.js';

/** Errors after which the write was certainly not applied: no need to retry with the same id. */
function definitelyNotApplied(err: unknown): boolean {
  return hasCode(err, 'BOLT_SQL', 'BOLT_BAD_INPUT', 'BOLT_READ_ONLY');
}

/** Increments per session before it is closed and its connection returned. */
const SESSION_USES = 10;

export interface WorkloadOptions {
  proc: number;
  incarnation: number;
  seed: number;
  deadline: number;
  /** Called for extra periodic work (side database, tasks). */
  extraLoops?: Array<(w: SoakWorkload) => Promise<void>>;
}

export class SoakWorkload {
  readonly rng: SeededRandom;
  private seq = 0;

  constructor(
    readonly db: Database,
    readonly rec: OpRecorder,
    readonly journal: Journal,
    readonly opts: WorkloadOptions,
  ) {
    this.rng = new SeededRandom(opts.seed * 7919 + opts.proc * 104729 + opts.incarnation);
  }

  get running(): boolean {
    return Date.now() < this.opts.deadline;
  }

  /** A request id unique across processes and restarts. */
  nextId(prefix: string): string {
    return `${prefix}${this.opts.proc}.${this.opts.incarnation}.${++this.seq}`;
  }

  /**
   * Runs a write until it is acknowledged, re-sending it with the same request id after any
   * error that leaves its outcome open. Returns true when acknowledged before the deadline.
   */
  async untilAcked(kind: OpKind, id: string, write: () => Promise<unknown>): Promise<boolean> {
    let ambiguous = false;
    for (let attempt = 0; ; attempt++) {
      try {
        await this.rec.time(kind, write);
        return true;
      } catch (err) {
        const certain = definitelyNotApplied(err);
        if (certain || (!this.running && attempt > 0)) {
          // An earlier attempt may have been applied without its acknowledgement arriving.
          if (ambiguous || !certain) this.journal.append('uncertain', kind, id);
          return false;
        }
        ambiguous = true;
        await pause(Math.min(200, 10 * 2 ** Math.min(attempt, 5)));
      }
    }
  }

  async ledgerLoop(): Promise<void> {
    while (this.running) {
      const id = this.nextId('L');
      const ok = await this.untilAcked('ledger', id, () =>
        this.db.execute('INSERT INTO soak_ledger (id, writer, payload) VALUES (?, ?, ?)', [id, this.opts.proc, 'x'.repeat(16)], {
          requestId: id,
        }),
      );
      if (ok) this.journal.append('ledger', id, Date.now());
    }
  }

  async transferLoop(): Promise<void> {
    while (this.running) {
      const id = this.nextId('T');
      const from = this.rng.int(SOAK_ACCOUNTS);
      const to = (from + 1 + this.rng.int(SOAK_ACCOUNTS - 1)) % SOAK_ACCOUNTS;
      const amount = 1 + this.rng.int(50);
      await this.untilAcked('transfer', id, () =>
        this.db.transaction(
          async (tx) => {
            const rows = await tx.query<{ balance: unknown }>('SELECT balance FROM soak_accounts WHERE id = ?', [from]);
            if (Number(rows[0]?.balance ?? 0) < amount) return;
            await tx.execute('UPDATE soak_accounts SET balance = balance - ? WHERE id = ?', [amount, from]);
            await tx.execute('UPDATE soak_accounts SET balance = balance + ? WHERE id = ?', [amount, to]);
          },
          { retries: 50, requestId: id },
        ),
      );
    }
  }

  /**
   * Counter increments in sessions. A session pins one pooled connection, so each lives for
   * a handful of increments and is closed: many processes share a bounded pool.
   */
  async counterLoop(): Promise<void> {
    let session: Session | undefined;
    let uses = 0;
    while (this.running) {
      const id = this.nextId('C');
      const ok = await this.untilAcked('counter', id, async () => {
        try {
          session ??= await this.db.session({ name: `soak-counter-${this.opts.proc}` });
          await session.transaction((tx) => tx.execute('UPDATE soak_counters SET n = n + 1 WHERE proc = ?', [this.opts.proc]), { retries: 50, requestId: id });
        } catch (err) {
          const s = session;
          session = undefined;
          await s?.close().catch(() => undefined);
          throw err;
        }
      });
      if (ok) this.journal.append('counter', id);
      if (++uses % SESSION_USES === 0 && session) {
        const s = session;
        session = undefined;
        await s.close().catch(() => undefined);
      }
    }
    await session?.close().catch(() => undefined);
  }

  async readLoop(): Promise<void> {
    let n = 0;
    while (this.running) {
      n++;
      try {
        await this.rec.time('point-read', () => this.db.query('SELECT balance FROM soak_accounts WHERE id = ?', [this.rng.int(SOAK_ACCOUNTS)]));
        if (n % 5 === 0) {
          const writer = this.rng.int(Math.max(1, this.opts.proc + 1));
          await this.rec.time('range-scan', () => this.db.query('SELECT id FROM soak_ledger WHERE writer = ? ORDER BY id LIMIT 50', [writer]));
        }
        if (n % 100 === 0) {
          await this.rec.time('analytical', () =>
            this.db.query('SELECT writer, COUNT(*) AS n, MIN(id) AS first_id FROM soak_ledger GROUP BY writer ORDER BY writer'),
          );
        }
      } catch {
        await pause(20);
      }
    }
  }

  /** Runs every loop until the deadline. */
  async run(): Promise<void> {
    const loops = [this.ledgerLoop(), this.transferLoop(), this.counterLoop(), this.readLoop()];
    for (const extra of this.opts.extraLoops ?? []) loops.push(extra(this));
    await Promise.all(loops);
  }
}

export function pause(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
