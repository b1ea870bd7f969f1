import { test } from 'node:test';
import assert from 'node:assert/strict';
import { retryDelayMs } from '../core/backoff.js';

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
