/**
 * Idle release: a host lets go of its database file once nothing has used it for `idleMs`
 * (no client connected, no session, no operation in flight), so another process — or a tool
 * such as the duckdb CLI — can open it. The host reports activity (`touch`) and says what
 * "idle" means (`isIdle`); this module owns the timer.
 */
export class IdleRelease {
  private lastActivity = Date.now();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(
    /** Release after this long without activity; 0 or undefined: never. */
    private readonly idleMs: number | undefined,
    private readonly isIdle: () => boolean,
    private readonly release: (quietMs: number) => void,
  ) {}

  /** Something used the host now. */
  touch(): void {
    this.lastActivity = Date.now();
  }

  /** (Re)arms the check; it re-arms itself while the host is busy. */
  arm(): void {
    const ms = this.idleMs;
    if (!ms || ms <= 0 || this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () => {
        const quiet = Date.now() - this.lastActivity;
        if (this.isIdle() && quiet >= ms) this.release(quiet);
        else this.arm();
      },
      Math.max(10, ms - (Date.now() - this.lastActivity)),
    );
    this.timer.unref();
  }

  /** No release any more (the host is closing). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }
}
