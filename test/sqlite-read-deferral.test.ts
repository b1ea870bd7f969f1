/**
 * When a thread's reads wait for its writers that wait for SQLite's lock
 * (`readsWaitForWriters`): always while that wait is short, and after that only while the
 * lock moves between others. A lock that stays with one holder (a foreign program) must not
 * slow reads; contention that goes on past the short wait (every writer after such a holder let
 * go) must keep them deferred. The effect under load is measured by the 16 × 8 soak
 * (docs/benchmarks.md).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readsWaitForWriters } from '../adapters/sqlite/inline-connection.js';

const NOW = 1_000_000;

test('reads never wait when no writer of the thread waits', () => {
  assert.equal(readsWaitForWriters({ waiting: 0, newestSince: NOW - 10, lockMovedAt: NOW }, NOW), false);
});

test('reads wait while the newest waiting writer has waited briefly, moving lock or not', () => {
  assert.equal(readsWaitForWriters({ waiting: 1, newestSince: NOW - 10, lockMovedAt: 0 }, NOW), true);
  assert.equal(readsWaitForWriters({ waiting: 3, newestSince: NOW - 500, lockMovedAt: 0 }, NOW), true);
});

test('a lock kept by one holder past the short wait lets reads run', () => {
  assert.equal(readsWaitForWriters({ waiting: 1, newestSince: NOW - 501, lockMovedAt: 0 }, NOW), false);
  // It moved once, long ago (before the holder took it).
  assert.equal(readsWaitForWriters({ waiting: 1, newestSince: NOW - 2_500, lockMovedAt: NOW - 2_000 }, NOW), false);
});

test('a lock moving between others keeps reads waiting however long the writer has waited', () => {
  assert.equal(readsWaitForWriters({ waiting: 1, newestSince: NOW - 2_500, lockMovedAt: NOW - 30 }, NOW), true);
  assert.equal(readsWaitForWriters({ waiting: 1, newestSince: NOW - 60_000, lockMovedAt: NOW - 100 }, NOW), true);
  assert.equal(readsWaitForWriters({ waiting: 1, newestSince: NOW - 60_000, lockMovedAt: NOW - 101 }, NOW), false);
});
