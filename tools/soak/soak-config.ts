/**
 * What the orchestrator hands each soak process (as JSON in argv[2]).
 */
import type { EngineName } from '../../core/database.js';

export interface SoakProcessConfig {
  proc: number;
  incarnation: number;
  engine: EngineName;
  db: string;
  /** Working directory: journals, metrics, the side database. */
  dir: string;
  seed: number;
  /**
   * Epoch ms at which the soak started (metrics seconds count from here), and at which the
   * workload stops. Null for the first processes: they open the database, print "ready" and
   * wait for the orchestrator's `{ op: 'go', startEpochMs, deadlineEpochMs }` (sent once all
   * are ready, so neither the measured time nor the faults fall in the start-up storm).
   */
  startEpochMs: number | null;
  deadlineEpochMs: number | null;
  agents: number;
  /** How many soak processes share the database (sizes the pool). */
  processes: number;
  /** Open and write the side database (stale-lock recovery) every few seconds. */
  sideDb: boolean;
}
