import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffDelay, retryDelayMs } from '../core/backoff.js';

test('retry delays grow exponentially, are capped, and carry jitter within [half, full]', { timeout: 5000 }, () => {
  const o = { baseMs: 100, capMs: 1000 };
  assert.equal(
    retryDelayMs(1, o, () => 0),
    50,
  );
  assert.equal(
    retryDelayMs(1, o, () => 0.999999),
    100,
  );
  assert.equal(
    retryDelayMs(2, o, () => 0),
    100,
  );
  assert.equal(
    retryDelayMs(3, o, () => 0.999999),
    400,
  );
  assert.equal(
    retryDelayMs(10, o, () => 0.999999),
    1000,
    'capped',
  );
  assert.equal(
    retryDelayMs(10, o, () => 0),
    500,
    'capped, half fixed',
  );
  const seen = new Set(Array.from({ length: 50 }, () => retryDelayMs(4, o)));
  assert.ok(seen.size > 10, 'jitter spreads retries');
  for (const d of seen) assert.ok(d >= 400 && d <= 800);
});

test('wide backoff (lock, election and conflict waits) spans half the base up to the nominal delay, capped', { timeout: 5000 }, () => {
  const o = { baseMs: 10, capMs: 500 };
  assert.equal(
    backoffDelay(0, o, () => 0),
    5,
  );
  assert.equal(
    backoffDelay(0, o, () => 0.999999),
    5 + 0.999999 * 5,
  );
  assert.equal(
    backoffDelay(3, o, () => 0),
    5,
    'a later wait may still be short',
  );
  assert.ok(backoffDelay(3, o, () => 0.999999) > 79);
  assert.ok(backoffDelay(40, o, () => 0.999999) <= 500, 'capped');
  assert.equal(
    backoffDelay(0, { baseMs: 1, capMs: 5 }, () => 0),
    1,
    'never below 1 ms',
  );
});
