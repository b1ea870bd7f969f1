import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tokenize, splitIdentifier, queryTerms, termFrequencies } from '../search/tokenizer.js';

test('splits camelCase, PascalCase, snake_case, kebab-case and digits, keeping the whole identifier', { timeout: 5_000 }, () => {
  assert.deepEqual(tokenize('getUserName'), ['getusername', 'get', 'user', 'name']);
  assert.deepEqual(tokenize('HTTPServerError'), ['httpservererror', 'http', 'server', 'error']);
  assert.deepEqual(tokenize('max_retry_count'), ['max_retry_count', 'max', 'retry', 'count']);
  assert.deepEqual(tokenize('retry-with-backoff'), ['retry-with-backoff', 'retry', 'backoff']);
  assert.deepEqual(tokenize('utf8Decode2'), ['utf8decode2', 'utf', '8', 'decode', '2']);
  assert.deepEqual(splitIdentifier('parseJSONResponse'), ['parse', 'json', 'response']);
});

test('lower-cases, drops stop words, keeps plain words whole once', { timeout: 5_000 }, () => {
  assert.deepEqual(tokenize('The Retry of a Request'), ['retry', 'request']);
  assert.deepEqual(tokenize('if (x) return y;'), ['x', 'return', 'y']);
  assert.deepEqual(tokenize('switchMap'), ['switchmap', 'switch', 'map']);
});

test('term frequencies count repeats; query terms are distinct', { timeout: 5_000 }, () => {
  const tf = termFrequencies(tokenize('retry retry retryCount'));
  assert.equal(tf.get('retry'), 3);
  assert.equal(tf.get('retrycount'), 1);
  assert.equal(tf.get('count'), 1);
  assert.deepEqual(queryTerms('retry the retry'), ['retry']);
});

test('non-ASCII letters are words; overlong runs are dropped', { timeout: 5_000 }, () => {
  assert.deepEqual(tokenize('Größe café'), ['größe', 'café']);
  assert.deepEqual(tokenize('a'.repeat(200)), []);
});
