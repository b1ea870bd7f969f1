/**
 * Messages between the runtime's main thread and its agent workers.
 * - main → worker, per task: the piscina task object (`WorkerRequest`), answered by `WorkerReply`;
 * - worker → main, during a task: `WorkerEvent` on the worker's parentPort (piscina re-emits it
 *   as the pool's 'message' event);
 * - main → all workers: `AbortMessage` on the BroadcastChannel named by `abortChannelName`.
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
  logLevel?: string;
}

export type WorkerRequest =
  { kind: 'describe' } | { kind: 'run'; id: number; agent: string; payload: unknown; attempt: number; maxAttempts: number; parents?: ParentResult[] };

export type WorkerReply =
  | { kind: 'described'; agents: Array<{ name: string; description?: string; module: string }>; threadId: number }
  | { kind: 'result'; ok: true; result: unknown; threadId: number }
  | { kind: 'result'; ok: false; error: SerializedError; threadId: number };

export type WorkerEvent = { bolt: 'start'; id: number; threadId: number } | { bolt: 'progress'; id: number; threadId: number; fraction: number; note?: string };

export interface AbortMessage {
  id: number;
  reason: string;
}

export function abortChannelName(runtimeId: string): string {
  return `bolt-abort:${runtimeId}`;
}

/** The stable agent id of slot `i`. */
export function slotAgentId(i: number): string {
  return `agent-${i + 1}`;
}
