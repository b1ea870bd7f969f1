/**
 * `pathGlob` filtering (`src/**`, `**\/*.ts`, `{a,b}/*`, glob.ts): paths are the index's
 * relative, `/`-separated paths; dot files match wildcards, so `.github/**` works.
 */
import { BadInputError } from '../core/errors.js';
import { compileGlobs } from './glob.js';

/** A predicate for one glob (or several: a path matching any passes). */
export function pathMatcher(glob: string | readonly string[]): (path: string) => boolean {
  const globs = typeof glob === 'string' ? [glob] : [...glob];
  if (globs.length === 0 || globs.some((g) => typeof g !== 'string' || g.trim() === '')) {
    throw new BadInputError('pathGlob must be a non-empty glob pattern', { pathGlob: glob });
  }
  return compileGlobs(globs);
}
