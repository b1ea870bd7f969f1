/**
 * Records each workload operation (kind, latency, error code) in one-second buckets and
 * appends them to a JSONL metrics file once a second, so a SIGKILLed process loses at most
 * its last second of metrics — never its acknowledgements, which go to journals at once.
 */
import type { OpKind } from './soak-result.js';
import { appendOwnFile } from '../../storage/platform/own-file.js';

/** One line of a metrics file. */
export interface MetricsLine {
  sec: number;
  kind: OpKind;
  n: number;
  errors: Record<string, number>;
  /** Latency samples in ms (at most MAX_SAMPLES per bucket). */
  lat: number[];
}

const MAX_SAMPLES = 400;

interface Bucket {
  n: number;
  errors: Record<string, number>;
  lat: number[];
}

export class OpRecorder {
  private buckets = new Map<string, Bucket>();
  private timer: NodeJS.Timeout;

  constructor(
    private readonly file: string,
    private readonly startEpochMs: number,
  ) {
    this.timer = setInterval(() => this.flush(), 1000);
    this.timer.unref();
  }

  /** Times `fn` as one operation of `kind`; rethrows its error after recording the code. */
  async time<T>(kind: OpKind, fn: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      const v = await fn();
      this.add(kind, performance.now() - t0);
      return v;
    } catch (err) {
      this.add(kind, performance.now() - t0, errorCode(err));
      throw err;
    }
  }

  add(kind: OpKind, ms: number, errorCode?: string): void {
    const sec = Math.floor((Date.now() - this.startEpochMs) / 1000);
    const key = `${sec}\t${kind}`;
    let b = this.buckets.get(key);
    if (!b) this.buckets.set(key, (b = { n: 0, errors: {}, lat: [] }));
    if (errorCode) {
      b.errors[errorCode] = (b.errors[errorCode] ?? 0) + 1;
      return;
    }
    b.n++;
    if (b.lat.length < MAX_SAMPLES) b.lat.push(Math.round(ms * 1000) / 1000);
    else {
      const i = Math.floor(Math.random() * b.n);
      if (i < MAX_SAMPLES) b.lat[i] = Math.round(ms * 1000) / 1000;
    }
  }

  /** Writes every bucket of past seconds (all of them when `all`). */
  flush(all = false): void {
    const now = Math.floor((Date.now() - this.startEpochMs) / 1000);
    const lines: string[] = [];
    for (const [key, b] of this.buckets) {
      const [secText, kind] = key.split('\t') as [string, OpKind];
      const sec = Number(secText);
      if (!all && sec >= now) continue;
      const line: MetricsLine = { sec, kind, n: b.n, errors: b.errors, lat: b.lat };
      lines.push(JSON.stringify(line));
      this.buckets.delete(key);
    }
    if (lines.length) appendOwnFile(this.file, `${lines.join('\n')}\n`);
  }

  close(): void {
    clearInterval(this.timer);
    this.flush(true);
  }
}

/** A stable code for any error: the BoltError code, else a short classification. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && code.startsWith('BOLT_')) return code;
  const msg = err instanceof Error ? err.message : String(err);
  if (/Conflicting lock|could not set lock/i.test(msg)) return 'LOCK_CONFLICTING';
  if (/database is locked|SQLITE_BUSY/i.test(msg)) return 'LOCK_SQLITE_BUSY';
  return typeof code === 'string' ? code : 'UNCLASSIFIED';
}

/** Codes that mean a lock error reached a caller: the soak's zero-tolerance set. */
export const LOCK_ERROR_CODES = new Set(['BOLT_LOCK_FOREIGN', 'BOLT_LOCK_TIMEOUT', 'BOLT_POOL_TIMEOUT', 'LOCK_CONFLICTING', 'LOCK_SQLITE_BUSY']);
