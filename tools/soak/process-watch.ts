/**
 * Watches the soak's processes from the outside: the resident memory of every process that
 * hosted the database (sampled from /proc), and how each soak process ended. Both feed the
 * invariants "no process exited unless a fault killed it" and "host memory stayed under its
 * bound".
 */
import { residentBytes } from '../../storage/platform/process-identity.js';

/** How one soak process ended. */
export interface ProcessExit {
  proc: number;
  incarnation: number;
  pid: number;
  code: number | null;
  signal: string | null;
  /** A fault of the soak SIGKILLed it on purpose. */
  killedByFault: boolean;
}

/**
 * Largest resident memory seen per PID of the processes that serve the database: the DuckDB
 * host, or for SQLite and PostgreSQL (no host) every soak process, each its own direct user.
 */
export class HostMemoryWatch {
  private readonly peak = new Map<number, number>();
  private timer?: NodeJS.Timeout;

  /** Samples the PIDs `pids()` names every `everyMs` until `stop()`. */
  start(pids: () => Iterable<number>, everyMs = 250): void {
    const sample = () => {
      for (const pid of pids()) {
        const rss = residentBytes(pid);
        if (rss !== undefined && rss > (this.peak.get(pid) ?? 0)) this.peak.set(pid, rss);
      }
    };
    sample();
    this.timer = setInterval(sample, everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** The largest resident size of any host, with its PID (0 bytes when none was seen). */
  max(): { pid: number; bytes: number } {
    let best = { pid: 0, bytes: 0 };
    for (const [pid, bytes] of this.peak) if (bytes > best.bytes) best = { pid, bytes };
    return best;
  }

  /** Processes sampled. */
  get processes(): number {
    return this.peak.size;
  }
}
