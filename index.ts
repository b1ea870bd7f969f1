/**
 * Bolt's public API.
 */
export * from './core/errors.js';
export type * from './core/database.js';
export { BOLT_VERSION } from './core/version.js';
export { ConcurrentDatabase } from './storage/concurrent-database.js';
