/**
 * Bolt's public API.
 */
export * from './core/errors.js';
export type * from './core/database.js';
export { BOLT_VERSION } from './core/version.js';
export { BoltIntegration, type RuntimeStatus } from './core/runtime/bolt-integration.js';
export { TaskQueue, type ClaimedTask, type Completion, type ListOptions } from './core/runtime/task-queue.js';
export type { Task, SubmitOptions, SubmitResult } from './core/runtime/task.js';
export { TASK_STATUSES, type TaskStatus } from './core/runtime/task-states.js';
export { CATCH_UP_POLICIES, MAX_CATCH_UP, type CatchUp, type Schedule, type ScheduleSpec } from './core/runtime/schedules.js';
export type * from './core/events.js';
export { resolveConfig, DEFAULT_DATABASE, type BoltOptions, type BoltConfig } from './core/config.js';
export { retryDelayMs, type BackoffOptions } from './core/backoff.js';
export { defineAgent, type AgentDefinition, type AgentContext, type AgentTask } from './agents/agent-contract.js';
export { registerBuiltinAgentModule } from './agents/registry.js';
export { ConcurrentDatabase } from './storage/concurrent-database.js';
export { lockHolders, type LockHolder, type LockClass, type LockType } from './storage/platform/proc-locks.js';
export { probeDatabase, type DbProbe, type DbLockState } from './storage/host/host-probe.js';
export { openSqlite, type SqliteOptions } from './adapters/sqlite/open.js';
export { openPostgres, type PostgresOptions } from './adapters/postgres/open.js';
export { SqliteDatabase, type SqliteVerifyResult } from './adapters/sqlite/database.js';
export { PostgresDatabase, type PgTransactionOptions } from './adapters/postgres/database.js';
export { describePostgres, type PostgresDescription } from './adapters/postgres/describe.js';
export {
  EinsteinSearch,
  type SearchHit,
  type SearchOptions,
  type SearchMode,
  type EinsteinOptions,
  type EinsteinStats,
  type IndexResult,
} from './search/einstein-search.js';
export { HashEmbedder, OpenAIEmbedder, type Embedder, type HashEmbedderOptions, type OpenAIEmbedderOptions } from './search/embedder.js';
export type { IndexOptions, IndexProgress, IndexPlan } from './search/indexer.js';
