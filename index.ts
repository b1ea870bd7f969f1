/**
 * Bolt's public API.
 */
export * from './core/errors.js';
export type * from './core/database.js';
export { BOLT_VERSION } from './core/version.js';
export { ConcurrentDatabase } from './storage/concurrent-database.js';
export { lockHolders, type LockHolder, type LockClass, type LockType } from './storage/locks/proc-locks.js';
export { probeDatabase, type DbProbe, type DbLockState } from './storage/locks/host-probe.js';
export { EinsteinSearch, type SearchHit, type SearchOptions, type SearchMode, type EinsteinOptions, type EinsteinStats, type IndexResult } from './adapters/einstein/einstein-search.js';
export { HashEmbedder, OpenAIEmbedder, type Embedder, type HashEmbedderOptions, type OpenAIEmbedderOptions } from './adapters/einstein/embedder.js';
export type { IndexOptions, IndexProgress, IndexPlan } from './adapters/einstein/indexer.js';
