/**
 * Keeps a host's WAL short by checkpointing on its own. DuckDB checkpoints automatically when
 * a commit finds the WAL past `checkpoint_threshold`, but not when that transaction updated
 * or deleted rows while other transactions were open, nor while another write transaction
 * holds the checkpoint lock (duck_transaction_manager.cpp, CanCheckpoint) — which, on a host
 * serving many clients, is nearly always. Measured in a 16-process soak: the WAL grew to
 * 2.4-3.5 MB between host kills despite a 256 KB threshold, and the next host took 1-5 s to
 * replay it. This polls the WAL's size and, past the threshold (or past a smaller one when the
 * last checkpoint is a few seconds old: a young host's WAL of DDL and start-up writes replayed
 * at 0.3-0.9 s under load while under 256 KB), closes the host's write gate
 * (adapters/duckdb/write-gate.ts) for a moment: once the write transactions under way have ended, it
 * runs a plain CHECKPOINT on a connection of its own. When they do not end within `gateWaitMs`
 * (a client holding a transaction open) the gate reopens and the next try waits `backoffMs`.
 * FORCE CHECKPOINT is never used: it blocks new transactions inside DuckDB, on the threads
 * that the open transactions need to commit, and stalls the host.
 */
import { isFatalDuckDBError } from './classify-errors.js';
import { statSync } from 'node:fs';
import type { DuckDBConnection } from '@duckdb/node-api';
import { log } from '../../core/logger.js';
import type { WriteGate } from './write-gate.js';

export interface WalCheckpointerOptions {
  /** Checkpoint once the WAL is at least this large (bytes). */
  thresholdBytes: number;
  /** Also checkpoint a WAL of at least `smallBytes` once `maxAgeMs` passed since the last checkpoint. */
  smallBytes: number;
  maxAgeMs: number;
  /** How often to look at the WAL's size (ms). */
  everyMs: number;
  /** How long new writers may be held back while those under way finish (ms). */
  gateWaitMs: number;
  /** Pause after an attempt that could not checkpoint (ms). */
  backoffMs: number;
  /** Called when a checkpoint failed in a way that invalidated the database (DuckDB FATAL). */
  onFatal?: (err: unknown) => void;
}

export class WalCheckpointer {
  /** Checkpoints run, and attempts DuckDB refused (write transactions open) or that failed. */
  done = 0;
  busy = 0;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private stopped = false;
  private notBefore = 0;
  private lastCheckpoint = Date.now();

  constructor(
    private readonly walPath: string,
    private readonly conn: DuckDBConnection,
    private readonly gate: WriteGate,
    private readonly opts: WalCheckpointerOptions,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => (this.running = undefined));
    }, this.opts.everyMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    const size = walSize(this.walPath);
    const due = size >= this.opts.thresholdBytes || (size >= this.opts.smallBytes && Date.now() - this.lastCheckpoint >= this.opts.maxAgeMs);
    if (this.stopped || Date.now() < this.notBefore || !due) return;
    const started = Date.now();
    let ran = false;
    try {
      ran = await this.gate.exclusive(this.opts.gateWaitMs, () => this.conn.run('CHECKPOINT').then(() => undefined));
    } catch (err) {
      // DuckDB refuses while a write it does not go through the gate is open (prune, backup).
      log('host').debug({ err: (err as Error).message, wal: this.walPath }, 'checkpoint attempt failed');
      if (isFatalDuckDBError(err)) this.opts.onFatal?.(err);
    }
    if (ran) {
      this.done++;
      this.lastCheckpoint = Date.now();
    } else {
      this.busy++;
      this.notBefore = Date.now() + this.opts.backoffMs;
    }
    log('host').debug({ wal: this.walPath, walBytes: size, checkpointed: ran, ms: Date.now() - started }, 'WAL checkpoint attempt');
  }

  /** Stops polling and waits for a checkpoint in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.running;
  }

  stats(): { done: number; busy: number } {
    return { done: this.done, busy: this.busy };
  }
}

function walSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
