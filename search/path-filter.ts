/**
 * `pathGlob` filtering with picomatch semantics (`src/**`, `**\/*.ts`, `{a,b}/*`): paths are
 * the index's relative, `/`-separated paths. `dot: true` so `.github/**` works.
 */
import picomatch from 'picomatch';
import { BadInputError } from '../core/errors.js';

/** A predicate for one glob (or several: a path matching any passes). */
export function pathMatcher(glob: string | readonly string[]): (path: string) => boolean {
  const globs = typeof glob === 'string' ? [glob] : [...glob];
  if (globs.length === 0 || globs.some((g) => typeof g !== 'string' || g.trim() === '')) {
    throw new BadInputError('pathGlob must be a non-empty glob pattern', { pathGlob: glob });
  }
  try {
    return picomatch(globs, { dot: true });
  } catch (err) {
    throw new BadInputError(`pathGlob is not a valid glob pattern: ${(err as Error).message}`, { pathGlob: glob });
  }
}
