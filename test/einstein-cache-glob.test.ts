import { test } from 'node:test';
import assert from 'node:assert/strict';
import { QueryCache } from '../search/query-cache.js';
import { pathMatcher } from '../search/path-filter.js';

test('query cache: keyed by query and options, dropped when the index version changes', { timeout: 5_000 }, () => {
  const c = new QueryCache<number>(2);
  const k1 = QueryCache.key('q', { k: 10, mode: 'hybrid' });
  assert.equal(k1, QueryCache.key('q', { mode: 'hybrid', k: 10, pathGlob: undefined }));
  assert.notEqual(k1, QueryCache.key('q', { k: 5, mode: 'hybrid' }));
  assert.equal(c.get(k1, 'v1'), undefined);
  c.set(k1, 'v1', 42);
  assert.equal(c.get(k1, 'v1'), 42);
  assert.equal(c.get(k1, 'v2'), undefined); // index changed: dropped
  assert.equal(c.size, 0);
  c.set(k1, 'v1', 7); // a result computed on the old version is not stored
  assert.equal(c.get(k1, 'v2'), undefined);
  c.set('a', 'v2', 1);
  c.set('b', 'v2', 2);
  c.get('a', 'v2');
  c.set('c', 'v2', 3); // evicts b (least recently used)
  assert.deepEqual([c.get('a', 'v2'), c.get('b', 'v2'), c.get('c', 'v2')], [1, undefined, 3]);
  assert.equal(c.hits, 4);
  assert.equal(c.invalidations, 1);
});

test('path globs use picomatch semantics', { timeout: 5_000 }, () => {
  const m = pathMatcher('src/**');
  assert.ok(m('src/a/b.ts') && m('src/x.ts') && !m('lib/src/x.ts'));
  const ts = pathMatcher('**/*.ts');
  assert.ok(ts('a.ts') && ts('a/b/c.ts') && !ts('a.js'));
  assert.ok(pathMatcher(['*.md', 'docs/**'])('docs/x/y.txt'));
  assert.ok(pathMatcher('.github/**')('.github/workflows/ci.yml'));
  assert.throws(() => pathMatcher(''), { code: 'BOLT_BAD_INPUT' });
});
