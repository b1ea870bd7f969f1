/**
 * A gate in front of the host's write transactions, so that maintenance that needs a moment
 * without them (a CHECKPOINT: adapters/duckdb/wal-checkpointer.ts) can get one without stalling the
 * host. Writers `enter()` before they begin and `leave()` when their transaction has ended;
 * `exclusive()` closes the gate to new writers, waits a short, bounded time for those under
 * way to end, runs its task if they did, and opens the gate again either way. Waiting happens
 * here, in promises — never inside DuckDB, where a blocked statement would hold one of the few
 * threads that the transactions it waits for need in order to finish.
 */
export class WriteGate {
  private underWay = 0;
  private closed?: Promise<void>;
  private onDrained?: () => void;

  /** Write transactions under way (entered, not yet left). */
  get writers(): number {
    return this.underWay;
  }

  /** Waits while the gate is closed, then counts the caller as a writer until `leave()`. */
  async enter(): Promise<void> {
    while (this.closed) await this.closed;
    this.underWay++;
  }

  leave(): void {
    this.underWay--;
    if (this.underWay === 0) this.onDrained?.();
  }

  /** Runs `fn` between `enter()` and `leave()`. */
  async writing<T>(fn: () => Promise<T>): Promise<T> {
    await this.enter();
    try {
      return await fn();
    } finally {
      this.leave();
    }
  }

  /**
   * Closes the gate, waits up to `waitMs` for the writers under way, and runs `fn` if they all
   * left in time. Returns whether `fn` ran. New writers wait at most `waitMs` plus `fn`'s time.
   */
  async exclusive(waitMs: number, fn: () => Promise<void>): Promise<boolean> {
    if (this.closed) return false;
    let reopen!: () => void;
    this.closed = new Promise<void>((r) => (reopen = r));
    try {
      if (this.underWay > 0) {
        const drained = await new Promise<boolean>((resolve) => {
          const timer = setTimeout(() => {
            this.onDrained = undefined;
            resolve(false);
          }, waitMs);
          this.onDrained = () => {
            clearTimeout(timer);
            this.onDrained = undefined;
            resolve(true);
          };
        });
        if (!drained) return false;
      }
      await fn();
      return true;
    } finally {
      this.closed = undefined;
      reopen();
    }
  }
}
