/**
 * Bolt's public API.
 */
export * from './core/errors.js';
export type * from './core/database.js';
export { BOLT_VERSION } from './core/version.js';
export { openSqlite, type SqliteOptions } from './adapters/sqlite/open.js';
export { openPostgres, type PostgresOptions } from './adapters/postgres/open.js';
