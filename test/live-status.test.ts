import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderStatus, statusLine } from '../tools/live-status.js';
import type { RuntimeStatus } from '../core/runtime/bolt-integration.js';

const status: RuntimeStatus = {
  runtimeId: 'box:42:abc',
  database: '.bolt/analytics.db',
  agents: [
    { agentId: 'agent-1', threadId: 3, taskId: 17, agent: 'sql', since: 1_000, progress: 0.5, note: 'scanning' },
    { agentId: 'agent-2', threadId: 4 },
  ],
  dispatcher: { running: 1, buffered: 0, done: 120, failed: 2, dead: 1, cancelled: 0, tasksPerSecond: 40.5 },
  lastHealth: {
    ok: true,
    latencyMs: 0.8,
    reclaimed: 0,
    fixed: [],
    at: 0,
    stats: {
      engine: 'duckdb',
      role: 'host',
      pool: { size: 8, inUse: 2, idle: 6, waiting: 1, waitMs: { p50: 0, p95: 0, p99: 0, max: 0 }, holders: [] },
      queries: 10,
      errorsByCode: {},
    },
    lock: { path: '/x/analytics.db', engine: 'duckdb', role: 'host', host: { pid: 42 } },
  },
  fixedTotal: 2,
};
const counts = { queued: 7, running: 1, done: 120, failed: 2, dead: 1, cancelled: 0 };

test('the live status shows each agent busy or idle and on what, the queue, rates, the db host and pool', { timeout: 5000 }, () => {
  const lines = renderStatus(status, counts, 3_500);
  const text = lines.join('\n');
  assert.match(text, /agent-1\s+busy\s+sql #17\s+2\.5s 50% scanning/);
  assert.match(text, /agent-2\s+idle/);
  assert.match(text, /7 queued · 2 retrying · 1 running · 120 done · 1 dead/);
  assert.match(text, /40\.5 tasks\/s/);
  assert.match(text, /duckdb host \(host pid 42\) · pool 2\/8 in use, 1 waiting/);
  assert.match(text, /fixed 2 stale lock files/);
  assert.match(statusLine(status, counts), /^status: agents 1\/2 busy \| queue: 7 queued/);
  const unhealthy = renderStatus(
    {
      ...status,
      lastHealth: {
        ok: false,
        latencyMs: 5,
        reclaimed: 0,
        fixed: [],
        at: 0,
        error: { name: 'E', code: 'BOLT_HOST_UNRESPONSIVE', message: 'no answer', details: {} },
      },
    },
    undefined,
  ).join('\n');
  assert.match(unhealthy, /UNHEALTHY \[BOLT_HOST_UNRESPONSIVE\] no answer/);
});
