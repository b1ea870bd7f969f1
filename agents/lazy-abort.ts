/**
 * A task's abort signal, made only when its agent first reads `ctx.signal`: most agents never
 * do, and an `AbortController` for every task took about 20 of an agent thread's 95 µs per
 * trivial task (CPU profile). An abort that comes before the first read is kept and the signal
 * is then made already aborted, with that reason.
 */
export class LazyAbort {
  private controller?: AbortController;
  private reason?: string;
  private aborted = false;

  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Aborts the signal (made or not yet); the first reason counts. */
  abort(reason: string): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
