/**
 * Commands that only read or copy a database refuse one that is not there, instead of opening
 * it (which creates an empty database, and its folders, at a mistyped path).
 */
import { existsSync } from 'node:fs';
import { NotFoundError } from '../core/errors.js';
import { isUrl } from '../storage/open-database.js';

/** BOLT_NOT_FOUND unless `location` is a URL or an existing path; `creators` names the commands that make one. */
export function assertDatabaseExists(location: string, creators = 'bolt submit, bolt schedule set and bolt start create one'): void {
  if (!isUrl(location) && !existsSync(location)) throw new NotFoundError(`no database at ${location} (${creators})`, { path: location });
}
