/**
 * README's Errors table names every error code a user can meet, and only codes that exist.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { errorFromJSON, type BoltErrorCode } from '../core/errors.js';

const root = new URL('../../', import.meta.url);

test('README lists every error code, each rebuilt as its own class from the wire', () => {
  const source = readFileSync(new URL('core/errors.ts', root), 'utf8');
  const union = source.slice(source.indexOf('export type BoltErrorCode'), source.indexOf(';', source.indexOf('export type BoltErrorCode')));
  const codes = [...union.matchAll(/'(BOLT_[A-Z_]+)'/g)].map((m) => m[1] as BoltErrorCode);
  assert.ok(codes.length > 20, 'the codes were found');
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const section = readme.slice(readme.indexOf('## Errors'), readme.indexOf('\n## ', readme.indexOf('## Errors') + 1));
  const listed = new Set([...section.matchAll(/^\| `(BOLT_[A-Z_]+)`/gm)].map((m) => m[1]));
  assert.deepEqual(codes.filter((c) => !listed.has(c)), [], 'codes missing from README');
  assert.deepEqual([...listed].filter((c) => !codes.includes(c as BoltErrorCode)), [], 'README codes that do not exist');
  for (const code of codes) assert.equal(errorFromJSON({ name: 'x', code, message: 'm', details: {} }).code, code);
});
