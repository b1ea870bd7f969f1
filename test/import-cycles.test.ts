/**
 * No two modules import each other, directly or around a loop (imports that only bring types
 * are erased by the compiler and do not count). Reads the TypeScript sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { REPO_ROOT as root, relativeImports, tsFiles } from './helpers/source-imports.js';

/** Relative runtime imports and re-exports of each file (`import type` / `export type` left out). */
function importGraph(files: string[]): Map<string, string[]> {
  const known = new Set(files);
  return new Map(files.map((f) => [f, relativeImports(f, { typeOnly: false }).filter((d) => known.has(d))]));
}

/** Strongly connected components of more than one file (Tarjan). */
function cycles(graph: Map<string, string[]>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let next = 0;
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const scc: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        scc.push(w);
      } while (w !== v);
      if (scc.length > 1) found.push(scc);
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test('no import cycles among the sources', () => {
  const files = tsFiles(root);
  assert.ok(files.length > 100, `found ${files.length} source files under ${root}`);
  const loops = cycles(importGraph(files)).map((c) =>
    c
      .map((f) => relative(root, f))
      .sort()
      .join(' <-> '),
  );
  assert.deepEqual(loops, []);
});

test('the cycle check sees a cycle', () => {
  const g = new Map([
    ['a', ['b']],
    ['b', ['c']],
    ['c', ['a']],
    ['d', ['a']],
  ]);
  assert.deepEqual(
    cycles(g).map((c) => c.sort()),
    [['a', 'b', 'c']],
  );
});
