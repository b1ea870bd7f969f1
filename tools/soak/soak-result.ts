/**
 * The data a soak run produces: what the report, the summary and `--json` all print.
 */
import type { LatencySummary } from '../../core/latency-summary.js';

/** Kinds of operation in the soak workload. */
export type OpKind = 'ledger' | 'transfer' | 'counter' | 'point-read' | 'range-scan' | 'analytical' | 'task' | 'side-db';

/** Kinds of injected fault. */
export type FaultKind = 'kill-host' | 'kill-agent' | 'foreign-lock' | 'stale-lock' | 'bad-writes' | 'hostile-client';
export const FAULT_KINDS: readonly FaultKind[] = ['kill-host', 'kill-agent', 'foreign-lock', 'stale-lock', 'bad-writes', 'hostile-client'];

/** One injected fault, at `t` ms after the soak started. */
export interface FaultEvent {
  t: number;
  kind: FaultKind;
  detail: string;
  /** When its effect on writers ended (ms after the start), for faults that stop every writer for a while. */
  untilT?: number;
}

/** One second of the run: operations completed and latency by kind. */
export interface TimelineBucket {
  sec: number;
  ops: Partial<Record<OpKind, number>>;
  p99: Partial<Record<OpKind, number>>;
  errors: number;
}

export interface InvariantResult {
  name: string;
  pass: boolean;
  detail: string;
}

export interface SoakResult {
  config: {
    processes: number;
    agents: number;
    durationS: number;
    engine: string;
    db: string;
    /** PostgreSQL: the schema this run created and worked in. */
    schema?: string;
    /** PostgreSQL: whether that schema was kept (`--keep`, or the run failed) rather than dropped. */
    schemaKept?: boolean;
    chaos: FaultKind[];
    chaosEveryS: number;
    seed: number;
  };
  startedAt: string;
  elapsedS: number;
  ops: Partial<Record<OpKind, { count: number; perSecond: number; latencyMs: LatencySummary }>>;
  errorsByCode: Record<string, number>;
  /** Errors that count as lock errors reaching a caller (must be zero). */
  lockErrors: number;
  faults: FaultEvent[];
  failovers: { count: number; takeoverMs: LatencySummary; samples: number[] };
  /** Tasks run more than once because a lease expired (counted, reported, allowed). */
  leaseReruns: number;
  invariants: InvariantResult[];
  timeline: TimelineBucket[];
  pass: boolean;
}
