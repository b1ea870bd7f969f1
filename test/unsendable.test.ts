/**
 * unsendablePart: what structured clone would refuse in an agent's result, found before the
 * reply is posted (a refused reply ends the agent's thread).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { unsendablePart } from '../agents/unsendable.js';

test('unsendablePart names what structured clone refuses, and where; everything it passes clones', { timeout: 5_000 }, () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const sendable: unknown[] = [
    undefined,
    null,
    42,
    'text',
    10n,
    { a: [1, { b: 'c' }], d: new Date(0), e: /x/, f: new Uint8Array(3), g: new Map([[1, { h: 2 }]]), i: new Set([1]) },
    cyclic,
    new Error('e'),
    Array.from({ length: 100_000 }, (_, i) => ({ i })),
  ];
  for (const v of sendable) {
    assert.equal(unsendablePart(v), undefined);
    assert.doesNotThrow(() => structuredClone(v));
  }
  const cases: Array<[unknown, RegExp]> = [
    [() => 1, /^a function at result$/],
    [{ items: [1, 2, { fn: () => 1 }] }, /^a function at result\.items\[2\]\.fn$/],
    [{ s: Symbol('x') }, /^a symbol at result\.s$/],
    [{ p: Promise.resolve(1) }, /^a promise at result\.p/],
    [{ w: new WeakMap() }, /^a weak reference at result\.w$/],
    [new Map([['k', () => 1]]), /^a function at result\.get\(…\)$/],
    [new Set([Symbol('m')]), /^a symbol at result \(a member\)$/],
  ];
  for (const [v, re] of cases) {
    assert.match(unsendablePart(v) ?? '', re);
    assert.throws(() => structuredClone(v), Error, 'structured clone refuses it too');
  }
  // Deep nesting does not overflow the stack.
  let deep: unknown = () => 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.match(unsendablePart(deep) ?? '', /^a function at result(\[0\]){32}…$/);
  // A sparse array is walked by the elements it has, not its length (1e9 holes ran out of heap).
  const sparse: unknown[] = [];
  sparse.length = 1e9;
  sparse[5] = { fn: () => 1 };
  assert.match(unsendablePart(sparse) ?? '', /^a function at result\[5\]\.fn$/);
  sparse[5] = 1;
  assert.equal(unsendablePart(sparse), undefined);
});
