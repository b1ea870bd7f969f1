/**
 * Shared commits: a write transaction of the handle that ends while another one of the same
 * handle already waits for the writer turn leaves SQLite's transaction open for it instead of
 * committing, and is acknowledged when that COMMIT comes. The next one runs in a savepoint
 * (`SAVEPOINT bolt_member`: rolled back alone when it fails), and so on; the last one, with
 * nobody joinable behind it, commits for all. Group commit (write-batcher.ts) does this for
 * single writes; this does it for transaction closures, which await between their statements.
 *
 * Why: a small transaction's BEGIN IMMEDIATE and COMMIT (the WAL write) cost about as much as
 * its statements, and with other processes writing each BEGIN IMMEDIATE is a try for SQLite's
 * lock against them; a handle whose 8 callers each ran their own transaction paid both 8 times
 * per round. Shared, small read-modify-write transactions ran 1.4× bare SQLite's rate in one
 * process (0.86× before) and 2.2× in four (docs/benchmarks.md). Only transactions on the
 * handle's one writer connection join (`db.transaction()`, writes with a request id); sessions
 * and the handle's other writers find the transaction committed before their turn.
 */
import { TxConflictError } from '../../core/errors.js';
import type { InlineConnection } from './inline-connection.js';
import type { WriteLock } from './write-lock.js';

/** Transactions acknowledged by one COMMIT, at most: as many as group commit puts in one. */
const MAX_MEMBERS = 64;
/** Nobody joins a transaction open longer than this: its first members wait for the COMMIT. */
const MAX_OPEN_MS = 10;
/** After a shared COMMIT failed, transactions commit alone for this long (their re-runs find the culprit). */
const ALONE_AFTER_FAILURE_MS = 1000;

interface Ack {
  resolve: () => void;
  reject: (err: Error) => void;
}

/** The shared-commit state of one handle's writer connection. */
export class SharedCommit {
  /** Transactions that ended and wait for the COMMIT of the transaction left open. */
  private acks: Ack[] = [];
  private openedAt = 0;
  private aloneUntil = 0;
  /** Transactions that left their work open for a later one's COMMIT (stats). */
  leftOpen = 0;

  constructor(private readonly writeLock: WriteLock) {}

  /** A transaction was left open for the writer about to take the turn: it joins in a savepoint. */
  get isOpen(): boolean {
    return this.acks.length > 0;
  }

  /** May a transaction starting now leave its work for a shared COMMIT? */
  get enabled(): boolean {
    return Date.now() >= this.aloneUntil;
  }

  /**
   * Called by a transaction holding the turn whose work is done (`conn` in its transaction):
   * when the next writer can join, keeps the transaction open and returns the promise of this
   * transaction's acknowledgment; the caller then gives the turn up. Undefined: commit now.
   */
  leaveOpen(conn: InlineConnection): Promise<void> | undefined {
    if (!this.canPass(conn)) return undefined;
    if (this.acks.length === 0) this.openedAt = Date.now();
    return new Promise<void>((resolve, reject) => {
      this.acks.push({ resolve, reject });
      this.leftOpen++;
    });
  }

  /**
   * Called by a transaction that joined and ends without committing (it failed, or found its
   * request id recorded): what it read included the earlier members' uncommitted work, so its
   * outcome stands only once that work is committed. Resolves then; rejects as {@link settle}
   * does when the shared COMMIT fails (the caller re-runs). Undefined when nothing is left open.
   */
  follow(): Promise<void> | undefined {
    if (this.acks.length === 0) return undefined;
    return new Promise<void>((resolve, reject) => this.acks.push({ resolve, reject }));
  }

  /** The turn may pass to the next writer with the transaction open. */
  canPass(conn: InlineConnection): boolean {
    return (
      this.writeLock.nextJoinable &&
      conn.inTransaction &&
      this.acks.length < MAX_MEMBERS &&
      (this.acks.length === 0 || Date.now() - this.openedAt < MAX_OPEN_MS) &&
      Date.now() >= this.aloneUntil
    );
  }

  /** The transactions acknowledged by the next COMMIT (and forgets them). */
  private take(): Ack[] {
    const a = this.acks;
    this.acks = [];
    return a;
  }

  /**
   * Settles what `take` returned once the COMMIT ran: all acknowledged, or, when it failed, all
   * re-run (a transient error) alone for a while, since which of them made it fail (a deferred
   * foreign key) cannot be told.
   */
  settle(acks: Ack[], err?: Error): void {
    if (acks.length === 0) return;
    if (err === undefined) {
      for (const a of acks) a.resolve();
      return;
    }
    this.aloneUntil = Date.now() + ALONE_AFTER_FAILURE_MS;
    const e = sharedCommitFailed(err);
    for (const a of acks) a.reject(e);
  }

  /**
   * Runs `commit` (the COMMIT of the transaction open on the writer connection) for the
   * transaction holding the turn and, when it `shares`, for those that left their work open for
   * it; settles those once it is done. Undefined when it committed at once. Fails as `commit`
   * does when it committed alone; with others, with {@link sharedCommitFailed}: which of them
   * made it fail cannot be told.
   */
  commitWith(commit: () => Promise<void> | undefined, shares: boolean): Promise<void> | undefined {
    const acks = shares ? this.take() : [];
    const failed = (err: unknown): Error => {
      this.settle(acks, err as Error);
      return acks.length ? sharedCommitFailed(err as Error) : (err as Error);
    };
    let committed: Promise<void> | undefined;
    try {
      committed = commit();
    } catch (err) {
      throw failed(err);
    }
    if (!committed) {
      this.settle(acks);
      return undefined;
    }
    return committed.then(
      () => this.settle(acks),
      (err: unknown) => Promise.reject(failed(err)),
    );
  }

  /** Commits the transactions that left their work open when the last writer that could join gave up its turn. */
  commitLeft(conn: InlineConnection | undefined): Promise<void> | undefined {
    if (!this.isOpen) return undefined;
    if (!conn?.inTransaction) {
      this.settle(this.take(), new Error('SQLite rolled the shared transaction back'));
      return undefined;
    }
    try {
      // Its failure reached the transactions left open; no one else waits for it.
      return this.commitWith(() => conn.commit(), true)?.catch(() => undefined);
    } catch {
      return undefined;
    }
  }
}

/** What a transaction whose work was in a failed shared COMMIT gets: nothing of it was written; re-run. */
export function sharedCommitFailed(cause: Error): TxConflictError {
  return new TxConflictError(
    `the COMMIT this transaction shared with others of its handle failed (${cause.message.split('\n')[0]}): nothing of it was written`,
    { transient: true, sharedCommit: true },
    { cause },
  );
}
