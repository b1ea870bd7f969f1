/**
 * A `Database` that opens the real one on first use. Agents get one as `ctx.db`, so a worker
 * whose agents never touch the database never connects to it; `bolt mcp` serves one, so it
 * starts (and answers with the reason) even while the database cannot be opened. An open that
 * failed is tried again by the next use.
 */
import type {
  Database,
  DatabaseStats,
  EngineName,
  ExecResult,
  LockInfo,
  Row,
  Session,
  SessionOptions,
  StatementOptions,
  Transaction,
  TransactionOptions,
} from '../core/database.js';

export class LazyDatabase implements Database {
  private opening?: Promise<Database>;
  private opened?: Database;
  /** Transactions (`transaction(fn)` not settled) and sessions (not closed) begun through this handle. */
  private readonly open = new Set<object>();

  constructor(
    readonly engine: EngineName,
    readonly location: string,
    private readonly opener: () => Promise<Database>,
  ) {}

  /**
   * True while a transaction or session begun through this handle is not over. An agent's task
   * that returns with one still open leaves its connection (on SQLite the file's write lock)
   * held: see `agents/worker.ts`, which then closes the handle.
   */
  get holdsWork(): boolean {
    return this.open.size > 0;
  }

  /** True once something used the database. */
  get isOpen(): boolean {
    return this.opened !== undefined;
  }

  private db(): Promise<Database> {
    this.opening ??= this.opener().then(
      (d) => (this.opened = d),
      (err: unknown) => {
        this.opening = undefined;
        throw err;
      },
    );
    return this.opening;
  }

  async query<T extends Row = Row>(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<T[]> {
    return (await this.db()).query<T>(sql, params, opts);
  }
  async queryOne<T extends Row = Row>(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<T | undefined> {
    return (await this.db()).queryOne<T>(sql, params, opts);
  }
  async execute(sql: string, params?: readonly unknown[], opts?: StatementOptions): Promise<ExecResult> {
    return (await this.db()).execute(sql, params, opts);
  }
  async transaction<T>(fn: (tx: Transaction) => Promise<T>, opts?: TransactionOptions): Promise<T | undefined> {
    const d = await this.db();
    const token = {};
    this.open.add(token);
    try {
      return await d.transaction(fn, opts);
    } finally {
      this.open.delete(token);
    }
  }
  async session(opts?: SessionOptions): Promise<Session> {
    const s = await (await this.db()).session(opts);
    this.open.add(s);
    const close = s.close.bind(s);
    s.close = async () => {
      this.open.delete(s);
      await close();
    };
    return s;
  }
  async insertMany(table: string, columns: readonly string[], rows: readonly (readonly unknown[])[], opts?: StatementOptions): Promise<ExecResult> {
    return (await this.db()).insertMany(table, columns, rows, opts);
  }
  stats(): DatabaseStats {
    if (this.opened) return this.opened.stats();
    return {
      engine: this.engine,
      role: 'client',
      pool: { size: 0, inUse: 0, idle: 0, waiting: 0, waitMs: { p50: 0, p95: 0, p99: 0, max: 0 }, holders: [] },
      queries: 0,
      errorsByCode: {},
      opened: false,
    };
  }
  lockInfo(): LockInfo {
    return this.opened ? this.opened.lockInfo() : { path: this.location, engine: this.engine, role: 'client', opened: false };
  }
  async close(): Promise<void> {
    const d = this.opening ? await this.opening.catch(() => undefined) : undefined;
    this.opening = undefined;
    this.opened = undefined;
    this.open.clear();
    await d?.close();
  }
}
