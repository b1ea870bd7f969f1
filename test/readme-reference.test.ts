/**
 * README's reference tables match the code: the Errors table names every error code and only
 * codes that exist; every environment variable is read in core/config.ts alone and is listed
 * in the Configuration table.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorFromJSON, type BoltErrorCode } from '../core/errors.js';

const root = new URL('../../', import.meta.url);

test('README lists every error code, each rebuilt as its own class from the wire', () => {
  const source = readFileSync(new URL('core/errors.ts', root), 'utf8');
  const union = source.slice(source.indexOf('export type BoltErrorCode'), source.indexOf(';', source.indexOf('export type BoltErrorCode')));
  const codes = [...union.matchAll(/'(BOLT_[A-Z_]+)'/g)].map((m) => m[1] as BoltErrorCode);
  assert.ok(codes.length > 20, 'the codes were found');
  const errors = section(readFileSync(new URL('README.md', root), 'utf8'), '## Errors');
  const listed = new Set([...errors.matchAll(/^\| `(BOLT_[A-Z_]+)`/gm)].map((m) => m[1]));
  assert.deepEqual(
    codes.filter((c) => !listed.has(c)),
    [],
    'codes missing from README',
  );
  assert.deepEqual(
    [...listed].filter((c) => !codes.includes(c as BoltErrorCode)),
    [],
    'README codes that do not exist',
  );
  for (const code of codes) assert.equal(errorFromJSON({ name: 'x', code, message: 'm', details: {} }).code, code);
});

/** README's section under `heading`, up to the next `## ` heading. */
function section(readme: string, heading: string): string {
  const at = readme.indexOf(heading);
  return readme.slice(at, readme.indexOf('\n## ', at + 1));
}

/** The library's TypeScript sources (not tests, benches or scripts). */
function librarySources(): string[] {
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.ts') && !e.name.endsWith('.d.ts')) out.push(p);
    }
  };
  for (const top of ['adapters', 'agents', 'core', 'storage', 'tools']) walk(fileURLToPath(new URL(top, root)));
  return out;
}

test('environment variables are read in core/config.ts only, and README lists each', () => {
  const readsElsewhere = librarySources()
    .filter((f) => !f.endsWith(join('core', 'config.ts')))
    .flatMap((f) =>
      [...readFileSync(f, 'utf8').matchAll(/process\.env\.([A-Z_]+)\b(?!\s*=(?!=))/g)].map((m) => `${f.slice(fileURLToPath(root).length)}: ${m[1]}`),
    );
  assert.deepEqual(readsElsewhere, []);
  const config = readFileSync(new URL('core/config.ts', root), 'utf8');
  const names = [...new Set([...config.matchAll(/['.(]((?:BOLT|NO)_[A-Z_]+)/g)].map((m) => m[1]!))].filter((n) => !n.startsWith('BOLT_BAD'));
  assert.ok(names.length > 20, names.join(' '));
  const table = section(readFileSync(new URL('README.md', root), 'utf8'), '## Configuration');
  assert.deepEqual(
    names.filter((n) => !table.includes(`\`${n}\``)),
    [],
    'variables missing from README',
  );
});
