/**
 * Messages between the runtime's main thread and its agent workers.
 * - main → worker, per task: the piscina task object (`WorkerRequest`), answered by `WorkerReply`;
 * - worker → main, during a task: `WorkerEvent` on the worker's parentPort (piscina re-emits it
 *   as the pool's 'message' event);
 * - main → all workers: `AbortMessage` on the BroadcastChannel named by `abortChannelName`.
 *
 * Whether, where and when a task began is not a message but a start mark in shared memory
 * (start-marks.ts).
 *
 * Agent code runs in the workers and can post on both channels. So each task carries a random
 * `key`, known only to the main thread and the worker code that runs that task: an abort or a
 * progress message counts only with its task's key (without it, any agent could abort any other
 * task, or report progress for it).
 */
import type { SerializedError } from '../core/errors.js';
import type { EngineName } from '../core/database.js';
import type { ParentResult } from './agent-contract.js';

/** What every worker gets at start (piscina `workerData`). */
export interface AgentWorkerData {
  /** Module specifiers (file URLs or absolute paths) to load agents from, in order. */
  modules: string[];
  /** Database location for `ctx.db`. */
  database: string;
  engine: EngineName;
  /** Module exporting `openDatabase(location)`, used for `ctx.db`. */
  dbOpener: string;
  runtimeId: string;
  /** Slot table: index i holds the threadId of agent-(i+1), 0 when free. */
  slots: SharedArrayBuffer;
  /** Start marks: see start-marks.ts. */
  starts: SharedArrayBuffer;
  logLevel?: string;
}

export type WorkerRequest =
  | { kind: 'describe' }
  | {
      kind: 'run';
      id: number;
      key: string;
      /** Where this dispatch's start mark is (an index into `starts`, -1 for none) and its number. */
      mark: number;
      seq: number;
      agent: string;
      payload: unknown;
      attempt: number;
      maxAttempts: number;
      parents?: ParentResult[];
    };

export type WorkerReply =
  | { kind: 'described'; agents: Array<{ name: string; description?: string; module: string }>; threadId: number }
  | { kind: 'result'; ok: true; result: unknown; threadId: number }
  | { kind: 'result'; ok: false; error: SerializedError; threadId: number; retiring?: string };

export type WorkerEvent = { bolt: 'progress'; id: number; key: string; threadId: number; fraction: number; note?: string };

export interface AbortMessage {
  id: number;
  key: string;
  reason: string;
}

/** The longest progress note the runtime passes on, in characters. */
export const MAX_PROGRESS_NOTE = 1000;

export function abortChannelName(runtimeId: string): string {
  return `bolt-abort:${runtimeId}`;
}

/** The stable agent id of slot `i`. */
export function slotAgentId(i: number): string {
  return `agent-${i + 1}`;
}
