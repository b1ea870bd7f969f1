/**
 * The project's TypeScript sources as text, for the tests that check its shape (import cycles,
 * layers): the files under a folder, and the relative modules each one imports.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

const SKIP = new Set(['node_modules', 'dist', '.git', 'tmp']);

/** Absolute paths of the .ts and .cts files under `path` (or `path` itself when it is a file). */
export function tsFiles(path: string, out: string[] = []): string[] {
  if (/\.c?ts$/.test(path)) return [...out, path];
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (SKIP.has(e.name) || e.name.startsWith('.')) continue;
    const p = join(path, e.name);
    if (e.isDirectory()) tsFiles(p, out);
    else if (/\.c?ts$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/**
 * Absolute paths of the modules `file` imports or re-exports by a relative specifier (static
 * and `import()`); `typeOnly: false` leaves out `import type` / `export type`, which the
 * compiler erases.
 */
export function relativeImports(file: string, opts: { typeOnly: boolean }): string[] {
  const text = readFileSync(file, 'utf8');
  const statics = opts.typeOnly ? /^(?:import|export)\s[^;]*?from\s+'(\.[^']+)'/gm : /^(?:import|export)\s+(?!type\b)[^;]*?from\s+'(\.[^']+)'/gm;
  return [...text.matchAll(statics), ...text.matchAll(/import\(\s*'(\.[^']+)'\s*\)/g)].map((m) =>
    resolve(dirname(file), m[1]!.replace(/\.js$/, '.ts').replace(/\.cjs$/, '.cts')),
  );
}
