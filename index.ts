/**
 * Bolt's public API.
 */
export * from './core/errors.js';
export type * from './core/database.js';
export { BOLT_VERSION } from './core/version.js';
export { ConcurrentDatabase } from './storage/concurrent-database.js';
export { lockHolders, type LockHolder, type LockClass, type LockType } from './storage/locks/proc-locks.js';
export { probeDatabase, type DbProbe, type DbLockState } from './storage/locks/host-probe.js';
