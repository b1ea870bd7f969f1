/**
 * Starts the dashboard for `bolt start --http` (with this process's runtime) and `bolt
 * dashboard` (the queue and database only): checks the address and token, builds the metrics
 * and the server.
 */
import type { Database } from '../../core/database.js';
import type { BoltIntegration } from '../../core/runtime/bolt-integration.js';
import type { TaskQueue } from '../../core/runtime/task-queue.js';
import { parseHttpAddress, resolveToken } from '../http-address.js';
import { DashboardMetrics } from './metrics.js';
import { startDashboard, type DashboardServer } from './server.js';
import { StatusReader } from './status.js';

export interface ServeOptions {
  /** `--http` value: `[host:]port`. */
  http: string;
  /** `--http-token` value (else BOLT_HTTP_TOKEN). */
  token?: string;
  queue: TaskQueue;
  db: Database;
  runtime?: BoltIntegration;
}

/** Checks the options (BOLT_BAD_INPUT before anything listens) and starts serving. */
export async function serveDashboard(o: ServeOptions): Promise<DashboardServer> {
  const address = parseHttpAddress(o.http);
  const token = resolveToken(address, o.token);
  const status = new StatusReader({ queue: o.queue, db: o.db, runtime: o.runtime });
  const metrics = new DashboardMetrics({ queue: o.queue, db: o.db, runtime: o.runtime }, () => status.byAgent.get());
  status.onStatement = (kind, ms) => metrics.observeStatement(kind, ms);
  status.onHost = (pid) => metrics.observeHost(pid);
  status.failovers = () => metrics.failoversSeen;
  if (o.runtime) metrics.attach(o.runtime);
  return startDashboard({ address, token, queue: o.queue, db: o.db, runtime: o.runtime, metrics, status });
}
